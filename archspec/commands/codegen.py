"""``archspec codegen SPEC [-o FILE]``: readable, self-contained PyTorch source for the spec."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archspec.commands import add_set_option, parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "codegen",
        help="write the model as plain PyTorch source (a class per block)",
        description="Write a self-contained Python module with the model as nn.Module classes, formatted "
        "like ruff format: one class per block definition over the block's parameters, and a model class "
        "that takes the spec's params as keyword arguments (--set changes their defaults). The model built "
        "from it has the same state_dict keys and outputs as archspec.build.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.backends.codegen import generate_source, model_class_name
    from archspec.compiler.pipeline import compile_spec
    from archspec.fileio import check_outputs, write_text_atomic
    from archspec.safetext import escape_controls

    if args.output:
        check_outputs([args.output], inputs=[args.spec])
    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides))
    source = generate_source(compiled, origin=Path(args.spec).name)
    if not args.output:
        sys.stdout.write(source)
        return 0
    write_text_atomic(args.output, source)
    print(
        f"wrote {escape_controls(args.output)}: class {model_class_name(compiled)} ({len(source.splitlines())} lines)"
    )
    return 0
