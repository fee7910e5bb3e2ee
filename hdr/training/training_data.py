"""What a training run learns from: MNIST split into train and validation sets, plus extra samples.

The CLI's ``train``, the Train page and fine-tuning all build their data here, so a model's card
describes its data the same way whoever made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hdr.config import ModelConfig, TrainConfig
from hdr.training.data import DataError, Mnist, split_validation
from hdr.training.handwriting import HandwritingSet


@dataclass(frozen=True)
class FineTuneConfig:
    """How the active model learns the user's hand from feedback without forgetting MNIST."""

    epochs: int = 3
    learning_rate: float = 1e-4  # a tenth of training from scratch: nudge the weights, don't reset them
    mnist_images: int = 10_000  # MNIST images mixed in (rehearsal) so the other digits are not forgotten
    feedback_repeat: int = 20  # each feedback sample is seen this many times per epoch: there are few of them
    batch_size: int = 128
    augment: bool = True
    seed: int = 0

    def validate(self) -> None:
        """Raises ValueError with a one-line reason when a setting is nonsense."""
        self.train_config().validate()
        if self.mnist_images < 0 or self.feedback_repeat < 1:
            raise ValueError("mnist images must be >= 0 and feedback repeat >= 1")

    def train_config(self, arch: str = "hdrnet") -> TrainConfig:
        """The :class:`TrainConfig` the fine-tuning run uses."""
        return TrainConfig(
            model=ModelConfig(arch=arch),
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_decay=1.0,
            augment=self.augment,
            seed=self.seed,
        )


@dataclass(frozen=True)
class TrainingData:
    """Everything a job trains and scores on: ``uint8 (N, 28, 28)`` images and ``int64 (N,)`` labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray  # MNIST test set: the number on every card
    y_test: np.ndarray
    info: dict  # where the data came from and how much of it, stored in the card
    x_feedback: np.ndarray | None = None  # the user's samples, scored before and after fine-tuning
    y_feedback: np.ndarray | None = None
    # Each source's own validation split, by name ("mnist", "usps", ...): every card reports them apart.
    val_by_source: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # ``bool (N,)``: which training images are MNIST's (a distilling run keeps its teacher's answers on them).
    from_mnist: np.ndarray | None = None


def make_training_data(
    mnist: Mnist,
    config: TrainConfig,
    *,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    extra_name: str = "",
    replace_mnist: bool = False,
    real: Sequence[HandwritingSet] = (),
) -> TrainingData:
    """Splits the training images into train and validation sets, optionally with extra samples.

    Args:
        mnist: MNIST; its test set always scores the model.
        config: Supplies ``val_fraction``, ``split_seed`` and ``limit``. With a ``limit`` the validation
            set is capped at the same size, so a quick run is quick end to end.
        extra: More labelled images (feedback samples, a Kaggle CSV).
        extra_name: How ``extra`` is described in the card.
        replace_mnist: Train on ``extra`` alone instead of adding it to MNIST's training set.
        real: Real handwriting (:func:`hdr.training.handwriting.load_handwriting`): each source's training
            split joins the training set and its validation split the validation set.

    Returns:
        The data; extra samples and real handwriting come first so that ``config.limit`` never
        trims them away (a limit then trims MNIST alone: rehearsal beside the real sources).

    Raises:
        hdr.training.data.DataError: ``extra`` is too small to split off a validation set.
    """
    if replace_mnist:
        if extra is None or len(extra[0]) < 2:
            raise DataError(f"{extra_name or 'the data'}: need at least 2 labelled images to train")
        split = split_validation(extra[0], extra[1], val_fraction=config.val_fraction, seed=config.split_seed)
        x_train, y_train = split.x_train, split.y_train
        source = extra_name
        n_mnist = 0
    else:
        split = split_validation(mnist.x_train, mnist.y_train, val_fraction=config.val_fraction, seed=config.split_seed)
        x_train, y_train = split.x_train, split.y_train
        n_mnist = len(x_train)
        source = mnist.source + (f" + {extra_name}" if extra is not None else "")
        if extra is not None:
            x_train, y_train = np.concatenate([extra[0], x_train]), np.concatenate([extra[1], y_train])
    x_val, y_val = split.x_val, split.y_val
    if config.limit is not None:
        x_val, y_val = x_val[: config.limit], y_val[: config.limit]
    val_by_source = {"extra" if replace_mnist else "mnist": (x_val, y_val)}
    if real:
        x_train = np.concatenate([s.x_train for s in real] + [x_train])
        y_train = np.concatenate([s.y_train for s in real] + [y_train])
        val_by_source.update({s.name: (s.x_val, s.y_val) for s in real})
        x_val = np.concatenate([x for x, _ in val_by_source.values()])
        y_val = np.concatenate([y for _, y in val_by_source.values()])
        source += "".join(f" + {s.name} ({len(s.y_train)} train, {len(s.y_val)} val)" for s in real)
    from_mnist = np.arange(len(x_train)) >= len(x_train) - n_mnist  # MNIST comes last
    info = {
        "source": source,
        "train": int(min(len(x_train), config.limit or len(x_train))),
        "val": int(len(y_val)),
        "test": int(len(mnist.y_test)),
    }
    if real:
        info["val_by_source"] = {name: int(len(y)) for name, (_, y) in val_by_source.items()}
        # What each real source put into training: an ensemble checks its members held out the same digits.
        info["train_by_source"] = {s.name: int(len(s.y_train)) for s in real}
    return TrainingData(
        x_train,
        y_train,
        x_val,
        y_val,
        mnist.x_test,
        mnist.y_test,
        info,
        val_by_source=val_by_source,
        from_mnist=from_mnist,
    )


def make_fine_tune_data(
    mnist: Mnist, feedback: tuple[np.ndarray, np.ndarray], config: FineTuneConfig, *, val_fraction: float = 0.1
) -> TrainingData:
    """Feedback samples, repeated, mixed with a slice of MNIST; validation on held-out MNIST.

    Raises:
        hdr.training.data.DataError: There are no feedback samples.
    """
    x_fb, y_fb = feedback
    if len(x_fb) == 0:
        raise DataError("no feedback samples yet: save some from the Draw or Upload page first")
    # The split the card records (split_seed), not the run's own seed: the card must name the images held out.
    split_seed = config.train_config().split_seed
    split = split_validation(mnist.x_train, mnist.y_train, val_fraction=val_fraction, seed=split_seed)
    n = min(config.mnist_images, len(split.x_train))
    x_train = np.concatenate([np.repeat(x_fb, config.feedback_repeat, axis=0), split.x_train[:n]])
    y_train = np.concatenate([np.repeat(y_fb, config.feedback_repeat, axis=0), split.y_train[:n]])
    n_val = max(1, min(len(split.x_val), n // 5 or 1))
    info = {
        "source": f"{mnist.source} ({n} images) + feedback ({len(x_fb)} samples x{config.feedback_repeat})",
        "train": int(len(x_train)),
        "val": int(n_val),
        "test": int(len(mnist.y_test)),
        "feedback": int(len(x_fb)),
    }
    return TrainingData(
        x_train, y_train, split.x_val[:n_val], split.y_val[:n_val], mnist.x_test, mnist.y_test, info, x_fb, y_fb
    )


def accuracy_by_source(model, data: TrainingData) -> dict[str, float]:
    """Validation accuracy on each source's own split (``data.val_by_source``), for the card.

    Args:
        model: Anything :func:`hdr.inference.evaluate.evaluate_model` scores (a :class:`hdr.inference.predict.Predictor`).
    """
    from hdr.inference.evaluate import evaluate_model

    return {name: evaluate_model(model, x, y).accuracy for name, (x, y) in data.val_by_source.items()}
