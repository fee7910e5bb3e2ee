"""How fast a drawing becomes a digit: HDR's Predictor against the seeds' per-image recipe.

Three measurements on the same canvas drawings (PNG files as a browser canvas returns them,
in four colour schemes, thin to thick pens, off-centre and small):

- many files in one call: ``Predictor.predict_many(paths)`` (decode + preprocess + one
  forward pass), per drawing, against the seeds' loop of PIL decode, resize to 28x28 and
  ``model.predict`` per image;
- single-image latency of an already decoded drawing: ``Predictor.predict`` against
  ``model.predict`` (p50 and p95);
- the command line end to end, ``python -m hdr predict`` on every file, process start included.

Usage::

    python -m bench.predict_speed            # the table in docs/ (1000 drawings)
    python -m bench.predict_speed --n 100    # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from hdr.inference.predict import Predictor
from synth.canvas import STYLES, draw_digit

SEED_RECIPE_SAMPLE = 100  # the per-image recipe is slow; time this many and scale
CLOSED_LOOPS = 0.4  # a pen this share of the digit's height or wider fills its loops (see make_drawings)


def make_drawings(folder: Path, n: int, seed: int = 0) -> tuple[list[Path], list[int], list[float]]:
    """Writes ``n`` varied canvas drawings as PNG files; returns their paths, digits and pen shares.

    A drawing's pen share is its pen's width over the digit's height: at :data:`CLOSED_LOOPS` and
    above, the loops of a 0, 6, 8 or 9 close and the digit is a solid blob.
    """
    rng = np.random.default_rng(seed)
    paths, digits, shares = [], [], []
    for i in range(n):
        digit = int(rng.integers(10))
        width, height = int(rng.integers(3, 40)), float(rng.uniform(0.2, 0.8))
        rgba = draw_digit(
            digit,
            style=STYLES[i % len(STYLES)],
            width=width,
            height=height,
            centre=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))),
        )
        path = folder / f"{i:05d}_{digit}.png"
        Image.fromarray(rgba, "RGBA").save(path)
        paths.append(path)
        digits.append(digit)
        shares.append(width / (height * rgba.shape[0]))
    return paths, digits, shares


def seed_recipe(model, path: Path) -> int:
    """What the public projects do: grey, resize to 28x28, scale, ``model.predict`` on one image."""
    img = Image.open(path).convert("L").resize((28, 28))
    x = np.asarray(img, np.float32)[None, ..., None] / 255.0
    return int(model.predict(x, verbose=0).argmax())


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of drawings (default: 1000)")
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument("--no-gate", action="store_true", help="leave the digit gate out, to time what it adds")
    args = parser.parse_args()

    predictor = Predictor.load(args.model, gate=not args.no_gate)
    with tempfile.TemporaryDirectory() as tmp:
        paths, digits, shares = make_drawings(Path(tmp), args.n)

        predictor.predict_many(paths[:8])  # warm up, as a running app or service is
        start = time.perf_counter()
        predictions = predictor.predict_many(paths)
        ours = (time.perf_counter() - start) / len(paths)
        right = np.array([p.digit == d for p, d in zip(predictions, digits, strict=True)])
        blobs = np.asarray(shares) >= CLOSED_LOOPS

        sample = paths[:SEED_RECIPE_SAMPLE]
        seed_recipe(predictor.model, sample[0])  # the same warm-up for the seeds' recipe
        start = time.perf_counter()
        seed_digits = [seed_recipe(predictor.model, p) for p in sample]
        seeds = (time.perf_counter() - start) / len(sample)
        seeds_acc = np.mean([s == d for s, d in zip(seed_digits, digits, strict=False)])

        arrays = [np.asarray(Image.open(p)) for p in paths[:200]]
        single_ours, single_keras = [], []
        for rgba in arrays:
            t0 = time.perf_counter()
            predictor.predict(rgba)
            single_ours.append(time.perf_counter() - t0)
        x = predictor.predict(arrays[0]).preprocessed.image[None]
        for _ in range(100):
            t0 = time.perf_counter()
            predictor.model.predict(x, verbose=0)
            single_keras.append(time.perf_counter() - t0)

        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hdr", "predict", *map(str, paths)], check=True, capture_output=True, env=env
        )
        cli = (time.perf_counter() - start) / len(paths)

    p50, p95 = percentiles(single_ours)
    k50, k95 = percentiles(single_keras)
    gate = "with the digit gate" if predictor.gate else "without the digit gate"
    print(f"model: {predictor.name}, {gate}; {args.n} canvas drawings (PNG, 280x280); {os.cpu_count()} CPU cores\n")
    print("| path | per drawing | accuracy on the drawings |")
    print("|---|---|---|")
    print(
        f"| HDR `predict_many` (decode + preprocess + one batched pass) | {ours * 1000:.2f} ms | {right.mean():.1%} |"
    )
    print(f"| HDR CLI `python -m hdr predict` on all files, process start included | {cli * 1000:.2f} ms | |")
    print(
        f"| seeds' recipe: resize to 28x28 + `model.predict` per image ({len(sample)} files) | {seeds * 1000:.1f} ms | {seeds_acc:.1%} |"
    )
    print(
        f"\nOf these, the {blobs.sum()} drawn with a pen at least {CLOSED_LOOPS:.0%} of the digit's height (loops "
        f"closed): {right[blobs].sum()} read right; the other {(~blobs).sum()}: {right[~blobs].sum()} read right."
    )
    print("\n| single decoded drawing | p50 | p95 |")
    print("|---|---|---|")
    print(f"| `Predictor.predict` (preprocess + forward) | {p50:.2f} ms | {p95:.2f} ms |")
    print(f"| `model.predict` (forward only) | {k50:.1f} ms | {k95:.1f} ms |")


if __name__ == "__main__":
    main()
