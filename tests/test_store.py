import json
import re
from pathlib import Path

import numpy as np
import pytest

from hdr import settings
from hdr.settings import MODELS_DIR_ENV
from hdr.storage import store
from hdr.storage.store import ModelCard, ModelStoreError
from hdr.training.models import ModelConfig, build_model
from tests.conftest import SHIPPED_MIN_ACCURACY


def _card(name="m1"):
    return ModelCard(name=name, arch="bn_cnn", config={"epochs": 1}, data={"source": "test"})


@pytest.fixture()
def saved(tmp_path, tiny_model):
    card = store.save_model(tiny_model, _card(), tmp_path)
    return tmp_path, card


def test_save_writes_model_and_complete_card(saved, tiny_model):
    folder, card = saved
    assert sorted(p.name for p in folder.iterdir()) == ["m1.json", "m1.keras"]  # no temporary files left
    on_disk = store.read_card("m1", folder)
    assert on_disk.params == tiny_model.count_params() and on_disk.file_size == (folder / "m1.keras").stat().st_size
    assert on_disk.created and on_disk == card


def test_loaded_model_predicts_like_the_saved_one(saved, tiny_model):
    folder, _ = saved
    x = np.random.default_rng(0).random((2, 28, 28, 1), np.float32)
    loaded = store.load_keras_model(folder / "m1.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(tiny_model(x)), rtol=1e-5, atol=1e-6)


def test_existing_name_is_not_overwritten(saved, tiny_model):
    folder, _ = saved
    with pytest.raises(ModelStoreError, match="already exists"):
        store.save_model(tiny_model, _card(), folder)


def test_failed_save_leaves_previous_model_intact(saved, tiny_model, monkeypatch):
    folder, _ = saved
    before = (folder / "m1.keras").read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(tiny_model), "save", boom)
    with pytest.raises(OSError):
        store.save_model(tiny_model, _card(), folder, overwrite=True)
    assert (folder / "m1.keras").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["m1.json", "m1.keras"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "model file not found"), (b"", "corrupt or unreadable"), (b"PK\x03\x04 garbage", "corrupt or unreadable")],
)
def test_missing_or_corrupt_model_file(tmp_path, content, message):
    path = tmp_path / "bad.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelStoreError, match=message) as err:
        store.load_keras_model(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "text", ["{not json", "[1, 2]", '{"name": "m1", "arch": "x", "config": {}, "data": {}, "metrics": "99%"}', '{"name": "m1", "arch": "x", "config": {}, "data": {}, "created": null}']
)  # fmt: skip
def test_corrupt_card_is_listed_as_damaged_not_dropped(saved, text):
    folder, _ = saved
    (folder / "m1.json").write_text(text)
    with pytest.raises(ModelStoreError, match="corrupt model card") as err:
        store.read_card("m1", folder)
    assert "\n" not in str(err.value)
    [listed] = store.list_models(folder)
    assert listed.name == "m1" and "corrupt model card" in listed.problem and listed.metrics == {}


def test_the_problem_note_is_never_saved(saved, tiny_model):
    folder, card = saved
    card.problem = "noted while listing"
    store.update_card(card, folder)
    assert "problem" not in json.loads((folder / "m1.json").read_text())
    assert store.read_card("m1", folder).problem == ""


@pytest.mark.parametrize("name", ["../m1", "/etc/passwd", "m1/../../x", "..", "m1\x00"])
@pytest.mark.parametrize("action", [store.set_active_model, store.delete_model, store.read_card])
def test_client_supplied_model_names_never_leave_the_folder(saved, name, action):
    folder, _ = saved
    with pytest.raises(ModelStoreError, match="invalid model name"):
        action(name, folder)
    assert (folder / "m1.keras").is_file() and not (folder / "active.json").exists()


def test_a_read_only_folder_is_a_one_line_store_error(saved, monkeypatch):
    folder, _ = saved

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store, "write_atomic", refuse)
    monkeypatch.setattr(type(folder), "unlink", refuse)
    with pytest.raises(ModelStoreError, match="cannot activate m1: .* not writable \\(Permission denied\\)"):
        store.set_active_model("m1", folder)
    with pytest.raises(ModelStoreError, match="cannot delete m1: Permission denied"):
        store.delete_model("m1", folder)


def test_active_model_defaults_and_switches(saved, tiny_model):
    folder, _ = saved
    assert store.active_model(folder) == store.DEFAULT_NAME
    store.set_active_model("m1", folder)
    assert store.active_model(folder) == "m1"
    assert json.loads((folder / "active.json").read_text()) == {"name": "m1"}
    with pytest.raises(ModelStoreError, match="no model named"):
        store.set_active_model("ghost", folder)


def test_delete_falls_back_to_default_and_never_deletes_default(saved, tiny_model):
    folder, _ = saved
    store.save_model(tiny_model, _card(store.DEFAULT_NAME), folder)
    store.set_active_model("m1", folder)
    store.delete_model("m1", folder)
    assert not (folder / "m1.keras").exists() and store.active_model(folder) == store.DEFAULT_NAME
    with pytest.raises(ModelStoreError, match="cannot be deleted"):
        store.delete_model(store.DEFAULT_NAME, folder)


def test_list_models_default_first_then_newest(tmp_path, tiny_model):
    for name, created in [
        ("old", "2026-01-01T00:00:00+00:00"),
        ("default", "2025-01-01T00:00:00+00:00"),
        ("new", "2026-06-01T00:00:00+00:00"),
    ]:
        card = _card(name)
        card.created = created
        store.save_model(tiny_model, card, tmp_path)
    assert [c.name for c in store.list_models(tmp_path)] == ["default", "new", "old"]


@pytest.mark.parametrize("name", ["../escape", "", "a/b", ".hidden"])
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.model_paths(name, tmp_path)


def test_shipped_default_has_a_complete_card():
    card = store.read_card(store.DEFAULT_NAME)
    keras_file, _ = store.model_paths(store.DEFAULT_NAME)
    assert card.arch == "ensemble" and card.command.startswith("python -m hdr ensemble")
    assert card.file_size == keras_file.stat().st_size
    members = card.config["members"]
    assert card.params == sum(build_model(ModelConfig(**m["config"]["model"])).count_params() for m in members)
    assert all(m["command"].startswith("python -m hdr train") for m in members)
    # One validation split for all (cards from before split_seed split by seed): the choice was fair.
    assert {m["config"].get("split_seed", m["config"]["seed"]) for m in members} == {card.config["seed"]}
    assert card.metrics["test_accuracy"] >= SHIPPED_MIN_ACCURACY and card.metrics["val_accuracy"] >= max(
        m["val_accuracy"] for m in members
    )


def test_make_train_default_runs_exactly_the_commands_in_the_shipped_card():
    card = store.read_card(store.DEFAULT_NAME)
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntrain-default:")[1].split("\n\n")[0].splitlines()[1:]
    # The Makefile's folders are variables; the card records the values they default to.
    defaults = dict(re.findall(r"^export (HDR_\w+) \?= (\S+)$", makefile, re.MULTILINE))
    made = [line.strip().replace("$(PYTHON)", "python") for line in recipe]
    made = [re.sub(r"\$\((HDR_\w+)\)", lambda m: defaults[m[1]], line) for line in made]
    recorded = [c for m in card.config["members"] for c in m["command"].split(" && ")] + [card.command]
    recorded.append(card.calibration["command"])  # the shipped model's confidence, fitted on validation data
    assert made == recorded
    assert all(word.startswith("models/") for c in made for word in c.split() if word.endswith(".keras"))
    assert "/" not in card.data["source"] and "--data-dir" not in " ".join(recorded)


def test_the_models_folder_is_read_from_the_environment_when_used(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))  # long after hdr.storage.store was imported
    store.save_model(tiny_model, _card())
    store.set_active_model("m1")
    assert (tmp_path / "m1.keras").is_file() and [c.name for c in store.list_models()] == ["m1"]
    assert store.active_model() == "m1" and store.resolve_model_path(None) == tmp_path / "m1.keras"
    monkeypatch.delenv(MODELS_DIR_ENV)
    assert store.models_folder() == Path(store.__file__).resolve().parents[2] / "models"


def test_a_folder_without_a_default_of_its_own_reads_the_shipped_one(tmp_path):
    weights, card = store.model_paths(store.DEFAULT_NAME, tmp_path)
    assert weights == settings.shipped_dir() / "default.keras" and weights.is_file() and card.is_file()
    assert store.resolve_model_path(None, tmp_path) == weights  # so an installed package predicts at once
    assert store.check_can_save(store.DEFAULT_NAME, tmp_path) == tmp_path / "default.keras"  # saves stay in the folder


def test_stale_temporary_files_of_a_crashed_save_are_cleaned_up(saved):
    import os
    import time

    folder, _ = saved
    stale, fresh, card_tmp = folder / ".m2.x1y2.keras", folder / ".m3.a1b2.keras", folder / ".m2.json.q9.tmp"
    for path in (stale, fresh, card_tmp):
        path.write_bytes(b"half a model")
    old = time.time() - store.STALE_TEMP_SECONDS - 60
    for path in (stale, card_tmp):
        os.utime(path, (old, old))
    assert [c.name for c in store.list_models(folder)] == ["m1"]
    assert not stale.exists() and not card_tmp.exists()
    assert fresh.exists() and (folder / "m1.keras").exists()  # a save in progress elsewhere is left alone
