"""The HTTP API alone, as a stateless service: ``uvicorn hdr.serving.service:app --workers N``.

No pages and no Streamlit: each process loads the active model of ``$HDR_MODELS_DIR`` itself,
and again when the active model or its file changes. The API changes no state, so the processes
share nothing and a load balancer may send any request to any of them. The host names served
come from ``$HDR_ALLOWED_HOSTS`` (comma-separated; default this machine only).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware

from hdr.serving.api import api_routes
from hdr.serving.guard import RequestGuard, close_idle_connections
from hdr.settings import allowed_hosts, models_dir

if TYPE_CHECKING:
    from hdr.inference.predict import Predictor

MODEL_VERSIONS = 2  # model files kept loaded per process: the active one and the one it replaced


@lru_cache(maxsize=MODEL_VERSIONS)
def _load_predictor(path: str, mtime: float) -> Predictor:
    """One Predictor per model file version: a retrained or replaced file has a new mtime."""
    from hdr.inference.predict import Predictor

    return Predictor.load(path)


def active_predictor() -> Predictor:
    """The active model's Predictor, loaded once per process and file version.

    Raises:
        ModelStoreError: The model file is missing or corrupt.
    """
    from hdr.storage.store import ModelStoreError, resolve_model_path

    path = resolve_model_path(None, models_dir())
    if not path.is_file():
        raise ModelStoreError(f"{path}: model file not found")
    return _load_predictor(str(path), path.stat().st_mtime)


close_idle_connections()  # each worker imports this module: each closes its own idle connections
app = Starlette(
    routes=api_routes(predictor=active_predictor, models_dir=models_dir),
    middleware=[Middleware(RequestGuard, allowed_hosts=allowed_hosts)],
)
