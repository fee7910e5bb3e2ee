"""The README as a front door: short, each figure once, and every link in it and in docs/ leading somewhere."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# A measured figure: a number with its unit (99.69%, 1.78 ms, 148 s, 1011 KB).
_FIGURE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:%|ms|s|KB|MB)(?![\w])")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) < 250


def test_every_figure_in_the_readme_appears_once():
    text = README.read_text(encoding="utf-8")
    twice = {figure: n for figure, n in Counter(_FIGURE.findall(text)).items() if n > 1}
    assert twice == {}


def test_every_relative_link_leads_to_a_file():
    for page in [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: {target}"
