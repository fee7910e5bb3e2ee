"""Data sources: MNIST (IDX files, ``mnist.npz`` or the Keras download), Kaggle CSVs, image folders.

Every loader returns ``uint8`` images of shape ``(N, 28, 28)`` (0 = background, 255 = ink, as
in MNIST) and ``int64`` labels of shape ``(N,)``, and raises :class:`DataError` with a one-line
message naming the file and the problem when the input is not what it claims to be.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hdr import settings
from hdr.imaging.preprocess import to_mnist
from hdr.settings import DATA_DIR_ENV, IMAGE_SIZE, NUM_CLASSES

# IDX magic numbers: 0x0000 then type 0x08 (unsigned byte) then the number of dimensions.
_IDX_IMAGES_MAGIC = 0x00000803
_IDX_LABELS_MAGIC = 0x00000801
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_KAGGLE_PIXELS = [f"pixel{i}" for i in range(IMAGE_SIZE * IMAGE_SIZE)]
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".heif"}


class DataError(ValueError):
    """A data file is missing, malformed or not what it claims to be."""


@dataclass(frozen=True)
class Mnist:
    """The MNIST train and test sets as ``uint8`` images ``(N, 28, 28)`` and ``int64`` labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    # What the data is, recorded in model cards: its format, never a folder (cards travel to other machines).
    source: str


@dataclass(frozen=True)
class Split:
    """A training set and the validation set held out from it."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Returns the MNIST folder to read: ``data_dir``, else ``$HDR_DATA_DIR``, else None (download)."""
    chosen = data_dir if data_dir is not None else settings.data_dir()
    return Path(chosen).expanduser() if chosen is not None else None


def load_mnist(data_dir: str | os.PathLike | None = None) -> Mnist:
    """Loads MNIST from a folder, or through the Keras download when no folder is given.

    Args:
        data_dir: A folder with the four original IDX files (``.gz`` or not) or a Keras-style
            ``mnist.npz``. Defaults to ``$HDR_DATA_DIR``; without either, Keras downloads and
            caches the data set (this needs internet).

    Returns:
        The train and test sets.

    Raises:
        DataError: The folder is missing, incomplete, or holds malformed files, or the download failed.
    """
    folder = resolve_data_dir(data_dir)
    if folder is None:
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        except Exception as exc:  # Keras raises a bare Exception for a failed download
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(
                f"MNIST could not be downloaded ({reason}); give a local copy with --data-dir or {DATA_DIR_ENV}"
            ) from exc
        return Mnist(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), "MNIST (Keras download)")
    if not folder.is_dir():
        raise DataError(f"{folder}: MNIST folder not found (set --data-dir or {DATA_DIR_ENV})")
    if (folder / "mnist.npz").is_file():
        return _load_npz(folder / "mnist.npz")
    arrays = {key: read_idx(_find_idx(folder, stem)) for key, stem in _IDX_FILES.items()}
    for part in ("train", "test"):
        n_x, n_y = len(arrays[f"x_{part}"]), len(arrays[f"y_{part}"])
        if n_x != n_y:
            raise DataError(f"{folder}: {part} set has {n_x} images but {n_y} labels")
    for key in ("y_train", "y_test"):
        _check_labels(arrays[key], folder / _IDX_FILES[key])
    return Mnist(
        arrays["x_train"],
        arrays["y_train"].astype(np.int64),
        arrays["x_test"],
        arrays["y_test"].astype(np.int64),
        "MNIST (IDX files)",
    )


def _find_idx(folder: Path, stem: str) -> Path:
    """Finds ``stem`` or ``stem.gz`` in ``folder``."""
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: missing {stem}.gz (expected the four MNIST IDX files or mnist.npz)")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file (gzip-compressed or not) of unsigned bytes.

    Args:
        path: An IDX1 (labels) or IDX3 (images) file.

    Returns:
        ``(N,)`` labels or ``(N, rows, cols)`` images, ``uint8``.

    Raises:
        DataError: Unreadable file, wrong magic number, or a size that does not match the header.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc})") from None
    if len(raw) < 8:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC):
        raise DataError(f"{path}: wrong magic number 0x{magic:08x} (expected 0x00000801 or 0x00000803)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(f"{path}: size mismatch, header says {dims} ({expected} bytes) but file has {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _load_npz(path: Path) -> Mnist:
    """Reads a Keras-style ``mnist.npz``."""
    try:
        with np.load(path) as npz:
            arrays = {key: npz[key] for key in _IDX_FILES}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: not a Keras mnist.npz ({exc})") from None
    for key in ("x_train", "x_test"):
        if arrays[key].ndim != 3 or arrays[key].shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(f"{path}: {key} has shape {arrays[key].shape}, expected (N, 28, 28)")
    for key in ("y_train", "y_test"):
        _check_labels(arrays[key], path)
    return Mnist(
        arrays["x_train"].astype(np.uint8),
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].astype(np.uint8),
        arrays["y_test"].astype(np.int64),
        "MNIST (mnist.npz)",
    )


def _check_labels(labels: np.ndarray, path: str | Path) -> None:
    """Raises DataError unless every label is a digit 0-9."""
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{path}: labels must be 0-9, found {labels.min()}..{labels.max()}")


def load_csv(source: str | os.PathLike | bytes, name: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Reads a Kaggle Digit Recognizer CSV: ``label,pixel0..pixel783`` or, unlabelled, ``pixel0..``.

    Args:
        source: The CSV file (``train.csv`` with labels, ``test.csv`` without), or its bytes (an
            upload, parsed in memory: nothing is written anywhere).
        name: How messages name the file; by default its path, or "CSV" for bytes. It is only a
            label and never reaches the file system.

    Returns:
        ``(images, labels)``: ``uint8 (N, 28, 28)`` and ``int64 (N,)``, or None for an unlabelled file.

    Raises:
        DataError: Missing columns, non-numeric cells, pixels outside 0-255 or labels outside 0-9.
    """
    in_memory = isinstance(source, (bytes, bytearray))
    name = name or ("CSV" if in_memory else str(source))
    try:
        with (
            io.StringIO(bytes(source).decode("utf-8-sig"), newline="")
            if in_memory
            else open(source, newline="", encoding="utf-8-sig")
        ) as f:
            header = [h.strip() for h in next(csv.reader(f), [])]
            _check_csv_header(header, name)
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a text CSV (not UTF-8)") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read CSV ({exc.strerror or type(exc).__name__})") from None
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{name}: non-numeric or ragged rows ({str(exc).splitlines()[0]})") from None
    if table.size == 0:
        raise DataError(f"{name}: no data rows")
    if table.shape[1] != len(header):
        raise DataError(f"{name}: rows have {table.shape[1]} cells but header has {len(header)} columns")
    pixels = table[:, [header.index(c) for c in _KAGGLE_PIXELS]]
    if pixels.min() < 0 or pixels.max() > 255:
        bad = np.argwhere((pixels < 0) | (pixels > 255))[0]
        raise DataError(f"{name}: pixel out of range 0-255 at data row {bad[0] + 1}, column pixel{bad[1]}")
    images = pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if "label" not in header:
        return images, None
    labels = table[:, header.index("label")]
    _check_labels(labels, name)
    return images, labels


def _check_csv_header(header: list[str], name: str) -> None:
    """Raises DataError unless ``header`` names Kaggle's 784 pixel columns."""
    if not header or header == [""]:
        raise DataError(f"{name}: empty CSV file")
    missing = [c for c in _KAGGLE_PIXELS if c not in header]
    if len(missing) == len(_KAGGLE_PIXELS):  # not a digits CSV at all: say what it is instead
        shown = ",".join(header[:3]) + (",..." if len(header) > 3 else "")
        raise DataError(
            f"{name}: not a Kaggle digits CSV: its {len(header)} column(s) are {shown!r}; "
            "expected label,pixel0..pixel783"
        )
    if missing:
        raise DataError(
            f"{name}: missing {len(missing)} of the 784 pixel columns (first: {missing[0]}); "
            "expected label,pixel0..pixel783"
        )


def load_image_folder(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads a folder of labelled images, one subfolder per digit (``0/`` .. ``9/``).

    Every image goes through :func:`hdr.imaging.preprocess.to_mnist`, the same path as the app and the
    command line; images in which no digit is found are skipped.

    Args:
        path: The folder holding the subfolders ``0`` to ``9`` (some may be absent).

    Returns:
        ``uint8 (N, 28, 28)`` images and ``int64 (N,)`` labels.

    Raises:
        DataError: The folder does not exist or holds no readable digit image.
    """

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    images, labels = [], []
    for digit in range(NUM_CLASSES):
        sub = root / str(digit)
        if not sub.is_dir():
            continue
        for file in sorted(sub.iterdir()):
            if file.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            try:
                result = to_mnist(file)
            except ValueError:
                continue
            if result.found:
                images.append(result.as_uint8())
                labels.append(digit)
    if not images:
        raise DataError(f"{root}: no readable digit images in subfolders 0/ .. 9/")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def split_validation(x: np.ndarray, y: np.ndarray, *, val_fraction: float = 0.1, seed: int = 0) -> Split:
    """Holds out a stratified, shuffled validation set.

    Args:
        x: Images, first axis is the sample.
        y: Labels ``(N,)``.
        val_fraction: Share of each class held out, in (0, 1).
        seed: Seed of the shuffle, so that the split is reproducible.

    Returns:
        The remaining training set and the validation set.

    Raises:
        ValueError: ``val_fraction`` is not in (0, 1).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    val_idx = []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        val_idx.append(idx[: max(1, round(len(idx) * val_fraction))])
    val_mask = np.zeros(len(y), dtype=bool)
    val_mask[np.concatenate(val_idx)] = True
    train_idx = rng.permutation(np.flatnonzero(~val_mask))
    val_idx_all = rng.permutation(np.flatnonzero(val_mask))
    return Split(x[train_idx], y[train_idx], x[val_idx_all], y[val_idx_all])
