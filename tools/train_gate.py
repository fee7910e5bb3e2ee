"""Trains the digit gate (:mod:`hdr.inference.reject`) and ships it in ``models/gate/`` with its card.

Digits: MNIST's training split less its validation tenth (seed 0, the split every shipped model
was validated on), clean, damaged (:func:`hdr.imaging.damage.random_damage`), drawn on a canvas and
photographed; real handwriting's training splits (USPS, ARDIS), less a tenth kept for validation.
Non-digits: ``synth.non_digits``'s ``train`` split. Every picture goes through
:func:`hdr.imaging.preprocess.to_mnist`, as ``predict`` would hand it over, and those the ink rules already
reject (blank, whole picture) are left out: the gate never sees them.

The threshold is chosen on validation sets that share no picture with training (MNIST's
validation tenth in the same six forms, the held-back handwriting, the ``val`` split of the
non-digits, with fonts of its own): the highest that turns away at most ``--max-rejected`` of the
digits of every set that the shipped classifier reads right (one it misreads is lost either way).
Digits in a fat pen and 8 px scans enlarged are two of the forms. The benchmark sets (MNIST test,
scikit-learn's digits, the non-digits' ``test`` split) are never used here; ``python -m
bench.non_digits`` scores them.

Usage::

    python -m tools.train_gate --handwriting-dir ../shared/handwriting     # the shipped gate
    python -m tools.train_gate --dry-run --out /tmp/gate                     # the whole path in a minute
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hdr.imaging.damage import random_damage
from hdr.imaging.degrade import COMBINED, CONDITIONS, PAPER, degrade, scanned_small
from hdr.imaging.preprocess import preprocess_many
from hdr.inference.reject import GATE_NAME, ink_rule
from hdr.settings import IMAGE_SIZE
from hdr.training.data import load_mnist, split_validation
from hdr.training.gate import GateConfig, choose_threshold, fit_gate
from hdr.training.handwriting import load_handwriting
from synth.canvas import mnist_on_canvas
from synth.non_digits import kinds, non_digit_set
from synth.photos import PhotoMaker

SPLIT_SEED, VAL_FRACTION = 0, 0.1  # the shipped models' validation split of MNIST's training set
PHOTO_SIZE = (480, 360)  # training photos are small, so hundreds make in seconds
VAL_PHOTO_SIZE = (1200, 900)


def model_inputs(pictures: list) -> np.ndarray:
    """``(N, 28, 28, 1)`` float32: what ``predict`` makes of each picture, those the ink rules reject left out."""
    return labelled_inputs(pictures, np.zeros(len(pictures), np.int64))[0]


def labelled_inputs(pictures: list, labels) -> tuple[np.ndarray, np.ndarray]:
    """:func:`model_inputs` of digits and their labels, the labels of the pictures left out dropped too."""
    kept = [
        (item.image, label)
        for item, label in zip(preprocess_many(pictures), labels, strict=True)
        if not isinstance(item, Exception) and ink_rule(item) is None
    ]
    if not kept:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32), np.zeros(0, np.int64)
    return np.stack([image for image, _ in kept]), np.array([label for _, label in kept], np.int64)


def enlarged_scan(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit scanned alone at 8 px in 16 grey levels, enlarged smoothly to 32, 64 or 128 px, on
    paper with a margin: a blocky, blurred low-resolution scan as a form or an old database keeps it."""
    small = scanned_small(8, 16)(digit, rng)
    side = int(rng.choice([32, 64, 128]))
    big = cv2.resize(small, (side, side), interpolation=(cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(2))])
    return np.pad(big, side // 4, constant_values=PAPER)


def digit_sets(x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator, photo_size, tag: str) -> dict:
    """MNIST digits in six forms: ``{name: ((N, 28, 28, 1) inputs, (N,) labels)}``, as ``predict`` hands them over."""
    pick = rng.choice(len(x), size=min(n, len(x)), replace=False)
    digits, labels = x[pick], y[pick]
    quarter = max(1, n // 4)
    mixes = ("heavy", "basic")
    damaged = [random_damage(d, rng, mixes[i % 2]) for i, d in enumerate(digits[:n])]
    damaged_labels = list(labels[:n])
    if tag == "val":  # also every benchmark condition, on validation digits
        names = [*CONDITIONS, *COMBINED]
        damaged += [degrade(d, names[i % len(names)], rng) for i, d in enumerate(digits[: 4 * len(names)])]
        damaged_labels += list(labels[: 4 * len(names)])
    maker = PhotoMaker(x, y, seed=int(rng.integers(1 << 31)))
    # Photos are slow to make: a quarter as many to train on; to validate, as many as the other
    # forms, so that the threshold (a low quantile of each set) does not rest on two photos.
    photos = [maker.single("mixed", photo_size) for _ in range(quarter if tag == "val" else quarter // 4)]
    fat, scans = slice(quarter, 2 * quarter), slice(2 * quarter, 3 * quarter)
    return {
        f"MNIST {tag}, clean": labelled_inputs(list(digits), labels),
        f"MNIST {tag}, damaged": labelled_inputs(damaged, damaged_labels),
        f"MNIST {tag}, on a canvas": labelled_inputs(
            [mnist_on_canvas(d, rng) for d in digits[:quarter]], labels[:quarter]
        ),
        f"MNIST {tag}, fat pen on a canvas": labelled_inputs(
            [mnist_on_canvas(d, rng, bold=True) for d in digits[fat]], labels[fat]
        ),
        f"MNIST {tag}, small scans enlarged": labelled_inputs(
            [enlarged_scan(d, rng) for d in digits[scans]], labels[scans]
        ),
        f"MNIST {tag}, photos": labelled_inputs([p.jpeg for p in photos], [int(p.label) for p in photos]),
    }


def handwriting_sets(folder: str | None) -> tuple[dict, dict]:
    """Real handwriting's training splits: nine tenths to train the gate on, one to validate it; ``{name: (x, y)}``."""
    train, val = {}, {}
    for source in load_handwriting(folder):
        split = split_validation(source.x_train, source.y_train, val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
        train[source.name] = split.x_train[..., None].astype(np.float32) / 255.0, split.y_train
        val[f"{source.name} (a tenth of its training split)"] = (
            split.x_val[..., None].astype(np.float32) / 255.0,
            split.y_val,
        )
    return train, val


def non_digit_inputs(split: str, n_per_kind: int, seed: int, small_photos: bool, only=None) -> dict:
    """``{kind: (N, 28, 28, 1)}`` of a split of the generated non-digits that pass the ink rules."""
    by_kind: dict[str, list] = {}
    for item in non_digit_set(split, n_per_kind, seed, small_photos=small_photos, only=only):
        by_kind.setdefault(item.kind, []).append(item.picture)
    return {kind: model_inputs(pictures) for kind, pictures in by_kind.items()}


def main(argv: list[str] | None = None) -> int:
    """Makes the data, trains the gate, chooses its threshold and saves it with its card."""
    parser = argparse.ArgumentParser(prog="python -m tools.train_gate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="models/gate", help="folder to save gate.keras and gate.json in (default: models/gate)"
    )
    parser.add_argument("--digits", type=int, default=16000, help="MNIST training digits per form (default: 16000)")
    parser.add_argument("--non-digits", type=int, default=900, help="generated non-digits per kind (default: 900)")
    parser.add_argument("--val-digits", type=int, default=2000, help="MNIST validation digits per form (default: 2000)")
    parser.add_argument("--val-non-digits", type=int, default=60, help="validation non-digits per kind (default: 60)")
    parser.add_argument(
        "--max-rejected",
        type=float,
        default=0.005,
        help="share of each validation set of digits the threshold may turn away (default: 0.005)",
    )
    parser.add_argument(
        "--epochs", type=int, default=GateConfig.epochs, help=f"training epochs (default: {GateConfig.epochs})"
    )
    parser.add_argument(
        "--filters",
        type=int,
        nargs=3,
        default=list(GateConfig.filters),
        help=f"the three convolutions' filters (default: {' '.join(map(str, GateConfig.filters))})",
    )
    parser.add_argument(
        "--dense", type=int, default=GateConfig.dense, help=f"hidden dense units (default: {GateConfig.dense})"
    )
    parser.add_argument(
        "--cache",
        default=None,
        help="npz file keeping the preprocessed pictures: made once, then reused (default: none)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (default: 0)")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR)")
    parser.add_argument(
        "--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR; none: MNIST only)"
    )
    parser.add_argument(
        "--recalibrate",
        action="store_true",
        help="keep the gate in --out, choose its threshold again (default: train one)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="a few hundred pictures and one epoch: the whole path quickly"
    )
    args = parser.parse_args(argv)
    if args.dry_run:
        args.digits, args.non_digits, args.val_digits, args.val_non_digits, args.epochs = 200, 8, 100, 4, 1

    from hdr.storage.store import ModelCard, read_card, save_model, update_card

    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    mnist = load_mnist(args.data_dir)
    split = split_validation(mnist.x_train, mnist.y_train, val_fraction=VAL_FRACTION, seed=SPLIT_SEED)
    hand_train, hand_val = handwriting_sets(args.handwriting_dir)
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():  # the same pictures again: only the network changes
        with np.load(cache) as saved:
            sets = {key: saved[key] for key in saved.files}
        positives = {k[4:]: v for k, v in sets.items() if k.startswith("pos:")}
        negatives = {k[4:]: v for k, v in sets.items() if k.startswith("neg:")}
        val_digits = {k[4:]: v for k, v in sets.items() if k.startswith("vdg:")}
        val_labels = {k[4:]: v for k, v in sets.items() if k.startswith("vdl:")}
        if val_labels.keys() != val_digits.keys():
            parser.error(f"{cache} holds no labels of its validation digits (made by an older train_gate): delete it")
        val_non = {k[4:]: v for k, v in sets.items() if k.startswith("vnd:")}
        # Kinds added to synth.non_digits since the cache was made: made now, the rest reused.
        if not args.recalibrate:
            negatives |= non_digit_inputs(
                "train", args.non_digits, args.seed, True, tuple(set(kinds("train")) - set(negatives))
            )
        val_non |= non_digit_inputs(
            "val", args.val_non_digits, args.seed, False, tuple(set(kinds("val")) - set(val_non))
        )
    else:
        train_sets = {**digit_sets(split.x_train, split.y_train, args.digits, rng, PHOTO_SIZE, "train"), **hand_train}
        positives = {name: inputs for name, (inputs, _) in train_sets.items()}
        negatives = non_digit_inputs("train", args.non_digits, args.seed, small_photos=True)
        val_sets = {**digit_sets(split.x_val, split.y_val, args.val_digits, rng, VAL_PHOTO_SIZE, "val"), **hand_val}
        val_digits = {name: inputs for name, (inputs, _) in val_sets.items()}
        val_labels = {name: labels for name, (_, labels) in val_sets.items()}
        val_non = non_digit_inputs("val", args.val_non_digits, args.seed, small_photos=False)
        if cache is not None:
            prefixed = {"pos:": positives, "neg:": negatives, "vdg:": val_digits, "vdl:": val_labels, "vnd:": val_non}
            np.savez_compressed(cache, **{p + k: v for p, sets in prefixed.items() for k, v in sets.items()})
    x = np.concatenate([*positives.values(), *negatives.values()])
    y = np.concatenate([np.ones(sum(map(len, positives.values()))), np.zeros(sum(map(len, negatives.values())))])
    print(
        f"data: {int(y.sum())} digits, {int(len(y) - y.sum())} non-digits ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )

    from hdr.inference.predict import Predictor
    from hdr.inference.reject import Gate

    if args.recalibrate:  # the gate in --out as it is: only its threshold is chosen again, on these validation sets
        card = read_card(GATE_NAME, args.out)
        gate = Gate.load(args.out)
        config, history, model = GateConfig(**{**card.config, "filters": tuple(card.config["filters"])}), {}, gate.model
    else:
        config = GateConfig(filters=tuple(args.filters), dense=args.dense, epochs=args.epochs, seed=args.seed)
        model, history = fit_gate(x, y, config, verbose=2)
        gate = Gate(model)
    # A digit the classifier misreads is lost whether the gate turns it away or not: the threshold
    # is chosen on the digits the shipped classifier reads right (a photo whose crop missed the
    # digit scores near zero, and a handful of them set the threshold of the whole set).
    classifier = Predictor.load()
    read_right = {
        name: classifier.probabilities(v).argmax(axis=1) == val_labels[name] if len(v) else np.zeros(0, bool)
        for name, v in val_digits.items()
    }
    digit_scores = {name: gate.scores(v[read_right[name]]) if len(v) else np.ones(0) for name, v in val_digits.items()}
    threshold = choose_threshold(digit_scores, args.max_rejected)
    val_counts = {kind: len(v) for kind, v in val_non.items()}
    passed_rules = {kind: float(np.mean(gate.scores(v) >= threshold)) if len(v) else 0.0 for kind, v in val_non.items()}
    metrics = {
        "threshold": threshold,
        "val_digits_rejected": {n: float(np.mean(s < threshold)) for n, s in digit_scores.items()},
        "val_digits_misread_left_out": {n: int((~right).sum()) for n, right in read_right.items()},
        "val_non_digits_passing_the_rules": val_counts,
        "val_non_digits_accepted_by_the_gate": passed_rules,
    }
    for name, share in metrics["val_digits_rejected"].items():
        left_out = metrics["val_digits_misread_left_out"][name]
        print(f"  digits read right that are rejected, {name}: {share:.2%} ({left_out} misread left out)")
    for kind, share in passed_rules.items():
        print(
            f"  non-digits that pass the rules ({val_counts[kind]}/{args.val_non_digits}) and the gate, {kind}: {share:.1%}"
        )
    command = "python -m tools.train_gate " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.recalibrate:
        card.metrics = {**card.metrics, **metrics}
        card.calibration = {"threshold": threshold, "max_rejected": args.max_rejected, "command": command}
        update_card(card, args.out)
        print(f"recalibrated {args.out}/{GATE_NAME}.json: threshold {threshold:.4f}")
        return 0
    card = ModelCard(
        name=GATE_NAME,
        arch="gate",
        config=config.to_dict(),
        data={
            "digits": {name: len(v) for name, v in positives.items()},
            "non_digits": {kind: len(v) for kind, v in negatives.items()},
            "mnist_split": {"val_fraction": VAL_FRACTION, "seed": SPLIT_SEED},
        },
        metrics=metrics,
        train_seconds=round(history.pop("seconds"), 1),
        best_epoch=args.epochs,
        history=history,
        command=command,
        calibration={"threshold": threshold, "max_rejected": args.max_rejected},
    )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    save_model(model, card, args.out, overwrite=True)
    print(f"saved {args.out}/{GATE_NAME}.keras, threshold {threshold:.4f} ({time.perf_counter() - start:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
