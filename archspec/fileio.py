"""Atomic file writes: a temp file in the same folder, then ``os.replace``, so a crash loses nothing.

A write that fails (a missing or read-only folder, a full disk) raises :class:`SpecIOError`
naming the path, so every command that writes exits 2 with a message, not a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from archspec.errors import Diagnostic, SpecIOError

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once at import: changing it per write would race with other threads' files


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    path = Path(path)
    try:
        _write(path, data)
    except OSError as exc:
        message = f"cannot write '{path}': {exc.strerror or exc}"
        raise SpecIOError([Diagnostic("io", message, str(path))]) from None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
