"""Command line: ``python -m hdr {train,fine-tune,blend,evaluate,calibrate,ensemble,export,predict,read}``.

This module parses the arguments; each command's body is in :mod:`hdr.cli.commands`, :mod:`hdr.cli.training` or :mod:`hdr.cli.tuning`.

Bad input never reaches the user as a traceback: each error is one line on stderr (or a JSON
object with ``--json``), the remaining files are still processed, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from hdr.cli import commands, training, tuning
from hdr.cli.commands import EXIT_ERROR
from hdr.config import ARCHITECTURE_NOTES, PRESETS, SCHEDULES, ModelConfig, TrainConfig
from hdr.imaging.damage import DAMAGE_MIXES
from hdr.settings import DATA_DIR_ENV, HANDWRITING_DIR_ENV, MODELS_DIR_ENV
from hdr.training.data import DataError

EXIT_INTERRUPTED = 130  # what a shell reports for a command ended by Ctrl-C (128 + SIGINT)


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=None,
        help=f"MNIST folder (IDX .gz files or mnist.npz); default: ${DATA_DIR_ENV}, else the Keras download",
    )


def _add_handwriting_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--handwriting-dir",
        default=None,
        help="folder of real handwriting beside MNIST (usps-zip.train.gz, ardis-train.npz); "
        f"default: ${HANDWRITING_DIR_ENV}, else none",
    )


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=None,
        help="model name in --models-dir, a .keras path or (evaluate) a .tflite path (default: the active model)",
    )
    _add_models_dir(p)


def _add_models_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--models-dir",
        default=None,
        help=f"folder of saved models (default: ${MODELS_DIR_ENV}, else models/ in the checkout or ~/.local/share/hdr)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; its choices and defaults come from :mod:`hdr.config`."""
    d = TrainConfig()
    parser = argparse.ArgumentParser(prog="hdr", description="HDR: handwritten digit recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save it with its card")
    t.add_argument(
        "--preset",
        default=None,
        choices=list(PRESETS),
        help="a named recipe (quick: ~3 min on 2 cores); the options below replace its settings",
    )
    t.add_argument(
        "--arch", default=None, choices=sorted(ARCHITECTURE_NOTES), help=f"architecture (default: {ModelConfig().arch})"
    )
    t.add_argument("--epochs", type=int, default=None, help=f"maximum epochs (default: {d.epochs})")
    t.add_argument("--batch-size", type=int, default=None, help=f"batch size (default: {d.batch_size})")
    t.add_argument(
        "--lr", type=float, default=None, help=f"initial (one-cycle: peak) learning rate (default: {d.learning_rate})"
    )
    t.add_argument(
        "--lr-decay", type=float, default=None, help=f"per-epoch learning-rate factor (default: {d.lr_decay})"
    )
    t.add_argument(
        "--schedule", default=None, choices=list(SCHEDULES), help=f"learning-rate schedule (default: {d.schedule})"
    )
    t.add_argument("--dropout", type=float, default=None, help="dropout rate (default: the architecture's own)")
    t.add_argument(
        "--no-augment", dest="augment", action="store_false", default=None, help="train without rotation/shift/zoom"
    )
    t.add_argument(
        "--damage",
        type=float,
        default=None,
        help=f"share of training images damaged like real input (faint, blurred, low-res, noisy; default: {d.damage:g})",
    )
    t.add_argument(
        "--damage-mix",
        default=None,
        choices=sorted(DAMAGE_MIXES),
        help="which damage: basic (every kind alike), heavy (more low-res, blur and pens, small scans) or scans (heavy with more of the tiniest scans)",
    )
    t.add_argument(
        "--distill",
        type=float,
        default=None,
        metavar="SHARE",
        help="with --init: this share of each MNIST image's target is the starting model's own answer, "
        f"so new handwriting is learnt without unlearning MNIST (default: {d.distill:g})",
    )
    t.add_argument(
        "--val-fraction",
        type=float,
        default=None,
        help=f"validation share of the training set (default: {d.val_fraction})",
    )
    t.add_argument(
        "--patience", type=int, default=None, help=f"early-stopping patience in epochs (default: {d.patience})"
    )
    t.add_argument(
        "--seed", type=int, default=None, help=f"random seed of weights and augmentation (default: {d.seed})"
    )
    t.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="one-cycle only: anneal and stop by this many seconds of training, however fast the machine "
        f"(default: none; quick: {PRESETS['quick'].time_budget:g})",
    )
    t.add_argument("--limit", type=int, default=None, help="use only the first N training images (default: all)")
    t.add_argument("--dry-run", action="store_true", help="one epoch on 512 images: checks the whole path in seconds")
    t.add_argument(
        "--init", default=None, help="start from this saved model (name or .keras path) instead of from scratch"
    )
    t.add_argument("--out", default=None, help="output .keras path (default: --models-dir/ARCH-TIMESTAMP.keras)")
    t.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    t.add_argument(
        "--resume",
        action="store_true",
        help="go on with the stopped run of --out (same options) from its last finished epoch; every run "
        "keeps its state in OUT.partial/ beside OUT until its model is saved",
    )
    _add_handwriting_dir(t)
    _add_models_dir(t)
    _add_data_dir(t)

    e = sub.add_parser("evaluate", help="score a model on the 10,000 MNIST test images")
    _add_model(e)
    _add_data_dir(e)
    e.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    e.add_argument("--update-card", action="store_true", help="store the test metrics in the model's card")

    c = sub.add_parser(
        "calibrate",
        help="fit the model's confidence (temperature scaling) and its 'unsure' threshold on validation data",
    )
    _add_model(c)
    _add_data_dir(c)
    _add_handwriting_dir(c)
    c.add_argument("--json", action="store_true", help="print the calibration as JSON")

    f = sub.add_parser("fine-tune", help="teach a model one person's hand from a folder 0/ .. 9/ of their pictures")
    f.add_argument(
        "--samples", required=True, help="folder with subfolders 0/ .. 9/ of pictures, read as predict reads"
    )
    f.add_argument("--out", required=True, help="output .keras path")
    f.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    f.add_argument("--epochs", type=int, default=3, help="epochs (default: 3)")
    f.add_argument("--lr", type=float, default=1e-4, help="learning rate (default: 0.0001)")
    f.add_argument(
        "--mnist-images", type=int, default=10_000, help="MNIST images rehearsed beside the samples (default: 10000)"
    )
    f.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    _add_model(f)
    _add_data_dir(f)

    b = sub.add_parser(
        "blend",
        help="pull a fine-tuned model part of the way back to the one it came from, choosing how far on validation",
    )
    b.add_argument("base", metavar="BASE", help="the model before fine-tuning (name in --models-dir or .keras path)")
    b.add_argument("tuned", metavar="TUNED", help="the model fine-tuned from BASE")
    b.add_argument(
        "--share",
        type=float,
        nargs="+",
        default=[0.25, 0.5, 0.75],
        help="shares of TUNED's weights to try; the rule of docs/training.md picks one on validation "
        "(default: 0.25 0.5 0.75)",
    )
    b.add_argument("--out", required=True, help="output .keras path")
    b.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    _add_models_dir(b)
    _add_data_dir(b)
    _add_handwriting_dir(b)

    n = sub.add_parser(
        "ensemble",
        help="average trained models into one; compare it with its members on their validation split",
    )
    n.add_argument("members", nargs="+", metavar="MODEL", help="model names in --models-dir or .keras paths")
    n.add_argument(
        "--weights",
        nargs="+",
        type=float,
        metavar="W",
        help="how much each model counts, in order (scaled to sum to one; default: all the same)",
    )
    n.add_argument("--out", required=True, help="output .keras path")
    n.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    _add_models_dir(n)
    _add_data_dir(n)
    _add_handwriting_dir(n)

    x = sub.add_parser("export", help="export a model for phones and the edge (LiteRT .tflite)")
    x.add_argument("model", metavar="MODEL", help="model name in --models-dir or a .keras path")
    x.add_argument("--format", default="tflite", choices=["tflite"], help="file format (default: tflite)")
    x.add_argument(
        "--quantize",
        default=None,
        choices=["float16", "int8"],
        help="float16 halves the file; int8 quarters it, calibrated on training images (default: float32)",
    )
    x.add_argument("--out", required=True, help="output .tflite path")
    x.add_argument("--overwrite", action="store_true", help="allow replacing an existing file at --out")
    _add_models_dir(x)
    _add_data_dir(x)

    for name, helptext in (
        ("predict", "predict the single digit in each image"),
        ("read", "read the number in each image"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("paths", nargs="+", metavar="PATH", help="image files")
        _add_model(p)
        p.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    # TensorFlow is imported by the commands, after this: its start-up chatter is not for CLI users.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from PIL import Image

    # hdr.imaging.preprocess compares every picture with its own pixel caps (in the decoding thread);
    # Pillow's process-wide warning, which starts below them, would only add a stray line.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)  # --help ends here, before anything imports TensorFlow
    from hdr.storage.store import ModelStoreError

    args.argv = argv  # recorded in model cards, so a model says how to make it again
    handlers = {
        "train": training.train,
        "evaluate": commands.evaluate,
        "calibrate": tuning.calibrate,
        "fine-tune": tuning.fine_tune,
        "blend": tuning.blend,
        "ensemble": commands.ensemble,
        "export": commands.export,
        "predict": commands.predict,
        "read": commands.read,
    }
    try:
        return handlers[args.command](args)
    except (DataError, ValueError, OSError, ModelStoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # outside the steps that handle it themselves: nothing was finished yet
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
