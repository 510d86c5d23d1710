"""The preview's HTTP server: the page and its assets, each spec's data as JSON, and change events.

Routes (everything is served from the package; the page loads nothing from the network):

* ``/``, ``/app.js``, ``/app.css``, ``/favicon.svg``: the page (``archspec/serve/static``);
* ``/api/specs``: ``[{"index", "file", "name", "ok", "version"}]``;
* ``/api/spec/<index>``: one spec's :class:`~archspec.serve.preview.Preview` and its version;
* ``/events``: server-sent events, one ``data: {"versions": [...]}`` message at the start and
  after every rebuild, a comment every 15 s to keep the connection open.

The standard library's threading server is enough for one person's browser tabs. Bound to
a loopback address, it answers only requests whose ``Host`` names a loopback host, so a web
page elsewhere cannot read the specs through DNS rebinding.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from archspec.serve.watch import Specs

ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
KEEPALIVE = 15.0
"""Seconds between keep-alive comments on an idle event stream."""


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the specs it serves and when to stop streaming."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], specs: Specs) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # --host ::1
        super().__init__(address, Handler)
        self.specs = specs
        self.stopping = threading.Event()
        self.loopback = address[0] in LOOPBACK

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def stop(self) -> None:
        """End the event streams, then the serving loop (call from another thread than serve_forever's)."""
        self.stopping.set()
        self.specs.wake()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and rebuilds, not every request."""

    def do_GET(self) -> None:
        if not self._host_allowed():
            self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain; charset=utf-8")
            return
        route = urlsplit(self.path).path
        if route in ASSETS:
            name, kind = ASSETS[route]
            self._send(HTTPStatus.OK, resources.files("archspec.serve").joinpath("static", name).read_bytes(), kind)
        elif route == "/api/specs":
            self._json(self._spec_list())
        elif route.startswith("/api/spec/"):
            self._spec(route.removeprefix("/api/spec/"))
        elif route == "/events":
            self._events()
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def _host_allowed(self) -> bool:
        if not self.server.loopback:
            return True
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        return host in LOOPBACK or host == "::1"

    def _spec_list(self) -> list[dict[str, Any]]:
        specs = self.server.specs
        versions = specs.versions()
        return [
            {"index": i, "file": str(item.path), "name": item.page.name, "ok": item.page.ok, "version": versions[i]}
            for i, item in enumerate(specs.items)
        ]

    def _spec(self, text: str) -> None:
        if not text.isdigit() or int(text) >= len(self.server.specs.items):
            self._send(HTTPStatus.NOT_FOUND, b"no such spec\n", "text/plain; charset=utf-8")
            return
        version, page = self.server.specs.page(int(text))
        self._json({"version": version, **page.to_json()})

    def _events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        specs, stopping = self.server.specs, self.server.stopping
        seen = specs.versions()
        try:
            self._event({"versions": seen})
            while not stopping.is_set():
                current = specs.wait(seen, KEEPALIVE)
                if stopping.is_set():
                    break
                if current != seen:
                    seen = current
                    self._event({"versions": seen})
                else:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the tab was closed

    def _event(self, data: Any) -> None:
        self.wfile.write(b"data: " + json.dumps(data).encode("utf-8") + b"\n\n")
        self.wfile.flush()

    def _json(self, data: Any) -> None:
        self._send(HTTPStatus.OK, json.dumps(data).encode("utf-8"), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)
