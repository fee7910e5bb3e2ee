"""Temperature scaling and calibration error, against probabilities whose true calibration is known."""

import numpy as np
import pytest

from hdr.inference.calibrate import apply_temperature, expected_calibration_error, fit_temperature, flag_rates


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sample(rng, n, true_temperature):
    """Labels drawn from softmax(logits / T): the model's softmax(logits) is miscalibrated by exactly T."""
    logits = rng.normal(0, 4, size=(n, 10))
    truth = _softmax(logits / true_temperature)
    labels = np.array([rng.choice(10, p=p) for p in truth])
    return _softmax(logits).astype(np.float32), labels


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_the_fitted_temperature_recovers_the_one_that_made_the_labels(rng, true_temperature):
    probs, labels = _sample(rng, 20_000, true_temperature)
    assert fit_temperature(probs, labels) == pytest.approx(true_temperature, rel=0.08)


def test_temperature_changes_confidence_never_the_answer(rng):
    probs, _ = _sample(rng, 500, 1.0)
    np.testing.assert_allclose(apply_temperature(probs, 1.0), probs)
    hot = apply_temperature(probs, 3.0)
    np.testing.assert_array_equal(hot.argmax(1), probs.argmax(1))
    np.testing.assert_allclose(hot.sum(1), 1.0, rtol=1e-5)
    assert (hot.max(1) <= probs.max(1) + 1e-6).all()


def test_calibration_error_is_small_when_calibrated_and_fitting_lowers_it(rng):
    probs, labels = _sample(rng, 20_000, 2.5)
    before = expected_calibration_error(probs, labels)
    after = expected_calibration_error(apply_temperature(probs, fit_temperature(probs, labels)), labels)
    assert before > 0.1 and after < 0.02


def test_flag_rates_count_flagged_misreads_and_flagged_correct_reads():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]], np.float32)
    labels = np.array([0, 0, 0, 1])  # the third is a misread at 70%
    assert flag_rates(probs, labels, 0.65) == (0.0, pytest.approx(2 / 3))
    assert flag_rates(probs, labels, 0.75) == (1.0, pytest.approx(2 / 3))


def test_fitting_on_nothing_is_refused():
    with pytest.raises(ValueError, match="as many"):
        fit_temperature(np.zeros((0, 10)), np.zeros(0, int))
