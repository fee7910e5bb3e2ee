"""How the browser tests and benchmarks launch a real browser (Debian's Chromium, headless) and touch it.

Playwright's own browser download does not work here (no internet); `.ci/run` installs Debian's
``chromium`` with apt-get. The flags keep it off the network it cannot reach and away from a GPU.
"""

from __future__ import annotations

from itertools import pairwise

CHROMIUM_LAUNCH = {  # keyword arguments of Playwright's ``chromium.launch``
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}


def touch_events(points: list[tuple[float, float]], steps: int = 4) -> list[dict]:
    """One finger's stroke through ``points`` (page pixels) as Chromium DevTools protocol events.

    Each item is the parameters of one ``Input.dispatchTouchEvent`` call: a touch start on the
    first point, ``steps`` moves along each segment, a touch end. Send them through a CDP session
    of a page whose context has touch (``has_touch=True``).
    """
    events = [{"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}]
    for (x0, y0), (x1, y1) in pairwise(points):
        for i in range(1, steps + 1):
            t = i / steps
            events.append({"type": "touchMove", "touchPoints": [{"x": x0 + t * (x1 - x0), "y": y0 + t * (y1 - y0)}]})
    events.append({"type": "touchEnd", "touchPoints": []})
    return events
