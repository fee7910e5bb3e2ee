"""How the browser tests and benchmarks launch a real browser: Debian's Chromium, headless.

Playwright's own browser download does not work here (no internet); `.ci/run` installs Debian's
``chromium`` with apt-get. The flags keep it off the network it cannot reach and away from a GPU.
"""

from __future__ import annotations

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
