"""The command line: parse arguments, call the API, print diagnostics, choose the exit code.

Exit codes: 0 success, 1 an invalid spec, 2 a usage or I/O error. Each command
lives in ``archspec/commands/<name>.py`` with ``add_parser(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from archspec.errors import ArchspecError, SpecError

COMMANDS = ("validate", "summary", "schema", "build", "export", "codegen", "diagram", "docs", "train", "evaluate")
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with a known ``command``, only that command's module is imported.

    ``validate`` runs in pre-commit hooks and CI on every commit, so it should not pay for
    importing the trainer or the Graphviz backend. Without a known command (``--help``, a
    typo) every command is registered, for the full list and argparse's suggestions.
    """
    root = argparse.ArgumentParser(prog="archspec", description="Declarative architecture specs for PyTorch.")
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = parser(command).parse_args(argv)
    try:
        return int(args.run(args))
    except SpecError as exc:
        print_error(exc, args)
        return EXIT_INVALID
    except ArchspecError as exc:
        print_error(exc, args)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # an archspec bug: short message, traceback only on request
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        print(
            f"archspec: internal error: {type(exc).__name__}: {exc} (set ARCHSPEC_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 3


def print_error(exc: ArchspecError, args: argparse.Namespace) -> None:
    if getattr(args, "format", "text") == "json":
        print(exc.to_json())
    else:
        print(exc.format(), file=sys.stderr)


def _version() -> str:
    from archspec import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
