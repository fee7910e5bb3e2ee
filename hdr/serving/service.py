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

from hdr.imaging.decode import limit_heap_arenas
from hdr.serving.api import api_routes
from hdr.serving.connections import limit_connections
from hdr.serving.guard import RequestGuard
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
    from hdr.inference.predict import model_version

    return _load_predictor(*model_version(None, models_dir()))


limit_connections()  # each worker imports this module: each caps and times out its own connections
limit_heap_arenas()  # before the threads that decode start: their memory goes back after a burst
app = Starlette(
    routes=api_routes(predictor=active_predictor, models_dir=models_dir),
    middleware=[Middleware(RequestGuard, allowed_hosts=allowed_hosts)],
)
