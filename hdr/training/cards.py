"""Model cards: the one place that writes what a card says about a model it describes.

A card (:class:`hdr.storage.store.ModelCard`) holds the model's settings, data, metrics and the command
that made it, so a saved model can be described and rebuilt from its files alone. The CLI's
``train``, ``ensemble`` and ``evaluate --update-card`` and the app's training jobs all fill cards
through these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hdr.inference.evaluate import Metrics
from hdr.settings import NUM_CLASSES
from hdr.storage.store import ModelCard, ModelStoreError, read_card, resolve_model_path
from hdr.training.models import ENSEMBLE
from hdr.training.train import TrainConfig, TrainResult

CARD_MISCLASSIFIED = 100  # mistakes kept in a card: enough for the Models page's gallery


def card_test_metrics(test: Metrics) -> dict:
    """A card's test-set entries, as every card writer stores them.

    ``test_accuracy``, ``test_loss`` and the full ``test`` metrics, with the
    :data:`CARD_MISCLASSIFIED` most confident mistakes.
    """
    return {
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "test": test.to_dict(max_misclassified=CARD_MISCLASSIFIED),
    }


def make_card(
    name: str,
    config: TrainConfig,
    result: TrainResult,
    test: Metrics | None,
    data_info: dict,
    *,
    command: str = "",
    parent: str | None = None,
    extra_metrics: dict | None = None,
) -> ModelCard:
    """The card of a freshly trained model (shared by the command line and the app).

    Args:
        name: The model's name.
        config: Its training settings.
        result: What :func:`hdr.training.train.train_model` returned.
        test: Its metrics on the MNIST test set; None when that evaluation was skipped (the card
            then has no test entries and counts no test images, and
            ``python -m hdr evaluate --update-card`` adds them).
        data_info: Where the data came from and how much of it
            (:attr:`hdr.training.training_data.TrainingData.info`).
        command: How to reproduce it.
        parent: The model it was fine-tuned from.
        extra_metrics: More entries for ``card.metrics`` (e.g. fine-tuning before/after).

    Returns:
        The card, ready for :func:`hdr.storage.store.save_model`.
    """
    best = max(result.best_epoch, 1) - 1
    metrics = {
        **(card_test_metrics(test) if test is not None else {}),
        "val_accuracy": result.history.get("val_accuracy", [float("nan")])[best],
        "val_loss": result.history.get("val_loss", [float("nan")])[best],
    }
    metrics.update(extra_metrics or {})
    return ModelCard(
        name=name,
        arch=config.model.arch,
        config=config.to_dict(),
        data=dict(data_info, test=0 if test is None else test.n),
        metrics=metrics,
        train_seconds=round(result.seconds, 1),
        best_epoch=result.best_epoch,
        # A run stopped and resumed says after which epochs; its command is the run's, without --resume.
        history=dict(result.history, resumed_after=result.resumed_after) if result.resumed_after else result.history,
        command=command,
        parent=parent,
    )


def recipe(card: ModelCard, models_dir: str | os.PathLike | None = None) -> str:
    """The commands that made a model, joined by ``&&``: a fine-tuned model's parent's recipe first.

    A parent whose card cannot be read (moved, deleted) ends the chain at ``card.command``.
    """
    if not card.parent:
        return card.command
    try:
        path = resolve_model_path(card.parent, models_dir)
        parent = read_card(path.stem, path.parent)
    except ModelStoreError:
        return card.command
    return f"{recipe(parent, models_dir)} && {card.command}"


def common_split(members: list[ModelCard]) -> tuple[int, float]:
    """The validation split every member of an ensemble held out, so the ensemble is judged on digits none trained on.

    Members agree when they share the split's seed and validation share and trained on the same
    MNIST training split (the card's training size less what each real source added). A real
    source may be in some members and not others; where several hold it, they hold the same split
    of it (the same digits for training and for validation).

    Args:
        members: The members' cards.

    Returns:
        The split's ``(seed, validation fraction)``.

    Raises:
        ValueError: The members were not validated on one common split.
    """
    splits = set()
    real: dict[str, set] = {}
    for card in members:
        config, data = card.config, card.data
        added = data.get("train_by_source", {})
        mnist_train = data["train"] - sum(added.values()) if "train" in data else None
        splits.add((_split_seed(config), config.get("val_fraction"), mnist_train))
        for name, n_train in added.items():
            real.setdefault(name, set()).add((n_train, data.get("val_by_source", {}).get(name)))
    differing = sorted(name for name, counts in real.items() if len(counts) > 1)
    if len(splits) != 1 or None in next(iter(splits)) or differing:
        raise ValueError(
            "the members were not validated on one common split (split seed, validation fraction, MNIST training "
            f"size {sorted(splits, key=str)}{'; real sources split apart: ' + ', '.join(differing) if differing else ''}"
            "): the ensemble could not be judged on data none of them trained on"
        )
    seed, val_fraction, _ = splits.pop()
    return seed, val_fraction


def _split_seed(config: dict) -> int | None:
    """The seed of a card's validation split (cards from before ``split_seed`` split by ``seed``)."""
    return config.get("split_seed", config.get("seed"))


def make_ensemble_card(
    name: str,
    members: list[ModelCard],
    member_val: list[Metrics],
    val: Metrics,
    test: Metrics,
    *,
    seed: int,
    val_fraction: float,
    command: str = "",
    member_commands: list[str] | None = None,
    val_by_source: dict[str, float] | None = None,
    shares: list[float] | None = None,
) -> ModelCard:
    """The card of an average of trained models (``python -m hdr ensemble``).

    Args:
        name: The ensemble's name.
        members: The members' cards, in order; each keeps its config and command, so the card
            says how to remake every member.
        member_val: Each member's metrics on the common validation split.
        val: The ensemble's metrics on that split.
        test: The ensemble's metrics on the MNIST test set.
        seed: The split's seed, shared by every member.
        val_fraction: The split's validation share, shared by every member.
        command: How to reproduce it.
        member_commands: How to remake each member (:func:`recipe`); default: their ``command``.
        val_by_source: The ensemble's validation accuracy on each source (``mnist``, ``usps``, ...),
            when some member trained on real handwriting.
        shares: Each member's share of a weighted mean (summing to one); None: all the same.

    Returns:
        The card, ready for :func:`hdr.storage.store.save_model`.
    """
    member_commands = member_commands or [card.command for card in members]
    rows = [
        {
            "name": card.name,
            "arch": card.arch,
            "val_accuracy": metrics.accuracy,
            "val_loss": metrics.loss,
            "config": card.config,
            "command": remake,
            **({"share": share} if shares else {}),
        }
        for card, metrics, remake, share in zip(
            members, member_val, member_commands, shares or [None] * len(members), strict=True
        )
    ]
    return ModelCard(
        name=name,
        arch=ENSEMBLE,
        config={"seed": seed, "val_fraction": val_fraction, "members": rows},
        data=dict(_widest(members).data, val=val.n, test=test.n),
        metrics={
            **card_test_metrics(test),
            "val_accuracy": val.accuracy,
            "val_loss": val.loss,
            **({"val_accuracy_by_source": val_by_source} if val_by_source else {}),
        },
        train_seconds=sum(card.train_seconds for card in members),
        command=command,
    )


def _widest(members: list[ModelCard]) -> ModelCard:
    """The member that trained on the most real sources: the card's data names them (MNIST's split is common to all)."""
    return max(members, key=lambda card: len(card.data.get("train_by_source", {})))


def make_blend_card(
    name: str,
    tuned: ModelCard,
    share: float,
    val_by_source: dict[str, float],
    test: Metrics,
    *,
    parent: str,
    tuned_recipe: str,
    command: str = "",
) -> ModelCard:
    """The card of a fine-tuned model pulled part of the way back to its base (``python -m hdr blend``).

    Args:
        name: The blend's name.
        tuned: The fine-tuned model's card.
        share: The share of the fine-tuned weights.
        val_by_source: The blend's validation accuracy on each source (``mnist``, ``usps``, ...).
        test: Its metrics on the MNIST test set.
        parent: Where the fine-tuned model is.
        tuned_recipe: How the fine-tuned model was made (:func:`recipe`), kept in the config so the
            card says how to remake the blend when that model is long gone.
        command: How to reproduce it.
    """
    return ModelCard(
        name=name,
        arch=tuned.arch,
        config={**tuned.config, "blend_share": share, "tuned_recipe": tuned_recipe},
        data=dict(tuned.data, test=test.n),
        metrics={
            **card_test_metrics(test),
            "val_accuracy": val_by_source["mnist"],
            "val_accuracy_by_source": val_by_source,
        },
        train_seconds=tuned.train_seconds,
        best_epoch=tuned.best_epoch,
        history=tuned.history,
        command=command,
        parent=parent,
    )


def card_test(card: ModelCard) -> Metrics | None:
    """The MNIST test metrics a card records, typed; None when it records none or damaged ones."""
    return Metrics.from_dict(card.metrics.get("test"))


def card_accuracy(card: ModelCard) -> float | None:
    """The MNIST test accuracy a card records, or None."""
    value = card.metrics.get("test_accuracy")
    return float(value) if isinstance(value, (int, float)) else None


def card_recalls(card: ModelCard) -> list[float]:
    """The per-digit test recall (0-9) a card records, or [] when it records none or a damaged list."""
    test = card_test(card)
    return [c.recall for c in test.per_class] if test is not None and len(test.per_class) == NUM_CLASSES else []


@dataclass(frozen=True)
class CardComparison:
    """A model against another (the active one), on the MNIST test figures both cards record."""

    name: str
    other: str
    accuracy: float | None  # test accuracy, None when the card has none
    other_accuracy: float | None
    recalls: list[float]  # per digit 0-9, [] when the card records none
    other_recalls: list[float]

    @property
    def accuracy_change(self) -> float | None:
        """``accuracy - other_accuracy``; None when either is unknown."""
        if self.accuracy is None or self.other_accuracy is None:
            return None
        return self.accuracy - self.other_accuracy

    @property
    def worse(self) -> bool:
        """True when the model is less accurate than the other (unknown counts as not worse)."""
        change = self.accuracy_change
        return change is not None and change < 0

    def worse_digits(self) -> list[int]:
        """The digits this model recalls less often than the other, worst first."""
        if not (self.recalls and self.other_recalls):
            return []
        drops = [(r - o, d) for d, (r, o) in enumerate(zip(self.recalls, self.other_recalls, strict=True)) if r < o]
        return [d for _, d in sorted(drops)]


def compare_cards(card: ModelCard, other: ModelCard) -> CardComparison:
    """``card`` measured against ``other`` on what both cards say about the MNIST test set."""
    return CardComparison(
        card.name, other.name, card_accuracy(card), card_accuracy(other), card_recalls(card), card_recalls(other)
    )
