"""Scores every average of a few networks from a pool on validation data, and ranks them.

The pool is a list of saved models; an ensemble among them (the shipped default) counts as its
networks, named as its card names them. Each network reads every validation split once (MNIST's
and each real source's, the splits every card is scored on: a tenth, seed 0) and, with
``--drawings N``, N generated canvas drawings (:func:`bench.predict_speed.make_drawings` with
``--drawings-seed``, never seed 0, whose drawings are the test gate's), read as ``predict`` reads
them: preprocessed, and turned away by the digit gate where it finds no digit (counted wrong).
Each subset of ``--size`` networks is scored on its networks' averaged probabilities, as ``hdr
ensemble`` averages them. Eligible: MNIST validation at least ``--min-mnist`` and, with
``--reference``, no source in ``--no-worse`` read worse than by that subset; ranked by the mean
of the real sources' validation accuracies, then by MNIST's. ``--skip`` leaves out subsets already
decided. Nothing here reads a test set. Rounds 17 and 18 of docs/real-handwriting.md use it.

Usage::

    python -m tools.pool_ensembles models/default.keras S40-5.keras S40-6.keras S40-7.keras \\
        --skip heavy-5,heavy-6,heavy-7 S40-5,S40-6,S40-7 --handwriting-dir ../shared/handwriting
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Scored:
    """One subset of the pool, scored on every validation split."""

    members: tuple[str, ...]
    accuracy: dict[str, float]  # by source: "mnist", "usps", "ardis", "drawings"
    eligible: bool

    @property
    def real_mean(self) -> float:
        """The mean of the real sources' accuracies (every source but MNIST and the drawings)."""
        real = [v for k, v in self.accuracy.items() if k not in ("mnist", DRAWINGS)]
        return float(np.mean(real)) if real else 0.0


DRAWINGS = "drawings"  # generated canvas drawings: a chooser's check, not a real source


def subset_accuracy(
    probabilities: dict[str, dict[str, np.ndarray]], labels: dict[str, np.ndarray], members: tuple[str, ...]
) -> dict[str, float]:
    """Each source's accuracy of the average of these networks' probabilities.

    A label of -1 (a picture the digit gate turned away) is never read right.
    """
    return {
        source: float((np.mean([probabilities[m][source] for m in members], axis=0).argmax(1) == y).mean())
        for source, y in labels.items()
    }


def rank_subsets(
    probabilities: dict[str, dict[str, np.ndarray]],
    labels: dict[str, np.ndarray],
    *,
    size: int,
    min_mnist: float,
    floors: dict[str, float] | None = None,
    skip: set[frozenset[str]] = frozenset(),
) -> list[Scored]:
    """Every subset of ``size`` networks, eligible ones first, each group best first.

    Args:
        probabilities: ``{network: {source: (N, 10) probabilities}}``, every network on every source.
        labels: ``{source: (N,) true digits}``; must include ``"mnist"``.
        size: Networks per subset.
        min_mnist: Lowest MNIST validation accuracy an eligible subset may have.
        floors: Lowest accuracy an eligible subset may have on other sources, by source.
        skip: Subsets left out (already decided).

    Raises:
        ValueError: Fewer networks than ``size``, or no MNIST split.
    """
    if "mnist" not in labels:
        raise ValueError("the ranking needs MNIST's validation split")
    if len(probabilities) < size:
        raise ValueError(f"a pool of {len(probabilities)} networks has no subset of {size}")
    low = {"mnist": min_mnist, **(floors or {})}
    rows = []
    for members in combinations(sorted(probabilities), size):
        if frozenset(members) in skip:
            continue
        accuracy = subset_accuracy(probabilities, labels, members)
        rows.append(Scored(members, accuracy, all(accuracy[source] >= floor for source, floor in low.items())))
    return sorted(rows, key=lambda r: (not r.eligible, -r.real_mean, -r.accuracy["mnist"]))


def _networks(path: Path) -> dict[str, object]:
    """The networks of one saved model by name: itself, or an ensemble's members as its card names them."""
    import keras

    from hdr.storage.store import load_keras_model, read_card

    model = load_keras_model(path)
    card = read_card(path.stem, path.parent)
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not inner:
        return {card.name: model}
    names = [m["name"] for m in card.config.get("members", [])]
    if len(names) != len(inner):
        raise ValueError(f"{path}: its card names {len(names)} members, the model holds {len(inner)}")
    return dict(zip(names, inner, strict=True))


def _drawings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` generated canvas drawings as ``predict`` sees them, and their digits (-1 where the gate finds none)."""
    import tempfile

    from bench.predict_speed import make_drawings
    from hdr.imaging.preprocess import ImageError, preprocess_many
    from hdr.inference.reject import Gate, verdicts

    with tempfile.TemporaryDirectory() as folder:
        paths, digits, _ = make_drawings(Path(folder), n, seed)
        items = preprocess_many(paths)
    for item in items:
        if isinstance(item, ImageError):
            raise item
    kept = [verdict.rule is None for verdict in verdicts(items, Gate.load())]
    labels = np.where(kept, digits, -1)
    return np.stack([item.image for item in items]), labels


def main() -> None:
    from hdr.config import TrainConfig
    from hdr.inference.predict import Predictor
    from hdr.training.data import load_mnist
    from hdr.training.handwriting import load_handwriting
    from hdr.training.training_data import make_training_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help=".keras paths (an ensemble counts as its networks)")
    parser.add_argument("--size", type=int, default=3, help="networks per average (default: 3)")
    parser.add_argument("--min-mnist", type=float, default=0.9952, help="eligible from this MNIST validation accuracy")
    parser.add_argument("--skip", nargs="*", default=[], help="subsets already decided, each as NAME,NAME,...")
    parser.add_argument("--drawings", type=int, default=0, help="generated canvas drawings read as well (default: 0)")
    parser.add_argument(
        "--drawings-seed", type=int, default=1, help="which drawings; 0 is the test gate's (default: 1)"
    )
    parser.add_argument("--reference", default=None, help="a subset NAME,NAME,... eligible ones must match")
    parser.add_argument("--no-worse", nargs="*", default=[], help="the sources on which they must match it")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    parser.add_argument("--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR)")
    args = parser.parse_args()
    if args.drawings and args.drawings_seed == 0:
        parser.error("--drawings-seed 0 draws the test gate's drawings (bench.predict_speed): choose on another seed")
    if bool(args.reference) != bool(args.no_worse):
        parser.error("--reference and --no-worse go together")

    pool: dict[str, object] = {}
    for path in args.models:
        pool.update(_networks(path))
    split = TrainConfig()  # the split every card is scored on
    real = load_handwriting(args.handwriting_dir, val_fraction=split.val_fraction, seed=split.split_seed)
    sets = make_training_data(load_mnist(args.data_dir), split, real=real).val_by_source
    inputs = {source: (x.astype(np.float32)[..., None] / 255.0, y) for source, (x, y) in sets.items()}
    if args.drawings:
        inputs[DRAWINGS] = _drawings(args.drawings, args.drawings_seed)
    labels = {source: y for source, (_, y) in inputs.items()}
    probabilities = {}
    for name, net in pool.items():
        predictor = Predictor(net)  # traced once per network, not once per source
        probabilities[name] = {source: predictor.probabilities(x) for source, (x, _) in inputs.items()}
    floors = {}
    if args.reference:
        reference = tuple(args.reference.split(","))
        floors = {s: a for s, a in subset_accuracy(probabilities, labels, reference).items() if s in args.no_worse}
        print(f"reference {', '.join(reference)}: " + ", ".join(f"{s} {a:.2%}" for s, a in floors.items()))
    skip = {frozenset(s.split(",")) for s in args.skip}
    rows = rank_subsets(probabilities, labels, size=args.size, min_mnist=args.min_mnist, floors=floors, skip=skip)
    sources = list(labels)
    print(
        f"{len(pool)} networks, {len(rows)} subsets of {args.size}; eligible from MNIST validation {args.min_mnist:.2%}"
        + "".join(f", {s} {a:.2%}" for s, a in floors.items())
        + "\n"
    )
    print("| networks | " + " | ".join(f"{s} val" for s in sources) + " | real mean | eligible |")
    print("|---|" + "---|" * (len(sources) + 2))
    for r in rows:
        cells = " | ".join(f"{r.accuracy[s]:.2%}" for s in sources)
        print(f"| {', '.join(r.members)} | {cells} | {r.real_mean:.2%} | {'yes' if r.eligible else 'no'} |")


if __name__ == "__main__":
    main()
