"""Confidence that can be trusted: temperature scaling and the expected calibration error.

A network trained with cross-entropy, and an average of such networks, is overconfident on
writing unlike its training data. Temperature scaling (Guo et al., "On calibration of modern
neural networks", 2017) divides the log-probabilities by one number ``T`` fitted on validation
data: the predicted digit never changes, only how sure the model says it is. ``T`` is stored in
the model's card and applied by :class:`hdr.inference.predict.Predictor`.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12
_T_RANGE = (0.05, 20.0)  # temperatures searched: far beyond any seen in practice


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Rescales ``(N, 10)`` probabilities by a temperature: ``softmax(log p / T)``; ``T = 1`` changes nothing."""
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs.astype(np.float64), _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean ``-log p(true digit)``."""
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], _EPS, 1.0)).mean())


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (golden-section search on ``log T``).

    Args:
        probs: ``(N, 10)`` validation probabilities, never the test set's.
        labels: ``(N,)`` true digits.

    Raises:
        ValueError: No samples, or probabilities and labels of different lengths.
    """
    if len(probs) == 0 or len(probs) != len(labels):
        raise ValueError(f"need as many probabilities as labels (got {len(probs)} and {len(labels)})")
    lo, hi = np.log(_T_RANGE[0]), np.log(_T_RANGE[1])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def loss(log_t: float) -> float:
        return negative_log_likelihood(apply_temperature(probs, float(np.exp(log_t))), labels)

    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(60):  # shrinks the bracket by 0.618 each step: far below 1e-6 in log T
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(b)
    return float(np.exp((lo + hi) / 2.0))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by count."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(confidence[members].mean() - correct[members].mean())
    return float(total / max(len(labels), 1))


def flag_rates(probs: np.ndarray, labels: np.ndarray, unsure_below: float) -> tuple[float, float]:
    """What an "unsure" threshold catches: (share of misreads flagged, share of correct reads flagged)."""
    confidence = probs.max(axis=1)
    flagged = confidence < unsure_below
    wrong = probs.argmax(axis=1) != labels
    caught = float(flagged[wrong].mean()) if wrong.any() else 1.0
    false_alarms = float(flagged[~wrong].mean()) if (~wrong).any() else 0.0
    return caught, false_alarms
