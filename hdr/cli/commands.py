"""The body of each ``python -m hdr`` command: read the arguments, call the library, print.

:mod:`hdr.cli.main` parses the command line and turns errors into one line each; the functions here
take the parsed arguments and return the exit status. Library imports are made inside each
command, so ``python -m hdr predict`` never loads what only ``train`` needs.
"""

from __future__ import annotations

import json
import shlex
import sys
from argparse import Namespace
from pathlib import Path

EXIT_OK, EXIT_ERROR = 0, 1


def _save_or_rescue(model, card, models_dir: Path, *, overwrite: bool) -> Path:
    """Saves a trained model; if its folder fails now (filled up, removed), keeps it in a fresh temporary folder.

    Returns:
        Where the model was saved.

    Raises:
        OSError, ModelStoreError: Not even the temporary folder could hold it.
    """
    from hdr.storage.store import ModelStoreError, rescue_model, save_model

    try:
        save_model(model, card, models_dir, overwrite=overwrite)
        return models_dir / f"{card.name}.keras"
    except (OSError, ModelStoreError) as exc:
        rescued = rescue_model(model, card)
        print(f"error: cannot save in {models_dir} ({exc}); the model is kept in {rescued.parent}", file=sys.stderr)
        return rescued


def ensemble(args: Namespace) -> int:
    """``python -m hdr ensemble``: see ``python -m hdr ensemble --help``."""
    from hdr.config import TrainConfig
    from hdr.inference.evaluate import evaluate_model
    from hdr.inference.predict import Predictor
    from hdr.storage.store import check_can_save, load_keras_model, read_card, resolve_model_path, save_model
    from hdr.training.cards import common_split, make_ensemble_card, recipe
    from hdr.training.data import load_mnist
    from hdr.training.handwriting import load_handwriting
    from hdr.training.models import average_models, ensemble_shares
    from hdr.training.training_data import make_training_data

    out = Path(args.out)
    shares = ensemble_shares(args.weights, len(args.members)) if args.weights else None
    # Name, folder and free space are checked before the minutes of loading and scoring, not after.
    check_can_save(out.stem, out.parent, overwrite=args.overwrite)
    paths = [resolve_model_path(member, _models_dir(args)) for member in args.members]
    cards = [read_card(path.stem, path.parent) for path in paths]
    seed, val_fraction = common_split(cards)
    # Every source any member trained on is scored on its own validation split, which none of them saw.
    trained_on = {name for c in cards for name in c.data.get("train_by_source", {})}
    found = load_handwriting(args.handwriting_dir, val_fraction=val_fraction, seed=seed) if trained_on else []
    real = [s for s in found if s.name in trained_on]
    split = TrainConfig(val_fraction=val_fraction, split_seed=seed)  # names the split alone: nothing trains
    sets = make_training_data(load_mnist(args.data_dir), split, real=real)
    members = [load_keras_model(path) for path in paths]
    member_val = [evaluate_model(Predictor(member), *sets.val_by_source["mnist"]) for member in members]
    for card, metrics in zip(cards, member_val, strict=True):
        print(f"member {card.name}: validation accuracy {metrics.accuracy:.4%}, loss {metrics.loss:.4f}")
    model = average_models(members, shares)
    predictor = Predictor(model)
    val = evaluate_model(predictor, *sets.val_by_source["mnist"])
    by_source = {name: evaluate_model(predictor, x, y).accuracy for name, (x, y) in sets.val_by_source.items()}
    test = evaluate_model(predictor, sets.x_test, sets.y_test)
    print(
        f"ensemble: validation accuracy {val.accuracy:.4%}, loss {val.loss:.4f}"
        + "".join(f"; {name} {acc:.2%}" for name, acc in by_source.items() if name != "mnist")
    )
    card = make_ensemble_card(
        out.stem,
        cards,
        member_val,
        val,
        test,
        seed=seed,
        val_fraction=val_fraction,
        command=_command_line(args),
        member_commands=[recipe(card, _models_dir(args)) for card in cards],
        val_by_source=by_source if real else None,
        shares=shares,
    )
    save_model(model, card, out.parent, overwrite=args.overwrite)
    print(f"saved {out.with_suffix('.keras')}: test accuracy {test.accuracy:.4%}")
    return EXIT_OK


def _command_line(args: Namespace) -> str:
    """The command as typed, for the card: a model says how to make it again (``--resume`` is how it was run, not what)."""
    return "python -m hdr " + shlex.join(a for a in args.argv if a != "--resume")


def _models_dir(args: Namespace) -> Path:
    """--models-dir, or the settings' models folder ($HDR_MODELS_DIR or models/), read now."""
    from hdr.storage.store import models_folder

    return models_folder(args.models_dir)


def _load_predictor(args: Namespace):
    """The Predictor for --model / --models-dir (default: the active model)."""
    from hdr.inference.predict import Predictor

    return Predictor.load(args.model, _models_dir(args))


def export(args: Namespace) -> int:
    """``python -m hdr export``: see ``python -m hdr export --help``."""
    from hdr.inference.export import export_tflite, write_tflite
    from hdr.storage.store import load_keras_model, resolve_model_path
    from hdr.training.data import load_mnist

    model = load_keras_model(resolve_model_path(args.model, _models_dir(args)))
    # int8 activation ranges come from training images, never from the test set it is scored on.
    calibration = load_mnist(args.data_dir).x_train if args.quantize == "int8" else None
    content = export_tflite(model, quantize=args.quantize, calibration=calibration)
    path = write_tflite(content, args.out, overwrite=args.overwrite)
    print(f"saved {path}: {len(content) / 1024:.0f} KB ({args.quantize or 'float32'})")
    return EXIT_OK


def evaluate(args: Namespace) -> int:
    """``python -m hdr evaluate``: see ``python -m hdr evaluate --help``."""
    from hdr.inference.evaluate import evaluate_model
    from hdr.inference.export import TFLITE_SUFFIX, TFLiteModel
    from hdr.storage.store import read_card, update_card
    from hdr.training.cards import card_test_metrics
    from hdr.training.data import load_mnist

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
        + ", ".join(f"{p.true}->{p.predicted} x{p.count}" for p in metrics.confused_pairs[:5])
    )
    return EXIT_OK


def predict(args: Namespace) -> int:
    """``python -m hdr predict``: see ``python -m hdr predict --help``."""
    from hdr.imaging.decode import ImageError
    from hdr.inference.predict import format_confidence

    results = _load_predictor(args).predict_each(args.paths)  # one forward pass for every file
    status = EXIT_ERROR if any(isinstance(r, ImageError) for r in results) else EXIT_OK
    for path, pred in zip(args.paths, results, strict=True):
        if isinstance(pred, ImageError):
            _emit_error(args.json, path, pred)
            continue
        text = pred.reason if pred.digit is None else f"{pred.digit} ({format_confidence(pred.confidence)})"
        _emit(args.json, {"path": path, **pred.to_dict()}, f"{path}: {text}")
    return status


def read(args: Namespace) -> int:
    """``python -m hdr read``: see ``python -m hdr read --help``."""
    from hdr.imaging.decode import ImageError
    from hdr.inference.predict import format_confidence
    from hdr.inference.read import read_digits

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
        line = (
            f"{path}: {text} (conf {format_confidence(confidence)})" if reading.digits else f"{path}: {reading.reason}"
        )
        _emit(args.json, {"path": path, **reading.to_dict()}, line)
    return status


def _emit(as_json: bool, record: dict, line: str) -> None:
    """Prints one result, as a JSON object or a line of text (one line, whatever the file's name holds)."""
    print(json.dumps(record) if as_json else _one_line(line))


def _one_line(text: str) -> str:
    """``text`` with every control or separator character (a newline in a file name) written as an escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _emit_error(as_json: bool, path: str, exc: Exception) -> None:
    """Prints why ``path`` could not be read, naming it once."""
    from hdr.imaging.decode import ImageError

    reason = exc.reason if isinstance(exc, ImageError) else str(exc).removeprefix(f"{path}: ")
    _emit(as_json, {"path": path, "error": reason}, f"{path}: error: {reason}")
