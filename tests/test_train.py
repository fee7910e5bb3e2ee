import numpy as np
import pytest

from hdr.training.models import ModelConfig
from hdr.training.pipeline import build_dataset
from hdr.training.train import TrainConfig, train_model

SMOKE = TrainConfig(model=ModelConfig(arch="bn_cnn", width=8), epochs=1, batch_size=32)


def test_smoke_training_runs_the_whole_path_and_reports_progress(tiny):
    x, y = tiny
    events = []
    result = train_model(x[:256], y[:256], x[256:], y[256:], SMOKE, progress=events.append)
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.best_epoch == 1 and not result.stopped
    batches = [e for e in events if not e.epoch_end]
    assert [e.batch for e in batches] == list(range(1, 9))  # 256 images / 32
    assert events[-1].epoch_end and "val_accuracy" in events[-1].logs and "lr" in events[-1].logs
    probs = np.asarray(result.model(x[:4].astype(np.float32)[..., None] / 255.0))
    assert probs.shape == (4, 10)


def test_training_learns(tiny):
    """A few epochs on 256 images must beat chance clearly: the data, labels and loss line up."""
    x, y = tiny
    config = TrainConfig(model=ModelConfig(arch="mlp"), epochs=5, batch_size=32, augment=False)
    result = train_model(x[:256], y[:256], x[256:], y[256:], config)
    assert max(result.history["val_accuracy"]) > 0.5


def test_cancellation_stops_cleanly_after_the_current_batch(tiny):
    x, y = tiny
    calls = []
    result = train_model(
        x[:256],
        y[:256],
        x[256:],
        y[256:],
        TrainConfig(**{**SMOKE.__dict__, "epochs": 5}),
        progress=calls.append,
        should_stop=lambda: len(calls) >= 3,
    )
    assert result.stopped
    assert len(result.history["loss"]) == 1  # Keras finishes the epoch's bookkeeping, then stops


def test_limit_trims_training_data(tiny):
    x, y = tiny
    events = []
    train_model(x, y, x[:32], y[:32], TrainConfig(**{**SMOKE.__dict__, "limit": 64}), progress=events.append)
    assert events[-1].batches == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -3}, "batch size"),
        ({"learning_rate": 5.0}, "learning rate"),
        ({"lr_decay": 0.0}, "lr decay"),
        ({"rotation_deg": 400}, "rotation"),
        ({"shift": 0.9}, "shift"),
        ({"val_fraction": 0.0}, "validation fraction"),
        ({"limit": 3}, "limit"),
        ({"damage": 1.5}, "damage share"),
        ({"damage_mix": "extreme"}, "damage mix must be one of basic, heavy, scans, blocks"),
        ({"distill": 1.0}, "distill share"),
    ],
)
def test_nonsense_settings_are_refused_in_one_line(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change).validate()


def test_config_round_trips_through_its_card_form():
    config = TrainConfig(model=ModelConfig(arch="kaggle5", dropout=0.2), epochs=7)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_damage_augmentation_feeds_what_preprocessing_makes_of_damaged_digits(tiny):
    from hdr.training.pipeline import _Damage

    x, _ = tiny
    batch = x[:64, ..., None]
    out = _Damage(share=0.5, mix="basic", seed=0)(batch)
    assert out.shape == batch.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 255
    changed = np.any(out != batch, axis=(1, 2, 3))
    assert 16 <= changed.sum() <= 48  # about half, each new and preprocessed (centred, MNIST-wide strokes)
    np.testing.assert_array_equal(out[~changed], batch[~changed])
    for other in (_Damage(share=0.5, mix="basic", seed=1), _Damage(share=0.5, mix="heavy", seed=0)):
        assert not np.array_equal(out, other(batch))
    config = TrainConfig(**{**SMOKE.__dict__, "damage": 0.5})
    result = train_model(x[:128], tiny[1][:128], x[128:160], tiny[1][128:160], config)
    assert result.best_epoch == 1


@pytest.mark.parametrize("train", [True, False])
def test_the_input_pipeline_is_not_autotuned(tiny, train):
    # Autotuning keeps a thread per iterator that sleeps up to a minute between rounds, and deleting
    # the iterator waits for it: Keras deletes one every epoch, and training stalled 0-60 s there.
    x, y = tiny
    config = TrainConfig(**{**SMOKE.__dict__, "augment": True, "damage": 0.5})
    ds = build_dataset(x[:100], y[:100], config, train=train)
    assert ds.options().autotune.enabled is False
    images, labels = next(iter(ds))
    assert (
        images.shape == (config.batch_size, 28, 28, 1)
        and images.dtype == "float32"
        and len(labels) == config.batch_size
    )


def test_distilling_mixes_the_teachers_answers_into_the_targets_of_the_marked_images(tiny_model):
    # Each image carries its label and whether it is marked in two pixels, to find it after shuffling.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 200, (96, 28, 28), dtype=np.uint8)
    y, taught = np.arange(96) % 10, np.arange(96) % 3 == 0
    x[:, 0, 0], x[:, 0, 1] = y, taught
    config = TrainConfig(**{**SMOKE.__dict__, "augment": False, "distill": 0.75})
    seen = 0
    for images, targets in build_dataset(x, y, config, train=True, teacher=tiny_model, taught=taught):
        images, targets = np.asarray(images), np.asarray(targets)
        labels, marked = np.rint(images[:, 0, 0, 0] * 255).astype(int), images[:, 0, 1, 0] > 0
        expected = np.eye(10)[labels]
        answers = np.asarray(tiny_model(images, training=False))
        expected[marked] = 0.25 * expected[marked] + 0.75 * answers[marked]
        np.testing.assert_allclose(targets, expected, atol=1e-5)
        seen += len(images)
    assert seen == 96 and 0 < taught.sum() < 96
    _, val_targets = next(iter(build_dataset(x, y, config, train=False)))
    np.testing.assert_array_equal(np.asarray(val_targets), np.eye(10)[y[: config.batch_size]])


def test_distilling_without_a_teacher_is_refused_and_with_one_trains(tiny, tiny_model):
    x, y = tiny
    config = TrainConfig(**{**SMOKE.__dict__, "distill": 0.5})
    with pytest.raises(ValueError, match="teacher"):
        train_model(x[:64], y[:64], x[64:96], y[64:96], config)
    result = train_model(x[:64], y[:64], x[64:96], y[64:96], config, teacher=tiny_model)
    assert result.best_epoch == 1 and 0 <= result.history["val_accuracy"][0] <= 1


RESUMABLE = TrainConfig(model=ModelConfig(arch="mlp"), epochs=4, batch_size=32, augment=False, patience=8)


def test_a_stopped_run_goes_on_from_its_checkpoint_with_its_optimizer_schedule_and_curves(tiny, tmp_path):
    from hdr.training.checkpoints import read_state

    x, y = tiny
    data = (x[:128], y[:128], x[128:192], y[128:192])
    folder = tmp_path / "run.partial"
    epoch_ends = []

    def stop_after_two(p):
        epoch_ends.extend([p.epoch] if p.epoch_end else [])

    first = train_model(
        *data, RESUMABLE, progress=stop_after_two, should_stop=lambda: len(epoch_ends) >= 2, checkpoint=folder
    )
    assert first.stopped and len(first.history["loss"]) == 2
    state = read_state(folder)
    assert state.epochs_done == 2 and not state.finished and state.history["loss"] == first.history["loss"]

    events = []
    resumed = train_model(*data, RESUMABLE, progress=events.append, checkpoint=folder)
    assert not resumed.stopped and resumed.resumed_after == [2]
    assert [e.epoch for e in events if e.epoch_end] == [3, 4]  # epochs count on from where the run stopped
    assert resumed.history["loss"][:2] == first.history["loss"] and len(resumed.history["loss"]) == 4
    whole = train_model(*data, RESUMABLE)
    assert set(resumed.history) == set(whole.history)
    assert resumed.history["seconds"] == sorted(resumed.history["seconds"]) and resumed.seconds >= first.seconds
    assert resumed.history["learning_rate"] == pytest.approx(whole.history["learning_rate"])  # the schedule went on
    assert int(resumed.model.optimizer.iterations) == 4 * 4  # Adam's step count (and moments) came back
    best = int(np.argmin(resumed.history["val_loss"])) + 1
    assert resumed.best_epoch == best
    # A run that ended as planned and was only cut off while saving hands back its best epoch at once.
    again = train_model(*data, RESUMABLE, checkpoint=folder)
    assert again.best_epoch == best and again.history == resumed.history
    for mine, theirs in zip(again.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_checkpoint_of_other_settings_or_a_damaged_one_is_refused_in_one_line(tiny, tmp_path):
    x, y = tiny
    data = (x[:64], y[:64], x[64:96], y[64:96])
    folder = tmp_path / "run.partial"
    one = TrainConfig(**{**RESUMABLE.__dict__, "epochs": 1})
    train_model(*data, one, checkpoint=folder)
    with pytest.raises(ValueError, match="other settings"):
        train_model(*data, TrainConfig(**{**one.__dict__, "seed": 3}), checkpoint=folder)
    (folder / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match="state.json is damaged"):
        train_model(*data, one, checkpoint=folder)
    with pytest.raises(ValueError, match="time budget"):
        train_model(
            *data, TrainConfig(**{**one.__dict__, "schedule": "one-cycle", "time_budget": 5}), checkpoint=tmp_path / "b"
        )


def test_a_resumed_runs_epochs_are_shuffled_and_augmented_afresh():
    from hdr.training.pipeline import stream_seed

    assert stream_seed(5, 0) == 5  # an uninterrupted run is the run it always was
    assert len({stream_seed(5, k) for k in range(10)}) == 10
