"""``archspec summary SPEC``: the layer-by-layer table and totals."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.backends.summary import summary_data, summary_markdown, summary_text
from archspec.commands import (
    add_budget_options,
    add_input_option,
    add_set_option,
    budget_from,
    parse_input_shapes,
    parse_overrides,
)
from archspec.compiler.pipeline import compile_spec
from archspec.jsontext import dumps


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("summary", help="layer-by-layer shapes, params and mult-adds")
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    add_set_option(parser)
    add_input_option(parser)
    add_budget_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    compiled = compile_spec(
        Path(args.spec),
        overrides=parse_overrides(args.overrides),
        budget=budget_from(args),
        input_shapes=parse_input_shapes(args.input_shapes),
    )
    if args.format == "json":
        print(dumps(summary_data(compiled)))
    elif args.format == "markdown":
        print(summary_markdown(compiled), end="")
    else:
        print(summary_text(compiled), end="")
    return 0
