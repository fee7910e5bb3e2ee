"""The About page's pieces: the active model's files to download, and sections of the project's docs."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from hdr.inference.export import export_tflite
from hdr.storage.store import load_keras_model

DOCS = Path(__file__).resolve().parent.parent / "docs"  # in a checkout; an installed package has none
_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:)[^)]*\)")  # a link to another doc: kept as its text alone


@st.cache_data(max_entries=2, show_spinner=False)
def tflite_bytes(path: str, mtime: float) -> bytes:
    """The model file at ``path`` converted to LiteRT (float32), once per file version."""
    return export_tflite(load_keras_model(path))


def doc_section(name: str, heading: str | None = None) -> str | None:
    """A doc of ``docs/`` as markdown (only the section under ``heading`` if given), or None without one.

    Links to other docs become their text: on a page of the app they would lead nowhere.
    """
    try:
        text = (DOCS / name).read_text(encoding="utf-8")
    except OSError:
        return None
    if heading is not None:
        match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, flags=re.MULTILINE)
        if match is None:
            return None
        level = len(match[1])
        rest = text[match.end() :]
        end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)
        text = rest[: end.start() if end else None]
    else:
        text = text.split("\n", 1)[1] if text.startswith("# ") else text  # the page has its own title
    return _LINK.sub(r"\1", text).strip()
