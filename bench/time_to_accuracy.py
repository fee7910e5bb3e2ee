"""Seconds from the first batch to 99.0%, 99.3% and 99.5% validation accuracy, per training recipe.

Each recipe is trained here, on this machine, on MNIST's 54,001 training images (seed 000's
recipe: its own 48,000) and judged on the held-out validation split after every epoch; the
MNIST test set is scored once at the end, for the record. A threshold never reached is "-".
Run it on an idle machine: a second process on these 2 cores doubles every figure.

Usage::

    python -m bench.time_to_accuracy                       # quick, standard and seed 000's recipe
    python -m bench.time_to_accuracy --recipes quick       # one of them
    python -m bench.time_to_accuracy --cards models/standard-2.json  # a run already made, from its card
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hdr.inference.evaluate import evaluate_model
from hdr.inference.predict import Predictor
from hdr.training.data import load_mnist
from hdr.training.models import ModelConfig
from hdr.training.presets import PRESETS
from hdr.training.train import TrainConfig, train_model
from hdr.training.training_data import make_training_data

THRESHOLDS = (0.990, 0.993, 0.995)
# Seed 000's recipe as the seed project ran it: its BN-CNN, Adam at a constant 1e-3, batch 128,
# rotation/shift/zoom augmentation, an 80/20 split (48,000 training images), 15 epochs.
SEED_000 = TrainConfig(
    model=ModelConfig(arch="bn_cnn"), epochs=15, batch_size=128, learning_rate=1e-3, lr_decay=1.0, val_fraction=0.2
)
RECIPES = {**PRESETS, "seed 000": SEED_000}


def seconds_to(history: dict[str, list[float]], threshold: float) -> float | None:
    """When validation accuracy first reached ``threshold`` (seconds since training began), or None."""
    for accuracy, seconds in zip(history["val_accuracy"], history["seconds"], strict=False):
        if accuracy >= threshold:
            return seconds
    return None


def row(name: str, history: dict[str, list[float]], test_accuracy: float | None, wall: float | None) -> str:
    """One Markdown table row."""
    cells = [seconds_to(history, t) for t in THRESHOLDS]
    times = " | ".join("-" if s is None else f"{s:.0f}" for s in cells)
    test = "" if test_accuracy is None else f"{test_accuracy:.2%}"
    wall_text = "" if wall is None else f"{wall:.0f}"
    return f"| {name} | {times} | {max(history['val_accuracy']):.2%} | {test} | {wall_text} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--recipes", default="quick,standard,seed 000", help="comma-separated names (default: %(default)s)"
    )
    parser.add_argument("--cards", type=Path, nargs="*", default=(), help="read these runs' cards instead of training")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    args = parser.parse_args()

    print("| recipe | s to 99.0% val | s to 99.3% val | s to 99.5% val | best val | test | training s |")
    print("|---|---|---|---|---|---|---|")
    if args.cards:
        for path in args.cards:
            card = json.loads(path.read_text())
            print(row(card["name"], card["history"], card["metrics"].get("test_accuracy"), card["train_seconds"]))
        return
    mnist = load_mnist(args.data_dir)
    for name in args.recipes.split(","):
        config = RECIPES[name.strip()]
        data = make_training_data(mnist, config)
        start = time.perf_counter()
        result = train_model(data.x_train, data.y_train, data.x_val, data.y_val, config)
        wall = time.perf_counter() - start
        test = evaluate_model(Predictor(result.model), data.x_test, data.y_test).accuracy
        print(row(name, result.history, test, wall), flush=True)


if __name__ == "__main__":
    main()
