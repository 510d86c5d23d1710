"""``archspec lsp``: the language server, over stdio (what editors start; see docs/editors.md)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "lsp",
        help="run the language server on stdin/stdout: live diagnostics, shapes, hover, completion",
        description="A Language Server Protocol server for archspec specs, started by an editor "
        "(VS Code, Neovim, Helix, Emacs: docs/editors.md). It speaks on stdin/stdout.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.errors import Diagnostic, UsageError

    try:
        from archspec.lsp.server import server
    except ModuleNotFoundError as exc:
        if exc.name not in ("pygls", "lsprotocol"):
            raise
        hint = "install the language server's extra: pip install 'archspec[lsp]'"
        raise UsageError([Diagnostic("usage", f"archspec lsp needs {exc.name}", "<archspec>", hint=hint)]) from None
    server.start_io()
    return 0
