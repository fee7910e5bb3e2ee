"""Real handwriting beside MNIST: USPS zip-code scans and ARDIS Swedish church records.

Both sets are read as the scans they are (ink high, paper 0, a margin of paper added around the
digit) and then passed through :func:`hdr.imaging.preprocess.to_mnist`, the same path a drawing or a photo
takes, so a model trained on them learns what ``predict`` will show it. Neither file ships with
the project: the library reads them from a folder when told (``--handwriting-dir`` or
``$HDR_HANDWRITING_DIR``) and works without them.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hdr.imaging.preprocess import preprocess_many
from hdr.settings import IMAGE_SIZE, NUM_CLASSES, handwriting_dir
from hdr.training.data import DataError, split_validation

USPS_FILE = "usps-zip.train.gz"
ARDIS_FILE = "ardis-train.npz"
SOURCES = ("usps", "ardis")  # every source this module reads, in the order cards list them
MARGIN = 0.25  # paper added on each side, as a share of the scan's side: both sets are cropped to the ink


@dataclass(frozen=True)
class HandwritingSet:
    """One real source, split: ``uint8 (N, 28, 28)`` MNIST-format images and ``int64 (N,)`` labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    raw_val: np.ndarray  # the validation digits as the file stores them (ink high, cropped), for benchmarks


def read_usps(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads ``zip.train.gz``: ``uint8 (N, 16, 16)`` scans, ink 255 on paper 0, and ``int64`` labels.

    Raises:
        DataError: The file is missing or a line is not a label and 256 values in [-1, 1].
    """
    path = Path(path)
    try:
        with gzip.open(path, "rt") as f:
            rows = [line.split() for line in f if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read USPS digits ({exc})") from exc
    if not rows or any(len(row) != 257 for row in rows):
        raise DataError(f"{path}: expected lines of a label and 256 values (USPS zip.train)")
    values = np.asarray(rows, dtype=np.float32)
    labels = values[:, 0].astype(np.int64)
    _check_labels(labels, path)
    pixels = np.clip((values[:, 1:] + 1.0) * 127.5, 0, 255)  # -1 paper .. 1 ink -> 0 .. 255
    return np.round(pixels).astype(np.uint8).reshape(-1, 16, 16), labels


def read_ardis(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads ARDIS IV's ``.npz``: ``uint8 (N, 28, 28)`` scans, ink 255 on paper 0, and ``int64`` labels.

    Raises:
        DataError: The file is missing or lacks ``x`` (N, 28, 28) and ``y`` (N,).
    """
    path = Path(path)
    try:
        with np.load(path) as data:
            x, y = data["x"], data["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ARDIS digits ({exc})") from exc
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or len(x) != len(y):
        raise DataError(f"{path}: expected x (N, 28, 28) and y (N,), got {x.shape} and {y.shape}")
    labels = y.astype(np.int64)
    _check_labels(labels, path)
    return x.astype(np.uint8), labels


def _check_labels(labels: np.ndarray, path: Path) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{path}: labels must be 0-9")


def as_scans(images: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """Adds paper around tightly cropped digits, as a scan of a form would have: ``(N, h, w)`` -> ``(N, H, W)``."""
    pad = max(1, round(images.shape[1] * margin))
    return np.pad(images, ((0, 0), (pad, pad), (pad, pad)))


def to_model_input(scans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scans -> ``uint8 (N, 28, 28)`` through :func:`to_mnist`, and the mask of those where a digit was found."""
    results = preprocess_many(list(scans))
    found = np.array([getattr(r, "found", False) for r in results])
    blank = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    images = np.stack([r.as_uint8() if ok else blank for r, ok in zip(results, found, strict=True)])
    return images, found


def load_handwriting(
    folder: str | os.PathLike | None = None, *, val_fraction: float = 0.1, seed: int = 0
) -> list[HandwritingSet]:
    """Loads every real source found in ``folder``, each split into train and validation sets.

    Args:
        folder: Holds ``usps-zip.train.gz`` and/or ``ardis-train.npz``. Defaults to
            ``$HDR_HANDWRITING_DIR``; with neither, there is no real handwriting and the result is empty.
        val_fraction: Share of each class of each source held out for validation (stratified).
        seed: Seed of the split, so that validation digits never reach training.

    Returns:
        One :class:`HandwritingSet` per file present, in :data:`SOURCES` order.

    Raises:
        DataError: The folder does not exist, holds neither file, or a file is malformed.
    """
    chosen = Path(folder).expanduser() if folder is not None else handwriting_dir()
    if chosen is None:
        return []
    if not chosen.is_dir():
        raise DataError(f"{chosen}: handwriting folder not found")
    readers = {"usps": (USPS_FILE, read_usps), "ardis": (ARDIS_FILE, read_ardis)}
    sets = []
    for name in SOURCES:
        file, reader = readers[name]
        if (chosen / file).is_file():
            scans, labels = reader(chosen / file)
            sets.append(_split(name, scans, labels, val_fraction, seed))
    if not sets:
        raise DataError(f"{chosen}: neither {USPS_FILE} nor {ARDIS_FILE} is there")
    return sets


def _split(name: str, raw: np.ndarray, labels: np.ndarray, val_fraction: float, seed: int) -> HandwritingSet:
    """Splits, then preprocesses as scans; digits the preprocessing finds nothing in are left out of training."""
    split = split_validation(raw, labels, val_fraction=val_fraction, seed=seed)
    x_train, found = to_model_input(as_scans(split.x_train))
    x_val, _ = to_model_input(as_scans(split.x_val))  # validation keeps every digit: a miss counts as a misread
    return HandwritingSet(name, x_train[found], split.y_train[found], x_val, split.y_val, split.x_val)
