"""How well HDR reads damaged handwriting, against the naive recipe, condition by condition.

MNIST *test* digits (never seen in training) are damaged the ways real inputs are (see
:mod:`hdr.imaging.degrade`: low resolution, blur, faint and uneven ink, gaps, thick and thin pens, chalk
on a board, salt and pepper, heavy JPEG, a small digit on a large page) and read two ways with
the same model:

- ``predict``: HDR's one preprocessing path (:func:`hdr.imaging.preprocess.to_mnist`) then the model, as
  ``Predictor.predict`` does (a picture where no digit is found counts as wrong);
- naive: the seeds' recipe, the simplest that could work: grey, resize the whole picture to 28x28,
  invert when the paper is light, run the model.

Rows after the mean combine kinds of damage, as a real scan does (faint, blurred and low in
resolution at once; a bold marker cropped tight: :data:`hdr.imaging.degrade.COMBINED`), then come
two block scans, made as the UCI forms were (:data:`hdr.imaging.degrade.BLOCK_SCANS`). A last row reads
real handwriting that nobody on this project made: the 1,797 digits of the UCI "optical
recognition of handwritten digits" set that scikit-learn ships (43 writers, 8x8 pixels of 17
grey levels), each handed over as the small grey scan it is.

Usage::

    python -m bench.robustness              # the table in docs/ (1000 digits per condition)
    python -m bench.robustness --n 200      # quicker
    python -m bench.robustness --no-gate    # what the network reads, none turned away as no digit
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from hdr.imaging.degrade import BLOCK_SCANS, COMBINED, CONDITIONS, PAPER, degrade
from hdr.imaging.preprocess import preprocess_many
from hdr.inference.predict import Predictor
from hdr.settings import IMAGE_SIZE
from hdr.training.data import load_mnist, split_validation

VAL_FRACTION = 0.1  # the shipped models' validation share (see their cards)
UCI_LEVELS = 16  # scikit-learn's 8x8 digits count ink in 4x4 blocks: 0..16


def naive_input(picture: np.ndarray) -> np.ndarray:
    """The seeds' recipe: resize the whole picture to 28x28, light paper inverted, ``(28, 28, 1)`` in [0, 1]."""
    x = np.asarray(Image.fromarray(picture).convert("L").resize((IMAGE_SIZE, IMAGE_SIZE)), np.float32) / 255.0
    return (1.0 - x if x.mean() > 0.5 else x)[..., None]


def score(predictor: Predictor, pictures: list[np.ndarray], labels: np.ndarray) -> tuple[float, float]:
    """Accuracy of ``predict`` (HDR's preprocessing) and of the naive recipe on the same pictures."""
    results = predictor.predict_preprocessed(preprocess_many(pictures))
    ours = np.array([-1 if r.digit is None else r.digit for r in results])
    naive = predictor.probabilities(np.stack([naive_input(p) for p in pictures])).argmax(axis=1)
    return float(np.mean(ours == labels)), float(np.mean(naive == labels))


def _row(
    predictor: Predictor, condition: str, digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """Scores one condition and prints its table row."""
    ours, naive = score(predictor, [degrade(d, condition, rng) for d in digits], labels)
    flag = "" if ours >= naive else " **below naive**"
    print(f"| {condition} | {ours:.1%}{flag} | {naive:.1%} |", flush=True)
    return ours, naive


def uci_digits() -> tuple[list[np.ndarray], np.ndarray]:
    """scikit-learn's real 8x8 handwritten digits as small grey scans: dark ink on paper."""
    digits = load_digits()
    pictures = [np.round(PAPER * (1.0 - image / UCI_LEVELS)).astype(np.uint8) for image in digits.images]
    return pictures, digits.target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="MNIST test digits per condition (default: 1000)")
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    parser.add_argument("--seed", type=int, default=0, help="which digits and which damage (default: 0)")
    parser.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="MNIST test digits (the table in docs/pipeline.md), or the seed-0 validation split to choose models on (default: test)",
    )
    parser.add_argument(
        "--no-gate",
        action="store_true",
        help="leave out the digit gate (docs/non-digits.md): every picture with ink gets a digit",
    )
    args = parser.parse_args()

    predictor = Predictor.load(args.model, gate=not args.no_gate)
    mnist = load_mnist(args.data_dir)
    rng = np.random.default_rng(args.seed)
    if args.split == "val":  # the split every shipped model was validated on: choose models here
        split = split_validation(mnist.x_train, mnist.y_train, val_fraction=VAL_FRACTION, seed=0)
        x, y = split.x_val, split.y_val
    else:
        x, y = mnist.x_test, mnist.y_test
    pick = rng.choice(len(x), size=min(args.n, len(x)), replace=False)
    digits, labels = x[pick], y[pick]

    gate = ", no digit gate" if args.no_gate else ""
    print(f"model: {predictor.name}{gate}; {len(pick)} MNIST {args.split} digits per condition, seed {args.seed}\n")
    print("| condition | `predict` | naive recipe |")
    print("|---|---|---|")
    ours_all, naive_all = [], []
    start = time.perf_counter()
    for condition in CONDITIONS:
        ours, naive = _row(predictor, condition, digits, labels, rng)
        ours_all.append(ours)
        naive_all.append(naive)
    print(f"| **mean over {len(CONDITIONS)} conditions** | **{np.mean(ours_all):.2%}** | {np.mean(naive_all):.2%} |")
    for condition in [*COMBINED, *BLOCK_SCANS]:  # after the mean, so the rows above draw the same damage as before
        _row(predictor, condition, digits, labels, rng)
    pictures, target = uci_digits()
    ours, naive = score(predictor, pictures, target)
    print(f"| real: UCI handwritten digits, 8x8 scans ({len(target)}, scikit-learn) | {ours:.1%} | {naive:.1%} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
