"""Two models' time per canvas drawing, timed in turns in one process: is one slower than the other?

``bench.predict_speed`` times one model per run, and on a small machine two runs of it differ by
up to a third; most of a drawing's time is decoding and preprocessing, the same for every model.
Here both models read the same drawings (``Predictor.predict_many``: decode + preprocess + one
batched pass, as in ``bench.predict_speed``) in alternating order, round after round, so the
machine's drift falls on both alike; the medians and their ratio are printed. The time goals of
docs/real-handwriting.md's rounds are judged with it when the two models share an architecture.

Usage::

    python -m bench.compare_speed models/default.keras candidate.keras    # 1000 drawings, 8 rounds
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.predict_speed import make_drawings
from hdr.inference.predict import Predictor


def time_in_turns(predictors: dict[str, Predictor], paths: list[Path], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per drawing of each predictor in each round; the order of the two flips every round."""
    for predictor in predictors.values():
        predictor.predict_many(paths[:50])  # warm-up: tracing and the first pass
    times: dict[str, list[float]] = {name: [] for name in predictors}
    names = list(predictors)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            predictors[name].predict_many(paths)
            times[name].append((time.perf_counter() - start) * 1000 / len(paths))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="model name or .keras path")
    parser.add_argument("second", help="model name or .keras path")
    parser.add_argument("--n", type=int, default=1000, help="drawings (default: 1000)")
    parser.add_argument("--rounds", type=int, default=8, help="times each model reads them all (default: 8)")
    args = parser.parse_args()
    if args.n < 50 or args.rounds < 2:
        parser.error("time at least 50 drawings over at least 2 rounds")
    predictors = {label: Predictor.load(label) for label in (args.first, args.second)}
    with tempfile.TemporaryDirectory() as folder:
        paths, _, _ = make_drawings(Path(folder), args.n)
        times = time_in_turns(predictors, paths, args.rounds)
    medians = {name: float(np.median(ms)) for name, ms in times.items()}
    print(f"{args.n} canvas drawings (bench.predict_speed's), {args.rounds} rounds in turns\n")
    print("| model | per drawing, median | rounds |")
    print("|---|---|---|")
    for name, ms in times.items():
        print(f"| {name} | {medians[name]:.2f} ms | {' '.join(f'{t:.2f}' for t in ms)} |")
    first, second = medians.values()
    print(f"\n{args.second} takes {second / first - 1:+.1%} against {args.first}")


if __name__ == "__main__":
    main()
