import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from hdr.inference.evaluate import ConfusedPair, Metrics, evaluate_model, evaluate_probabilities
from hdr.inference.predict import Predictor


def _probs(pred, confidence):
    p = np.full((len(pred), 10), (1 - np.asarray(confidence))[:, None] / 9)
    p[np.arange(len(pred)), pred] = confidence
    return p


def test_metrics_match_reference_implementations():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    pred = np.where(rng.random(500) < 0.8, labels, rng.integers(0, 10, 500))
    m = evaluate_probabilities(_probs(pred, rng.uniform(0.2, 0.99, 500)), labels)
    assert m.accuracy == accuracy_score(labels, pred) and m.n == 500
    np.testing.assert_allclose([c.f1 for c in m.per_class], f1_score(labels, pred, average=None))
    cm = np.array(m.confusion_matrix)
    assert cm.sum() == 500 and np.trace(cm) == (pred == labels).sum()
    assert [c.support for c in m.per_class] == list(np.bincount(labels, minlength=10))


def test_confused_pairs_and_misclassified_are_ordered():
    labels = np.array([4, 4, 4, 7, 1, 1])
    pred = np.array([9, 9, 4, 1, 1, 7])
    m = evaluate_probabilities(_probs(pred, [0.6, 0.9, 0.9, 0.7, 0.9, 0.95]), labels)
    assert m.confused_pairs[0] == ConfusedPair(true=4, predicted=9, count=2)
    assert {(p.true, p.predicted) for p in m.confused_pairs} == {(4, 9), (7, 1), (1, 7)}
    assert m.misclassified == [5, 1, 3, 0]  # most confident mistakes first
    assert len(m.to_dict()["confusion_matrix"]) == 10


def test_evaluate_model_runs_a_model_over_uint8_images(tiny, tiny_model):
    x, y = tiny
    m = evaluate_model(Predictor(tiny_model), x[:50], y[:50])
    expected = np.asarray(tiny_model(x[:50].astype(np.float32)[..., None] / 255.0)).argmax(1)
    assert m.accuracy == (expected == y[:50]).mean() and m.n == 50


def test_metrics_read_back_from_a_card_are_the_metrics_written():
    probs = np.eye(10)[[0, 1, 2, 3, 4, 4, 9, 7, 1, 7]] * 0.9 + 0.01
    labels = np.array([0, 1, 2, 3, 4, 9, 9, 7, 7, 1])
    m = evaluate_probabilities(probs, labels)
    assert Metrics.from_dict(m.to_dict()) == m
    written = m.to_dict()
    del written["per_class"]  # a card from before a field existed, or a damaged one
    assert Metrics.from_dict(written) is None
    assert Metrics.from_dict("not metrics") is None and Metrics.from_dict(None) is None
    assert Metrics.from_dict({**m.to_dict(), "per_class": [{"digit": "x"}]}) is None
