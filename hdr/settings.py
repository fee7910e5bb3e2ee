"""What every layer shares: the digits' format and the folders the library reads and writes.

Folders come from the environment at the moment they are needed (never frozen at import), so a
deployment, a test or a notebook can point them elsewhere just by setting the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_SIZE = 28  # MNIST images are 28x28
NUM_CLASSES = 10
MIN_PHOTO_SIDE = 64  # smaller pictures (MNIST-sized, tight crops) have no ruling lines or page edges
DATA_DIR_ENV = "HDR_DATA_DIR"  # MNIST's IDX files or mnist.npz; unset: the Keras download
MODELS_DIR_ENV = "HDR_MODELS_DIR"  # saved models; unset: the repo's models/, holding the shipped default
FEEDBACK_DIR_ENV = "HDR_FEEDBACK_DIR"  # the user's corrections; unset: the repo's feedback/ (not tracked)
ALLOWED_HOSTS_ENV = "HDR_ALLOWED_HOSTS"  # the API service's host names, comma-separated; "*" any
_LOCAL_HOSTS = ("localhost", "127.0.0.1")
_REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path | None:
    """The MNIST folder from ``$HDR_DATA_DIR``, or None (then the Keras download is used)."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def models_dir() -> Path:
    """The folder of saved models: ``$HDR_MODELS_DIR``, else the repo's ``models/``."""
    return Path(os.environ.get(MODELS_DIR_ENV) or _REPO / "models")


def feedback_dir() -> Path:
    """The folder of feedback samples: ``$HDR_FEEDBACK_DIR``, else the repo's ``feedback/``."""
    return Path(os.environ.get(FEEDBACK_DIR_ENV) or _REPO / "feedback")


def allowed_hosts() -> tuple[str, ...]:
    """The host names the API service answers for: ``$HDR_ALLOWED_HOSTS``, else this machine's."""
    value = os.environ.get(ALLOWED_HOSTS_ENV)
    return tuple(h.strip() for h in value.split(",") if h.strip()) if value else _LOCAL_HOSTS
