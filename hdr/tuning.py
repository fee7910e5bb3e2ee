"""The bodies of ``hdr fine-tune`` and ``hdr calibrate``: a trained model adapted to a hand, and to honest confidence.

Like :mod:`hdr.commands`, each takes the parsed arguments, calls the library and returns the exit status.
"""

from __future__ import annotations

import contextlib
import json
from argparse import Namespace
from pathlib import Path

from hdr.commands import EXIT_ERROR, EXIT_OK, _command_line, _models_dir, _save_or_rescue


def fine_tune(args: Namespace) -> int:
    """``python -m hdr fine-tune``: see ``python -m hdr fine-tune --help``."""
    from hdr.cards import make_card
    from hdr.data import load_image_folder, load_mnist
    from hdr.evaluate import evaluate_model
    from hdr.predict import Predictor
    from hdr.store import ModelStoreError, check_can_save, load_keras_model, read_card, resolve_model_path
    from hdr.train import train_model
    from hdr.training_data import FineTuneConfig, make_fine_tune_data

    config = FineTuneConfig(epochs=args.epochs, learning_rate=args.lr, mnist_images=args.mnist_images, seed=args.seed)
    config.validate()
    out = Path(args.out)
    check_can_save(out.stem, out.parent, overwrite=args.overwrite)
    base = resolve_model_path(args.model, _models_dir(args))
    samples = load_image_folder(args.samples)  # each picture through to_mnist, as predict reads it
    data = make_fine_tune_data(load_mnist(args.data_dir), samples, config)
    model = load_keras_model(base)
    before = evaluate_model(Predictor(model), *samples).accuracy
    result = train_model(data.x_train, data.y_train, data.x_val, data.y_val, config.train_config(), model=model)
    predictor = Predictor(result.model)
    test = evaluate_model(predictor, data.x_test, data.y_test)
    after = evaluate_model(predictor, *samples).accuracy
    comparison = {
        "samples": int(len(samples[1])),
        "before": before,
        "after": after,
        "seconds": round(result.seconds, 1),
    }
    card = make_card(
        out.stem,
        config.train_config(),
        result,
        test,
        data.info,
        command=_command_line(args),
        parent=str(base),
        extra_metrics={"fine_tune": comparison},
    )
    # The confidence scale of the model it started from: a fine-tune nudges the weights, not the scale.
    with contextlib.suppress(ModelStoreError):  # a base without a card is fine-tuned all the same, uncalibrated
        card.calibration = read_card(base.stem, base.parent).calibration
    saved = _save_or_rescue(result.model, card, out.parent, overwrite=args.overwrite)
    print(
        f"saved {saved}: {len(samples[1])} samples read {before:.1%} before and {after:.1%} after; "
        f"MNIST test accuracy {test.accuracy:.2%}; {result.seconds:.0f} s"
    )
    return EXIT_OK if saved == out else EXIT_ERROR


MAX_FALSE_ALARMS = 0.025  # calibrate's "unsure" threshold flags at most this share of each source's correct reads


def calibrate(args: Namespace) -> int:
    """``python -m hdr calibrate``: see ``python -m hdr calibrate --help``."""
    import numpy as np

    from hdr.calibrate import apply_temperature, expected_calibration_error, fit_temperature, flag_rates
    from hdr.data import load_mnist
    from hdr.handwriting import load_handwriting
    from hdr.predict import Predictor
    from hdr.store import load_keras_model, read_card, resolve_model_path, update_card
    from hdr.train import TrainConfig
    from hdr.training_data import make_training_data

    path = resolve_model_path(args.model, _models_dir(args))
    predictor = Predictor(load_keras_model(path), name=path.stem)  # uncalibrated, whatever its card says
    config = TrainConfig()
    real = load_handwriting(args.handwriting_dir, val_fraction=config.val_fraction, seed=config.split_seed)
    sets = make_training_data(load_mnist(args.data_dir), config, real=real).val_by_source
    raw = {name: (predictor.probabilities(x.astype(np.float32)[..., None] / 255.0), y) for name, (x, y) in sets.items()}
    temperature = fit_temperature(
        np.concatenate([p for p, _ in raw.values()]), np.concatenate([y for _, y in raw.values()])
    )
    scaled = {name: (apply_temperature(p, temperature), y) for name, (p, y) in raw.items()}
    unsure_below = _unsure_threshold(list(scaled.values()), MAX_FALSE_ALARMS)
    report = {
        name: {
            "n": int(len(y)),
            "accuracy": float((p.argmax(1) == y).mean()),
            "ece_before": expected_calibration_error(raw[name][0], y),
            "ece_after": expected_calibration_error(p, y),
            **dict(zip(("misreads_flagged", "correct_flagged"), flag_rates(p, y, unsure_below), strict=True)),
        }
        for name, (p, y) in scaled.items()
    }
    card = read_card(path.stem, path.parent)
    card.calibration = {
        "temperature": temperature,
        "unsure_below": unsure_below,
        "validation": report,
        "command": _command_line(args),
    }
    update_card(card, path.parent)
    if args.json:
        print(json.dumps({"model": predictor.name, **card.calibration}))
        return EXIT_OK
    print(f"model {predictor.name}: temperature {temperature:.3f}, unsure below {unsure_below:.1%}")
    for name, row in report.items():
        print(
            f"  {name}: {row['n']} validation digits, accuracy {row['accuracy']:.2%}, ECE {row['ece_before']:.4f} -> "
            f"{row['ece_after']:.4f}, unsure flags {row['misreads_flagged']:.0%} of misreads and "
            f"{row['correct_flagged']:.1%} of correct reads"
        )
    return EXIT_OK


def _unsure_threshold(sets: list[tuple], max_false_alarms: float) -> float:
    """The highest confidence threshold that flags at most ``max_false_alarms`` of the correct reads of every set.

    Args:
        sets: ``(probabilities (N, 10), labels (N,))`` per validation source.
    """
    import numpy as np

    thresholds = [1.0]
    for probs, labels in sets:
        confidence = probs.max(axis=1)[probs.argmax(axis=1) == labels]
        if len(confidence):  # flagging is ``confidence < threshold``: the quantile keeps that share below it
            thresholds.append(float(np.quantile(confidence, max_false_alarms, method="lower")))
    return min(thresholds)
