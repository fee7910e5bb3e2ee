import numpy as np
import pytest

from hdr.imaging.decode import ImageError
from hdr.imaging.degrade import COMBINED, CONDITIONS, degrade
from hdr.inference.predict import Predictor, format_confidence
from synth.canvas import STYLES, draw_digit
from tests.conftest import SHIPPED_MIN_ACCURACY


@pytest.mark.parametrize(
    ("probability", "shown"),
    [
        (1.0, ">99.9%"),
        (0.99996, ">99.9%"),  # "100.0%" with one decimal
        (0.9991, ">99.9%"),
        (0.999, "99.9%"),
        (0.97349, "97.3%"),
        (0.5, "50.0%"),
        (0.001, "0.1%"),
        (0.0004, "<0.1%"),  # "0.0%" with one decimal
        (0.0, "<0.1%"),
    ],
)
def test_confidence_is_never_rounded_to_a_certainty_or_to_zero(probability, shown):
    assert format_confidence(probability) == shown


@pytest.fixture(scope="module")
def tiny_predictor(tiny_model):
    return Predictor(tiny_model)


def test_fast_path_matches_keras_predict(tiny_predictor, tiny_model):
    """The traced forward pass must give what Keras' own predict gives."""
    x = np.random.default_rng(1).random((7, 28, 28, 1), np.float32)
    np.testing.assert_allclose(tiny_predictor.probabilities(x), tiny_model.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_batches_larger_than_one_pass(tiny_predictor):
    x = np.random.default_rng(2).random((1030, 28, 28, 1), np.float32)
    probs = tiny_predictor.probabilities(x)
    assert probs.shape == (1030, 10)
    np.testing.assert_allclose(probs[-3:], tiny_predictor.probabilities(x[-3:]), rtol=1e-4, atol=1e-6)
    assert tiny_predictor.probabilities(x[:0]).shape == (0, 10)


def test_blank_inputs_get_no_digit_and_keep_their_place(tiny_predictor):
    images = [draw_digit(1), np.zeros((280, 280, 4), np.uint8), draw_digit(0)]
    results = tiny_predictor.predict_many(images)
    assert [r.digit is None for r in results] == [False, True, False]
    blank = results[1]
    assert blank.confidence == 0.0 and blank.probabilities.sum() == 0 and blank.to_dict()["digit"] is None
    assert results[0].preprocessed.found and results[0].runner_up != results[0].digit


def test_predict_many_raises_for_an_unreadable_image(tiny_predictor, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ImageError, match="broken.png"):
        tiny_predictor.predict_many([draw_digit(1), bad])


def test_shipped_model_reaches_its_promised_accuracy(shipped, mnist):
    from hdr.inference.evaluate import evaluate_model
    from hdr.storage.store import read_card

    metrics = evaluate_model(shipped, mnist.x_test, mnist.y_test)
    assert metrics.n == 10_000 and metrics.accuracy >= SHIPPED_MIN_ACCURACY
    assert metrics.accuracy == pytest.approx(read_card(shipped.name).metrics["test_accuracy"], abs=1e-4)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("digit", range(10))
def test_shipped_model_reads_canvas_drawings_in_every_style(shipped, digit, style):
    assert shipped.predict(draw_digit(digit, style=style)).digit == digit


@pytest.mark.parametrize(
    "variant",
    [
        dict(centre=(0.25, 0.3), height=0.35),  # off-centre
        dict(centre=(0.7, 0.75), height=0.15, width=4),  # small
        dict(width=3),  # thin pen
        dict(width=40),  # thick marker
    ],
    ids=["off-centre", "small", "thin", "thick"],
)
@pytest.mark.parametrize("digit", range(10))
def test_shipped_model_reads_awkward_drawings(shipped, digit, variant):
    prediction = shipped.predict(draw_digit(digit, **variant))
    assert prediction.digit == digit, f"read {prediction.digit} ({prediction.confidence:.2f})"


@pytest.mark.parametrize("condition", [*CONDITIONS, *COMBINED])
def test_damaged_digits_are_read(condition, mnist, shipped):
    """The first 20 MNIST test digits, damaged the ways real input is, are read (bench/robustness.py for all)."""
    pictures = [degrade(mnist.x_test[i], condition, np.random.default_rng(i)) for i in range(20)]
    read = [p.digit for p in shipped.predict_many(pictures)]
    right = sum(r == y for r, y in zip(read, mnist.y_test[:20], strict=True))
    assert right >= 18, f"{condition}: {right} of 20 ({read})"


def test_predict_each_keeps_bad_pictures_in_place_and_classifies_the_rest_in_one_pass(tiny_predictor, monkeypatch):
    refused = ImageError("file too large", "big.png")
    images = [draw_digit(3), b"not an image", refused, draw_digit(7)]
    calls = []
    forward = tiny_predictor.predict_preprocessed
    monkeypatch.setattr(
        tiny_predictor, "predict_preprocessed", lambda items: calls.append(len(items)) or forward(items)
    )
    results = tiny_predictor.predict_each(images)
    assert [type(r).__name__ for r in results] == ["Prediction", "ImageError", "ImageError", "Prediction"]
    assert results[2] is refused and "not an image" in str(results[1])
    assert calls == [2]
