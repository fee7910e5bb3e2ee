"""A running training's state on disk after every epoch, so a stopped run can go on where it was.

A run of the best preset takes one to two hours on two CPU cores; a reboot, a closed laptop or a
Ctrl-C should cost at most the epoch in progress. The folder holds the weights of the last epoch
with the optimizer's state (Adam's moments and step count), the best epoch's weights, and
``state.json`` (epochs done, curves, the early-stopping count, the settings). ``state.json`` is
replaced last and names the files it goes with, so a save cut off half-way leaves the previous
epoch's state whole.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from hdr.config import TrainConfig

STATE = "state.json"


@dataclass
class RunState:
    """Where a stopped training was: everything :func:`hdr.training.train.train_model` needs to go on."""

    config: dict  # TrainConfig.to_dict() of the run: a resumed run must have the same settings
    epochs_done: int
    history: dict[str, list[float]]  # per-epoch curves so far, "seconds" since the run began among them
    seconds: float  # training time so far
    best_epoch: int  # 1-based; 0 before any epoch was validated
    best_val_loss: float
    patience_used: int  # epochs since the best one, as early stopping counts them
    finished: bool  # the run ended as planned (its last epoch or early stopping): nothing to go on with
    resumed_after: list[int]  # the epochs after which the run was stopped and went on
    weights: str = ""  # file names inside the folder
    best_weights: str = ""


def read_state(folder: str | os.PathLike) -> RunState | None:
    """The state saved in ``folder``; None when there is none.

    Raises:
        ValueError: The folder holds a state that cannot be read (one line, naming the folder).
    """
    path = Path(folder) / STATE
    if not path.is_file():
        return None
    try:
        state = RunState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"cannot resume from {folder}: its {STATE} is damaged ({exc})") from None
    for name in (state.weights, state.best_weights):
        if name and not (Path(folder) / name).is_file():
            raise ValueError(f"cannot resume from {folder}: {name} is missing")
    return state


def save_state(folder: str | os.PathLike, state: RunState, model: keras.Model, best: list[np.ndarray] | None) -> None:
    """Writes ``model``'s weights with its optimizer's, the best weights and ``state``, then drops older epochs' files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"epoch-{state.epochs_done}"
    state.weights = f"{stem}.weights.h5"
    model.save_weights(folder / state.weights, overwrite=True)
    state.best_weights = ""
    if best is not None:
        state.best_weights = f"{stem}.best.npz"
        np.savez(folder / state.best_weights, *best)
    staged = folder / f".{STATE}.tmp"
    staged.write_text(json.dumps(asdict(state), indent=1) + "\n")
    os.replace(staged, folder / STATE)
    for path in folder.iterdir():
        if path.name.startswith("epoch-") and path.name not in (state.weights, state.best_weights):
            path.unlink(missing_ok=True)


def restore_weights(folder: str | os.PathLike, state: RunState, model: keras.Model) -> list[np.ndarray] | None:
    """Loads the last epoch's weights and optimizer state into ``model`` (compiled); returns the best epoch's weights."""
    folder = Path(folder)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(folder / state.weights)
    if not state.best_weights:
        return None
    with np.load(folder / state.best_weights) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


def prepare_checkpoint(folder: str | os.PathLike, *, resume: bool, overwrite: bool) -> Path:
    """The checkpoint folder of a run about to start: kept to go on from (``resume``), or cleared (``overwrite``).

    Raises:
        ValueError: ``resume`` and no stopped run in ``folder``, or a stopped run there that
            neither ``resume`` nor ``overwrite`` is given for.
    """
    state = read_state(folder)
    if resume and state is None:
        raise ValueError(f"nothing to resume: no stopped run in {folder}")
    if state is not None and not resume:
        if not overwrite:
            raise ValueError(
                f"{folder} holds a stopped run: add --resume to go on with it, or --overwrite to start over"
            )
        remove_checkpoint(folder)
    return Path(folder)


def remove_checkpoint(folder: str | os.PathLike) -> None:
    """Deletes a checkpoint folder once its run's model is saved."""
    shutil.rmtree(folder, ignore_errors=True)


class Checkpoint(keras.callbacks.Callback):
    """Saves the run's state after every epoch so a stopped run can go on (``hdr.training.train`` adds it).

    It runs after the other callbacks, so the state it saves includes this epoch's early-stopping
    count and best weights. An epoch a stop cuts short is not saved: the run goes on by doing it again.
    """

    def __init__(
        self,
        folder: Path,
        config: TrainConfig,
        before: RunState | None,
        best: keras.callbacks.Callback,
        stopping: keras.callbacks.EarlyStopping,
        reporter: keras.callbacks.Callback,
    ):
        super().__init__()
        self.folder, self.config, self.before = folder, config, before
        self.best, self.stopping, self.reporter = best, stopping, reporter
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs=None):
        if self.reporter.stopped and self.reporter.done < self.reporter.batches:
            return  # an epoch a stop cut short: the run goes on from the last whole one
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.history["seconds"] = list(self.reporter.epoch_ends)
        history = joined_history(self.before.history if self.before else {}, self.history)
        done = epoch + 1
        finished = done >= self.config.epochs or self.stopping.wait >= self.stopping.patience
        state = RunState(
            config=self.config.to_dict(),
            epochs_done=done,
            history=history,
            seconds=self.reporter.epoch_ends[-1],
            best_epoch=self.best.best_epoch,
            best_val_loss=float(self.best.best),
            patience_used=int(self.stopping.wait),
            finished=finished,
            resumed_after=self.before.resumed_after + [self.before.epochs_done] if self.before else [],
        )
        save_state(self.folder, state, self.model, self.best.weights)


def joined_history(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per-epoch curves of a stopped run's first part and the part after it, as one run's.

    A resumed run's ``"seconds"`` go on counting from the run's beginning (see ``hdr.training.train``'s progress reporter).
    """
    return {k: before.get(k, []) + after.get(k, []) for k in dict.fromkeys([*before, *after])}
