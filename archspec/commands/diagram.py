"""``archspec diagram SPEC -o OUT``: draw the spec with Graphviz (.svg, .png, .pdf or .dot).

Repeated blocks fold into one box unless ``--expand`` (or ``--depth``) is given.
``--allow-errors`` draws an invalid spec up to its failing nodes (in red, with their
messages), writes the file, then reports the diagnostics and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archspec.backends.graphviz import Diagram, output_format, render, require_dot
from archspec.commands import (
    add_budget_options,
    add_input_option,
    add_set_option,
    budget_from,
    parse_input_shapes,
    parse_overrides,
)
from archspec.compiler.pipeline import compile_spec
from archspec.errors import SpecError
from archspec.fileio import check_outputs, write_bytes_atomic
from archspec.safetext import escape_controls


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diagram",
        help="draw the spec with Graphviz (.svg, .png, .pdf or .dot)",
        description="Draw the spec: layers coloured by family, tensor shapes on edges, blocks as clusters.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output file: .svg, .png, .pdf or .dot")
    parser.add_argument(
        "--depth",
        type=int,
        default=None,
        metavar="N",
        help="draw modules nested at most N deep (0: every top-level block or group is one box), "
        "with repeated blocks open; default: every layer, repeated blocks folded",
    )
    parser.add_argument(
        "--expand", action="store_true", help="draw every copy of a repeated block (default: one box per run)"
    )
    parser.add_argument(
        "--rankdir", choices=("TB", "LR"), default="TB", help="top-to-bottom (default) or left-to-right"
    )
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="draw an invalid spec up to its failing nodes (shown in red); still exits 1",
    )
    add_set_option(parser)
    add_input_option(parser)
    add_budget_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args.output)
    check_outputs([args.output], inputs=[args.spec])
    require_dot(fmt)
    overrides = parse_overrides(args.overrides)
    try:
        compiled = compile_spec(
            Path(args.spec),
            overrides=overrides,
            allow_errors=args.allow_errors,
            budget=budget_from(args),
            input_shapes=parse_input_shapes(args.input_shapes),
        )
    except SpecError as exc:
        if not args.allow_errors:
            print(exc.format(), file=sys.stderr)
            print("note: add --allow-errors to draw the spec up to the failing node", file=sys.stderr)
            return 1
        raise
    graph = Diagram(compiled, depth=args.depth, rankdir=args.rankdir, expand=args.expand).build()
    write_bytes_atomic(args.output, render(graph, fmt))
    print(f"wrote {escape_controls(args.output)}")
    if compiled.diagnostics:
        print(SpecError(compiled.diagnostics).format(), file=sys.stderr)
        return 1
    return 0
