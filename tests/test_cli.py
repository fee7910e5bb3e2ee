import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hdr.cli.main import main
from hdr.inference.predict import format_confidence
from hdr.inference.reject import REASONS
from synth.canvas import draw_digit
from synth.non_digits import LETTER_A, WIDE_CANVAS, draw_shape, pen_text
from tests.conftest import SHIPPED_MIN_ACCURACY


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    paths = {}
    for digit, style in [(7, "black_on_transparent"), (2, "white_on_black"), (0, "black_on_white")]:
        paths[f"d{digit}"] = folder / f"{digit}.png"
        Image.fromarray(draw_digit(digit, style=style), "RGBA").save(paths[f"d{digit}"])
    paths["blank"] = folder / "blank.png"
    Image.new("RGBA", (280, 280)).save(paths["blank"])
    paths["empty"] = folder / "empty.png"
    paths["empty"].write_bytes(b"")
    paths["text"] = folder / "notes.png"
    paths["text"].write_text("hello, I am not a picture")
    buf = io.BytesIO()
    Image.fromarray(draw_digit(3, style="black_on_white")).save(buf, format="PNG")
    paths["truncated"] = folder / "truncated.png"
    paths["truncated"].write_bytes(buf.getvalue()[:400])
    paths["bomb"] = folder / "bomb.png"
    Image.new("1", (20000, 20000)).save(paths["bomb"])
    paths["missing"] = folder / "missing.png"
    return paths


def _json_lines(capsys):
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def test_predict_json_reads_good_files_and_reports_bad_ones(files, capsys):
    order = ["d7", "empty", "d2", "text", "truncated", "bomb", "missing", "blank", "d0"]
    status = main(["predict", "--json", *[str(files[k]) for k in order]])
    records = _json_lines(capsys)
    assert status == 1
    assert [r["path"] for r in records] == [str(files[k]) for k in order]
    good = {k: r for k, r in zip(order, records, strict=True) if "error" not in r}
    assert {k: r["digit"] for k, r in good.items()} == {"d7": 7, "d2": 2, "blank": None, "d0": 0}
    for record in good.values():
        assert (
            set(record) == {"path", "digit", "reason", "confidence", "unsure", "probabilities"}
            and len(record["probabilities"]) == 10
        )
    errors = {k: r["error"] for k, r in zip(order, records, strict=True) if "error" in r}
    assert set(errors) == {"empty", "text", "truncated", "bomb", "missing"}
    assert all("\n" not in e for e in errors.values())
    assert "too large" in errors["bomb"] and "not found" in errors["missing"]


def test_predict_text_output_and_success_status(files, capsys):
    assert main(["predict", str(files["d7"]), str(files["blank"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{files['d7']}: 7 (") and lines[1] == f"{files['blank']}: {REASONS['blank']}"


def test_predict_answers_null_with_a_reason_for_a_letter_and_read_no_number_for_a_word(tmp_path, capsys):
    letter, word = tmp_path / "letter-a.png", tmp_path / "hello.png"
    rng = np.random.default_rng(0)
    Image.fromarray(draw_shape(LETTER_A), "RGBA").save(letter)
    Image.fromarray(pen_text("Hello", "test", rng, size=WIDE_CANVAS, pen=(12, 12)), "RGBA").save(word)
    assert main(["predict", "--json", str(letter)]) == 0
    [record] = _json_lines(capsys)
    assert record["digit"] is None and record["reason"].startswith("No digit here: ")
    assert main(["predict", str(letter)]) == 0
    assert capsys.readouterr().out.strip() == f"{letter}: {record['reason']}"
    assert main(["read", "--json", str(word)]) == 0
    [reading] = _json_lines(capsys)
    assert reading["text"] == "" and reading["digits"] == [] and reading["reason"].startswith("No number here: ")


def test_a_file_name_with_a_newline_gives_one_line_in_text_mode(tmp_path, files, capsys):
    named = tmp_path / "seven\nfake.png: 1 (100.0%)"
    named.write_bytes(files["d7"].read_bytes())
    eps = tmp_path / "notes\u2028.eps"
    Image.new("RGB", (16, 16), "white").save(eps, format="EPS")
    for command in ("predict", "read"):
        assert main([command, str(named), str(eps)]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2, lines
        assert lines[0].startswith(f"{tmp_path}/seven\\nfake.png: 1 (100.0%): 7 ")
        assert lines[1] == (
            f"{tmp_path}/notes\\u2028.eps: error: not an image in an accepted format (PNG, JPEG, WebP, BMP or HEIC)"
        )


def test_predict_text_writes_confidence_as_the_app_does(files, capsys):
    # A clean 7 scores above 99.95%, which one decimal would round to a certainty: "100.0%".
    main(["predict", "--json", str(files["d7"])])
    confidence = _json_lines(capsys)[0]["confidence"]
    main(["predict", str(files["d7"])])
    line = capsys.readouterr().out.strip()
    assert line == f"{files['d7']}: 7 ({format_confidence(confidence)})" and "100.0%" not in line


def test_predict_refuses_what_is_not_a_regular_picture_file_without_hanging(tmp_path, files):
    fifo, loop = tmp_path / "fifo.png", tmp_path / "loop.png"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    os.symlink(tmp_path / "loop2.png", loop)
    os.symlink(loop, tmp_path / "loop2.png")
    proc = subprocess.run(
        [sys.executable, "-m", "hdr", "predict", str(fifo), str(loop), str(files["d7"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    fifo_line, loop_line, good = proc.stdout.splitlines()
    assert fifo_line == f"{fifo}: error: not a regular file (a pipe, socket or device), not read"
    assert loop_line == f"{loop}: error: cannot open (Too many levels of symbolic links)"
    assert good.startswith(f"{files['d7']}: 7 (")


def test_errors_name_the_file_once(files, capsys):
    assert main(["predict", str(files["text"])]) == 1
    line = capsys.readouterr().out.strip()
    assert line.count(str(files["text"])) == 1 and line.startswith(f"{files['text']}: error: not an image")


def test_missing_model_is_one_line_error(files, capsys, tmp_path):
    assert main(["predict", str(files["d7"]), "--model", str(tmp_path / "nope.keras")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope.keras'}: model file not found"


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_evaluate_json(capsys):
    assert main(["evaluate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 10_000 and report["accuracy"] >= SHIPPED_MIN_ACCURACY
    assert len(report["confusion_matrix"]) == 10 and len(report["per_class"]) == 10


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_train_dry_run_writes_model_and_card(tmp_path, capsys):
    out = tmp_path / "smoke.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["arch"] == "mlp" and card["data"]["train"] == 512 and 0 <= card["metrics"]["test_accuracy"] <= 1
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_train_saves_a_fresh_name_in_the_models_dir(tmp_path):
    assert main(["train", "--dry-run", "--arch", "mlp", "--models-dir", str(tmp_path)]) == 0
    [saved] = tmp_path.glob("*.keras")
    assert saved.stem.startswith("mlp-") and saved.with_suffix(".json").is_file()


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_train_can_start_from_a_saved_model(tmp_path):
    first, second = tmp_path / "first.keras", tmp_path / "second.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(first)]) == 0
    assert main(["train", "--dry-run", "--arch", "mlp", "--init", str(first), "--out", str(second)]) == 0
    card = json.loads(second.with_suffix(".json").read_text())
    assert card["parent"] == str(first) and "--init" in card["command"]
    distilled = ["train", "--dry-run", "--arch", "mlp", "--distill", "0.5", "--out", str(tmp_path / "third.keras")]
    assert main(distilled) == 1  # nothing to keep the answers of
    assert main([*distilled, "--init", str(first)]) == 0
    assert json.loads((tmp_path / "third.json").read_text())["config"]["distill"] == 0.5


def test_ensemble_is_the_mean_of_its_members_and_judged_on_their_validation_split(tmp_path, capsys, mnist):
    from hdr.storage.store import load_keras_model

    a, b, both = tmp_path / "a.keras", tmp_path / "b.keras", tmp_path / "both.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(a)]) == 0
    assert main(["train", "--dry-run", "--arch", "mlp", "--lr", "0.01", "--out", str(b)]) == 0
    capsys.readouterr()
    assert main(["ensemble", str(a), str(b), "--out", str(both)]) == 0
    out = capsys.readouterr().out
    assert "member a: validation accuracy" in out and "ensemble: validation accuracy" in out
    card = json.loads(both.with_suffix(".json").read_text())
    assert card["arch"] == "ensemble" and [m["name"] for m in card["config"]["members"]] == ["a", "b"]
    assert (
        card["params"] == 2 * 669_706
        and 5_900 < card["data"]["val"] <= 6_000
        and 0 <= card["metrics"]["val_accuracy"] <= 1
    )
    x = mnist.x_test[:16, ..., None].astype("float32") / 255.0
    expected = (load_keras_model(a)(x).numpy() + load_keras_model(b)(x).numpy()) / 2
    np.testing.assert_allclose(load_keras_model(both)(x).numpy(), expected, atol=1e-5)

    weighted = tmp_path / "weighted.keras"
    assert main(["ensemble", str(a), str(b), "--weights", "3", "1", "--out", str(weighted)]) == 0
    card = json.loads(weighted.with_suffix(".json").read_text())
    assert [m["share"] for m in card["config"]["members"]] == [0.75, 0.25]
    expected = 0.75 * load_keras_model(a)(x).numpy() + 0.25 * load_keras_model(b)(x).numpy()
    np.testing.assert_allclose(load_keras_model(weighted)(x).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize(("weights", "message"), [(["1"], "one weight per model"), (["1", "-1"], "positive")])
def test_ensemble_refuses_nonsense_weights_before_reading_any_member(tmp_path, capsys, weights, message):
    members = [str(tmp_path / "missing-a.keras"), str(tmp_path / "missing-b.keras")]
    assert main(["ensemble", *members, "--weights", *weights, "--out", str(tmp_path / "both.keras")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_ensemble_refuses_members_validated_on_different_splits(tmp_path, capsys):
    a, b = tmp_path / "a.keras", tmp_path / "b.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(a)]) == 0
    assert main(["train", "--dry-run", "--arch", "mlp", "--val-fraction", "0.2", "--out", str(b)]) == 0
    capsys.readouterr()
    assert main(["ensemble", str(a), str(b), "--out", str(tmp_path / "both.keras")]) == 1
    assert "not validated on one common split" in capsys.readouterr().err
    assert not (tmp_path / "both.keras").exists()


def test_ensemble_checks_where_it_will_save_before_reading_any_member(tmp_path, capsys):
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file where the output folder should be")
    members = [str(tmp_path / "missing-a.keras"), str(tmp_path / "missing-b.keras")]
    assert main(["ensemble", *members, "--out", str(not_a_folder / "both.keras")]) == 1
    assert "cannot save models there" in capsys.readouterr().err  # not the members' missing cards


def test_nonsense_hyperparameters_are_refused(capsys):
    assert main(["train", "--epochs", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: epochs must be 1..1000, got 0"


def test_module_entry_point_runs_without_traceback(files):
    proc = subprocess.run(
        [sys.executable, "-m", "hdr", "predict", "--json", str(files["d2"]), str(files["text"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["digit"] == 2 and "not an image" in second["error"]


# Peak memory `predict` may add for a huge picture over a small one: the full decode of a picture
# just under MAX_FULL_DECODE_PIXELS in grey (1 byte a pixel) plus slack; whole-size float copies
# of it (the old path) took several times this.
MAX_PEAK_GROWTH_MB = 200
_PEAK_SCRIPT = """
import resource, sys
from hdr.cli.main import main
from hdr.inference.predict import format_confidence

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KB

main(["predict", "--json", sys.argv[1]])
small = peak_mb()
for path in sys.argv[2:]:
    main(["predict", "--json", path])
print(small, peak_mb())
"""


def test_predict_memory_grows_little_with_pixel_count(files, tmp_path):
    pictures = []
    for side in (10_900, 4_000):  # 119 megapixels (under MAX_PIXELS, 0.5 MB as a PNG) and 16
        picture = Image.new("L", (side, side), 255)
        picture.paste(0, (side // 2 - side // 60, side // 5, side // 2 + side // 60, side * 4 // 5))  # a "1"
        pictures.append(tmp_path / f"{side}.png")
        picture.save(pictures[-1])
        del picture
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(files["d7"]), *map(str, pictures)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    *records, last = proc.stdout.splitlines()
    small, peak = map(float, last.split())
    assert peak - small < MAX_PEAK_GROWTH_MB, f"peak {peak:.0f} MB after a small picture's {small:.0f} MB"
    huge, large = (json.loads(r) for r in records[1:])
    assert "too large" in huge["error"] and large["digit"] == 1


def test_large_pictures_decode_side_by_side_in_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from hdr.imaging.decode import open_image

    side = 10_000  # 100 megapixels: under MAX_PIXELS, over Pillow's own warning threshold (89.5)
    picture = Image.new("L", (side, side), 255)
    picture.paste(0, (side // 2 - side // 60, side // 5, side // 2 + side // 60, side * 4 // 5))
    large = tmp_path / "large.jpg"
    picture.save(large, quality=80)
    del picture
    with ThreadPoolExecutor(4) as pool:
        decoded = list(pool.map(open_image, [large] * 16))
    assert {p.image.size for p in decoded} == {(side // 8, side // 8)}  # each decoded reduced, none refused
    assert {p.full_size for p in decoded} == {(side, side)}


def test_training_stop_signal_sets_the_flag_and_restores_handlers():
    from hdr.training.interrupts import stop_on_signal

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with stop_on_signal() as interrupts:
        assert not interrupts.stop_requested()
        signal.raise_signal(signal.SIGTERM)
        assert interrupts.stop_requested()
        signal.raise_signal(signal.SIGINT)  # a second Ctrl-C while training stops the same way, no traceback
    assert {sig: signal.getsignal(sig) for sig in before} == before


def _no_training(*args, **kwargs):
    raise AssertionError("training started although the model could not be saved")


@pytest.mark.parametrize("case", ["non-ascii name", "folder is a file", "disk full"])
def test_train_refuses_an_unsavable_destination_before_the_first_epoch(tmp_path, capsys, monkeypatch, case):
    import hdr.training.train
    from hdr.storage import store

    monkeypatch.setattr(hdr.training.train, "train_model", _no_training)
    out = tmp_path / "models" / "model.keras"
    if case == "non-ascii name":
        out = tmp_path / "ünï model.keras"
    elif case == "folder is a file":
        (tmp_path / "models").write_text("not a folder")
    else:
        monkeypatch.setattr(store.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1, 1))
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    expected = {
        "non-ascii name": "invalid model name",
        "folder is a file": "cannot save models there",
        "disk full": "MB free",
    }
    assert expected[case] in err
    assert not list(tmp_path.rglob("*.keras"))


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_ctrl_c_during_the_test_evaluation_still_saves_the_best_epoch(tmp_path, capsys, monkeypatch):
    import hdr.inference.evaluate

    def interrupted_evaluation(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the test set is being scored
        raise AssertionError("the signal did not interrupt the evaluation")

    monkeypatch.setattr(hdr.inference.evaluate, "evaluate_model", interrupted_evaluation)
    out = tmp_path / "kept.keras"
    try:
        status = main(["train", "--dry-run", "--arch", "mlp", "--out", str(out)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C during the test evaluation escaped as a KeyboardInterrupt")
    assert status == 0 and out.is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["best_epoch"] == 1 and "test_accuracy" not in card["metrics"]
    assert "test evaluation skipped" in capsys.readouterr().out


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_a_stopped_train_goes_on_with_resume_and_its_card_says_so(tmp_path, capsys, monkeypatch):
    import hdr.training.train

    out = tmp_path / "long.keras"
    partial = tmp_path / "long.partial"
    command = ["train", "--arch", "mlp", "--epochs", "3", "--limit", "256", "--no-augment", "--out", str(out)]
    real_train = hdr.training.train.train_model

    def stopped_after_the_first_epoch(*args, **kwargs):  # as Ctrl-C or a reboot would stop it
        return real_train(*args, **{**kwargs, "should_stop": lambda: (partial / "state.json").exists()})

    monkeypatch.setattr(hdr.training.train, "train_model", stopped_after_the_first_epoch)
    assert main(command) == 0 and out.is_file() and partial.is_dir()
    assert f"to go on after epoch 1 of 3: python -m hdr {' '.join(command)} --resume" in capsys.readouterr().err
    monkeypatch.setattr(hdr.training.train, "train_model", real_train)
    # The stopped run is neither overwritten by accident nor resumable without knowing where it is.
    for refused, message in [
        (command, "holds a stopped run: add --resume"),
        (command[:-2] + ["--resume"], "give --out"),
    ]:
        assert main(refused) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err
    assert main([*command, "--resume"]) == 0
    assert "3/3 [" in capsys.readouterr().err  # the progress bar goes on from the epochs done, not from 0
    assert not partial.exists()  # the run's state goes once its model is saved
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["history"]["resumed_after"] == [1] and len(card["history"]["loss"]) == 3
    assert card["command"] == "python -m hdr " + " ".join(command)
    assert main([*command, "--resume"]) == 1 and "nothing to resume" in capsys.readouterr().err


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_a_save_that_fails_after_training_keeps_the_model_elsewhere(tmp_path, capsys, monkeypatch):
    from hdr.storage import store

    real_save = store.save_model

    def save_into_a_full_disk(model, card, models_dir, **kwargs):
        if Path(models_dir) == tmp_path:
            raise OSError(28, "No space left on device")
        return real_save(model, card, models_dir, **kwargs)

    monkeypatch.setattr(store, "save_model", save_into_a_full_disk)
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(tmp_path / "m.keras")]) == 1
    captured = capsys.readouterr()
    rescued = Path(captured.out.split("saved ")[1].split(":")[0])
    assert rescued.is_file() and rescued.with_suffix(".json").is_file() and rescued.parent != tmp_path
    assert "No space left on device" in captured.err and str(rescued.parent) in captured.err
    shutil.rmtree(rescued.parent)


@pytest.mark.mnist  # reads MNIST itself (the command line or a page), not through the fixture
def test_fine_tune_learns_from_a_folder_and_reports_before_and_after(tmp_path, capsys):
    base, out = tmp_path / "base.keras", tmp_path / "mine.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(base)]) == 0
    samples = tmp_path / "samples"
    for digit in (1, 7):
        (samples / str(digit)).mkdir(parents=True)
        for i, style in enumerate(("black_on_white", "white_on_black")):
            Image.fromarray(draw_digit(digit, style=style)).save(samples / str(digit) / f"{i}.png")
    capsys.readouterr()
    args = ["fine-tune", "--samples", str(samples), "--model", str(base), "--out", str(out), "--epochs", "1"]
    assert main([*args, "--mnist-images", "200"]) == 0
    assert "4 samples read" in capsys.readouterr().out
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["parent"] == str(base) and card["metrics"]["fine_tune"]["samples"] == 4
    assert {"before", "after", "seconds"} <= set(card["metrics"]["fine_tune"])
    assert main([*args, "--mnist-images", "200"]) == 1  # exists: refused before training
    assert main(["fine-tune", "--samples", str(tmp_path / "none"), "--out", str(tmp_path / "x.keras")]) == 1
    assert "none" in capsys.readouterr().err


def test_blend_chooses_a_share_on_validation_and_its_card_reproduces_the_chain(tmp_path, capsys, mnist):
    from hdr.storage.store import load_keras_model

    base, tuned, out = tmp_path / "base.keras", tmp_path / "tuned.keras", tmp_path / "blend.keras"
    assert main(["train", "--dry-run", "--arch", "mlp", "--out", str(base)]) == 0
    assert main(["train", "--dry-run", "--arch", "mlp", "--init", str(base), "--lr", "0.01", "--out", str(tuned)]) == 0
    capsys.readouterr()
    assert main(["blend", str(base), str(tuned), "--share", "0", "0.5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "share" in printed and "saved" in printed
    card = json.loads(out.with_suffix(".json").read_text())
    share = card["config"]["blend_share"]
    assert share in (0.0, 0.5) and card["parent"] == str(tuned) and card["command"].startswith("python -m hdr blend")
    assert card["config"]["tuned_recipe"].count("python -m hdr train") == 2  # the base's command, then the tune's
    assert card["metrics"]["val_accuracy_by_source"]["mnist"] == card["metrics"]["val_accuracy"]
    x = mnist.x_test[:8, ..., None].astype("float32") / 255.0
    a, b, blended = (load_keras_model(p) for p in (base, tuned, out))
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), blended.get_weights(), strict=True):
        np.testing.assert_allclose(wc, (1 - share) * wa + share * wb, atol=1e-6)
    assert blended(x).shape == (8, 10)
    assert main(["blend", str(base), str(tuned), "--share", "1.5", "--out", str(tmp_path / "x.keras")]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
