"""Evaluation: accuracy, loss, confusion matrix, per-class metrics, confused pairs, misclassified examples."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from sklearn.metrics import confusion_matrix, log_loss, precision_recall_fscore_support

from hdr.settings import NUM_CLASSES


@dataclass(frozen=True)
class ClassScores:
    """One digit's row of the per-class metrics."""

    digit: int
    precision: float
    recall: float
    f1: float
    support: int  # how many of the set's images are this digit


@dataclass(frozen=True)
class ConfusedPair:
    """A digit read as another, and how often."""

    true: int
    predicted: int
    count: int


@dataclass(frozen=True)
class Metrics:
    """How a model does on one labelled set."""

    accuracy: float
    loss: float  # mean cross-entropy
    n: int
    confusion_matrix: list[list[int]]  # [true][predicted]
    per_class: list[ClassScores]  # digits 0..9
    confused_pairs: list[ConfusedPair]  # most frequent first
    misclassified: list[int]  # indices into the evaluated set, most confident mistakes first

    def to_dict(self, *, max_misclassified: int | None = None) -> dict:
        """Plain JSON-able data, keeping at most ``max_misclassified`` mistakes (all when None)."""
        data = asdict(self)
        data["misclassified"] = data["misclassified"][:max_misclassified]
        return data

    @classmethod
    def from_dict(cls, data: object) -> Metrics | None:
        """Metrics as :meth:`to_dict` wrote them (a card's ``metrics["test"]``), or None if they are not that.

        A card from before a field existed, or a damaged one, gives None: callers show what is
        missing instead of failing.
        """
        try:
            return cls(
                accuracy=float(data["accuracy"]),
                loss=float(data["loss"]),
                n=int(data["n"]),
                confusion_matrix=[[int(v) for v in row] for row in data["confusion_matrix"]],
                per_class=[ClassScores(**row) for row in data["per_class"]],
                confused_pairs=[ConfusedPair(**pair) for pair in data["confused_pairs"]],
                misclassified=[int(i) for i in data.get("misclassified", [])],
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def evaluate_probabilities(probs: np.ndarray, labels: np.ndarray, *, top_pairs: int = 10) -> Metrics:
    """Scores predicted probabilities against true labels.

    Args:
        probs: ``(N, 10)`` class probabilities.
        labels: ``(N,)`` true digits.
        top_pairs: How many of the most confused (true, predicted) pairs to list.

    Returns:
        The metrics.
    """
    labels = np.asarray(labels, dtype=np.int64)
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(labels, pred, labels=range(NUM_CLASSES))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, pred, labels=range(NUM_CLASSES), zero_division=0
    )
    per_class = [
        ClassScores(d, float(precision[d]), float(recall[d]), float(f1[d]), int(support[d])) for d in range(NUM_CLASSES)
    ]
    off_diagonal = [
        (int(cm[t, p]), t, p) for t in range(NUM_CLASSES) for p in range(NUM_CLASSES) if t != p and cm[t, p]
    ]
    pairs = [ConfusedPair(t, p, c) for c, t, p in sorted(off_diagonal, reverse=True)[:top_pairs]]
    wrong = np.flatnonzero(pred != labels)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]])]
    return Metrics(
        accuracy=float((pred == labels).mean()),
        loss=float(log_loss(labels, np.clip(probs, 1e-7, 1.0), labels=range(NUM_CLASSES))),
        n=int(len(labels)),
        confusion_matrix=cm.tolist(),
        per_class=per_class,
        confused_pairs=pairs,
        misclassified=[int(i) for i in wrong],
    )


class Classifier(Protocol):
    """What can be scored: class probabilities of a batch (a :class:`hdr.inference.predict.Predictor`, a
    :class:`hdr.inference.export.TFLiteModel`); each bounds its own batches."""

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """``(N, 28, 28, 1)`` float32 in [0, 1] -> ``(N, 10)`` float32 probabilities."""
        ...


def evaluate_model(classifier: Classifier, images: np.ndarray, labels: np.ndarray) -> Metrics:
    """Runs a classifier over ``uint8 (N, 28, 28)`` images and scores it.

    Args:
        classifier: A :class:`hdr.inference.predict.Predictor` or a :class:`hdr.inference.export.TFLiteModel`
            (a bare Keras model: wrap it in a Predictor).
        images: MNIST-format images (ink 255 on 0).
        labels: ``(N,)`` true digits.

    Returns:
        The metrics.
    """
    probs = classifier.probabilities(images.astype(np.float32)[..., None] / 255.0)
    return evaluate_probabilities(probs, labels)
