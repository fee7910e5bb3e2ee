"""The settings of a model and of a training run, and the names each registry answers to.

No TensorFlow here: the command line builds its choices and defaults from this module, so
``hdr --help`` is instant, and the Train page can show a recipe before Keras is loaded. The
builders behind the names live where the work is done: :data:`hdr.training.models.ARCHITECTURES`,
:data:`hdr.imaging.damage.DAMAGE_MIXES`, :mod:`hdr.training.schedules`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hdr.imaging.damage import DAMAGE_MIXES

SCHEDULES = ("decay", "one-cycle")  # how the learning rate moves: see hdr.training.schedules
ARCHITECTURE_NOTES = {  # the zoo's names: hdr.training.models.ARCHITECTURES builds each
    "mlp": "Seed 004: MLP 784-512-512-10, dropout 0.3",
    "simple_cnn": "Keras example: Conv32-Conv64-pool-Dense128",
    "bn_cnn": "99.47% project: BN-CNN 32-64-128",
    "kaggle5": "99.5% Kaggle entry: Conv32x2(5x5)-Conv64x2(3x3)-Dense256",
    "hdrnet": "HDR's own: all-conv BN network with strided downsampling (the shipped default's)",
    "quicknet": "HDR's fast one: BN-CNN built for time to accuracy on a CPU (quick preset)",
}


@dataclass(frozen=True)
class ModelConfig:
    """Settings of one architecture; stored in the model card so a model can be rebuilt."""

    arch: str = "hdrnet"  # a name from ARCHITECTURE_NOTES (hdr.training.models.ARCHITECTURES builds it)
    dropout: float | None = None  # None: the architecture's own published dropout rate
    width: int = 32  # filters of the first block; later blocks double it (CNNs only)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run; stored in the model card."""

    model: ModelConfig = field(default_factory=ModelConfig)  # the architecture to train
    epochs: int = 30  # upper bound; early stopping may end sooner
    batch_size: int = 128
    learning_rate: float = 1e-3  # Adam's initial rate ("decay") or its peak ("one-cycle")
    lr_decay: float = 0.9  # per-epoch multiplicative decay of the learning rate ("decay" only)
    schedule: str = "decay"  # "decay": rate x lr_decay^epoch; "one-cycle": warm up, then anneal to zero
    augment: bool = True  # random rotation, shift and zoom of every training batch
    rotation_deg: float = 10.0  # MNIST writers tilt their digits by about this much
    shift: float = 0.1  # fraction of the image size
    zoom: float = 0.1  # fraction of the image size
    damage: float = 0.0  # share of training images damaged like real input (hdr.imaging.degrade), then preprocessed
    damage_mix: str = (
        "basic"  # which kinds of damage, how often and how strong: a key of hdr.imaging.damage.DAMAGE_MIXES
    )
    # With a starting model (``--init``): the share of each MNIST image's target taken from that model's own
    # probabilities for the same damaged, augmented picture, so learning new hands does not unlearn MNIST's
    # ("learning without forgetting", Li & Hoiem, 2016). Real handwriting keeps its labels alone.
    distill: float = 0.0
    val_fraction: float = 0.1  # share of the training data held out for model selection
    patience: int = 8  # epochs without a better validation loss before stopping
    seed: int = 0  # initial weights, shuffling, augmentation
    split_seed: int = 0  # which images are held out: fixed, so runs with different seeds share one validation set
    limit: int | None = None  # train on the first N training images only (smoke tests, demos)
    time_budget: float | None = None  # seconds of training ("one-cycle"): the cycle ends and training stops by then

    def validate(self) -> None:
        """Raises ValueError with a one-line reason when a setting is nonsense (the first of :meth:`problems`)."""
        for message in self.problems().values():
            raise ValueError(message)

    def problems(self) -> dict[str, str]:
        """Every nonsense setting by its field's name, each with a one-line reason; empty when all are sound.

        A form shows each reason next to its field (the Train page); :meth:`validate` raises the first.
        """
        checks = [
            ("epochs", 1 <= self.epochs <= 1000, f"epochs must be 1..1000, got {self.epochs}"),
            ("batch_size", 1 <= self.batch_size <= 8192, f"batch size must be 1..8192, got {self.batch_size}"),
            ("learning_rate", 0 < self.learning_rate <= 1, f"learning rate must be in (0, 1], got {self.learning_rate}"),
            ("lr_decay", 0 < self.lr_decay <= 1, f"lr decay must be in (0, 1], got {self.lr_decay}"),
            ("schedule", self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"),
            ("rotation_deg", 0 <= self.rotation_deg <= 90, f"rotation must be 0..90 degrees, got {self.rotation_deg}"),
            ("shift", 0 <= self.shift < 0.5, f"shift must be in [0, 0.5), got {self.shift}"),
            ("zoom", 0 <= self.zoom < 0.5, f"zoom must be in [0, 0.5), got {self.zoom}"),
            ("damage", 0 <= self.damage <= 1, f"damage share must be in [0, 1], got {self.damage}"),
            (
                "damage_mix",
                self.damage_mix in DAMAGE_MIXES,
                f"damage mix must be one of {', '.join(DAMAGE_MIXES)}, got {self.damage_mix!r}",
            ),
            ("distill", 0 <= self.distill < 1, f"distill share must be in [0, 1), got {self.distill}"),
            ("val_fraction", 0 < self.val_fraction < 0.5, f"validation fraction must be in (0, 0.5), got {self.val_fraction}"),
            ("patience", self.patience >= 1, f"patience must be at least 1, got {self.patience}"),
            ("limit", self.limit is None or self.limit >= 20, f"limit must be at least 20 images, got {self.limit}"),
            (
                "time_budget",
                self.time_budget is None or 1 <= self.time_budget <= 7 * 86400,
                f"time budget must be 1 s to 7 days, got {self.time_budget}",
            ),
            (
                "schedule",
                self.time_budget is None or self.schedule == "one-cycle",
                "a time budget needs the one-cycle schedule (it anneals the rate to zero by then)",
            ),
        ]  # fmt: skip
        problems: dict[str, str] = {}
        for name, ok, message in checks:
            if not ok:
                problems.setdefault(name, message)
        return problems

    def to_dict(self) -> dict:
        """The config as plain JSON-able data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Rebuilds a config saved by :meth:`to_dict`."""
        data = dict(data)
        data["model"] = ModelConfig(**data.get("model", {}))
        data.setdefault("split_seed", data.get("seed", 0))  # cards written before split_seed split by seed
        return cls(**data)


# The best model we found that trains in under 3 minutes on 2 CPU cores (MNIST test >= 99.4%).
# Too few epochs for augmentation to pay: 6 epochs with it, 99.28% on validation; 7 without, 99.42%.
_QUICK = TrainConfig(
    model=ModelConfig(arch="quicknet"),
    epochs=7,
    batch_size=128,
    learning_rate=4e-3,
    schedule="one-cycle",
    augment=False,
    patience=7,
    # 7 epochs take ~145 s here at full speed; on a slower machine (we have seen one a third as
    # fast, nothing else running) the cycle anneals early and the run still ends in time.
    time_budget=150.0,
)
PRESETS: dict[str, TrainConfig] = {
    "quick": _QUICK,
    # The same network, twice as long, with rotation/shift/zoom augmentation.
    "standard": dataclasses.replace(_QUICK, epochs=15, augment=True, patience=15, time_budget=None),
    # The recipe of the shipped default's networks (trained with damage on top): the largest network, long and slow.
    "best": TrainConfig(
        model=ModelConfig(arch="hdrnet"),
        epochs=40,
        batch_size=128,
        learning_rate=1e-3,
        lr_decay=0.92,
        patience=15,
    ),
}
PRESET_NOTES = {  # measured on 2 CPU cores with nothing else running (docs/training.md)
    "quick": "under 3 min on 2 cores, 99.5% on MNIST test",
    "standard": "about 7 min, 99.5%",
    "best": "about 22 min (hdrnet, 40 epochs), 99.6%",
}


def preset_config(name: str | None, **overrides) -> TrainConfig:
    """A preset's config with some settings replaced.

    Args:
        name: A key of :data:`PRESETS`, or None for :class:`TrainConfig`'s defaults.
        **overrides: :class:`TrainConfig` fields to replace (``epochs=3``); ``arch`` and
            ``dropout`` replace the model's. A preset's ``time_budget`` is kept only while the
            network, epochs, batch size, augmentation, damage and schedule are the preset's.

    Raises:
        ValueError: Unknown preset or setting.
    """
    if name is not None and name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    config = TrainConfig() if name is None else PRESETS[name]
    model_fields = {k: overrides.pop(k) for k in ("arch", "dropout", "width") if k in overrides}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ValueError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    if model_fields:
        overrides["model"] = dataclasses.replace(config.model, **model_fields)
    changed = dataclasses.replace(config, **overrides)
    if "time_budget" not in overrides and any(getattr(changed, f) != getattr(config, f) for f in _TIMED):
        changed = dataclasses.replace(changed, time_budget=None)  # the budget was fitted to the preset's run
    return changed


# What a preset's time budget was fitted to: change one and the budget goes, unless given anew.
_TIMED = ("model", "epochs", "batch_size", "augment", "damage", "damage_mix", "schedule")
