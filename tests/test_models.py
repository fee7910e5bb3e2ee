import numpy as np
import pytest

from hdr.config import ARCHITECTURE_NOTES
from hdr.models import ARCHITECTURES, ModelConfig, build_model


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


def test_an_ensemble_needs_two_members():
    from hdr.models import average_models

    with pytest.raises(ValueError, match="at least two"):
        average_models([build_model(ModelConfig(arch="mlp"))])
