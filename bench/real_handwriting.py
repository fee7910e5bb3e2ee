"""How well HDR reads real handwriting from other writers, scanners and countries, at several sizes.

Every source is read two ways with the same model:

- ``predict``: HDR's one preprocessing path (:func:`hdr.imaging.preprocess.to_mnist`) then the model, as
  ``python -m hdr predict`` does (a picture where no digit is found counts as wrong);
- the MNIST recipe, the simplest that could work on a scan: invert, crop to the ink, fit the
  longest side to 20 pixels, centre by centre of mass in 28x28.

Sources: the validation splits of USPS and ARDIS (held out of every training run, stratified, seed
0; see :mod:`hdr.training.handwriting`) and scikit-learn's 1,797 8x8 UCI digits (never trained on), each
handed over as dark ink on white paper inside a white margin, at its own size and enlarged
(bilinear and bicubic). Both ways read the same pictures, so they are compared pair by pair: the
digits only ``predict`` misreads against those only the recipe misreads, with the exact McNemar
p-value of that split (a small p: one way really reads these scans better; a large one: the gap is
a few digits either way). The last columns give the share of misreads that the model's "unsure"
line flags, and the share of correct reads it flags.

Usage::

    python -m bench.real_handwriting --handwriting-dir ../shared/handwriting
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from scipy.stats import binomtest
from sklearn.datasets import load_digits

from hdr.imaging.degrade import MARGIN
from hdr.imaging.preprocess import BOX_SIZE, CENTRE, preprocess_many
from hdr.inference.predict import Predictor
from hdr.settings import IMAGE_SIZE
from hdr.training.handwriting import load_handwriting

SIZES = (32, 64, 128)  # sides the small scans are enlarged to
RESAMPLERS = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
UCI_LEVELS = 16  # scikit-learn's 8x8 digits count ink in 4x4 blocks: 0..16


def mnist_recipe(picture: np.ndarray) -> np.ndarray:
    """The MNIST recipe on a dark-on-white ``uint8`` scan: ``(28, 28, 1)`` float32 in [0, 1]."""
    ink = 1.0 - picture.astype(np.float32) / 255.0
    ys, xs = np.nonzero(ink > 0.2 * ink.max())
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = BOX_SIZE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    total = small.sum()
    yy, xx = np.indices(small.shape)
    dy = np.clip(CENTRE - (yy * small).sum() / total, 0, IMAGE_SIZE - small.shape[0])
    dx = np.clip(CENTRE - (xx * small).sum() / total, 0, IMAGE_SIZE - small.shape[1])
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    out = cv2.warpAffine(small, shift, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR)
    return np.clip(out / max(out.max(), 1e-6), 0, 1)[..., None]


def on_paper(ink_high: np.ndarray, side: int | None, resample: int) -> np.ndarray:
    """An ink-high scan as dark ink on white paper, enlarged to ``side`` (None: as it is), in a white margin."""
    paper = 255 - ink_high.astype(np.uint8)
    if side is not None:
        paper = cv2.resize(paper, (side, side), interpolation=resample)
    pad = max(1, round(paper.shape[0] * MARGIN))
    return np.pad(paper, pad, constant_values=255)


def mcnemar_p(only_first: int, only_second: int) -> float:
    """Exact two-sided McNemar p-value: how likely a split this uneven of the pairs two readers disagree on is by chance."""
    disagree = only_first + only_second
    return 1.0 if disagree == 0 else float(binomtest(only_first, disagree, 0.5).pvalue)


def score(predictor: Predictor, pictures: list[np.ndarray], labels: np.ndarray) -> dict:
    """Accuracy through ``predict`` and through the MNIST recipe, paired, and what "unsure" flags."""
    results = predictor.predict_preprocessed(preprocess_many(pictures))
    ours = np.array([-1 if r.digit is None else r.digit for r in results])
    unsure = np.array([r.digit is None or r.unsure for r in results])
    recipe = predictor.probabilities(np.stack([mnist_recipe(p) for p in pictures])).argmax(axis=1)
    wrong, recipe_wrong = ours != labels, recipe != labels
    only_ours, only_recipe = int((wrong & ~recipe_wrong).sum()), int((recipe_wrong & ~wrong).sum())
    return {
        "predict": float(np.mean(~wrong)),
        "recipe": float(np.mean(~recipe_wrong)),
        "only_predict_wrong": only_ours,
        "only_recipe_wrong": only_recipe,
        "p": mcnemar_p(only_ours, only_recipe),
        "caught": float(unsure[wrong].mean()) if wrong.any() else float("nan"),
        "false_alarms": float(unsure[~wrong].mean()),
    }


def sources(handwriting_dir: str | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, ink-high scans without margin, labels) of every source to read."""
    uci = load_digits()
    found = [("UCI 8x8 (scikit-learn)", np.round(uci.images * 255 / UCI_LEVELS).astype(np.uint8), uci.target)]
    found += [(f"{s.name} validation", s.raw_val, s.y_val) for s in load_handwriting(handwriting_dir)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument(
        "--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR; none: UCI only)"
    )
    args = parser.parse_args()
    predictor = Predictor.load(args.model)
    print(
        f"model: {predictor.name} (temperature {predictor.temperature:.3f}, unsure below {predictor.unsure_below:.1%})\n"
    )
    print(
        "| source | size | `predict` | MNIST recipe | misread by `predict` only / by the recipe only (p) "
        "| misreads flagged unsure | correct reads flagged |"
    )
    print("|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for name, scans, labels in sources(args.handwriting_dir):
        rows = [(f"{scans.shape[1]} px", None, cv2.INTER_LINEAR)]
        rows += [(f"{side} px {kind}", side, flag) for side in SIZES for kind, flag in RESAMPLERS.items()]
        for size, side, resample in rows:
            r = score(predictor, [on_paper(s, side, resample) for s in scans], labels)
            mark = "" if r["predict"] >= r["recipe"] else " **below recipe**"
            print(
                f"| {name} ({len(labels)}) | {size} | {r['predict']:.2%}{mark} | {r['recipe']:.2%} | "
                f"{r['only_predict_wrong']} / {r['only_recipe_wrong']} ({r['p']:.2f}) | "
                f"{r['caught']:.0%} | {r['false_alarms']:.1%} |",
                flush=True,
            )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
