"""Scores every average of a few networks from a pool on the validation splits, and ranks them.

The pool is a list of saved models; an ensemble among them (the shipped default) counts as its
networks, named as its card names them. Each network reads every validation split once (MNIST's
and each real source's, the splits every card is scored on: a tenth, seed 0); each subset of
``--size`` networks is scored on its networks' averaged probabilities, as ``hdr ensemble``
averages them. Eligible: MNIST validation at least ``--min-mnist``; ranked by the mean of the
real sources' validation accuracies, then by MNIST's. ``--skip`` leaves out subsets already
decided. Nothing here reads a test set. Round 17 of docs/real-handwriting.md is its first use.

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
    accuracy: dict[str, float]  # by source: "mnist", "usps", "ardis"
    eligible: bool

    @property
    def real_mean(self) -> float:
        """The mean of the real sources' accuracies (every source but MNIST)."""
        real = [v for k, v in self.accuracy.items() if k != "mnist"]
        return float(np.mean(real)) if real else 0.0


def rank_subsets(
    probabilities: dict[str, dict[str, np.ndarray]],
    labels: dict[str, np.ndarray],
    *,
    size: int,
    min_mnist: float,
    skip: set[frozenset[str]] = frozenset(),
) -> list[Scored]:
    """Every subset of ``size`` networks, eligible ones first, each group best first.

    Args:
        probabilities: ``{network: {source: (N, 10) probabilities}}``, every network on every source.
        labels: ``{source: (N,) true digits}``; must include ``"mnist"``.
        size: Networks per subset.
        min_mnist: Lowest MNIST validation accuracy an eligible subset may have.
        skip: Subsets left out (already decided).

    Raises:
        ValueError: Fewer networks than ``size``, or no MNIST split.
    """
    if "mnist" not in labels:
        raise ValueError("the ranking needs MNIST's validation split")
    if len(probabilities) < size:
        raise ValueError(f"a pool of {len(probabilities)} networks has no subset of {size}")
    rows = []
    for members in combinations(sorted(probabilities), size):
        if frozenset(members) in skip:
            continue
        accuracy = {
            source: float((np.mean([probabilities[m][source] for m in members], axis=0).argmax(1) == y).mean())
            for source, y in labels.items()
        }
        rows.append(Scored(members, accuracy, accuracy["mnist"] >= min_mnist))
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
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    parser.add_argument("--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR)")
    args = parser.parse_args()

    pool: dict[str, object] = {}
    for path in args.models:
        pool.update(_networks(path))
    split = TrainConfig()  # the split every card is scored on
    real = load_handwriting(args.handwriting_dir, val_fraction=split.val_fraction, seed=split.split_seed)
    sets = make_training_data(load_mnist(args.data_dir), split, real=real).val_by_source
    labels = {source: y for source, (_, y) in sets.items()}
    probabilities = {
        name: {
            source: Predictor(net).probabilities(x.astype(np.float32)[..., None] / 255.0)
            for source, (x, _) in sets.items()
        }
        for name, net in pool.items()
    }
    skip = {frozenset(s.split(",")) for s in args.skip}
    rows = rank_subsets(probabilities, labels, size=args.size, min_mnist=args.min_mnist, skip=skip)
    sources = list(labels)
    print(
        f"{len(pool)} networks, {len(rows)} subsets of {args.size}; eligible from MNIST validation {args.min_mnist:.2%}\n"
    )
    print("| networks | " + " | ".join(f"{s} val" for s in sources) + " | real mean | eligible |")
    print("|---|" + "---|" * (len(sources) + 2))
    for r in rows:
        cells = " | ".join(f"{r.accuracy[s]:.2%}" for s in sources)
        print(f"| {', '.join(r.members)} | {cells} | {r.real_mean:.2%} | {'yes' if r.eligible else 'no'} |")


if __name__ == "__main__":
    main()
