"""``archspec validate SPEC...``: check specs; exit 1 if any is invalid, 2 on I/O or usage errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archspec.commands import add_set_option, parse_overrides
from archspec.compiler.pipeline import compile_spec
from archspec.errors import ArchspecError, SpecError
from archspec.jsontext import dumps
from archspec.safetext import escape_controls


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="check specs: schema, references, shapes")
    parser.add_argument("specs", nargs="+", metavar="SPEC")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid specs")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.overrides)
    worst, diagnostics = 0, []
    for path in args.specs:
        try:
            compiled = compile_spec(Path(path), overrides=overrides)
        except ArchspecError as exc:
            worst = max(worst, 1 if isinstance(exc, SpecError) else 2)
            diagnostics += exc.diagnostics
            if args.format == "text":
                print(exc.format(), file=sys.stderr)
            continue
        diagnostics += compiled.warnings
        if args.format == "text" and compiled.warnings:
            print("\n".join(w.format() for w in compiled.warnings), file=sys.stderr)
        if args.format == "text" and not args.quiet:
            print(
                f"ok {escape_controls(path)}: {len(compiled.nodes)} layers, {compiled.params_total:,} params, "
                f"{compiled.macs:,} mult-adds, output {list(compiled.output_shape or ())}"
            )
    if args.format == "json":
        print(dumps([d.to_json() for d in diagnostics]))
    return worst
