"""``archspec serve``: a local page that shows specs as they are saved (diagram, table, diagnostics).

:mod:`.preview` builds one spec's page data, :mod:`.watch` keeps it current by polling the
file, :mod:`.server` serves the page, the data and server-sent change events. Standard
library only, and no torch: the page is built from the static compile.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from archspec.serve.preview import Preview, preview
from archspec.serve.server import PreviewServer
from archspec.serve.watch import Specs, watch

__all__ = ["Preview", "PreviewServer", "Running", "Specs", "preview", "start"]


class Running:
    """A started preview: the server (serving in a thread) and the watcher; :meth:`stop` ends both."""

    def __init__(self, server: PreviewServer, stop_watching: threading.Event, thread: threading.Thread) -> None:
        self.server = server
        self.stop_watching = stop_watching
        self.thread = thread

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.stop_watching.set()
        self.server.stop()
        self.thread.join(timeout=5)


def start(
    paths: list[Path], *, host: str = "127.0.0.1", port: int = 0, interval: float = 0.2, expand: bool = False
) -> Running:
    """Build every spec's page, then serve them on ``host:port`` (0: a free port) in a background thread."""
    specs = Specs(paths, build=functools.partial(preview, expand=expand))
    server = PreviewServer((host, port), specs)
    stop_watching = threading.Event()
    watch(specs, stop_watching, interval)
    thread = threading.Thread(target=server.serve_forever, name="archspec-serve", daemon=True)
    thread.start()
    return Running(server, stop_watching, thread)
