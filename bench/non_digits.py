"""Not a digit is an answer: how many non-digits are turned away, and how many digits are, set by set.

Non-digits: the ``test`` split of :mod:`synth.non_digits` (fonts, seeds and two kinds, heart and
arrow, that the gate never trained or was tuned on), N pictures of every kind, photos at a phone's
size. Each is read through ``Predictor.predict`` three ways: as before the rejection existed (only a
blank picture says "no digit"), with the ink rules alone, and with the rules and the gate (what
ships). Words are also read through ``read_digits``: the share that gives no number at all.

Digits: every benchmark set the project scores, through ``predict`` as its own benchmark hands it
over: MNIST test (all 10,000), the canvas drawings of ``bench.predict_speed``, MNIST test digits
under every damage of ``bench.robustness``, the single-digit photos of ``bench.score_photos``, and
the real handwriting of ``bench.real_handwriting`` (USPS and ARDIS validation splits, scikit-learn's
8x8 digits) at its own size and enlarged. A rejected digit is a false rejection; the target is at
most 1% of every set.

Usage::

    python -m bench.non_digits --handwriting-dir ../shared/handwriting      # the table in docs/
    python -m bench.non_digits --n 20 --digits 1000                         # quicker
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.predict_speed import make_drawings
from bench.real_handwriting import RESAMPLERS, SIZES, on_paper, sources
from hdr.imaging.degrade import COMBINED, CONDITIONS, degrade
from hdr.imaging.preprocess import preprocess_many
from hdr.inference.predict import Predictor
from hdr.inference.read import read_digits
from hdr.inference.reject import GATE_NAME, Gate, gate_dir, verdicts
from hdr.storage.store import read_card
from hdr.training.data import load_mnist
from synth.non_digits import kinds, non_digit_set
from synth.photos import KINDS as PHOTO_KINDS
from synth.photos import PhotoMaker

TARGET_REJECTED, TARGET_FALSE = 0.90, 0.01  # the bars: non-digits turned away, digits turned away


def rejected_shares(pictures: list, gate: Gate | None) -> tuple[float, float, float]:
    """Shares of ``pictures`` that say "no digit": before the rejection (blank only), by the rules, by rules and gate."""
    items = preprocess_many(pictures)
    before = np.mean([not item.found for item in items])
    rules = np.mean([v.rule is not None for v in verdicts(items, None)])
    both = np.mean([v.rule is not None for v in verdicts(items, gate)]) if gate is not None else rules
    return float(before), float(rules), float(both)


def no_number_share(pictures: list, predictor: Predictor) -> float:
    """Share of pictures in which ``read_digits`` finds no digit at all."""
    return float(np.mean([read_digits(p, predictor).text == "" for p in pictures]))


def digit_sets(args: argparse.Namespace) -> list[tuple[str, Callable[[], list]]]:
    """(name, maker of the pictures) for every benchmark set of digits, made when asked for."""
    mnist = load_mnist(args.data_dir)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(mnist.x_test), size=min(args.digits, len(mnist.x_test)), replace=False)
    damaged_pick = pick[: args.per_condition]

    def drawings() -> list:
        with tempfile.TemporaryDirectory() as folder:
            paths, *_ = make_drawings(Path(folder), args.drawings)
            return [p.read_bytes() for p in paths]

    def damaged(condition: str) -> Callable[[], list]:
        return lambda: [
            degrade(d, condition, np.random.default_rng([args.seed, i]))
            for i, d in enumerate(mnist.x_test[damaged_pick])
        ]

    def photos() -> list:
        maker = PhotoMaker(mnist.x_test, mnist.y_test, seed=args.seed)
        return [maker.single(kind).jpeg for kind in PHOTO_KINDS for _ in range(args.photos)]

    found = [
        (f"MNIST test ({len(pick)})", lambda: list(mnist.x_test[pick])),
        (f"canvas drawings of bench.predict_speed ({args.drawings})", drawings),
        (f"photos of one digit, bench.score_photos ({args.photos} x {len(PHOTO_KINDS)} kinds)", photos),
    ]
    found += [(f"damaged: {c} ({len(damaged_pick)})", damaged(c)) for c in [*CONDITIONS, *COMBINED]]
    for name, scans, _ in sources(args.handwriting_dir):
        rows = [(f"{scans.shape[1]} px", None, 0)] + [
            (f"{side} px {kind}", side, flag) for side in SIZES for kind, flag in RESAMPLERS.items()
        ]
        found += [
            (
                f"{name} ({len(scans)}), {size}",
                lambda s=scans, side=side, flag=flag: [on_paper(x, side, flag) for x in s],
            )
            for size, side, flag in rows
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="non-digit pictures per kind (default: 100)")
    parser.add_argument("--digits", type=int, default=10000, help="MNIST test digits (default: 10000, all)")
    parser.add_argument("--per-condition", type=int, default=500, help="MNIST test digits per damage (default: 500)")
    parser.add_argument("--drawings", type=int, default=1000, help="canvas drawings (default: 1000)")
    parser.add_argument("--photos", type=int, default=30, help="one-digit photos per kind of photo (default: 30)")
    parser.add_argument("--seed", type=int, default=0, help="which pictures (default: 0)")
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument(
        "--gate-dir", default=None, help="folder of the gate to score (default: the shipped models/gate)"
    )
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR)")
    parser.add_argument(
        "--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR; none: UCI only)"
    )
    args = parser.parse_args()

    predictor = Predictor.load(args.model, gate=False)
    predictor.gate = Gate.load(args.gate_dir)
    gate = predictor.gate
    start = time.perf_counter()
    print(f"model: {predictor.name}; gate threshold {gate.threshold:.4f}" if gate else "no gate: rules alone")
    print(f"\nnon-digits: the test split of synth.non_digits, {args.n} per kind, seed {args.seed}\n")
    print('| kind | before: "no digit" | rules alone | rules + gate | `read`: no number |')
    print("|---|---:|---:|---:|---:|")
    shares = []
    pictures_by_kind: dict[str, list] = {}
    for item in non_digit_set("test", args.n, args.seed):
        pictures_by_kind.setdefault(item.kind, []).append(item.picture)
    for kind in kinds("test"):
        pictures = pictures_by_kind[kind]
        before, rules, both = rejected_shares(pictures, gate)
        shares.append(both)
        read = f"{no_number_share(pictures, predictor):.0%}" if kind.startswith("word") else ""
        print(f"| {kind} | {before:.0%} | {rules:.0%} | {both:.0%} | {read} |", flush=True)
    mean = float(np.mean(shares))
    print(f"| **all kinds, mean** | | | **{mean:.1%}** (target >= {TARGET_REJECTED:.0%}) | |")
    trained = set(read_card(GATE_NAME, args.gate_dir or gate_dir()).data.get("non_digits", {})) if gate else set()
    for name, chosen in (("kinds the gate trained on", True), ("kinds the gate never saw", False)):
        picked = [share for kind, share in zip(kinds("test"), shares, strict=True) if (kind in trained) == chosen]
        if picked:
            print(f"| mean over the {len(picked)} {name} | | | {np.mean(picked):.1%} | |")

    print("\ndigits: every benchmark set, through `predict`\n")
    print('| set | before: "no digit" | rules alone | rules + gate |')
    print("|---|---:|---:|---:|")
    worst = (0.0, "")
    for name, make in digit_sets(args):
        before, rules, both = rejected_shares(make(), gate)
        worst = max(worst, (both, name))
        flag = " **over 1%**" if both > TARGET_FALSE else ""
        print(f"| {name} | {before:.2%} | {rules:.2%} | {both:.2%}{flag} |", flush=True)
    print(f"\nmost digits rejected: {worst[0]:.2%} ({worst[1]}); {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
