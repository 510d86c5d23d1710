"""``archspec diff A.yaml [B.yaml]``: nodes added, removed and changed, and the totals; no torch.

``--set`` applies to both sides, ``--set-a`` / ``--set-b`` to one, so one spec diffs against
itself with other parameters: ``archspec diff specs/resnet18.yaml --set-b depths=[3,4,6,3]``.
Exit 0 when the two are equal, 1 when they differ (or a spec is invalid), 2 for usage and I/O errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archspec.commands import add_budget_options, add_set_option, budget_from, parse_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diff",
        help="what changed between two specs (or one spec with two sets of --set): nodes and totals",
        description="Compare spec A with spec B (default: A again, with --set-b values): nodes matched by their "
        "path (their state_dict prefix) added, removed and changed (type, arguments, inputs, output shape, params, "
        "mult-adds, FLOPs), and the totals. --weights-only compares the state_dict entries instead. "
        "Exit 0 when equal, 1 when they differ or a spec is invalid, 2 for usage and I/O errors.",
    )
    parser.add_argument("a", metavar="A", help="the spec before")
    parser.add_argument("b", metavar="B", nargs="?", help="the spec after (default: A)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="which of A's state_dict entries load into B unchanged, change shape, are new or gone",
    )
    add_set_option(parser)
    for side in ("a", "b"):
        parser.add_argument(
            f"--set-{side}",
            dest=f"overrides_{side}",
            metavar="KEY=VALUE",
            action="append",
            default=[],
            help=f"override a parameter of {side.upper()} only (repeatable; after --set)",
        )
    add_budget_options(parser)
    parser.set_defaults(run=run)


def _side(path: str, common: list[str], own: list[str], args: argparse.Namespace) -> tuple[Any, str]:
    from archspec.compiler.pipeline import compile_spec

    items = [*common, *own]
    overrides = parse_overrides(items, budget=budget_from(args))
    label = path + (f" ({', '.join(items)})" if items else "")
    return compile_spec(Path(path), overrides=overrides, budget=budget_from(args)), label


def run(args: argparse.Namespace) -> int:
    from archspec.backends import specdiff
    from archspec.jsontext import dumps
    from archspec.safetext import escape_controls

    a, a_label = _side(args.a, args.overrides, args.overrides_a, args)
    b, b_label = _side(args.b or args.a, args.overrides, args.overrides_b, args)
    result = specdiff.diff_specs(a, b, a_label=a_label, b_label=b_label)
    if args.weights_only:
        equal = specdiff.weights_equal(result.weights)
        views = (specdiff.weights_json, specdiff.weights_markdown, specdiff.weights_text)
    else:
        equal = result.equal
        views = (specdiff.diff_json, specdiff.diff_markdown, specdiff.diff_text)
    if args.format == "json":
        print(dumps(views[0](result)))
    else:
        lines = views[1](result) if args.format == "markdown" else views[2](result)
        print("\n".join(escape_controls(line) for line in lines))
    return 0 if equal else 1
