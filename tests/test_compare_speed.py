"""bench/compare_speed.py's timing in turns, with stand-in predictors that note when they are called."""

from __future__ import annotations

from pathlib import Path

from bench.compare_speed import time_in_turns


class _Noting:
    """Stands in for a Predictor: notes each full read of the drawings."""

    def __init__(self, name: str, calls: list[str]):
        self.name, self.calls = name, calls

    def predict_many(self, paths):
        if len(paths) > 50:  # the warm-up reads 50
            self.calls.append(self.name)
        return []


def test_the_two_models_take_turns_first_and_each_round_gives_each_one_time_per_drawing():
    calls: list[str] = []
    predictors = {"a": _Noting("a", calls), "b": _Noting("b", calls)}
    times = time_in_turns(predictors, [Path(f"{i}.png") for i in range(60)], rounds=4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert {name: len(ms) for name, ms in times.items()} == {"a": 4, "b": 4}
