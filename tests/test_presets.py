import dataclasses

import keras
import numpy as np
import pytest

from hdr.cli.main import build_parser
from hdr.cli.training import train_config
from hdr.training.models import ModelConfig, build_model
from hdr.training.presets import PRESETS, estimate_seconds, format_duration, measure_throughput, preset_config
from hdr.training.schedules import OneCycle
from hdr.training.train import TrainConfig, train_model
from hdr.training.training_data import make_training_data


def _cli(*argv: str) -> TrainConfig:
    return train_config(build_parser().parse_args(["train", *argv]))


def test_every_preset_is_a_valid_config_and_quick_is_the_fast_one():
    for config in PRESETS.values():
        config.validate()
    assert PRESETS["quick"].model.arch == "quicknet" and PRESETS["quick"].schedule == "one-cycle"
    assert PRESETS["quick"].epochs < PRESETS["standard"].epochs


def test_the_command_line_offers_every_preset():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    [preset] = [a for a in train._actions if a.dest == "preset"]
    assert list(preset.choices) == list(PRESETS)


def test_explicit_settings_replace_the_presets():
    assert _cli("--preset", "quick") == PRESETS["quick"]
    config = _cli("--preset", "quick", "--epochs", "3", "--arch", "mlp", "--lr", "0.01", "--seed", "4")
    assert config == dataclasses.replace(
        PRESETS["quick"], epochs=3, learning_rate=0.01, seed=4, model=ModelConfig(arch="mlp"), time_budget=None
    )
    assert _cli("--preset", "standard", "--no-augment").augment is False
    assert _cli("--preset", "standard").augment is PRESETS["standard"].augment
    assert _cli("--preset", "best", "--damage", "0.5", "--damage-mix", "heavy").damage_mix == "heavy"
    assert _cli("--preset", "best", "--damage", "0.5").damage_mix == "basic"  # older cards' commands keep their meaning
    assert _cli("--preset", "quick", "--dry-run").epochs == 1 and _cli("--preset", "quick", "--dry-run").limit == 512


def test_without_a_preset_the_command_line_keeps_its_documented_defaults():
    """The shipped card's commands name only some options: the rest must still mean what they meant."""
    assert _cli() == TrainConfig()
    assert _cli("--arch", "hdrnet", "--epochs", "40", "--lr-decay", "0.92") == TrainConfig(epochs=40, lr_decay=0.92)


def test_unknown_presets_and_settings_are_refused():
    with pytest.raises(ValueError, match="unknown preset"):
        preset_config("fastest")
    with pytest.raises(ValueError, match="unknown training setting"):
        preset_config("quick", epoch=3)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="cosine").validate()


def test_one_cycle_warms_up_to_its_peak_then_anneals_to_zero():
    schedule = OneCycle(0.01, total_steps=100)
    rates = [float(schedule(step)) for step in range(101)]
    assert rates[0] == pytest.approx(0.0004)
    assert max(rates) == pytest.approx(0.01) and int(np.argmax(rates)) == 25
    assert rates[-1] == pytest.approx(0.0, abs=1e-9)
    assert all(a <= b for a, b in zip(rates[:25], rates[1:26], strict=True))
    assert all(a >= b for a, b in zip(rates[25:-1], rates[26:], strict=True))


def test_one_cycle_training_ends_at_a_low_rate_and_saves(tiny, tmp_path):
    x, y = tiny
    config = TrainConfig(
        model=ModelConfig(arch="quicknet", width=8), epochs=2, batch_size=32, schedule="one-cycle", learning_rate=4e-3
    )
    events = []
    result = train_model(x[:128], y[:128], x[128:160], y[128:160], config, progress=events.append)
    rates = [e.logs["lr"] for e in events if e.epoch_end]
    assert rates[0] > rates[1] and rates[1] < 1e-6  # the end of the cycle: the rate is back to ~0
    path = tmp_path / "m.keras"
    result.model.save(path)  # the optimizer's schedule serialises with the model
    assert keras.saving.load_model(path).optimizer.learning_rate is not None


def test_a_time_budget_anneals_and_ends_a_run_in_time_however_many_epochs_remain(tiny):
    x, y = tiny
    config = TrainConfig(
        model=ModelConfig(arch="quicknet", width=8),
        epochs=1000,
        batch_size=32,
        schedule="one-cycle",
        learning_rate=4e-3,
        patience=1000,
        time_budget=3.0,
    )
    events = []
    result = train_model(x[:256], y[:256], x[256:], y[256:], config, progress=events.append)
    rates = [e.logs["lr"] for e in events if e.epoch_end]
    assert len(rates) < 1000 and not result.stopped  # not a cancellation: the budget's own end
    assert 3.0 <= result.seconds < 30.0  # then the epoch in progress ends; 1000 epochs would take minutes
    # Annealed to zero by the clock: by its steps (a few of 1000 epochs) the cycle would still be warming up.
    assert rates[-1] < 1e-6 < OneCycle(4e-3, 1000 * 8)(len(rates) * 8)
    last = [e.batch for e in events if e.epoch == events[-1].epoch]
    assert last[-1] == max(last[:-1])  # the last epoch's end reports the batches it ran, not the planned 8


def test_a_time_budget_needs_one_cycle_and_goes_with_the_run_it_was_fitted_to():
    with pytest.raises(ValueError, match="one-cycle"):
        TrainConfig(time_budget=60.0).validate()
    with pytest.raises(ValueError, match="time budget"):
        dataclasses.replace(PRESETS["quick"], time_budget=0.0).validate()
    assert _cli("--preset", "quick").time_budget == PRESETS["quick"].time_budget == 150.0
    assert _cli("--preset", "quick", "--limit", "500", "--seed", "3").time_budget == 150.0
    assert _cli("--preset", "quick", "--epochs", "20").time_budget is None  # 20 epochs do not fit in it
    assert _cli("--preset", "quick", "--epochs", "20", "--time-budget", "600").time_budget == 600.0
    assert estimate_seconds(PRESETS["quick"], 54_000, 6_000, 100.0) == 150.0  # a slow machine: the budget


def test_quicknet_batch_norm_statistics_follow_training_quickly():
    model = build_model(ModelConfig(arch="quicknet"))
    momenta = {layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {0.9} and model.output_shape == (None, 10)


def test_runs_with_different_seeds_share_one_validation_split(mnist):
    a = make_training_data(mnist, TrainConfig(seed=0))
    b = make_training_data(mnist, TrainConfig(seed=7))
    np.testing.assert_array_equal(a.x_val, b.x_val)
    other = make_training_data(mnist, TrainConfig(split_seed=1))
    assert not np.array_equal(a.y_val, other.y_val)
    # A card written before split_seed existed was split by its seed.
    old = TrainConfig(seed=3).to_dict()
    del old["split_seed"]
    assert TrainConfig.from_dict(old).split_seed == 3


def test_throughput_is_measured_on_the_real_training_step():
    config = TrainConfig(model=ModelConfig(arch="quicknet", width=8), batch_size=16)
    speed = measure_throughput(config, batches=3, warmup=2)
    assert 10 < speed < 1e6


def test_the_measurement_of_a_huge_batch_times_a_few_capped_batches(monkeypatch):
    from hdr.training import presets

    timed = []

    def recorded(x, y, config, train):
        timed.append((len(x), config.batch_size))
        return real(x, y, config, train=train)

    real = presets.build_dataset
    monkeypatch.setattr(presets, "build_dataset", recorded)
    config = TrainConfig(model=ModelConfig(arch="quicknet", width=8), batch_size=8192, learning_rate=0.3, epochs=900)
    assert 10 < measure_throughput(config) < 1e6
    cap = presets.MEASURE_BATCH_MAX
    assert timed == [((presets.MEASURE_WARMUP + presets.MEASURE_BATCHES) * cap, cap)]
    # Configs that time the same are one measurement: the page caches one entry for all of them.
    assert presets.measured_config(config) == presets.measured_config(dataclasses.replace(config, batch_size=4096))
    assert presets.measured_config(config) == presets.measured_config(dataclasses.replace(config, learning_rate=0.1))


def test_estimate_and_its_wording():
    config = dataclasses.replace(PRESETS["quick"], epochs=2)
    assert estimate_seconds(config, 54_000, 6_000, 1_000.0) == pytest.approx(2 * (54 + 2))
    assert estimate_seconds(dataclasses.replace(config, limit=1_500), 54_000, 6_000, 1_000.0) == pytest.approx(4)
    assert format_duration(42.2) == "43 s"
    assert format_duration(95) == "1 min 35 s"
    assert format_duration(4000) == "1 h 6 min"


def test_a_short_quick_run_is_scored_with_the_statistics_of_its_final_weights(mnist):
    """500 images, 28 steps: without re-estimated batch-norm statistics this read every digit as a 1 (11%)."""
    config = preset_config("quick", limit=500)
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    result = train_model(x, y, x[500:], y[500:], config)
    assert result.best_epoch == config.epochs  # validation improves to the end, as training does
    probabilities = result.model.predict(mnist.x_test[:2000, ..., None] / 255.0, verbose=0)
    assert (probabilities.argmax(axis=1) == mnist.y_test[:2000]).mean() > 0.8


def test_precise_batch_norm_restores_the_layers_own_momentum(tiny):
    from hdr.training.train import _PreciseBatchNorm

    model = build_model(ModelConfig(arch="hdrnet", width=8))
    model(np.zeros((1, 28, 28, 1), np.float32))
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    callback = _PreciseBatchNorm(tiny[0][:64, ..., None].astype(np.float32) / 255.0, batches_per_epoch=3, batch_size=32)
    callback.set_model(model)
    callback.on_train_batch_end(0)
    assert all(float(layer.moving_mean.numpy().max()) == 0.0 for layer in bn)  # not the epoch's last batch
    callback.on_train_batch_end(2)
    assert all(layer.momentum == 0.99 for layer in bn)
    assert any(float(abs(layer.moving_mean.numpy()).max()) > 0.0 for layer in bn)
