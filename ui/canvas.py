"""Clearing the Draw page's canvas without remounting it, and without losing a stroke drawn meanwhile.

The canvas is emptied by handing it a new ``initial_drawing``, which it loads in place. That
drawing reaches the browser one server run after the click; a stroke finished in between would
be wiped with the old ones. So the strokes present at the click are remembered, and a stroke
that arrives on top of them before the clear has landed is handed back to the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CanvasClear:
    """What the Draw page keeps between runs to clear its canvas."""

    seed: dict = field(default_factory=lambda: {"objects": []})  # the canvas's ``initial_drawing``
    cleared: tuple | None = None  # the strokes present when Clear was pressed, until the clear lands
    generation: int = 0  # bumped whenever ``seed`` must be loaded again, even if equal to an earlier one

    def clear(self, objects: list) -> CanvasClear:
        """Clear was pressed while the canvas held ``objects``."""
        if not objects:
            return self
        generation = self.generation + 1
        return CanvasClear(_seed([], generation), tuple(objects), generation)

    def update(self, objects: list) -> CanvasClear:
        """The canvas now sends ``objects``: forget a landed clear, or hand back strokes it would wipe."""
        if self.cleared is None:
            return self
        n = len(self.cleared)
        if tuple(objects[:n]) != self.cleared:
            return CanvasClear(self.seed, None, self.generation)  # the clear has landed
        if len(objects) == n:
            return self  # the browser has not loaded the empty canvas yet
        generation = self.generation + 1  # new strokes on top of the cleared ones: keep only them
        return CanvasClear(_seed(list(objects[n:]), generation), None, generation)

    def pending(self, objects: list) -> bool:
        """True while ``objects`` still holds cleared strokes: the canvas picture is stale."""
        return self.cleared is not None and tuple(objects[: len(self.cleared)]) == self.cleared


def _seed(objects: list, generation: int) -> dict:
    """An ``initial_drawing`` the canvas loads in place; the generation makes each one new to it."""
    return {"objects": objects, "hdrClear": generation}
