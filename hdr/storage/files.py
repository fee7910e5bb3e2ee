"""Files written whole or not at all: the one atomic write every saved file goes through.

A file is written to a hidden temporary file beside its destination (``.NAME.XXXX.tmp``, so
:func:`hdr.storage.store.remove_stale_temps` can find what a crash left) and moved into place with
``os.replace``: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"  # the suffix of a write in progress (or one a crash left behind)


def write_atomic(path: str | os.PathLike, content: bytes | str) -> Path:
    """Writes ``content`` (text as UTF-8) to ``path`` through a temporary file and an atomic rename.

    The file is readable by everyone (``0o644``), like any ordinary file, not ``mkstemp``'s ``0o600``.

    Returns:
        The path written.

    Raises:
        OSError: The folder cannot be written; nothing is left behind.
    """
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
