"""``archspec schema``: print the JSON Schema of specs (or write it with -o)."""

from __future__ import annotations

import argparse

from archspec.fileio import check_outputs, write_text_atomic
from archspec.frontend.schema import schema_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema for spec files")
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.output:
        check_outputs([args.output])
        write_text_atomic(args.output, schema_text())
    else:
        print(schema_text(), end="")
    return 0
