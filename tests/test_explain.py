"""Integrated gradients: exact on a model whose answer is known in closed form, complete on a real network."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hdr.inference.explain import Explainer, legend, overlay

LOG_FLOOR = 1e-12  # the same floor as hdr.inference.explain, so the reference log-probabilities match


def _linear_softmax(weights: np.ndarray) -> keras.Model:
    """A model whose log-probability of each class is linear in the pixels up to the shared normaliser."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", use_bias=False)]
    )
    model.layers[-1].set_weights([weights])
    return model


def _log_p(model, x: np.ndarray, digit: int) -> float:
    return float(np.log(np.asarray(model(x[None], training=False))[0, digit] + LOG_FLOOR))


def test_single_pixel_model_is_attributed_to_that_pixel_only(rng):
    """Reference: with one informative pixel, all the evidence must lie on it and add up exactly."""
    weights = np.zeros((28 * 28, 10), np.float32)
    weights[14 * 28 + 14, 3] = 4.0  # pixel (14, 14) argues for a 3
    model = _linear_softmax(weights)
    x = rng.uniform(0, 1, (28, 28, 1)).astype(np.float32)
    (attribution,) = Explainer(model, steps=256).attributions(x, [3])
    others = np.delete(attribution.ravel(), 14 * 28 + 14)
    assert np.abs(others).max() == 0.0  # background pixels carry no weight, so no evidence
    expected = _log_p(model, x, 3) - _log_p(model, np.zeros_like(x), 3)
    assert attribution[14, 14] == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("digits", [[0], [3, 8], [9, 1, 4]])
def test_maps_add_up_to_the_change_in_log_probability(tiny_model, tiny, digits):
    """Completeness, the method's own axiom, checked against the model's outputs."""
    x = tiny[0][0].astype(np.float32)[..., None] / 255.0
    maps = Explainer(tiny_model, steps=128).attributions(x, digits)
    assert maps.shape == (len(digits), 28, 28)
    for digit, attribution in zip(digits, maps, strict=True):
        expected = _log_p(tiny_model, x, digit) - _log_p(tiny_model, np.zeros_like(x), digit)
        assert attribution.sum() == pytest.approx(expected, abs=0.02 * max(1.0, abs(expected)))
    assert np.all(maps[:, x[..., 0] == 0] == 0)  # the blank baseline: background pixels score zero


def test_explain_names_the_predicted_digit_and_the_runner_up(shipped, mnist):
    x = mnist.x_test[0].astype(np.float32)[..., None] / 255.0  # a 7
    probs = shipped.probabilities(x[None])[0]
    explanation = Explainer(shipped.model).explain(x)
    assert explanation.predicted.digit == int(probs.argmax()) == mnist.y_test[0]
    assert explanation.runner_up.digit == int(np.argsort(probs)[-2])
    assert explanation.predicted.probability == pytest.approx(float(probs.max()), abs=1e-5)
    # The ink of a clearly written 7 is, on the whole, evidence for the 7.
    assert explanation.predicted.map.sum() > 0
    assert explanation.predicted.map.shape == explanation.runner_up.map.shape == (28, 28)


def test_overlay_colours_evidence_for_red_and_against_blue():
    image = np.zeros((28, 28, 1), np.float32)
    image[5, 5] = image[20, 20] = 1.0
    attribution = np.zeros((28, 28), np.float32)
    attribution[5, 5], attribution[20, 20] = 2.0, -2.0
    rgb = overlay(image, attribution, zoom=4)
    assert rgb.shape == (112, 112, 3) and rgb.dtype == np.uint8
    red, blue, paper = rgb[5 * 4, 5 * 4], rgb[20 * 4 + 3, 20 * 4 + 3], rgb[0, 0]
    assert red[0] > red[2] and blue[2] > blue[0]
    assert paper.tolist() == [255, 255, 255]
    faint = overlay(image, attribution, zoom=4, scale=20.0)[5 * 4, 5 * 4]  # a shared, larger scale pales it
    assert faint[1] > red[1]


def test_overlay_of_an_empty_map_is_the_plain_input():
    image = np.zeros((28, 28), np.float32)
    image[10:18, 13:15] = 1.0
    rgb = overlay(image, np.zeros((28, 28), np.float32), zoom=1)
    assert np.all(rgb[..., 0] == rgb[..., 2])  # no colour anywhere
    assert rgb[12, 13, 0] < rgb[0, 0, 0]  # ink darker than paper


def test_legend_runs_from_the_maps_full_blue_through_paper_to_their_full_red():
    paper = np.zeros((28, 28), np.float32)
    attribution = np.zeros((28, 28), np.float32)
    attribution[3, 3], attribution[9, 9] = -1.0, 1.0
    shown = overlay(paper, attribution, zoom=1)  # how a map draws full evidence against and for
    strip = legend(width=101, height=5)
    assert strip.shape == (5, 101, 3) and strip.dtype == np.uint8
    assert strip[0, 0].tolist() == shown[3, 3].tolist() and strip[0, -1].tolist() == shown[9, 9].tolist()
    assert strip[2, 50].tolist() == [255, 255, 255]  # no effect: the paper


def test_steps_must_be_positive(tiny_model):
    with pytest.raises(ValueError, match="at least 1"):
        Explainer(tiny_model, steps=0)
