"""Learning one hand: ``python -m hdr fine-tune`` on 10 samples per digit of one source, scored on the rest.

The samples are written as PNG scans (dark ink on white paper) into a folder ``0/`` .. ``9/``, as
a user would save them, and the command line fine-tunes the model on them. The rest of that
source's validation split (never trained on) and the MNIST test set are read before and after.

Usage::

    python -m bench.fine_tune --handwriting-dir ../shared/handwriting --source ardis
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.real_handwriting import on_paper
from hdr.cli.main import main as cli
from hdr.inference.evaluate import evaluate_model
from hdr.inference.predict import Predictor
from hdr.storage.store import resolve_model_path
from hdr.training.data import load_mnist
from hdr.training.handwriting import load_handwriting


def accuracy(predictor: Predictor, pictures: list[np.ndarray], labels: np.ndarray) -> float:
    """Share of ``pictures`` that ``predict`` reads right (no digit found counts as wrong)."""
    results = predictor.predict_many(pictures)
    return float(np.mean([r.digit == label for r, label in zip(results, labels, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model to start from (default: the active model)")
    parser.add_argument("--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR)")
    parser.add_argument("--source", default="ardis", choices=("usps", "ardis"), help="whose hand (default: ardis)")
    parser.add_argument("--per-digit", type=int, default=10, help="samples per digit (default: 10)")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR)")
    args = parser.parse_args()

    [real] = [s for s in load_handwriting(args.handwriting_dir) if s.name == args.source]
    rng = np.random.default_rng(0)
    pick = np.concatenate([rng.permutation(np.flatnonzero(real.y_val == d))[: args.per_digit] for d in range(10)])
    rest = np.setdiff1d(np.arange(len(real.y_val)), pick)
    pictures = [on_paper(scan, None, 0) for scan in real.raw_val]
    mnist = load_mnist(args.data_dir)
    base = resolve_model_path(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        for i in pick:
            folder = Path(tmp, "samples", str(real.y_val[i]))
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pictures[i]).save(folder / f"{i}.png")
        out = Path(tmp, "mine.keras")
        start = time.perf_counter()
        cli(["fine-tune", "--samples", str(Path(tmp, "samples")), "--model", str(base), "--out", str(out)])
        seconds = time.perf_counter() - start
        rows = []
        for name, path in (("before", base), ("after", out)):
            predictor = Predictor.load(path)
            rest_acc = accuracy(predictor, [pictures[i] for i in rest], real.y_val[rest])
            rows.append((name, rest_acc, evaluate_model(predictor, mnist.x_test, mnist.y_test).accuracy))
    print(f"\nmodel {base.stem}; {len(pick)} {args.source} samples; the command took {seconds:.0f} s\n")
    print(f"| | {args.source}: the other {len(rest)} validation digits | MNIST test |")
    print("|---|---|---|")
    for name, rest_acc, mnist_acc in rows:
        print(f"| {name} | {rest_acc:.2%} | {mnist_acc:.2%} |")


if __name__ == "__main__":
    main()
