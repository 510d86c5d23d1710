"""One run per output folder: ``archspec train`` holds an advisory lock on ``OUT/.lock`` while it runs.

Two runs writing the same ``--out`` would report each other's checkpoints and interleave
their logs. The lock is ``fcntl.flock`` on ``OUT/.lock``, which holds the owner's pid: the
kernel releases it when the owner exits however it exits, so a lock file left by a killed
run is *stale* (its pid is written but nobody holds the lock) and the next run takes it over
with a notice. On systems without ``fcntl`` (Windows) runs are not locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from archspec.errors import Diagnostic, UsageError
from archspec.fileio import make_dir, refuse

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@contextlib.contextmanager
def run_lock(out: Path, *, enabled: bool = True, notice: Callable[[str], None] = _stderr) -> Iterator[None]:
    """Hold ``out``'s lock for the ``with`` body; UsageError (exit 2) naming the pid if another run holds it.

    ``out`` is created if needed (and removed again if the run leaves it empty).
    """
    if not enabled or fcntl is None:
        yield
        return
    created = not out.exists()
    make_dir(out)
    try:
        fd = _acquire(out / LOCK_NAME, out, notice)
        try:
            yield
        finally:
            (out / LOCK_NAME).unlink(missing_ok=True)  # while still held: no one can take a lock on it meanwhile
            os.close(fd)
    finally:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty: a run that failed before writing anything leaves no folder


def _acquire(path: Path, out: Path, notice: Callable[[str], None]) -> int:
    """The open, locked descriptor of ``path``, holding this process's pid."""
    for _ in range(10):  # another run may remove the file between our open and our lock: then try again
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise refuse(out, f"cannot lock --out '{out}': {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = _read_pid(fd)
            os.close(fd)
            raise _busy(out, owner) from None
        if _same_inode(fd, path):
            break
        os.close(fd)
    else:  # pragma: no cover - ten lost races in a row
        raise _busy(out, None)
    stale = _read_pid(fd)
    if stale is not None and stale != os.getpid():
        notice(f"note: '{out}' was locked by process {stale}, which is no longer running; taking the lock over")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _same_inode(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _busy(out: Path, owner: int | None) -> UsageError:
    who = f"process {owner}" if owner is not None else "another process"
    message = f"--out '{out}' is in use by another archspec train ({who} holds '{out / LOCK_NAME}')"
    hint = "wait for that run to finish (or stop it), or choose another --out"
    return UsageError([Diagnostic("out-locked", message, "<command line>", hint=hint)])
