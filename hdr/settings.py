"""What every layer shares: the digits' format and the folders the library reads and writes.

Folders come from the environment at the moment they are needed (never frozen at import), so a
deployment, a test or a notebook can point them elsewhere just by setting the variable.

Unset, they depend on where HDR runs. From a checkout, models and feedback live in the checkout
(``models/``, ``feedback/``) and the shipped default is ``models/default.keras``. Installed from
the wheel, the shipped default is package data (``hdr/shipped/``) and the user's own models and
feedback go to ``$XDG_DATA_HOME/hdr`` (``~/.local/share/hdr``); the store finds the default in
:func:`shipped_dir` whenever the models folder has none of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_SIZE = 28  # MNIST images are 28x28
NUM_CLASSES = 10
MIN_PHOTO_SIDE = 64  # smaller pictures (MNIST-sized, tight crops) have no ruling lines or page edges
DATA_DIR_ENV = "HDR_DATA_DIR"  # MNIST's IDX files or mnist.npz; unset: the Keras download
MODELS_DIR_ENV = "HDR_MODELS_DIR"  # saved models; unset: see the module's docstring
HANDWRITING_DIR_ENV = "HDR_HANDWRITING_DIR"  # real handwriting for training (USPS, ARDIS); unset: none
FEEDBACK_DIR_ENV = "HDR_FEEDBACK_DIR"  # the user's corrections; unset: see the module's docstring
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent  # the source checkout's root, when HDR runs from one
_INSTALLED_SHIPPED = _PACKAGE / "shipped"  # the wheel's copy of models/default.* (see pyproject.toml)
FEEDBACK_MAX_SAMPLES_ENV = "HDR_FEEDBACK_MAX_SAMPLES"  # the feedback folder's quota in samples...
FEEDBACK_MAX_MB_ENV = "HDR_FEEDBACK_MAX_MB"  # ... and in megabytes
# Default quota: far more corrections than one person makes (a fine-tune learns from 100), and at
# a few hundred KB per large picture, a folder a disk never notices.
FEEDBACK_MAX_SAMPLES, FEEDBACK_MAX_MB = 5_000, 500
ALLOWED_HOSTS_ENV = "HDR_ALLOWED_HOSTS"  # the API service's host names, comma-separated; "*" any
_LOCAL_HOSTS = ("localhost", "127.0.0.1")


def data_dir() -> Path | None:
    """The MNIST folder from ``$HDR_DATA_DIR``, or None (then the Keras download is used)."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def handwriting_dir() -> Path | None:
    """The folder of real handwriting from ``$HDR_HANDWRITING_DIR``, or None (then MNIST alone is used)."""
    value = os.environ.get(HANDWRITING_DIR_ENV)
    return Path(value) if value else None


def shipped_dir() -> Path:
    """The folder of the shipped default model: the installed package's ``hdr/shipped/``, else the checkout's ``models/``."""
    return _INSTALLED_SHIPPED if _INSTALLED_SHIPPED.is_dir() else _CHECKOUT / "models"


def _home() -> Path:
    """Where models and feedback go when nothing is set: the checkout, or the user's data folder once installed."""
    if not _INSTALLED_SHIPPED.is_dir():
        return _CHECKOUT
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "hdr"


def models_dir() -> Path:
    """The folder of saved models: ``$HDR_MODELS_DIR``, else ``models/`` in the checkout or the user's data folder."""
    return Path(os.environ.get(MODELS_DIR_ENV) or _home() / "models")


def feedback_dir() -> Path:
    """The folder of feedback samples: ``$HDR_FEEDBACK_DIR``, else ``feedback/`` in the checkout or the user's data folder."""
    return Path(os.environ.get(FEEDBACK_DIR_ENV) or _home() / "feedback")


def feedback_quota() -> tuple[int, int]:
    """The feedback folder's quota: ``(samples, bytes)``, from ``$HDR_FEEDBACK_MAX_SAMPLES`` and ``$HDR_FEEDBACK_MAX_MB``."""
    samples = int(os.environ.get(FEEDBACK_MAX_SAMPLES_ENV) or FEEDBACK_MAX_SAMPLES)
    megabytes = float(os.environ.get(FEEDBACK_MAX_MB_ENV) or FEEDBACK_MAX_MB)
    return samples, int(megabytes * 1024 * 1024)


def allowed_hosts() -> tuple[str, ...]:
    """The host names the API service answers for: ``$HDR_ALLOWED_HOSTS``, else this machine's."""
    value = os.environ.get(ALLOWED_HOSTS_ENV)
    return tuple(h.strip() for h in value.split(",") if h.strip()) if value else _LOCAL_HOSTS
