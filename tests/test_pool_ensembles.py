"""tools/pool_ensembles.py's ranking, on made-up probabilities: averages, eligibility, order, skips."""

from __future__ import annotations

import numpy as np
import pytest

from tools.pool_ensembles import rank_subsets, subset_accuracy


def _answers(digits: list[int]) -> np.ndarray:
    """One-hot probabilities naming these digits."""
    return np.eye(10, dtype=np.float32)[digits]


LABELS = {"mnist": np.array([0, 1, 2, 3]), "usps": np.array([4, 5])}
POOL = {
    # a: MNIST all right, USPS all wrong; b: one MNIST digit wrong, USPS right; c: wrong everywhere.
    "a": {"mnist": _answers([0, 1, 2, 3]), "usps": _answers([0, 0])},
    "b": {"mnist": _answers([0, 1, 2, 9]), "usps": _answers([4, 5])},
    "c": {"mnist": _answers([9, 9, 9, 9]), "usps": _answers([9, 9])},
}


def test_subsets_are_scored_on_their_averaged_probabilities_and_ranked_by_the_real_sources():
    rows = rank_subsets(POOL, LABELS, size=2, min_mnist=0.5)
    assert [r.members for r in rows] == [("b", "c"), ("a", "b"), ("a", "c")]
    # a + b: where they disagree the mean is a tie, and argmax takes the lower digit.
    assert rows[1].accuracy == {"mnist": 1.0, "usps": 0.0}
    # b + c on MNIST: three ties go to b's right digit, and the fourth to 9 (both wrong).
    assert rows[0].accuracy["mnist"] == 0.75 and rows[0].real_mean == 1.0


def test_subsets_under_the_mnist_line_rank_after_every_eligible_one():
    rows = rank_subsets(POOL, LABELS, size=2, min_mnist=0.9)
    assert [(r.members, r.eligible) for r in rows] == [
        (("a", "b"), True),
        (("a", "c"), True),
        (("b", "c"), False),  # the best real mean, but under the line
    ]


def test_a_floor_on_another_source_makes_a_subset_under_it_ineligible():
    rows = rank_subsets(POOL, LABELS, size=2, min_mnist=0.5, floors={"usps": 0.5})
    assert [(r.members, r.eligible) for r in rows] == [
        (("b", "c"), True),
        (("a", "b"), False),
        (("a", "c"), False),
    ]


def test_a_picture_labelled_minus_one_is_never_read_right():
    labels = {"mnist": np.array([0, -1])}
    probabilities = {name: {"mnist": _answers([0, 0])} for name in ("a", "b")}
    assert subset_accuracy(probabilities, labels, ("a", "b")) == {"mnist": 0.5}


def test_skipped_subsets_are_left_out():
    rows = rank_subsets(POOL, LABELS, size=2, min_mnist=0.5, skip={frozenset({"a", "b"})})
    assert {r.members for r in rows} == {("b", "c"), ("a", "c")}


@pytest.mark.parametrize(
    ("labels", "size", "message"),
    [({"usps": LABELS["usps"]}, 2, "MNIST"), (LABELS, 4, "no subset of 4")],
)
def test_a_ranking_without_mnist_or_with_too_small_a_pool_is_refused(labels, size, message):
    with pytest.raises(ValueError, match=message):
        rank_subsets(POOL, labels, size=size, min_mnist=0.5)
