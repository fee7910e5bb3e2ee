"""The HTTP API: Starlette routes that ``app.py`` mounts on Streamlit's own server through ``st.App``.

- ``POST /api/predict``: one or several images as multipart files -> per file the object
  ``python -m hdr predict --json`` prints (``{"path", "digit", "confidence", "probabilities"}``),
  in order; all the files of a request are classified in one batched forward pass.
- ``POST /api/read``: the same for whole numbers (``python -m hdr read --json``).
- ``GET /api/models``: every saved model with its test accuracy and which one is active.
- ``GET /api/health``: ``{"status": "ok", "model": <active model>}``, or 503 when the active model
  does not load (missing, truncated), as ``/api/predict`` would then answer.
- ``GET /api/openapi.json`` and ``GET /api/docs``: this API described (:mod:`hdr.openapi`), as
  OpenAPI JSON and as a plain HTML page.

One file gets one object, several files a list of objects. A file that cannot be read gets
``{"path", "error"}`` in its place while the others are still answered, and the status is then
422; a request that is wrong as a whole (no file, too many, too large, wrong method) gets a 4xx
with ``{"error": "<one line>"}``. No traceback ever leaves the server: anything unexpected is
logged and answered with a 500 and one line. The routes take the model through a callable, so
the app hands them the very Predictor its pages use (loaded once, shared).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive

from hdr.imaging.decode import ImageError
from hdr.serving.openapi import docs_html, openapi_spec

if TYPE_CHECKING:
    from hdr.inference.predict import Predictor

# hdr.storage.store, hdr.inference.predict and hdr.inference.read import TensorFlow (seconds): they are imported on the first
# request, not when the server imports the app, so the pages come up as fast as without the API.

MAX_FILES = 64  # images per request: one batched pass stays well under a second on 2 cores
MAX_FILE_MB = 25  # per image, the app's upload limit (.streamlit/config.toml server.maxUploadSize)
MAX_REQUEST_MB = 100  # per request: a few full-size phone photos, or many small drawings
# Image requests decoded and classified at once: one per core keeps both busy, and bounds the
# memory a burst of requests can take (each holds its body, at most MAX_REQUEST_MB, and its decodes).
MAX_BUSY = 2
BUSY_WAIT_S = 10  # a request waits this long for a free slot, then gets 503 "busy, retry"
_MB = 1024 * 1024
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # others get a JSON 405
_OK, _BAD_REQUEST, _METHOD_NOT_ALLOWED, _LENGTH_REQUIRED = 200, 400, 405, 411
_RETRY_AFTER_S = 2  # what a 503 "busy" asks the client to wait
_TOO_LARGE, _UNREADABLE, _SERVER_ERROR, _UNAVAILABLE = 413, 422, 500, 503

_LOG = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A request the API refuses as a whole: an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def api_routes(predictor: Callable[[], Predictor], models_dir: Callable[[], Path]) -> list[Route]:
    """The API's routes, for ``st.App(..., routes=api_routes(...))`` or any Starlette app.

    Args:
        predictor: Returns the Predictor of the active model (called per request, so activating
            another model on the Models page changes what the API answers with).
        models_dir: Returns the folder of saved models, read at each request.

    Returns:
        ``/api/predict``, ``/api/read``, ``/api/models``, ``/api/health``, ``/api/openapi.json`` and ``/api/docs``.
    """

    slots = asyncio.Semaphore(MAX_BUSY)

    async def predict(request: Request) -> JSONResponse:
        async with _slot(slots):
            files = await _image_files(request)
            model = await run_in_threadpool(predictor)
            return _answer(await run_in_threadpool(_predict_files, files, model))

    async def read(request: Request) -> JSONResponse:
        async with _slot(slots):
            files = await _image_files(request)
            model = await run_in_threadpool(predictor)
            return _answer(await run_in_threadpool(_read_files, files, model))

    async def models(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(_models, models_dir()))

    async def health(request: Request) -> JSONResponse:
        from hdr.storage.store import active_model

        await run_in_threadpool(predictor)  # a missing or damaged active model: 503, as predict would answer
        return JSONResponse({"status": "ok", "model": await run_in_threadpool(active_model, models_dir())})

    async def spec(request: Request) -> JSONResponse:
        return JSONResponse(openapi_spec())

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(docs_html())

    return [
        Route("/api/predict", _guarded(predict, "POST"), methods=_ALL_METHODS),
        Route("/api/read", _guarded(read, "POST"), methods=_ALL_METHODS),
        Route("/api/models", _guarded(models, "GET"), methods=_ALL_METHODS),
        Route("/api/health", _guarded(health, "GET"), methods=_ALL_METHODS),
        Route("/api/openapi.json", _guarded(spec, "GET"), methods=_ALL_METHODS),
        Route("/api/docs", _guarded(docs, "GET"), methods=_ALL_METHODS),
    ]


def _guarded(endpoint: Endpoint, method: str) -> Endpoint:
    """Wraps an endpoint: its one method (HEAD too for GET), and every failure as one line of JSON."""
    allowed = {method, "HEAD"} if method == "GET" else {method}

    async def guarded(request: Request) -> Response:
        if request.method not in allowed:
            return JSONResponse(
                {"error": f"method {request.method} not allowed: use {method}"},
                status_code=_METHOD_NOT_ALLOWED,
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        from hdr.storage.store import ModelStoreError

        try:
            return await endpoint(request)
        except ApiError as exc:
            headers = {"Retry-After": str(_RETRY_AFTER_S)} if exc.status == _UNAVAILABLE else None
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)
        except ClientDisconnect:  # no one to answer: hdr.serving.guard.RequestGuard logs it in one line
            raise
        except ModelStoreError as exc:  # the active model is missing or damaged: nothing to answer with
            return JSONResponse({"error": f"model unavailable: {exc}"}, status_code=_UNAVAILABLE)
        except Exception as exc:  # the server keeps serving; the details go to the log, not the client
            _LOG.exception("%s %s failed", request.method, request.url.path)
            return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=_SERVER_ERROR)

    return guarded


@contextlib.asynccontextmanager
async def _slot(slots: asyncio.Semaphore) -> AsyncIterator[None]:
    """Holds one of the image slots for the block; :class:`ApiError` 503 if none frees up in time."""
    try:
        await asyncio.wait_for(slots.acquire(), BUSY_WAIT_S)
    except TimeoutError:
        raise ApiError(_UNAVAILABLE, f"busy: {MAX_BUSY} requests are being answered, retry in a moment") from None
    try:
        yield
    finally:
        slots.release()


def _counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that counts the body as it streams in and refuses it once past ``limit`` bytes.

    The Content-Length header is checked before; this holds whatever the header said, so a body
    that turns out longer (chunked, or a proxy that re-frames it) is cut off at the limit.
    """
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise ApiError(_TOO_LARGE, f"request too large: over {limit // _MB} MB")
        return message

    return counted


async def _image_files(request: Request) -> list[tuple[str, bytes | ImageError]]:
    """The request's multipart files in order: ``(filename, bytes)``, or an error for one too large.

    Raises:
        ApiError: Not multipart, no length given, too large, too many files or no file at all.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(_BAD_REQUEST, "send images as multipart/form-data files, e.g. curl -F file=@seven.png")
    if "transfer-encoding" in request.headers and "content-length" in request.headers:
        # Two framings that disagree: the server would follow one and this check the other.
        raise ApiError(_BAD_REQUEST, "a request cannot have both Transfer-Encoding and Content-Length")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise ApiError(_LENGTH_REQUIRED, "the request needs a Content-Length header")
    if int(length) > MAX_REQUEST_MB * _MB:
        raise ApiError(_TOO_LARGE, f"request too large: {int(length) / _MB:.0f} MB, at most {MAX_REQUEST_MB} MB")
    request = Request(request.scope, _counted(request.receive, MAX_REQUEST_MB * _MB))
    try:
        form = await request.form(max_files=MAX_FILES)
    except HTTPException as exc:  # Starlette's multipart parser: malformed body or too many files
        status = _TOO_LARGE if "Too many files" in str(exc.detail) else _BAD_REQUEST
        detail = f"too many files: at most {MAX_FILES} per request" if status == _TOO_LARGE else exc.detail
        raise ApiError(status, f"bad multipart body: {detail}".splitlines()[0]) from None
    try:
        uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not uploads:
            raise ApiError(_BAD_REQUEST, "no file: send images as multipart files, e.g. curl -F file=@seven.png")
        return [(upload.filename or f"file{i}", await _upload_bytes(upload)) for i, upload in enumerate(uploads)]
    finally:
        await form.close()


async def _upload_bytes(upload: UploadFile) -> bytes | ImageError:
    """An uploaded file's bytes, or why it is refused (over :data:`MAX_FILE_MB`)."""
    if upload.size is not None and upload.size > MAX_FILE_MB * _MB:
        return ImageError(f"file too large: {upload.size / _MB:.0f} MB, at most {MAX_FILE_MB} MB")
    return await upload.read()


def _predict_files(files: list[tuple[str, bytes | ImageError]], predictor: Predictor) -> list[dict]:
    """``predict --json`` objects for each file: every readable one in one forward pass."""
    results = predictor.predict_each([data for _, data in files])  # refused files keep their error in place
    return [
        _error(name, result) if isinstance(result, ImageError) else {"path": name, **result.to_dict()}
        for (name, _), result in zip(files, results, strict=True)
    ]


def _read_files(files: list[tuple[str, bytes | ImageError]], predictor: Predictor) -> list[dict]:
    """``read --json`` objects for each file."""
    from hdr.inference.read import read_digits

    records = []
    for name, data in files:
        try:
            if isinstance(data, ImageError):
                raise data
            records.append({"path": name, **read_digits(data, predictor).to_dict()})
        except ImageError as exc:
            records.append(_error(name, exc))
    return records


def _error(name: str, exc: ImageError) -> dict:
    """``{"path", "error"}`` with a one-line reason that names the file once, as the CLI does."""
    return {"path": name, "error": exc.reason.splitlines()[0]}


def _answer(records: list[dict]) -> JSONResponse:
    """One object for one file, a list for several; 422 if any file could not be read."""
    status = _UNREADABLE if any("error" in r for r in records) else _OK
    return JSONResponse(records[0] if len(records) == 1 else records, status_code=status)


def _models(models_dir: Path) -> list[dict[str, Any]]:
    """``{"name", "accuracy", "active"}`` per saved model (and ``"problem"`` for a damaged card)."""
    from hdr.storage.store import active_model, list_models

    active = active_model(models_dir)
    rows = []
    for card in list_models(models_dir):
        row = {"name": card.name, "accuracy": card.metrics.get("test_accuracy"), "active": card.name == active}
        rows.append({**row, "problem": card.problem} if card.problem else row)
    return rows
