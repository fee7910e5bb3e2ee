"""Feedback samples: saved where load_image_folder finds them, never lost or half-written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hdr.imaging.preprocess import to_mnist
from hdr.settings import FEEDBACK_DIR_ENV
from hdr.training.feedback import count_samples, load_feedback, save_sample
from tests.app_support import mnist_digit_rgba


def test_saved_sample_loads_back_as_the_same_digit(tmp_path, mnist):
    canvas = mnist_digit_rgba(mnist.x_test[0])
    path = save_sample(canvas, int(mnist.y_test[0]), tmp_path)
    assert path.parent.name == str(mnist.y_test[0]) and path.suffix == ".png"
    x, y = load_feedback(tmp_path)
    assert y.tolist() == [int(mnist.y_test[0])]
    np.testing.assert_allclose(x[0] / 255.0, to_mnist(canvas).image[..., 0], atol=2 / 255)


def test_the_feedback_folder_is_read_from_the_environment_when_used(tmp_path, mnist, monkeypatch):
    monkeypatch.setenv(FEEDBACK_DIR_ENV, str(tmp_path))  # long after hdr.training.feedback was imported
    path = save_sample(mnist_digit_rgba(mnist.x_test[0]), int(mnist.y_test[0]))
    assert path.parent.parent == tmp_path and count_samples()[int(mnist.y_test[0])] == 1
    assert load_feedback()[1].tolist() == [int(mnist.y_test[0])]


def test_concurrent_saves_keep_every_sample(tmp_path, mnist):
    images = [mnist_digit_rgba(mnist.x_test[i], scale=4) for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(lambda i: save_sample(images[i], 3, tmp_path), range(len(images))))
    assert len(set(paths)) == len(images)
    assert count_samples(tmp_path)[3] == len(images)
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize(
    ("image", "label", "message"),
    [
        (np.zeros((50, 50, 4), np.uint8), 1, "no digit"),
        (None, 10, "label must be a digit"),
        (None, -1, "label must be a digit"),
    ],
)
def test_bad_samples_are_refused(tmp_path, mnist, image, label, message):
    image = mnist_digit_rgba(mnist.x_test[0]) if image is None else image
    with pytest.raises(ValueError, match=message):
        save_sample(image, label, tmp_path)
    assert sum(count_samples(tmp_path).values()) == 0


def test_large_photo_is_stored_reduced(tmp_path):
    photo = np.full((3000, 2000, 3), 230, np.uint8)
    photo[1000:2000, 950:1050] = 20  # a dark "1" on paper
    path = save_sample(photo, 1, tmp_path)
    from PIL import Image

    assert max(Image.open(path).size) <= 1024
    assert load_feedback(tmp_path)[1].tolist() == [1]


@pytest.mark.parametrize("label", ["../../outside", "/tmp/outside", "7/../../outside", "7", 7.0, True])
def test_a_label_is_only_ever_a_digit_never_a_path(tmp_path, mnist, label):
    root = tmp_path / "feedback"
    with pytest.raises(ValueError, match="label must be a digit"):
        save_sample(mnist_digit_rgba(mnist.x_test[0]), label, root)
    assert not list(tmp_path.rglob("*.png"))


def test_a_sample_is_relabelled_by_moving_it_and_deleted_in_place(tmp_path, mnist):
    from hdr.training.feedback import delete_sample, list_samples, relabel_sample

    path = save_sample(mnist_digit_rgba(mnist.x_test[0]), 1, tmp_path)
    moved = relabel_sample(path, 7, tmp_path)
    assert moved == tmp_path / "7" / path.name and not path.exists() and moved.is_file()
    assert count_samples(tmp_path)[1] == 0 and count_samples(tmp_path)[7] == 1
    assert [(s.path, s.label) for s in list_samples(tmp_path)] == [(moved, 7)]
    assert relabel_sample(moved, 7, tmp_path) == moved  # already that digit: nothing moves
    delete_sample(moved, tmp_path)
    assert not moved.exists() and list_samples(tmp_path) == []
    delete_sample(moved, tmp_path)  # already gone: nothing to do


@pytest.mark.parametrize("where", ["outside", "root", "not a digit folder", "not a png"])
def test_relabel_and_delete_touch_nothing_but_samples(tmp_path, where):
    from hdr.training.feedback import delete_sample, relabel_sample

    (tmp_path / "fb" / "x").mkdir(parents=True)
    victim = {
        "outside": tmp_path / "precious.png",
        "root": tmp_path / "fb" / "precious.png",
        "not a digit folder": tmp_path / "fb" / "x" / "precious.png",
        "not a png": tmp_path / "fb" / "3" / "precious.txt",
    }[where]
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(b"keep me")
    with pytest.raises(ValueError, match="not a feedback sample"):
        delete_sample(victim, tmp_path / "fb")
    with pytest.raises(ValueError, match="not a feedback sample"):
        relabel_sample(victim, 2, tmp_path / "fb")
    assert victim.read_bytes() == b"keep me"
