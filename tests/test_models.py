import numpy as np
import pytest

from hdr.config import ARCHITECTURE_NOTES
from hdr.training.models import ARCHITECTURES, ModelConfig, build_model


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_architecture_maps_images_to_probabilities(arch):
    model = build_model(ModelConfig(arch=arch))
    probs = np.asarray(model(np.random.default_rng(0).random((3, 28, 28, 1), np.float32), training=False))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_the_zoo_builds_exactly_the_names_the_config_lists():
    assert set(ARCHITECTURES) == set(ARCHITECTURE_NOTES)  # the CLI's and the Train page's choices


@pytest.mark.parametrize(
    ("arch", "params"),
    [("mlp", 669_706), ("simple_cnn", 1_199_882), ("bn_cnn", 242_218), ("kaggle5", 887_530), ("hdrnet", 326_826)],
)
def test_published_sizes(arch, params):
    """The seeds' architectures as published: 784-512-512-10 is 669,706 weights, and so on."""
    assert build_model(ModelConfig(arch=arch)).count_params() == params


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ModelConfig(arch="resnet9000"), "unknown architecture"),
        (ModelConfig(dropout=0.7), "dropout"),
        (ModelConfig(width=0), "width"),
    ],
)
def test_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        build_model(config)


def test_an_ensemble_averages_members_saved_with_their_output_in_a_list():
    import keras

    from hdr.training.models import average_models

    plain = build_model(ModelConfig(arch="mlp"))
    listed = keras.Model(plain.inputs, [plain.outputs[0]])  # the same network, its output in a list
    other = build_model(ModelConfig(arch="mlp"))
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    expected = (plain(x).numpy() + other(x).numpy()) / 2
    np.testing.assert_allclose(average_models([listed, other])(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_an_ensemble_refuses_a_member_with_two_outputs():
    import keras

    from hdr.training.models import average_models

    plain = build_model(ModelConfig(arch="mlp"))
    two = keras.Model(plain.inputs, [plain.outputs[0], plain.outputs[0]])
    with pytest.raises(ValueError, match="has 2 outputs"):
        average_models([two, build_model(ModelConfig(arch="mlp"))])


def test_an_ensemble_needs_two_members():
    from hdr.training.models import average_models

    with pytest.raises(ValueError, match="at least two"):
        average_models([build_model(ModelConfig(arch="mlp"))])


def test_interpolating_two_models_blends_their_weights_and_refuses_strangers():
    from hdr.training.models import interpolate_models

    base = build_model(ModelConfig(arch="bn_cnn", width=8))
    tuned = build_model(ModelConfig(arch="bn_cnn", width=8))
    half = interpolate_models(base, tuned, 0.25)
    for a, b, c in zip(base.get_weights(), tuned.get_weights(), half.get_weights(), strict=True):
        np.testing.assert_allclose(c, 0.75 * a + 0.25 * b, atol=1e-6)
    assert half is not tuned and half.output_shape == (None, 10)
    with pytest.raises(ValueError, match="between 0 and 1"):
        interpolate_models(base, tuned, -0.1)
    with pytest.raises(ValueError, match="different weights"):
        interpolate_models(base, build_model(ModelConfig(arch="mlp")), 0.5)
