"""Export to LiteRT (TensorFlow Lite) for phones and the edge, and run an exported file.

:func:`export_tflite` converts a Keras model with TensorFlow's converter, optionally quantized:
``float16`` halves the weights, ``int8`` makes weights and activations 8-bit integers, with the
activation ranges calibrated on training images. Inputs and outputs stay float32 ``(N, 28, 28, 1)``
and ``(N, 10)`` in every variant, so an exported file takes exactly what a Keras model takes.
:class:`TFLiteModel` runs an exported file with the LiteRT interpreter and can stand where a
Keras model is called (``hdr.inference.evaluate.evaluate_model`` scores it the same way).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hdr.inference.predict import batched_probabilities
from hdr.settings import IMAGE_SIZE
from hdr.storage.files import write_atomic

TFLITE_SUFFIX = ".tflite"
QUANTIZATIONS = ("float16", "int8")  # besides None: plain float32
CALIBRATION_IMAGES = 1000  # training images that set int8 activation ranges: 100 per class on average
_MAX_BATCH = 1024  # images per interpreter call: bounds the memory of the resized input tensor


class ExportError(ValueError):
    """A model cannot be exported, or an exported file cannot be run; the message is one line."""


def export_tflite(
    model: keras.Model,
    *,
    quantize: str | None = None,
    calibration: np.ndarray | None = None,
    seed: int = 0,
) -> bytes:
    """Converts a Keras model to a LiteRT flatbuffer.

    Args:
        model: A model taking ``(N, 28, 28, 1)`` float32 in [0, 1] and returning ``(N, 10)`` probabilities.
        quantize: None (float32), ``"float16"`` (weights in half precision) or ``"int8"`` (weights
            and activations in 8 bits; float32 input and output).
        calibration: ``uint8 (N, 28, 28)`` MNIST-format training images for ``int8``; at most
            :data:`CALIBRATION_IMAGES` of them, drawn at random, set the activation ranges.
        seed: Seed of that draw.

    Returns:
        The ``.tflite`` file's bytes.

    Raises:
        ExportError: Unknown quantization, or ``int8`` without calibration images.
    """
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ExportError(f"unknown quantization {quantize!r}; choose from {', '.join(QUANTIZATIONS)}")
    if quantize == "int8" and (calibration is None or len(calibration) == 0):
        raise ExportError("int8 quantization needs calibration images (training images)")
    with tempfile.TemporaryDirectory(prefix="hdr-export-") as saved_model:
        # Keras 3's documented path to LiteRT: a SavedModel first, whose variables the converter
        # freezes into constants (a concrete function of the live model would keep them as
        # resource variables, which the interpreter cannot read).
        spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32, name="image")
        model.export(saved_model, format="tf_saved_model", input_signature=[spec], verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
        _configure(converter, quantize, calibration, seed)
        return converter.convert()


def _configure(converter: tf.lite.TFLiteConverter, quantize: str | None, calibration, seed: int) -> None:
    """Sets the converter's quantization."""
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: _calibration_batches(calibration, seed)
        # Every op in 8 bits or the conversion fails, rather than silently keeping float ops.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]


def _calibration_batches(images: np.ndarray, seed: int) -> Iterator[list[np.ndarray]]:
    """One-image float batches drawn from ``images``, as the converter's representative dataset wants."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(images), size=min(CALIBRATION_IMAGES, len(images)), replace=False)
    for i in chosen:
        yield [images[i : i + 1].astype(np.float32)[..., None] / 255.0]


def write_tflite(content: bytes, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Writes an exported model atomically (a crash never leaves half a file under ``path``).

    Returns:
        The path written.

    Raises:
        ExportError: ``path`` does not end in ``.tflite``, or exists and ``overwrite`` is False.
        OSError: The folder cannot be written.
    """
    path = Path(path)
    if path.suffix != TFLITE_SUFFIX:
        raise ExportError(f"{path}: the output must end in {TFLITE_SUFFIX}")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} exists; pass --overwrite to replace it")
    return write_atomic(path, content)


class TFLiteModel:
    """An exported ``.tflite`` model, run by the LiteRT interpreter; a :class:`hdr.inference.evaluate.Classifier` like a Predictor.

    The interpreter is not thread-safe, so calls are serialised by a lock.

    Example:
        >>> model = TFLiteModel.load("m.tflite")
        >>> model.probabilities(x).shape  # x: (N, 28, 28, 1) float32
        (N, 10)
    """

    def __init__(self, content: bytes, name: str = "tflite"):
        from ai_edge_litert.interpreter import Interpreter

        self.name = name
        self.size_bytes = len(content)
        try:
            self._interpreter = Interpreter(model_content=content)
        except ValueError as exc:
            raise ExportError(f"{name}: not a LiteRT model ({str(exc).splitlines()[0]})") from None
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1 or tuple(inputs[0]["shape"][1:]) != (IMAGE_SIZE, IMAGE_SIZE, 1):
            raise ExportError(f"{name}: not a digit model (it must take (N, 28, 28, 1) and return (N, 10))")
        self._input, self._output = inputs[0]["index"], outputs[0]["index"]
        self._batch = 0  # the batch size the tensors are allocated for
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike) -> TFLiteModel:
        """Loads an exported file.

        Raises:
            ExportError: The file is not a LiteRT digit model.
            OSError: The file cannot be read.
        """
        path = Path(path)
        return cls(path.read_bytes(), name=path.stem)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of MNIST-format inputs.

        Args:
            x: ``(N, 28, 28, 1)`` float32 in [0, 1].

        Returns:
            ``(N, 10)`` float32 probabilities.
        """
        with self._lock:
            return batched_probabilities(self._invoke, x, _MAX_BATCH)

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        """One interpreter call on a batch; tensors are reallocated only when the batch size changes."""
        if len(x) != self._batch:
            self._interpreter.resize_tensor_input(self._input, list(x.shape))
            self._interpreter.allocate_tensors()
            self._batch = len(x)
        self._interpreter.set_tensor(self._input, x)
        self._interpreter.invoke()
        probs = self._interpreter.get_tensor(self._output).astype(np.float32)
        # An int8 softmax comes back in steps of 1/256 that need not sum to one; rescaled, it
        # is a distribution again (a float model's output is left as it is, up to rounding).
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), np.finfo(np.float32).tiny)
