"""The model zoo on the same data: test accuracy, size, training speed and serving latency.

Every architecture in :data:`hdr.training.models.ARCHITECTURES` is trained with the same recipe
(augmentation, Adam, per-epoch LR decay; the epoch chosen on the validation split) for
``--epochs`` epochs, or loaded from ``--load DIR`` where ``DIR/ARCH.keras`` exists, and the
shipped default is loaded as it is. For each: MNIST test accuracy, parameters, seconds per
training epoch and training throughput (images per second of the real training step, batch 128,
with augmentation, as :func:`hdr.training.presets.measure_throughput` times it) on this machine, and
single-image latency (p50/p95) of ``Predictor`` against ``model.predict``. Seed 000's recipe
(its BN-CNN, batch 128) gets a throughput row of its own for comparison.

Usage::

    python -m bench.zoo --epochs 1               # the table in docs/
    python -m bench.zoo --epochs 1 --limit 2000  # a quick look
    python -m bench.zoo --save DIR               # keep the trained models for a later --load DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.predict_speed import percentiles
from bench.time_to_accuracy import SEED_000
from hdr.inference.evaluate import evaluate_model
from hdr.inference.predict import Predictor
from hdr.storage.store import DEFAULT_NAME, load_keras_model, read_card
from hdr.training.data import load_mnist, split_validation
from hdr.training.models import ARCHITECTURE_NOTES, ARCHITECTURES, ENSEMBLE, ModelConfig
from hdr.training.presets import measure_throughput
from hdr.training.train import TrainConfig, train_model

LATENCY_RUNS = 100


def latency(predictor: Predictor, x: np.ndarray) -> tuple[float, float, float, float]:
    """p50/p95 of one image through ``Predictor`` and through ``model.predict``, in ms."""
    fast, slow = [], []
    for i in range(LATENCY_RUNS):
        one = x[i : i + 1]
        t0 = time.perf_counter()
        predictor.probabilities(one)
        fast.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        predictor.model.predict(one, verbose=0)
        slow.append(time.perf_counter() - t0)
    return (*percentiles(fast), *percentiles(slow))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="training epochs per model (default: 1)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only (default: all)")
    parser.add_argument(
        "--load", type=Path, default=None, help="folder with ARCH.keras files to load instead of training"
    )
    parser.add_argument("--save", type=Path, default=None, help="folder to save the trained models into")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    args = parser.parse_args()

    mnist = load_mnist(args.data_dir)
    split = split_validation(mnist.x_train, mnist.y_train)
    x_test = mnist.x_test.astype(np.float32)[..., None] / 255.0
    rows = []
    for arch in ARCHITECTURES:
        config = TrainConfig(model=ModelConfig(arch=arch), epochs=args.epochs, limit=args.limit)
        saved = args.load / f"{arch}.keras" if args.load else None
        if saved is not None and saved.exists():
            model, per_epoch, how = load_keras_model(saved), float("nan"), "loaded"
        else:
            result = train_model(split.x_train, split.y_train, split.x_val, split.y_val, config)
            model, how = result.model, f"{len(result.history['loss'])} epoch(s)"
            per_epoch = result.seconds / len(result.history["loss"])
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                model.save(args.save / f"{arch}.keras")
        predictor = Predictor(model, arch)
        rows.append((arch, ARCHITECTURE_NOTES[arch], how, predictor, per_epoch, measure_throughput(config)))
    card = read_card(DEFAULT_NAME)
    if card.arch == ENSEMBLE:
        members = card.config["members"]
        what = f"average of {len(members)}: " + ", ".join(f"{m['name']} ({m['arch']})" for m in members)
    else:
        what = f"{card.arch}, {card.best_epoch} epochs chosen on validation"
    epochs = len(card.history.get("loss", []))
    per_epoch = card.train_seconds / epochs if epochs else float("nan")
    rows.append((f"{DEFAULT_NAME} (shipped)", what, "loaded", Predictor.load(DEFAULT_NAME), per_epoch, None))

    print(f"MNIST test set, {len(mnist.y_test)} images; training on {args.limit or len(split.x_train)} images\n")
    print(
        "| model | what | trained | test accuracy | parameters | s/epoch | train images/s "
        "| Predictor p50 / p95 | model.predict p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, note, how, predictor, per_epoch, speed in rows:
        acc = evaluate_model(predictor, mnist.x_test, mnist.y_test).accuracy
        f50, f95, s50, s95 = latency(predictor, x_test)
        print(
            f"| {name} | {note} | {how} | {acc:.2%} | {predictor.model.count_params():,} | {per_epoch:.0f} "
            f"| {'' if speed is None else f'{speed:,.0f}'} | {f50:.2f} / {f95:.2f} ms | {s50:.1f} / {s95:.1f} ms |"
        )
    print(
        f"\nSeed 000's recipe (bn_cnn, batch {SEED_000.batch_size}): {measure_throughput(SEED_000):,.0f} training images/s"
    )


if __name__ == "__main__":
    main()
