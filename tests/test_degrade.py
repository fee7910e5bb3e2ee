"""hdr.imaging.degrade: every kind of damage gives a plausible picture, the same for the same seed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hdr.imaging.damage import DAMAGE, DAMAGE_MIXES, random_damage
from hdr.imaging.degrade import BLOCK_SCANS, COMBINED, CONDITIONS, PAPER, block_scan, degrade, scanned_small
from hdr.imaging.ink import _border
from hdr.imaging.preprocess import to_mnist


@pytest.mark.parametrize("condition", [*CONDITIONS, *COMBINED, *BLOCK_SCANS])
def test_each_condition_gives_a_grey_picture_of_the_digit(condition, mnist):
    digit = mnist.x_test[0]
    picture = degrade(digit, condition, np.random.default_rng(0))
    assert picture.dtype == np.uint8 and picture.ndim == 2
    assert min(picture.shape) >= (8 if condition == "8x8 block scan" else 16 if "16 px scan" in condition else 28)
    np.testing.assert_array_equal(picture, degrade(digit, condition, np.random.default_rng(0)))
    assert np.ptp(picture) > 40, "the digit must still stand out from the paper"
    paper = np.median(_border(picture))
    if "light ink on dark" not in condition:
        assert abs(paper - PAPER) < 10  # dark ink on paper: the paper is all around the digit


def test_faint_ink_is_as_dark_as_asked(mnist):
    digit = mnist.x_test[1]
    picture = degrade(digit, "faint 30%", np.random.default_rng(0)).astype(np.float32)
    darkest = 1 - picture[digit == 255].mean() / PAPER
    assert darkest == pytest.approx(0.3, abs=0.02)


def test_half_faint_darkens_one_side_only(mnist):
    digit = mnist.x_test[3]  # a 0: ink on both sides
    picture = degrade(digit, "half faint 35%", np.random.default_rng(0)).astype(np.float32)
    left, right = (
        (1 - picture[:, :14][digit[:, :14] == 255] / PAPER),
        (1 - picture[:, 14:][digit[:, 14:] == 255] / PAPER),
    )
    assert sorted([left.mean(), right.mean()])[0] < 0.5 < sorted([left.mean(), right.mean()])[1]


def test_training_damage_draws_every_family(mnist):
    rng = np.random.default_rng(0)
    pictures = [random_damage(mnist.x_test[0], rng) for _ in range(20 * len(DAMAGE))]
    assert all(p.dtype == np.uint8 and p.ndim == 2 for p in pictures)
    assert len({p.shape for p in pictures}) == 3  # 28 px scans, 56 px JPEGs and the 224 px page


def test_the_heavy_mix_also_hands_over_small_scans_of_the_digit_alone(mnist):
    rng = np.random.default_rng(0)
    pictures = [random_damage(mnist.x_test[0], rng, "heavy") for _ in range(20 * len(DAMAGE_MIXES["heavy"]))]
    small = [p for p in pictures if p.shape[0] < 28]
    assert small and all(7 <= p.shape[0] <= 16 and p.shape[0] == p.shape[1] for p in small)
    assert {p.shape for p in pictures} >= {(28, 28), (56, 56), (224, 224)}


def test_the_scans_mix_hands_over_tiny_scans_more_often_than_the_heavy_mix(mnist):
    def tiny(mix: str) -> int:
        rng = np.random.default_rng(0)
        return sum(random_damage(mnist.x_test[0], rng, mix).shape[0] <= 10 for _ in range(600))

    assert tiny("scans") > 2 * tiny("heavy") > 0


@pytest.mark.parametrize("levels", [None, 16])
def test_a_small_scan_fills_its_frame_and_is_read_as_the_digit(levels, mnist, shipped):
    digit = mnist.x_test[0]  # a 7, taller than wide
    picture = scanned_small(8, levels)(digit, np.random.default_rng(0))
    ink = picture < PAPER - 40
    assert picture.shape == (8, 8) and ink[0].any() and ink[-1].any()  # the box spans the frame's height
    if levels is not None:
        assert len(np.unique(np.round((1 - picture / PAPER) * levels))) <= levels + 1
    assert to_mnist(picture).found and shipped.predict(picture).digit == mnist.y_test[0]


def test_a_block_scan_counts_black_bitmap_pixels_in_seventeen_steps(mnist):
    digit = mnist.x_test[0]  # a 7, taller than wide
    picture = block_scan(8, 0, 0.4, None, cv2.INTER_LINEAR)(digit, np.random.default_rng(0))
    ink = picture < PAPER - 40
    assert picture.shape == (8, 8) and ink[0].any() and ink[-1].any()  # its longer side fills the bitmap
    steps = np.round((1 - picture / PAPER) * 16)
    assert len(np.unique(steps)) <= 17 and steps.max() == 16  # whole 4x4 blocks of black
    wider = block_scan(8, 1, 0.4, None, cv2.INTER_LINEAR)(digit, np.random.default_rng(0))
    assert (wider < PAPER - 40).sum() > ink.sum()  # a wider pen covers more blocks


def test_an_enlarged_block_scan_sits_in_a_white_margin_and_is_read_as_the_digit(mnist, shipped):
    digit = mnist.x_test[0]
    picture = block_scan(8, 1, 0.4, 64, cv2.INTER_CUBIC)(digit, np.random.default_rng(0))
    assert picture.shape == (96, 96)
    assert (picture[:16] == PAPER).all() and (picture[-16:] == PAPER).all()
    assert shipped.predict(picture).digit == mnist.y_test[0]


def test_the_blocks_mix_hands_over_block_scans_small_and_enlarged(mnist):
    rng = np.random.default_rng(0)
    shapes = {random_damage(mnist.x_test[0], rng, "blocks").shape for _ in range(40 * len(DAMAGE_MIXES["blocks"]))}
    assert (6, 6) in shapes  # at their own size: no other family scans as small as 6 px
    assert any(36 <= s[0] <= 192 and s[0] != 56 for s in shapes)  # enlarged to 24-128 px in a margin
