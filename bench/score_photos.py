"""Scores reading photos: single digits and whole numbers on generated photos, and speed.

For each kind of photo in :data:`synth.photos.KINDS` it makes N photos of one digit and N of a
number (2-6 digits) from MNIST test digits, then reports:

- ``predict``: single-digit accuracy of ``Predictor.predict`` (the one-digit path, ``to_mnist``);
- ``read 1``: single-digit accuracy of ``read_digits`` (the text must be exactly the digit);
- ``read N``: exact-match rate of ``read_digits`` on numbers;

and the median time to read a 12-megapixel JPEG (4000x3000, on disk) with ``read_digits``,
decoding included.

Usage::

    python -m bench.score_photos --n 30 --timing-runs 9   # the table in docs/
    python -m bench.score_photos --dry-run          # a few photos per kind, to check the path
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hdr.inference.predict import Predictor
from hdr.inference.read import read_digits
from hdr.training.data import load_mnist
from synth.photos import KINDS, PhotoMaker, compose_number, encode_jpeg, photograph

TIMING_SIZE = (4000, 3000)  # a 12-megapixel phone photo
TIMING_QUALITY = 90


def score_kind(maker: PhotoMaker, predictor: Predictor, kind: str, n: int, save: Path | None = None) -> dict:
    """Scores ``n`` single-digit and ``n`` number photos of one kind.

    Returns:
        ``{"kind", "n", "predict", "read_single", "read_number", "failures"}`` (rates in [0, 1]).
    """
    predict_ok = read_single_ok = read_number_ok = 0
    failures = []
    for i in range(n):
        single = maker.single(kind)
        number = maker.number(kind)
        predict_ok += str(predictor.predict(single.jpeg).digit) == single.label
        got_single = read_digits(single.jpeg, predictor).text
        got_number = read_digits(number.jpeg, predictor).text
        read_single_ok += got_single == single.label
        read_number_ok += got_number == number.label
        for sample, got in ((single, got_single), (number, got_number)):
            if got != sample.label:
                failures.append({"kind": kind, "label": sample.label, "read": got})
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"{kind}-{i}-{sample.label}-read-{got.replace(chr(10), '_') or 'none'}.jpg").write_bytes(
                        sample.jpeg
                    )
    return {
        "kind": kind,
        "n": n,
        "predict": predict_ok / n,
        "read_single": read_single_ok / n,
        "read_number": read_number_ok / n,
        "failures": failures,
    }


def time_large_photo(maker: PhotoMaker, predictor: Predictor, runs: int) -> dict:
    """Median and spread of ``read_digits`` on a 4000x3000 JPEG file, decode included."""
    digits, label = maker.digits(4)
    ink = compose_number(digits, maker.rng)
    rgb, _ = photograph(ink, "mixed", maker.rng, 0.2, size=TIMING_SIZE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo-12mp.jpg"
        path.write_bytes(encode_jpeg(rgb, 1, TIMING_QUALITY))
        read_digits(path, predictor)  # warm-up: first calls allocate
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            reading = read_digits(path, predictor)
            times.append(time.perf_counter() - start)
    return {
        "size": list(TIMING_SIZE),
        "runs": runs,
        "p50_ms": 1000 * statistics.median(times),
        "min_ms": 1000 * min(times),
        "max_ms": 1000 * max(times),
        "label": label,
        "read": reading.text,
    }


def format_table(rows: list[dict], timing: dict) -> str:
    """The results as a Markdown table."""
    lines = [
        "| photos | n | `predict`, one digit | `read`, one digit | `read`, number (2-6 digits), exact |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['n']} | {r['predict']:.1%} | {r['read_single']:.1%} | {r['read_number']:.1%} |"
        )
    total = sum(r["n"] for r in rows)

    def mean(key: str) -> float:
        return sum(r[key] * r["n"] for r in rows) / total

    lines.append(
        f"| **all** | {total} | **{mean('predict'):.1%}** | **{mean('read_single'):.1%}** | **{mean('read_number'):.1%}** |"
    )
    lines.append("")
    lines.append(
        f"12-megapixel JPEG ({timing['size'][0]}x{timing['size'][1]}) read from disk: "
        f"p50 {timing['p50_ms']:.0f} ms (min {timing['min_ms']:.0f}, max {timing['max_ms']:.0f}) over {timing['runs']} runs"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints the table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.score_photos", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="photos per kind, for digits and for numbers (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS, help="kinds of photo (default: all)")
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument(
        "--models-dir", default=None, help="folder of saved models (default: $HDR_MODELS_DIR or models/)"
    )
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR)")
    parser.add_argument("--timing-runs", type=int, default=9, help="reads of the 12-megapixel photo (default: 9)")
    parser.add_argument("--save-failures", default=None, help="folder to write misread photos to (default: none)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--dry-run", action="store_true", help="3 photos per kind and 2 timing runs")
    args = parser.parse_args(argv)
    n, runs = (3, 2) if args.dry_run else (args.n, args.timing_runs)

    predictor = Predictor.load(args.model, args.models_dir)
    mnist = load_mnist(args.data_dir)
    maker = PhotoMaker(mnist.x_test, mnist.y_test, seed=args.seed)  # test digits only, never train
    save = Path(args.save_failures) if args.save_failures else None
    rows = [score_kind(maker, predictor, kind, n, save) for kind in args.kinds]
    timing = time_large_photo(maker, predictor, runs)
    if args.json:
        print(json.dumps({"model": predictor.name, "seed": args.seed, "kinds": rows, "timing": timing}))
    else:
        print(f"model {predictor.name}, seed {args.seed}")
        print(format_table(rows, timing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
