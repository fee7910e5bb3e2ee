"""Command line: ``python -m hdr {train,evaluate,ensemble,export,predict,read}``.

Bad input never reaches the user as a traceback: each error is one line on stderr (or a JSON
object with ``--json``), the remaining files are still processed, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from hdr.data import DataError
from hdr.settings import DATA_DIR_ENV, MODELS_DIR_ENV

EXIT_OK, EXIT_ERROR = 0, 1
EXIT_INTERRUPTED = 130  # what a shell reports for a command ended by Ctrl-C (128 + SIGINT)
T = TypeVar("T")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=None,
        help=f"MNIST folder (IDX .gz files or mnist.npz); default: ${DATA_DIR_ENV}, else the Keras download",
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
        help=f"folder of saved models (default: ${MODELS_DIR_ENV}, else the repo's models/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from hdr.models import ARCHITECTURES

    parser = argparse.ArgumentParser(prog="python -m hdr", description="HDR: handwritten digit recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and save it with its card")
    t.add_argument("--arch", default="hdrnet", choices=sorted(ARCHITECTURES), help="architecture (default: hdrnet)")
    t.add_argument("--epochs", type=int, default=30, help="maximum epochs (default: 30)")
    t.add_argument("--batch-size", type=int, default=128, help="batch size (default: 128)")
    t.add_argument("--lr", type=float, default=1e-3, help="initial learning rate (default: 0.001)")
    t.add_argument("--lr-decay", type=float, default=0.9, help="per-epoch learning-rate factor (default: 0.9)")
    t.add_argument("--dropout", type=float, default=None, help="dropout rate (default: the architecture's own)")
    t.add_argument("--no-augment", action="store_true", help="train without rotation/shift/zoom augmentation")
    t.add_argument(
        "--damage",
        type=float,
        default=0.0,
        help="share of training images damaged like real input (faint, blurred, low-res, noisy; default: 0)",
    )
    t.add_argument(
        "--val-fraction", type=float, default=0.1, help="validation share of the training set (default: 0.1)"
    )
    t.add_argument("--patience", type=int, default=8, help="early-stopping patience in epochs (default: 8)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    t.add_argument("--limit", type=int, default=None, help="use only the first N training images (default: all)")
    t.add_argument("--dry-run", action="store_true", help="one epoch on 512 images: checks the whole path in seconds")
    t.add_argument(
        "--init", default=None, help="start from this saved model (name or .keras path) instead of from scratch"
    )
    t.add_argument("--out", default=None, help="output .keras path (default: --models-dir/ARCH-TIMESTAMP.keras)")
    t.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    _add_models_dir(t)
    _add_data_dir(t)

    e = sub.add_parser("evaluate", help="score a model on the 10,000 MNIST test images")
    _add_model(e)
    _add_data_dir(e)
    e.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    e.add_argument("--update-card", action="store_true", help="store the test metrics in the model's card")

    n = sub.add_parser(
        "ensemble",
        help="average trained models into one; compare it with its members on their validation split",
    )
    n.add_argument("members", nargs="+", metavar="MODEL", help="model names in --models-dir or .keras paths")
    n.add_argument("--out", required=True, help="output .keras path")
    n.add_argument("--overwrite", action="store_true", help="allow replacing an existing model at --out")
    _add_models_dir(n)
    _add_data_dir(n)

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


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hdr.data import load_mnist, split_validation
    from hdr.evaluate import evaluate_model
    from hdr.jobs import make_card
    from hdr.models import ModelConfig
    from hdr.predict import Predictor
    from hdr.store import check_can_save, load_keras_model, resolve_model_path
    from hdr.train import TrainConfig, train_model

    config = TrainConfig(
        model=ModelConfig(arch=args.arch, dropout=args.dropout),
        epochs=1 if args.dry_run else args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_decay=args.lr_decay,
        augment=not args.no_augment,
        damage=args.damage,
        val_fraction=args.val_fraction,
        patience=args.patience,
        seed=args.seed,
        limit=512 if args.dry_run else args.limit,
    )
    config.validate()
    # Everything that could make the finished run unsavable is checked before the first epoch.
    models_dir, name = _train_destination(args)
    check_can_save(name, models_dir, overwrite=args.overwrite)
    mnist = load_mnist(args.data_dir)
    split = split_validation(mnist.x_train, mnist.y_train, val_fraction=config.val_fraction, seed=config.seed)
    x_val, y_val = (split.x_val[:512], split.y_val[:512]) if args.dry_run else (split.x_val, split.y_val)
    initial = load_keras_model(resolve_model_path(args.init, _models_dir(args))) if args.init else None

    bar = tqdm(total=config.epochs, unit="epoch", file=sys.stderr, dynamic_ncols=True)

    def progress(p) -> None:
        bar.set_description(f"epoch {p.epoch}/{p.epochs} batch {p.batch}/{p.batches}")
        bar.set_postfix({k: f"{v:.4f}" for k, v in p.logs.items() if k in ("loss", "accuracy", "val_accuracy")})
        if p.epoch_end:
            bar.update(1)

    with _stop_on_signal() as interrupts:
        result = train_model(
            split.x_train,
            split.y_train,
            x_val,
            y_val,
            config,
            model=initial,
            progress=progress,
            should_stop=interrupts.stop_requested,
        )
        bar.close()
        if result.best_epoch == 0:
            print("stopped before the first epoch ended: nothing to save", file=sys.stderr)
            return EXIT_ERROR
        if result.stopped:
            print(f"stopped by signal; keeping the best epoch so far ({result.best_epoch})", file=sys.stderr)
        print("scoring on the MNIST test set (Ctrl-C skips this and saves the model)", file=sys.stderr)
        test = interrupts.skippable(lambda: evaluate_model(Predictor(result.model), mnist.x_test, mnist.y_test))
        data_info = {
            "source": mnist.source,
            "train": int(min(len(split.x_train), config.limit or len(split.x_train))),
            "val": int(len(y_val)),
            "test": 0 if test is None else test.n,
        }
        command = "python -m hdr " + shlex.join(args.argv)
        card = make_card(name, config, result, test, data_info, command=command, parent=args.init)
        saved = _save_or_rescue(result.model, card, models_dir, overwrite=args.overwrite)
    score = "test evaluation skipped" if test is None else f"test accuracy {test.accuracy:.4%}"
    print(f"saved {saved}: {score}, best epoch {result.best_epoch}, {result.seconds:.0f} s")
    return EXIT_OK if saved == models_dir / f"{name}.keras" else EXIT_ERROR


def _train_destination(args: argparse.Namespace) -> tuple[Path, str]:
    """The folder and model name ``train`` saves to: ``--out``, else a fresh name in the models folder."""
    from hdr.store import new_model_name

    if args.out:
        out = Path(args.out)
        return out.parent, out.stem
    models_dir = _models_dir(args)
    return models_dir, new_model_name(args.arch, models_dir)


def _save_or_rescue(model, card, models_dir: Path, *, overwrite: bool) -> Path:
    """Saves a trained model; if its folder fails now (filled up, removed), keeps it in a fresh temporary folder.

    Returns:
        Where the model was saved.

    Raises:
        OSError, ModelStoreError: Not even the temporary folder could hold it.
    """
    from hdr.store import ModelStoreError, rescue_model, save_model

    try:
        save_model(model, card, models_dir, overwrite=overwrite)
        return models_dir / f"{card.name}.keras"
    except (OSError, ModelStoreError) as exc:
        rescued = rescue_model(model, card)
        print(f"error: cannot save in {models_dir} ({exc}); the model is kept in {rescued.parent}", file=sys.stderr)
        return rescued


def _cmd_ensemble(args: argparse.Namespace) -> int:
    from hdr.data import load_mnist, split_validation
    from hdr.evaluate import evaluate_model
    from hdr.jobs import card_test_metrics
    from hdr.models import ENSEMBLE, average_models
    from hdr.predict import Predictor
    from hdr.store import ModelCard, load_keras_model, read_card, resolve_model_path, save_model

    out = Path(args.out)
    if out.with_suffix(".keras").exists() and not args.overwrite:
        raise ValueError(f"{out.with_suffix('.keras')} exists; pass --overwrite to replace it")
    paths = [resolve_model_path(member, _models_dir(args)) for member in args.members]
    cards = [read_card(path.stem, path.parent) for path in paths]
    splits = {(c.config.get("seed"), c.config.get("val_fraction"), c.data.get("train")) for c in cards}
    if len(splits) != 1 or None in next(iter(splits)):
        raise ValueError(
            "the members were not validated on one common split (seed, validation fraction, training size "
            f"{sorted(splits, key=str)}): the ensemble could not be judged on data none of them trained on"
        )
    seed, val_fraction, _ = splits.pop()
    mnist = load_mnist(args.data_dir)
    split = split_validation(mnist.x_train, mnist.y_train, val_fraction=val_fraction, seed=seed)
    members = [load_keras_model(path) for path in paths]
    rows = []
    for card, member in zip(cards, members, strict=True):
        val = evaluate_model(Predictor(member), split.x_val, split.y_val)
        rows.append({"name": card.name, "arch": card.arch, "val_accuracy": val.accuracy, "val_loss": val.loss})
        print(f"member {card.name}: validation accuracy {val.accuracy:.4%}, loss {val.loss:.4f}")
    model = average_models(members)
    predictor = Predictor(model)
    val = evaluate_model(predictor, split.x_val, split.y_val)
    test = evaluate_model(predictor, mnist.x_test, mnist.y_test)
    print(f"ensemble: validation accuracy {val.accuracy:.4%}, loss {val.loss:.4f}")
    card = ModelCard(
        name=out.stem,
        arch=ENSEMBLE,
        config={
            "seed": seed,
            "val_fraction": val_fraction,
            "members": [
                {**row, **{"config": c.config, "command": c.command}} for row, c in zip(rows, cards, strict=True)
            ],
        },
        data=dict(cards[0].data, val=len(split.y_val), test=test.n),
        metrics={**card_test_metrics(test), "val_accuracy": val.accuracy, "val_loss": val.loss},
        train_seconds=sum(c.train_seconds for c in cards),
        command="python -m hdr " + shlex.join(args.argv),
    )
    save_model(model, card, out.parent, overwrite=args.overwrite)
    print(f"saved {out.with_suffix('.keras')}: test accuracy {test.accuracy:.4%}")
    return EXIT_OK


def _models_dir(args: argparse.Namespace) -> Path:
    """--models-dir, or the settings' models folder ($HDR_MODELS_DIR or models/), read now."""
    from hdr.store import models_folder

    return models_folder(args.models_dir)


def _load_predictor(args: argparse.Namespace):
    """The Predictor for --model / --models-dir (default: the active model)."""
    from hdr.predict import Predictor

    return Predictor.load(args.model, _models_dir(args))


def _cmd_export(args: argparse.Namespace) -> int:
    from hdr.data import load_mnist
    from hdr.export import export_tflite, write_tflite
    from hdr.store import load_keras_model, resolve_model_path

    model = load_keras_model(resolve_model_path(args.model, _models_dir(args)))
    # int8 activation ranges come from training images, never from the test set it is scored on.
    calibration = load_mnist(args.data_dir).x_train if args.quantize == "int8" else None
    content = export_tflite(model, quantize=args.quantize, calibration=calibration)
    path = write_tflite(content, args.out, overwrite=args.overwrite)
    print(f"saved {path}: {len(content) / 1024:.0f} KB ({args.quantize or 'float32'})")
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from hdr.data import load_mnist
    from hdr.evaluate import evaluate_model
    from hdr.export import TFLITE_SUFFIX, TFLiteModel
    from hdr.jobs import card_test_metrics
    from hdr.store import read_card, update_card

    exported = args.model is not None and Path(args.model).suffix == TFLITE_SUFFIX
    if exported and args.update_card:
        raise ValueError("--update-card needs a saved .keras model; an exported .tflite file has no card")
    predictor = TFLiteModel.load(args.model) if exported else _load_predictor(args)
    mnist = load_mnist(args.data_dir)
    metrics = evaluate_model(predictor, mnist.x_test, mnist.y_test)
    if args.update_card:
        models_dir = _models_dir(args)
        card = read_card(predictor.name, models_dir)
        card.metrics.update(card_test_metrics(metrics))
        update_card(card, models_dir)
    if args.json:
        print(json.dumps({"model": predictor.name, **metrics.to_dict()}))
        return EXIT_OK
    print(
        f"model {predictor.name}: accuracy {metrics.accuracy:.4%} on {metrics.n} MNIST test images, loss {metrics.loss:.4f}"
    )
    print(
        "most confused (true -> predicted): "
        + ", ".join(f"{p['true']}->{p['predicted']} x{p['count']}" for p in metrics.confused_pairs[:5])
    )
    return EXIT_OK


def _cmd_predict(args: argparse.Namespace) -> int:
    from hdr.preprocess import preprocess_many

    predictor = _load_predictor(args)
    items = list(zip(args.paths, preprocess_many(args.paths), strict=True))
    good = [item for _, item in items if not isinstance(item, Exception)]
    status = EXIT_OK if len(good) == len(items) else EXIT_ERROR
    predictions = iter(predictor.predict_preprocessed(good))  # one forward pass for every file
    for path, item in items:
        if isinstance(item, Exception):
            _emit_error(args.json, path, item)
            continue
        pred = next(predictions)
        text = "no digit found" if pred.digit is None else f"{pred.digit} ({pred.confidence:.1%})"
        _emit(args.json, {"path": path, **pred.to_dict()}, f"{path}: {text}")
    return status


def _cmd_read(args: argparse.Namespace) -> int:
    from hdr.decode import ImageError
    from hdr.read import read_digits

    predictor = _load_predictor(args)
    status = EXIT_OK
    for path in args.paths:
        try:
            reading = read_digits(path, predictor)
        except ImageError as exc:
            _emit_error(args.json, path, exc)
            status = EXIT_ERROR
            continue
        confidence = min((d.confidence for d in reading.digits), default=0.0)
        text = reading.text.replace("\n", " / ")
        line = f"{path}: {text} (conf {confidence:.1%})" if reading.digits else f"{path}: no digit found"
        _emit(args.json, {"path": path, **reading.to_dict()}, line)
    return status


def _emit(as_json: bool, record: dict, line: str) -> None:
    """Prints one result, as a JSON object or a line of text."""
    print(json.dumps(record) if as_json else line)


def _emit_error(as_json: bool, path: str, exc: Exception) -> None:
    """Prints why ``path`` could not be read, naming it once."""
    reason = str(exc).removeprefix(f"{path}: ")
    _emit(as_json, {"path": path, "error": reason}, f"{path}: error: {reason}")


class _Interrupts:
    """What Ctrl-C and SIGTERM do during ``train``: nothing finished is ever thrown away.

    While training, a signal raises a stop flag the training callback polls after each batch,
    so the best epoch so far is kept (repeated signals do the same). While a step wrapped in
    :meth:`skippable` runs (the final test evaluation), a signal skips that step. Anywhere else
    (saving) it only raises the flag, so a save always completes.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._skippable = False

    def stop_requested(self) -> bool:
        """True once a signal has arrived."""
        return self._stop.is_set()

    def handle(self, signum, frame) -> None:
        """The signal handler."""
        self._stop.set()
        if self._skippable:
            self._skippable = False
            raise KeyboardInterrupt

    def skippable(self, step: Callable[[], T]) -> T | None:
        """Runs ``step``; returns None instead if a signal arrives while it runs."""
        self._skippable = True
        try:
            return step()
        except KeyboardInterrupt:
            return None
        finally:
            self._skippable = False


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[_Interrupts]:
    """Ctrl-C and SIGTERM handled by an :class:`_Interrupts` for the duration of the block.

    The previous handlers come back on exit, so calling :func:`main` in-process (tests,
    notebooks) leaves the caller's signals as they were.
    """
    interrupts = _Interrupts()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, interrupts.handle)
    try:
        yield interrupts
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    from PIL import Image

    from hdr.store import ModelStoreError

    # hdr.preprocess compares every picture with its own pixel caps (in the decoding thread);
    # Pillow's process-wide warning, which starts below them, would only add a stray line.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # recorded in model cards, so a model says how to make it again
    handlers = {
        "train": _cmd_train,
        "evaluate": _cmd_evaluate,
        "ensemble": _cmd_ensemble,
        "export": _cmd_export,
        "predict": _cmd_predict,
        "read": _cmd_read,
    }
    try:
        return handlers[args.command](args)
    except (DataError, ValueError, OSError, ModelStoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # outside the steps that handle it themselves: nothing was finished yet
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
