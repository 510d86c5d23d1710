"""``archspec serve SPEC...``: a live preview page of specs, rebuilt within a second of each save.

Binds to 127.0.0.1 on a free port unless told otherwise, prints the URL, and runs until
Ctrl-C (which stops it cleanly, exit 0). See docs/serve.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from archspec.errors import Diagnostic, UsageError
from archspec.safetext import escape_controls


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve",
        help="a live preview page: diagram, summary table and diagnostics, updated on every save",
        description="Serve a local page showing each spec's diagram, summary table and diagnostics; "
        "it updates by itself within a second of the file being saved. Ctrl-C stops it.",
    )
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files to preview")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_port, default=0, help="port to listen on (default 0: any free port)")
    parser.add_argument("--expand", action="store_true", help="draw every copy of a repeated block")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths = [_spec_path(text) for text in args.specs]
    from archspec.serve import start

    stop = threading.Event()
    main_thread = threading.current_thread() is threading.main_thread()
    # Ctrl-C sets the event instead of raising KeyboardInterrupt wherever the main thread happens to be;
    # installed before the address is printed, so a Ctrl-C at any moment after that stops cleanly
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if main_thread else None
    try:
        try:
            running = start(paths, host=args.host, port=args.port, expand=args.expand)
        except OSError as exc:
            raise _usage(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", "try another --port"
            ) from None
        print(f"archspec serve: {running.url}  ({len(paths)} spec(s); Ctrl-C to stop)", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass  # a handler installed by the caller (not the main thread)
        finally:
            running.stop()
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
    print("archspec serve: stopped", file=sys.stderr)
    return 0


def _port(text: str) -> int:
    """A TCP port number, 0 meaning any free one; the same message as the other ranged flags."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 65,535, got '{escape_controls(text)}'")
    return value


def _spec_path(text: str) -> Path:
    path = Path(text)
    if not os.path.isfile(path):
        what = "is not a file" if path.exists() else "does not exist"
        raise _usage(f"'{escape_controls(text)}' {what}", "pass the path of a spec file (.yaml)")
    return path


def _usage(message: str, hint: str) -> UsageError:
    return UsageError([Diagnostic("usage", message, "<command line>", hint=hint)])
