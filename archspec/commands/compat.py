"""``archspec compat SPEC WEIGHTS``: will these weights load into the spec's model? Key by key, without building it."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.commands import add_budget_options, add_set_option, budget_from, parse_overrides
from archspec.safetext import escape_controls

SHOWN = 40
"""Keys listed in the text report without ``--all``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compat",
        help="will a weights file load into the spec's model? per key, with did-you-mean for renames",
        description="Compare a weights file (torch.save(model.state_dict()), a torchvision weights file, an "
        "archspec export or training checkpoint) with the spec's static state_dict, without building the model "
        "or reading the tensors' data. Exit 0 when a strict load_state_dict would succeed, 1 when not (or the "
        "spec is invalid), 2 when the file cannot be read.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("weights", metavar="WEIGHTS", help="a .pt/.pth file holding a state dict")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--all", action="store_true", help="list every key, not only those that do not load")
    add_set_option(parser)
    add_budget_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.compiler.pipeline import compile_spec

    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides), budget=budget_from(args))

    from archspec.backends.statecompare import cast_note, report_json, report_text, summary_line, verdict
    from archspec.backends.weights import check, read_weights

    weights = read_weights(args.weights)
    comparison = check(compiled, weights)
    if args.format == "json":
        from archspec.jsontext import dumps

        data = {"spec": args.spec, "weights": args.weights, "file": weights.kind, **report_json(comparison)}
        print(dumps({**data, "verdict": verdict(comparison)}))
    else:
        print(escape_controls(f"compat {args.spec}: {args.weights} ({weights.describe()})"))
        lines = report_text(comparison, every=args.all)
        shown = lines if args.all else lines[:SHOWN]
        for line in shown:
            print(escape_controls(line))
        if len(shown) < len(lines):
            print(f"  ... and {len(lines) - len(shown):,} more (--all or --format json lists every key)")
        print(summary_line(comparison))
        if note := cast_note(comparison):
            print(f"note: {note}")
        if comparison.prefix_hint:
            print(f"hint: {escape_controls(comparison.prefix_hint)}")
        print(f"verdict: {verdict(comparison)}")
    return 0 if comparison.strict_ok else 1
