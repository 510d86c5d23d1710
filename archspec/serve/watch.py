"""Watching spec files: poll their size and mtime, confirm a change by content hash, rebuild the page.

Polling (every ``interval`` seconds, 0.2 by default) needs no platform file-event API and
sees every way an editor saves: in place, or by writing a temporary file and renaming it
over the spec. A change in mtime alone (``touch``) re-reads the file but rebuilds only when
the bytes differ. Every rebuild bumps a version number and wakes whoever waits on
:meth:`Specs.wait` (the server-sent event streams).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archspec.serve.preview import Preview, preview

MAX_HASHED = 64 * 1024 * 1024
"""Larger files are compared by mtime and size only (the compiler refuses them anyway)."""


@dataclass
class Watched:
    """One spec file and the page built from its current content."""

    path: Path
    page: Preview
    version: int = 1
    stamp: tuple[int, int] | None = None
    digest: str | None = None


@dataclass
class Specs:
    """Every served spec, kept current by :meth:`poll`; thread-safe for readers."""

    paths: list[Path]
    build: Callable[[Path], Preview] = preview
    items: list[Watched] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.items = [Watched(path, self.build(path), 1, _stamp(path), _digest(path)) for path in self.paths]

    def versions(self) -> list[int]:
        with self.changed:
            return [item.version for item in self.items]

    def page(self, index: int) -> tuple[int, Preview]:
        with self.changed:
            item = self.items[index]
            return item.version, item.page

    def poll(self) -> bool:
        """Rebuild every spec whose content changed; True when any did."""
        any_changed = False
        for item in self.items:
            stamp = _stamp(item.path)
            if stamp == item.stamp:
                continue
            item.stamp = stamp
            digest = _digest(item.path)
            if digest == item.digest:
                continue
            page = self.build(item.path)
            with self.changed:
                item.digest, item.page = digest, page
                item.version += 1
                self.changed.notify_all()
            any_changed = True
        return any_changed

    def wait(self, seen: list[int], timeout: float) -> list[int]:
        """Block until the versions differ from ``seen`` (or ``timeout`` passes); the current versions."""
        with self.changed:
            self.changed.wait_for(lambda: [item.version for item in self.items] != seen, timeout)
            return [item.version for item in self.items]

    def wake(self) -> None:
        """Wake every waiter (on shutdown, so that event streams end)."""
        with self.changed:
            self.changed.notify_all()


def watch(specs: Specs, stop: threading.Event, interval: float = 0.2) -> threading.Thread:
    """A daemon thread polling ``specs`` until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(interval):
            specs.poll()

    thread = threading.Thread(target=loop, name="archspec-serve-watch", daemon=True)
    thread.start()
    return thread


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _digest(path: Path) -> str | None:
    """The content hash; a FIFO or a device is never read (it could block), a huge file is not hashed."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return f"not a file: {info.st_mode}"
        if info.st_size > MAX_HASHED:
            return f"large: {info.st_mtime_ns} {info.st_size}"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
