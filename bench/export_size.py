"""The shipped model exported to LiteRT: file size, MNIST test accuracy and per-image latency.

Exports the model as float32, float16 and int8 (calibrated on training images) into a
temporary folder, scores each file on the 10,000 MNIST test images exactly as
``python -m hdr evaluate --model PATH.tflite`` does, and times one image per call (the
phone's case) against the Keras model through :class:`hdr.inference.predict.Predictor`.

Usage::

    HDR_DATA_DIR=../shared/mnist python -m bench.export_size               # the table in docs/
    HDR_DATA_DIR=../shared/mnist python -m bench.export_size --timed 200   # quicker
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from hdr.inference.evaluate import Classifier, evaluate_model
from hdr.inference.export import TFLiteModel, export_tflite, write_tflite
from hdr.inference.predict import Predictor
from hdr.storage.store import resolve_model_path
from hdr.training.data import load_mnist

WARMUP_CALLS = 20  # first calls allocate tensors and trace; not what a user waits for later
PERCENTILES = (50, 95)


def time_per_image(model: Classifier, images: np.ndarray) -> list[float]:
    """p50 and p95 milliseconds of one call on one ``(1, 28, 28, 1)`` image."""
    for x in images[:WARMUP_CALLS]:
        model.probabilities(x[None])
    times = []
    for x in images:
        start = time.perf_counter()
        model.probabilities(x[None])
        times.append((time.perf_counter() - start) * 1000)
    return [float(np.percentile(times, p)) for p in PERCENTILES]


def main() -> None:
    """Prints the table in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="model name or .keras path (default: default)")
    parser.add_argument("--timed", type=int, default=1000, help="test images timed one by one (default: 1000)")
    args = parser.parse_args()

    mnist = load_mnist()
    keras_path = resolve_model_path(args.model)
    keras_predictor = Predictor.load(args.model)
    timed = mnist.x_test[: args.timed].astype(np.float32)[..., None] / 255.0
    rows = [("Keras (.keras)", keras_path.stat().st_size, keras_predictor)]
    with tempfile.TemporaryDirectory(prefix="hdr-export-bench-") as folder:
        for quantize in (None, "float16", "int8"):
            label = quantize or "float32"
            content = export_tflite(keras_predictor.model, quantize=quantize, calibration=mnist.x_train)
            path = write_tflite(content, Path(folder) / f"{label}.tflite")
            rows.append((f"LiteRT {label}", path.stat().st_size, TFLiteModel.load(path)))
        print("| model | file size | MNIST test accuracy | per image p50 | p95 |")
        print("|---|---|---|---|---|")
        for label, size, model in rows:
            accuracy = evaluate_model(model, mnist.x_test, mnist.y_test).accuracy
            p50, p95 = time_per_image(model, timed)
            print(f"| {label} | {size / 1024:.0f} KB | {accuracy:.2%} | {p50:.2f} ms | {p95:.2f} ms |")


if __name__ == "__main__":
    main()
