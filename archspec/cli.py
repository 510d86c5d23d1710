"""The command line: parse arguments, call the API, print diagnostics, choose the exit code.

Exit codes: 0 success, 1 an invalid spec, 2 a usage or I/O error, 3 an archspec bug,
130 interrupted (Ctrl-C). Each command lives in ``archspec/commands/<name>.py`` with
``add_parser(subparsers)``. Under ``--format json`` every failure, a bad flag included, is
printed as a JSON list of diagnostics on stdout, so a script never has to parse text.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from archspec.errors import ArchspecError, Diagnostic, SpecError, UsageError

COMMANDS = (
    "validate",
    "summary",
    "schema",
    "build",
    "export",
    "codegen",
    "diagram",
    "docs",
    "train",
    "evaluate",
    "lsp",
    "serve",
    "sweep",
    "compat",
    "diff",
)
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class ArgumentError(UsageError):
    """A command line argparse refused; carries the usage text argparse would print."""

    def __init__(self, message: str, usage: str, prog: str) -> None:
        super().__init__([Diagnostic("usage", message, "<command line>")])
        self.usage = usage
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, raising instead of exiting, so ``main`` can report the error as JSON when asked."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentError(message, self.format_usage(), self.prog)


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with a known ``command``, only that command's module is imported.

    ``validate`` runs in pre-commit hooks and CI on every commit, so it should not pay for
    importing the trainer or the Graphviz backend. Without a known command (``--help``, a
    typo) every command is registered, for the full list and argparse's suggestions.
    """
    root = _Parser(prog="archspec", description="Declarative architecture specs for PyTorch.")
    root.add_argument("--version", action="version", version=f"archspec {_version()}")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (command,) if command in COMMANDS else COMMANDS:
        try:
            module = importlib.import_module(f"archspec.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"archspec.commands.{name}":
                raise
            continue
        module.add_parser(sub)
    return root


SHORT_LIVED = frozenset({"validate", "summary", "schema", "diagram", "docs", "diff"})
"""Commands that only read specs and exit: as a process of their own, they run with the cyclic GC off."""


def entry() -> int:
    """The ``archspec`` executable and ``python -m archspec``: :func:`main` in a process of its own.

    Importing pydantic and building validators allocate many objects that are never cyclic
    garbage; with the collector off, a pre-commit ``validate`` is about 8% faster. Only this
    process entry does that: :func:`main` called in-process leaves the collector alone.
    """
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command in SHORT_LIVED:
        gc.disable()
    code = main()
    if command in HARD_EXIT:
        atexit.register(_hard_exit, code)
    return code


HARD_EXIT = frozenset({"validate"})
"""Commands that write nothing but stdout and stderr: their process skips the interpreter's teardown."""


def _hard_exit(code: int) -> None:
    """Flush the standard streams and end the process now (as mypy does): freeing every module and
    object of a finished process one by one costs about 15% of a pre-commit ``validate``. Registered
    at exit, so the caller still sees :func:`entry` return; handlers registered earlier are skipped,
    which is why only commands that write no files (:data:`HARD_EXIT`) do this."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    return _main(argv, next((arg for arg in argv if not arg.startswith("-")), None))


def _main(argv: list[str], command: str | None) -> int:
    as_json = wants_json(argv)
    try:
        args = parser(command).parse_args(argv)
        return int(args.run(args))
    except ArgumentError as exc:
        if not as_json:
            print(exc.usage, end="", file=sys.stderr)  # argparse's own form: usage, then the error
            print(f"{exc.prog}: error: {exc.diagnostics[0].message}", file=sys.stderr)
            return EXIT_USAGE
        print_error(exc, as_json)
        return EXIT_USAGE
    except SpecError as exc:
        print_error(exc, as_json)
        return EXIT_INVALID
    except ArchspecError as exc:
        print_error(exc, as_json)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # an archspec bug: short message, traceback only on request
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        message = f"internal error: {type(exc).__name__}: {exc} (set ARCHSPEC_DEBUG=1 for a traceback)"
        if as_json:
            print_error(ArchspecError([Diagnostic("internal", message, "<archspec>")]), as_json)
        else:
            print(f"archspec: {message}", file=sys.stderr)
        return 3


def wants_json(argv: Sequence[str]) -> bool:
    """``--format json`` (or ``--format=json``) anywhere on the command line."""
    pairs = zip(argv, [*argv[1:], ""], strict=True)
    return any(arg == "--format=json" or (arg == "--format" and value == "json") for arg, value in pairs)


def print_error(exc: ArchspecError, as_json: bool) -> None:
    """The diagnostics: JSON on stdout under ``--format json`` (what the caller parses), else text on stderr."""
    if as_json:
        print(exc.to_json())
    else:
        print(exc.format(), file=sys.stderr)


def _version() -> str:
    from archspec import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
