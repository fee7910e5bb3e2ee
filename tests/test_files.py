"""Atomic writes: the whole new file or the old one, never half, and nothing left behind."""

from __future__ import annotations

import os

import pytest

from hdr.storage.files import write_atomic


@pytest.mark.parametrize(
    ("content", "expected"), [(b"\x00\x01 bytes", b"\x00\x01 bytes"), ("text, é", "text, é".encode())]
)
def test_writes_bytes_and_text_readable_by_everyone(tmp_path, content, expected):
    path = write_atomic(tmp_path / "out.bin", content)
    assert path.read_bytes() == expected and path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "card.json"
    path.write_text("old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]
