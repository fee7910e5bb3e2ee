"""Feedback samples: pictures the model got wrong, saved with the digit the user says is right.

Samples live in ``<feedback folder>/<digit>/<name>.png``, the layout :func:`hdr.training.data.load_image_folder`
reads, so a fine-tuning run sees them through the same preprocessing as everything else. Each
file gets a unique name and is written to a temporary file first, then moved into place, so two
sessions saving at the same moment never overwrite or half-write each other's samples. Every
``feedback_dir`` argument defaults to None: the folder :func:`hdr.settings.feedback_dir` names at
the moment of the call. A sample can be given another digit (:func:`relabel_sample`, a move to
that digit's folder) or deleted (:func:`delete_sample`); :func:`list_samples` lists them all.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from hdr import settings
from hdr.imaging.decode import WORK_SIDE, ImageInput, open_image
from hdr.imaging.preprocess import to_mnist
from hdr.settings import NUM_CLASSES
from hdr.storage.files import write_atomic
from hdr.training.data import load_image_folder

_SUFFIX = ".png"  # lossless, keeps the canvas's transparency


def _folder(feedback_dir: str | os.PathLike | None) -> Path:
    """``feedback_dir`` as a path; None means the settings' folder, read now."""
    return settings.feedback_dir() if feedback_dir is None else Path(feedback_dir)


def _to_pil(image: ImageInput) -> Image.Image:
    """Any supported picture as a PIL image no larger than the preprocessing works at."""
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        pil = Image.fromarray(arr)
    else:
        pil = open_image(image).image
    pil.thumbnail((WORK_SIDE, WORK_SIDE))  # a 50-megapixel photo is stored at the size it is read at
    if pil.mode not in ("L", "RGB", "RGBA"):
        pil = pil.convert("RGBA" if "A" in pil.mode else "RGB")
    return pil


def save_sample(image: ImageInput, label: int, feedback_dir: str | os.PathLike | None = None) -> Path:
    """Saves a picture and its correct digit as a feedback sample.

    Args:
        image: The drawing or photo (anything :func:`hdr.imaging.preprocess.to_mnist` accepts).
        label: The right digit, 0-9.
        feedback_dir: Root folder of the samples (created if missing); None: the settings' folder.

    Returns:
        The path of the new sample.

    Raises:
        ValueError: ``label`` is not a digit, or the picture holds no digit.
        hdr.imaging.decode.ImageError: The picture cannot be read.
    """
    # An int and nothing else: the label names the sample's folder, so a string must never pass.
    if isinstance(label, bool) or not (isinstance(label, (int, np.integer)) and 0 <= int(label) < NUM_CLASSES):
        raise ValueError(f"label must be a digit 0-9, got {label!r}")
    if not to_mnist(image).found:
        raise ValueError("no digit found in the picture; nothing saved")
    folder = _folder(feedback_dir) / str(int(label))
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    _to_pil(image).save(buffer, format="PNG")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}{_SUFFIX}"
    return write_atomic(path, buffer.getvalue())


def count_samples(feedback_dir: str | os.PathLike | None = None) -> dict[int, int]:
    """How many samples are saved for each digit (0 for digits without any)."""
    root = _folder(feedback_dir)
    return {
        d: len(list((root / str(d)).glob(f"*{_SUFFIX}"))) if (root / str(d)).is_dir() else 0 for d in range(NUM_CLASSES)
    }


def load_feedback(feedback_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Loads every sample, preprocessed the MNIST way.

    Returns:
        ``uint8 (N, 28, 28)`` images and ``int64 (N,)`` labels.

    Raises:
        hdr.training.data.DataError: There are no samples.
    """
    return load_image_folder(_folder(feedback_dir))


@dataclass(frozen=True)
class Sample:
    """One saved feedback sample."""

    path: Path  # <feedback folder>/<label>/<name>.png
    label: int  # the digit the user said is right

    @property
    def saved(self) -> str:
        """When it was saved, ``YYYY-MM-DD HH:MM:SS`` UTC, from its name."""
        stamp = self.path.stem[:15]  # 20261202-013000-<random>
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"


def list_samples(feedback_dir: str | os.PathLike | None = None) -> list[Sample]:
    """Every saved sample, the newest first."""
    root = _folder(feedback_dir)
    samples = [
        Sample(path, digit)
        for digit in range(NUM_CLASSES)
        if (root / str(digit)).is_dir()
        for path in (root / str(digit)).glob(f"*{_SUFFIX}")
    ]
    return sorted(samples, key=lambda s: s.path.name, reverse=True)


def _sample_at(path: str | os.PathLike, feedback_dir: str | os.PathLike | None) -> Path:
    """``path`` if it is a sample of the feedback folder (``<folder>/<digit>/<name>.png``), else ValueError."""
    path, root = Path(path).resolve(), _folder(feedback_dir).resolve()
    if (
        path.suffix != _SUFFIX
        or path.parent.parent != root
        or path.parent.name not in {str(d) for d in range(NUM_CLASSES)}
    ):
        raise ValueError(f"{path.name} is not a feedback sample")
    return path


def relabel_sample(path: str | os.PathLike, label: int, feedback_dir: str | os.PathLike | None = None) -> Path:
    """Gives a saved sample another digit: it moves to that digit's folder, under the same name.

    Returns:
        The sample's new path (the same when ``label`` is already its digit).

    Raises:
        ValueError: ``label`` is not a digit, or ``path`` is not a sample of the folder.
        FileNotFoundError: The sample is gone (deleted meanwhile).
    """
    if isinstance(label, bool) or not (isinstance(label, (int, np.integer)) and 0 <= int(label) < NUM_CLASSES):
        raise ValueError(f"label must be a digit 0-9, got {label!r}")
    path = _sample_at(path, feedback_dir)
    target = path.parent.parent / str(int(label)) / path.name
    if target != path:
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)  # atomic: the sample is in one folder or the other, never both or neither
    return target


def delete_sample(path: str | os.PathLike, feedback_dir: str | os.PathLike | None = None) -> None:
    """Deletes a saved sample (nothing happens if it is already gone).

    Raises:
        ValueError: ``path`` is not a sample of the folder.
    """
    _sample_at(path, feedback_dir).unlink(missing_ok=True)
