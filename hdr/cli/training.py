"""The body of ``hdr train``: a new model trained, saved with its card, and resumable when stopped.

Like :mod:`hdr.cli.commands`, it takes the parsed arguments, calls the library and returns the exit status.
"""

from __future__ import annotations

import shlex
import sys
from argparse import Namespace
from pathlib import Path

from hdr.cli.commands import EXIT_ERROR, EXIT_OK, _command_line, _models_dir, _save_or_rescue


def train(args: Namespace) -> int:
    """``python -m hdr train``: see ``python -m hdr train --help``."""
    from tqdm import tqdm

    from hdr.inference.evaluate import evaluate_model
    from hdr.inference.predict import Predictor
    from hdr.storage.store import check_can_save, load_keras_model, resolve_model_path
    from hdr.training.cards import make_card
    from hdr.training.checkpoints import read_state, remove_checkpoint
    from hdr.training.data import load_mnist
    from hdr.training.handwriting import load_handwriting
    from hdr.training.interrupts import stop_on_signal
    from hdr.training.train import train_model
    from hdr.training.training_data import accuracy_by_source, make_training_data

    config = train_config(args)
    config.validate()
    # Everything that could make the finished run unsavable is checked before the first epoch.
    models_dir, name = _train_destination(args, config.model.arch)
    checkpoint = _train_checkpoint(args, config, models_dir / f"{name}.partial")
    # A resumed run replaces the model its stopped part saved.
    check_can_save(name, models_dir, overwrite=args.overwrite or args.resume)
    if config.distill > 0 and not args.init:
        raise ValueError("--distill keeps the answers of the model training starts from: give it with --init")
    # The Train page's split and data description. make_training_data caps the validation set at
    # config.limit, which only --limit and --dry-run (512) set: a full run validates on the whole
    # split (the shipped model's 5,999 images), a quick one stays quick end to end.
    real = load_handwriting(args.handwriting_dir, val_fraction=config.val_fraction, seed=config.split_seed)
    data = make_training_data(load_mnist(args.data_dir), config, real=real)
    initial = load_keras_model(resolve_model_path(args.init, _models_dir(args))) if args.init else None
    # A second copy of the starting model, never trained: its answers are part of the targets.
    teacher = load_keras_model(resolve_model_path(args.init, _models_dir(args))) if config.distill > 0 else None

    resumed = read_state(checkpoint) if args.resume and checkpoint is not None else None
    done = resumed.epochs_done if resumed is not None else 0
    bar = tqdm(total=config.epochs, initial=done, unit="epoch", file=sys.stderr, dynamic_ncols=True)

    def progress(p) -> None:
        bar.set_description(f"epoch {p.epoch}/{p.epochs} batch {p.batch}/{p.batches}")
        bar.set_postfix({k: f"{v:.4f}" for k, v in p.logs.items() if k in ("loss", "accuracy", "val_accuracy")})
        if p.epoch_end:
            bar.update(1)

    with stop_on_signal() as interrupts:
        result = train_model(
            data.x_train,
            data.y_train,
            data.x_val,
            data.y_val,
            config,
            model=initial,
            progress=progress,
            should_stop=interrupts.stop_requested,
            teacher=teacher,
            taught=data.from_mnist,
            checkpoint=checkpoint,
        )
        bar.close()
        out = "" if args.out else f" --out {shlex.quote(str(models_dir / f'{name}.keras'))}"
        go_on = f"{_command_line(args)}{out} --resume" if checkpoint is not None else None
        if result.best_epoch == 0:
            print("stopped before the first epoch ended: nothing to save", file=sys.stderr)
            return EXIT_ERROR
        if result.stopped:
            print(f"stopped by signal; keeping the best epoch so far ({result.best_epoch})", file=sys.stderr)
        print(
            "scoring on each validation split and the MNIST test set (Ctrl-C skips this and saves the model)",
            file=sys.stderr,
        )
        predictor = Predictor(result.model)
        scores = interrupts.skippable(
            lambda: (evaluate_model(predictor, data.x_test, data.y_test), accuracy_by_source(predictor, data))
        )
        test, by_source = scores if scores is not None else (None, {})
        if by_source:
            print(
                "validation accuracy by source: " + ", ".join(f"{k} {v:.2%}" for k, v in by_source.items()),
                file=sys.stderr,
            )
        card = make_card(
            name,
            config,
            result,
            test,
            data.info,
            command=_command_line(args),
            parent=args.init,
            extra_metrics={"val_accuracy_by_source": by_source},
        )
        saved = _save_or_rescue(result.model, card, models_dir, overwrite=args.overwrite or args.resume)
    score = "test evaluation skipped" if test is None else f"test accuracy {test.accuracy:.4%}"
    print(f"saved {saved}: {score}, best epoch {result.best_epoch}, {result.seconds:.0f} s")
    if saved != models_dir / f"{name}.keras":
        return EXIT_ERROR
    state = read_state(checkpoint) if go_on is not None and result.stopped else None
    if state is not None:
        print(f"to go on after epoch {state.epochs_done} of {config.epochs}: {go_on}", file=sys.stderr)
    elif checkpoint is not None:
        remove_checkpoint(checkpoint)
    return EXIT_OK


def _train_checkpoint(args: Namespace, config, folder: Path) -> Path | None:
    """Where ``train`` keeps its run's state after every epoch; None for a time-budgeted run, which is not resumable.

    Raises:
        ValueError: ``--resume`` without ``--out``, with a time budget or without a stopped run there
            (see :func:`hdr.training.checkpoints.prepare_checkpoint`).
    """
    from hdr.training.checkpoints import prepare_checkpoint

    if args.resume and not args.out:
        raise ValueError("--resume goes on with the run saved at --out: give --out")
    if config.time_budget is not None:
        if args.resume:
            raise ValueError("a run with a time budget cannot be resumed: its budget is of one uninterrupted run")
        return None
    return prepare_checkpoint(folder, resume=args.resume, overwrite=args.overwrite)


# The options of ``train`` that replace one setting of a preset (or of the defaults), by their
# TrainConfig field; all but ``--lr`` (``learning_rate``) have the field's name.
_TRAIN_OPTIONS = (
    "arch", "epochs", "batch_size", "lr", "lr_decay", "schedule", "dropout", "augment", "damage",
    "damage_mix", "distill", "val_fraction", "patience", "seed", "limit", "time_budget",
)  # fmt: skip


def train_config(args: Namespace):
    """The run ``train`` makes: ``--preset``'s config (or the defaults), with every option given replacing its setting."""
    from hdr.config import preset_config

    given = {option: getattr(args, option) for option in _TRAIN_OPTIONS if getattr(args, option) is not None}
    if "lr" in given:
        given["learning_rate"] = given.pop("lr")
    if args.dry_run:
        given.update(epochs=1, limit=512)
    return preset_config(args.preset, **given)


def _train_destination(args: Namespace, arch: str) -> tuple[Path, str]:
    """The folder and model name ``train`` saves to: ``--out``, else a fresh name in the models folder."""
    from hdr.storage.store import new_model_name

    if args.out:
        out = Path(args.out)
        return out.parent, out.stem
    models_dir = _models_dir(args)
    return models_dir, new_model_name(arch, models_dir)
