"""LiteRT export: an exported file answers like the Keras model it came from, and int8 keeps the accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hdr.inference.export import ExportError, TFLiteModel, export_tflite, write_tflite

INT8_MAX_LOSS = 0.001  # the bound: int8 loses at most 0.1 point of MNIST test accuracy
INT8_MIN_ACCURACY = 0.995


@pytest.fixture(scope="module")
def tiny_batch(tiny):
    """Five real digits as model input, ``(5, 28, 28, 1)`` float32."""
    return tiny[0][:5].astype(np.float32)[..., None] / 255.0


@pytest.mark.parametrize(
    ("quantize", "tolerance"),
    [(None, 1e-5), ("float16", 1e-2), ("int8", 0.05)],
)
def test_exported_model_answers_like_the_keras_model(tiny_model, tiny, tiny_batch, quantize, tolerance):
    content = export_tflite(tiny_model, quantize=quantize, calibration=tiny[0])
    exported = TFLiteModel(content)
    expected = np.asarray(tiny_model(tiny_batch, training=False))
    for n in (1, 5, 2):  # the interpreter's tensors are resized between calls
        got = exported.probabilities(tiny_batch[:n])
        assert got.shape == (n, 10)
        np.testing.assert_allclose(got, expected[:n], atol=tolerance)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_quantized_files_are_smaller(tiny_model, tiny):
    sizes = {q: len(export_tflite(tiny_model, quantize=q, calibration=tiny[0])) for q in (None, "float16", "int8")}
    assert sizes["int8"] < sizes["float16"] < sizes[None]


def test_empty_batch_gives_no_rows(tiny_model):
    assert TFLiteModel(export_tflite(tiny_model)).probabilities(np.zeros((0, 28, 28, 1), np.float32)).shape == (0, 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"quantize": "int4"}, "unknown quantization"), ({"quantize": "int8"}, "calibration images")],
)
def test_bad_export_settings_are_one_line_errors(tiny_model, kwargs, message):
    with pytest.raises(ExportError, match=message) as info:
        export_tflite(tiny_model, **kwargs)
    assert "\n" not in str(info.value)


def test_write_refuses_other_suffixes_and_existing_files(tmp_path):
    with pytest.raises(ExportError, match=r"must end in \.tflite"):
        write_tflite(b"x", tmp_path / "m.keras")
    path = write_tflite(b"first", tmp_path / "m.tflite")
    with pytest.raises(ExportError, match="--overwrite"):
        write_tflite(b"second", path)
    write_tflite(b"second", path, overwrite=True)
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["m.tflite"]  # no temporary file left


def test_a_file_that_is_not_a_model_is_refused_in_one_line(tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"this is not a flatbuffer")
    with pytest.raises(ExportError, match="not a LiteRT model") as info:
        TFLiteModel.load(junk)
    assert "\n" not in str(info.value)


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_int8_export_of_the_shipped_model_keeps_its_accuracy(tmp_path, capsys, shipped):
    """The whole path of the issue: export from the command line, then evaluate the file."""
    from hdr.cli.main import main

    out = tmp_path / "m.tflite"
    assert main(["export", "default", "--format", "tflite", "--quantize", "int8", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "m"
    assert report["n"] == 10_000
    assert main(["evaluate", "--model", "default", "--json"]) == 0
    keras_accuracy = json.loads(capsys.readouterr().out)["accuracy"]
    assert report["accuracy"] >= INT8_MIN_ACCURACY
    assert report["accuracy"] >= keras_accuracy - INT8_MAX_LOSS


def test_export_refuses_an_existing_file_without_overwrite(tmp_path, capsys, tiny_model):
    from hdr.cli.main import main

    out = tmp_path / "m.tflite"
    out.write_bytes(b"keep me")
    assert main(["export", "default", "--format", "tflite", "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
