"""The bodies of ``hdr fine-tune``, ``hdr blend`` and ``hdr calibrate``: a trained model adapted to new hands, and to honest confidence.

Like :mod:`hdr.cli.commands`, each takes the parsed arguments, calls the library and returns the exit status.
"""

from __future__ import annotations

import contextlib
import json
from argparse import Namespace
from pathlib import Path

from hdr.cli.commands import EXIT_ERROR, EXIT_OK, _command_line, _models_dir, _save_or_rescue


def fine_tune(args: Namespace) -> int:
    """``python -m hdr fine-tune``: see ``python -m hdr fine-tune --help``."""
    from hdr.inference.evaluate import evaluate_model
    from hdr.inference.predict import Predictor
    from hdr.storage.store import ModelStoreError, check_can_save, load_keras_model, read_card, resolve_model_path
    from hdr.training.cards import make_card
    from hdr.training.data import load_image_folder, load_mnist
    from hdr.training.train import train_model
    from hdr.training.training_data import FineTuneConfig, make_fine_tune_data

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


ELIGIBLE_MNIST_DROP = 0.001  # blend: a share may cost MNIST validation at most 0.1 point against the base


def blend(args: Namespace) -> int:
    """``python -m hdr blend``: see ``python -m hdr blend --help``.

    Every share is scored on validation only: MNIST's split and each real source's. The rule:
    the shares whose MNIST accuracy is at most :data:`ELIGIBLE_MNIST_DROP` below the base's are
    eligible; of them, the highest mean accuracy over the other sources wins (MNIST's own without
    them), the smaller share on a tie. The test set is scored for the chosen one only.
    """
    from hdr.inference.evaluate import evaluate_model
    from hdr.inference.predict import Predictor
    from hdr.storage.store import check_can_save, load_keras_model, read_card, resolve_model_path, save_model
    from hdr.training.cards import make_blend_card, recipe
    from hdr.training.data import load_mnist
    from hdr.training.models import interpolate_models

    out = Path(args.out)
    # Everything that can be refused is refused before the minutes of scoring, not after.
    if any(not 0.0 <= share <= 1.0 for share in args.share):
        raise ValueError(f"the share of the fine-tuned weights must be between 0 and 1, got {args.share}")
    check_can_save(out.stem, out.parent, overwrite=args.overwrite)
    base_path, tuned_path = (resolve_model_path(m, _models_dir(args)) for m in (args.base, args.tuned))
    tuned_card = read_card(tuned_path.stem, tuned_path.parent)
    base, tuned = load_keras_model(base_path), load_keras_model(tuned_path)
    sets = _validation_sets(args)

    def scores(model) -> dict[str, float]:
        return {name: evaluate_model(Predictor(model), x, y).accuracy for name, (x, y) in sets.items()}

    floor = scores(base)["mnist"] - ELIGIBLE_MNIST_DROP
    tried = {share: scores(interpolate_models(base, tuned, share)) for share in sorted(set(args.share))}
    print(f"{'share':>6} " + " ".join(f"{name:>8}" for name in sets))
    for share, row in tried.items():
        print(f"{share:>6.2f} " + " ".join(f"{acc:>8.2%}" for acc in row.values()))
    eligible = {share: row for share, row in tried.items() if row["mnist"] >= floor}
    if not eligible:
        raise ValueError(f"every share costs MNIST validation more than {ELIGIBLE_MNIST_DROP:.1%}: nothing saved")
    chosen = max(eligible, key=lambda s: (_real_mean(eligible[s]), -s))
    model = interpolate_models(base, tuned, chosen)
    mnist = load_mnist(args.data_dir)
    test = evaluate_model(Predictor(model), mnist.x_test, mnist.y_test)
    card = make_blend_card(
        out.stem,
        tuned_card,
        chosen,
        tried[chosen],
        test,
        parent=str(tuned_path),
        tuned_recipe=recipe(tuned_card, _models_dir(args)),
        command=_command_line(args),
    )
    save_model(model, card, out.parent, overwrite=args.overwrite)
    print(f"saved {out.with_suffix('.keras')}: share {chosen:.2f}, MNIST test accuracy {test.accuracy:.2%}")
    return EXIT_OK


def _real_mean(row: dict[str, float]) -> float:
    """The mean validation accuracy over the sources other than MNIST (MNIST's own when there are none)."""
    real = [acc for name, acc in row.items() if name != "mnist"]
    return sum(real) / len(real) if real else row["mnist"]


def _validation_sets(args: Namespace) -> dict:
    """``{source: (images uint8 (N, 28, 28), labels)}``: the validation split of MNIST and of each real source."""
    from hdr.training.data import load_mnist
    from hdr.training.handwriting import load_handwriting
    from hdr.training.train import TrainConfig
    from hdr.training.training_data import make_training_data

    config = TrainConfig()
    real = load_handwriting(args.handwriting_dir, val_fraction=config.val_fraction, seed=config.split_seed)
    return make_training_data(load_mnist(args.data_dir), config, real=real).val_by_source


MAX_FALSE_ALARMS = 0.025  # calibrate's "unsure" threshold flags at most this share of each source's correct reads


def calibrate(args: Namespace) -> int:
    """``python -m hdr calibrate``: see ``python -m hdr calibrate --help``."""
    import numpy as np

    from hdr.inference.calibrate import apply_temperature, expected_calibration_error, fit_temperature, flag_rates
    from hdr.inference.predict import Predictor
    from hdr.storage.store import load_keras_model, read_card, resolve_model_path, update_card

    path = resolve_model_path(args.model, _models_dir(args))
    predictor = Predictor(load_keras_model(path), name=path.stem)  # uncalibrated, whatever its card says
    sets = _validation_sets(args)
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
