"""What a run trains and validates on, on tiny random arrays (no MNIST needed)."""

from __future__ import annotations

import numpy as np

from hdr.training.data import Mnist, split_validation
from hdr.training.training_data import FineTuneConfig, make_fine_tune_data


def _tiny_mnist(n: int = 400) -> Mnist:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = np.arange(n) % 10
    return Mnist(x, y, x[:20], y[:20], "random")


def test_fine_tuning_validates_on_the_split_its_card_records_whatever_its_seed():
    mnist, feedback = _tiny_mnist(), (np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3]))
    config = FineTuneConfig(seed=3, mnist_images=200)
    data = make_fine_tune_data(mnist, feedback, config)
    recorded = split_validation(mnist.x_train, mnist.y_train, val_fraction=0.1, seed=config.train_config().split_seed)
    np.testing.assert_array_equal(data.x_val, recorded.x_val[: len(data.x_val)])
    assert data.info["feedback"] == 3 and data.info["train"] == 3 * config.feedback_repeat + 200
