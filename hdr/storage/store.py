"""The model store: ``.keras`` files with JSON cards, written atomically, plus the active-model pointer.

A model ``NAME`` is ``NAME.keras`` beside ``NAME.json``, both written to temporary files and moved into
place with ``os.replace``: a crash never leaves a half-written model; the shipped ``default`` is never overwritten.
Every ``models_dir`` argument defaults to None: the folder :func:`hdr.settings.models_dir` names
at the moment of the call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import keras

from hdr import settings
from hdr.storage.files import TEMP_SUFFIX, write_atomic

DEFAULT_NAME = "default"
_ACTIVE_FILE = "active.json"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Free space a save needs: the largest zoo model's .keras file (weights and optimizer state) is
# under 10 MB and its card a few hundred KB; checked before training, so a run is never lost to it.
MIN_FREE_BYTES = 64 * 1024 * 1024
# A save takes seconds: a hidden temporary file older than this was left by a crash mid-save.
STALE_TEMP_SECONDS = 3600
_TEMP_SUFFIXES = (".keras", TEMP_SUFFIX)  # what save_model and write_atomic leave behind, named ".NAME.*"


class ModelStoreError(RuntimeError):
    """A model file is missing, corrupt, or may not be changed."""


@dataclass
class ModelCard:
    """Everything known about a saved model: enough to describe, compare and rebuild it."""

    name: str
    arch: str
    config: dict  # TrainConfig.to_dict()
    data: dict  # where the training data came from and how much of it
    metrics: dict = field(default_factory=dict)  # test accuracy, loss, per-class, ...
    params: int = 0
    file_size: int = 0  # bytes of the .keras file
    train_seconds: float = 0.0
    best_epoch: int = 0
    history: dict = field(default_factory=dict)  # per-epoch curves
    created: str = ""  # ISO 8601, UTC
    command: str = ""  # the command that produced the model, for reproduction
    parent: str | None = None  # the model this one was fine-tuned from
    calibration: dict = field(default_factory=dict)  # from ``hdr calibrate``: temperature, unsure_below, ...
    problem: str = ""  # why the card could not be read: set by list_models on damaged cards, never saved

    def to_json(self) -> str:
        """The card as saved: JSON of every field but ``problem``."""
        data = asdict(self)
        data.pop("problem")
        return json.dumps(data, indent=2) + "\n"


# The type every card field must have; a card with another (a string for ``metrics``, null for
# ``created``) is damaged, however valid its JSON.
_CARD_TYPES = {
    "name": str, "arch": str, "config": dict, "data": dict, "metrics": dict, "params": int, "file_size": int,
    "train_seconds": (int, float), "best_epoch": int, "history": dict, "created": str, "command": str,
    "parent": (str, type(None)), "calibration": dict,
}  # fmt: skip


def _check_name(name: str) -> str:
    """Returns ``name`` if it is a safe file stem, else raises."""
    if not _NAME_RE.match(name):
        raise ModelStoreError(f"invalid model name {name!r}: use letters, digits, '-', '_' or '.'")
    return name


def models_folder(models_dir: str | os.PathLike | None = None) -> Path:
    """``models_dir`` as a path; None means the settings' folder, read now (``$HDR_MODELS_DIR`` or models/)."""
    return settings.models_dir() if models_dir is None else Path(models_dir)


def _paths_in(folder: Path, name: str) -> tuple[Path, Path]:
    """The ``.keras`` and ``.json`` paths model ``name`` has, or would be saved to, in ``folder``."""
    _check_name(name)
    return folder / f"{name}.keras", folder / f"{name}.json"


def model_paths(name: str, models_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The ``.keras`` and ``.json`` paths of model ``name`` (in the settings' models folder by default).

    A folder without a default of its own (a fresh one, or the user's folder of an installed
    package) reads the shipped default from :func:`hdr.settings.shipped_dir`.
    """
    weights, card = _paths_in(models_folder(models_dir), name)
    if name == DEFAULT_NAME and not weights.exists():
        return _paths_in(settings.shipped_dir(), name)
    return weights, card


def remove_stale_temps(
    models_dir: str | os.PathLike | None = None, *, older_than: float = STALE_TEMP_SECONDS
) -> list[Path]:
    """Deletes hidden temporary files a crashed save left in ``models_dir`` (only ones older than ``older_than`` s).

    Returns:
        The files removed.
    """
    removed, now = [], time.time()
    for path in models_folder(models_dir).glob(".*"):
        try:
            if path.suffix in _TEMP_SUFFIXES and path.is_file() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or a read-only folder: nothing to clean up here
            continue
    return removed


def check_models_dir(models_dir: str | os.PathLike | None = None, *, min_free_bytes: int = MIN_FREE_BYTES) -> Path:
    """Checks that a model could be saved in ``models_dir`` now: it exists (or can be made), is writable, has room.

    Called before training starts, so an unwritable or full folder is found before the run, not after.

    Returns:
        The folder.

    Raises:
        ModelStoreError: The folder cannot be created or written to, or has too little free space.
    """
    models_dir = models_folder(models_dir)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=models_dir, prefix=".write-check.", suffix=TEMP_SUFFIX)
        os.close(fd)
        os.unlink(probe)
        free = shutil.disk_usage(models_dir).free
    except OSError as exc:
        raise ModelStoreError(f"{models_dir}: cannot save models there ({exc.strerror or exc})") from None
    if free < min_free_bytes:
        raise ModelStoreError(
            f"{models_dir}: only {free / 2**20:.0f} MB free, a model needs {min_free_bytes / 2**20:.0f} MB"
        )
    return models_dir


def check_can_save(name: str, models_dir: str | os.PathLike | None = None, *, overwrite: bool = False) -> Path:
    """Checks that model ``name`` could be saved in ``models_dir``: a valid, free name in a writable folder with room.

    Returns:
        The ``.keras`` path the model would be saved to.

    Raises:
        ModelStoreError: The name is invalid or taken (without ``overwrite``), or the folder is unusable.
    """
    models_dir = models_folder(models_dir)
    weights, _ = _paths_in(models_dir, name)
    if weights.exists() and not overwrite:
        raise ModelStoreError(f"{weights} already exists: choose another name or overwrite it")
    check_models_dir(models_dir)
    return weights


def new_model_name(arch: str, models_dir: str | os.PathLike | None = None) -> str:
    """A fresh, sortable name such as ``hdrnet-20261121-224501``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    name, n, models_dir = f"{arch}-{stamp}", 1, models_folder(models_dir)
    while _paths_in(models_dir, name)[0].exists():
        n += 1
        name = f"{arch}-{stamp}-{n}"
    return name


def save_model(
    model: keras.Model, card: ModelCard, models_dir: str | os.PathLike | None = None, *, overwrite: bool = False
) -> ModelCard:
    """Saves a model and its card atomically.

    Args:
        model: The trained model.
        card: Its card; ``params``, ``file_size`` and ``created`` are filled in here.
        models_dir: Folder to save into (created if missing).
        overwrite: Allow replacing an existing model of the same name.

    Returns:
        The completed card, as written.

    Raises:
        ModelStoreError: The name is taken and ``overwrite`` is False.
    """
    models_dir = models_folder(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(models_dir)
    weights_path, card_path = _paths_in(models_dir, card.name)
    if weights_path.exists() and not overwrite:
        raise ModelStoreError(f"model {card.name!r} already exists in {models_dir}")
    fd, tmp = tempfile.mkstemp(dir=models_dir, prefix=f".{card.name}.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; saved models are ordinary shared files
        card.params = int(model.count_params())
        card.file_size = Path(tmp).stat().st_size
        card.created = card.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
        # The card goes first: a reader who finds the .keras file always finds its card.
        write_atomic(card_path, card.to_json())
        os.replace(tmp, weights_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return card


def rescue_model(model: keras.Model, card: ModelCard) -> Path:
    """Saves a trained model that could not be saved where it belonged into a fresh temporary folder.

    Training can take hours; a folder that filled up or vanished meanwhile must not lose the result.

    Returns:
        The rescued ``.keras`` file, beside its card.
    """
    folder = Path(tempfile.mkdtemp(prefix="hdr-rescued-"))
    save_model(model, card, folder)
    return folder / f"{card.name}.keras"


def read_card(name: str, models_dir: str | os.PathLike | None = None) -> ModelCard:
    """Reads the card of model ``name``.

    Raises:
        ModelStoreError: The card is missing or not a valid card.
    """
    _, card_path = model_paths(name, models_dir)
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError(f"a card is a JSON object, not {type(data).__name__}")
        fields = {k: v for k, v in data.items() if k in _CARD_TYPES}
        for key, value in fields.items():
            if not isinstance(value, _CARD_TYPES[key]) or isinstance(value, bool):
                raise TypeError(f"{key} is {type(value).__name__ if value is not None else 'null'}")
        return ModelCard(**fields)
    except FileNotFoundError:
        raise ModelStoreError(f"{card_path}: model card not found") from None
    except OSError as exc:
        raise ModelStoreError(f"{card_path}: cannot read the model card ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise ModelStoreError(f"{card_path}: corrupt model card ({str(exc).splitlines()[0]})") from None


def update_card(card: ModelCard, models_dir: str | os.PathLike | None = None) -> None:
    """Rewrites the card of an existing model (e.g. after evaluating it)."""
    _, card_path = model_paths(card.name, models_dir)
    write_atomic(card_path, card.to_json())


def load_keras_model(path: str | os.PathLike) -> keras.Model:
    """Loads a ``.keras`` file for inference.

    Raises:
        ModelStoreError: The file is missing or cannot be read as a Keras model.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelStoreError(f"{path}: model file not found")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged zip/h5; all mean the same here
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelStoreError(f"{path}: corrupt or unreadable model file ({reason[:200]})") from None


def resolve_model_path(model: str | os.PathLike | None, models_dir: str | os.PathLike | None = None) -> Path:
    """Turns a model name, a path, or None (the active model) into a ``.keras`` path."""
    models_dir = models_folder(models_dir)
    if model is None:
        return model_paths(active_model(models_dir), models_dir)[0]
    as_path = Path(model)
    if as_path.suffix == ".keras" or as_path.exists():
        return as_path
    return model_paths(str(model), models_dir)[0]


def list_models(models_dir: str | os.PathLike | None = None) -> list[ModelCard]:
    """Cards of every saved model, the default first, then the newest first.

    A model whose card is missing or damaged is listed too, with a bare card whose ``problem``
    says why: the model file may be fine, and it must not vanish from the list.
    """
    models_dir = models_folder(models_dir)
    remove_stale_temps(models_dir)
    cards = []
    for weights in models_dir.glob("*.keras"):
        if weights.name.startswith(".") or not _NAME_RE.match(weights.stem):
            continue
        try:
            cards.append(read_card(weights.stem, models_dir))
        except ModelStoreError as exc:
            cards.append(ModelCard(name=weights.stem, arch="?", config={}, data={}, problem=str(exc)))
    newest_first = sorted(cards, key=lambda c: c.created, reverse=True)
    return sorted(newest_first, key=lambda c: c.name != DEFAULT_NAME)  # stable: newest first after the default


def active_model(models_dir: str | os.PathLike | None = None) -> str:
    """The name of the active model: the one chosen last, or the default."""
    models_dir = models_folder(models_dir)
    try:
        name = json.loads((models_dir / _ACTIVE_FILE).read_text(encoding="utf-8"))["name"]
        if model_paths(name, models_dir)[0].is_file():
            return name
    except (OSError, ValueError, KeyError, TypeError, ModelStoreError):
        pass
    return DEFAULT_NAME


def set_active_model(name: str, models_dir: str | os.PathLike | None = None) -> None:
    """Makes ``name`` the active model.

    Raises:
        ModelStoreError: No such model.
    """
    models_dir = models_folder(models_dir)
    if not model_paths(name, models_dir)[0].is_file():
        raise ModelStoreError(f"no model named {name!r} in {models_dir} (deleted meanwhile?)")
    try:
        write_atomic(models_dir / _ACTIVE_FILE, json.dumps({"name": name}) + "\n")
    except OSError as exc:
        raise ModelStoreError(f"cannot activate {name}: {models_dir} is not writable ({exc.strerror or exc})") from None


def delete_model(name: str, models_dir: str | os.PathLike | None = None) -> None:
    """Deletes a saved model and its card; the default cannot be deleted.

    Raises:
        ModelStoreError: ``name`` is the default or an invalid name, or the folder is not writable.
    """
    if name == DEFAULT_NAME:
        raise ModelStoreError("the shipped default model cannot be deleted")
    weights, card = model_paths(name, models_dir)
    try:
        weights.unlink(missing_ok=True)  # active_model() falls back to the default once this is gone
        card.unlink(missing_ok=True)
    except OSError as exc:
        raise ModelStoreError(f"cannot delete {name}: {exc.strerror or exc}") from None
