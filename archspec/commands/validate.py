"""``archspec validate SPEC...``: check specs; exit 1 if any is invalid, 2 on I/O or usage errors."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from archspec.commands import (
    add_budget_options,
    add_input_option,
    add_set_option,
    budget_from,
    parse_input_shapes,
    parse_overrides,
)
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.pipeline import compile_spec
from archspec.errors import ArchspecError, Diagnostic, SpecError, UsageError
from archspec.jsontext import dumps
from archspec.safetext import escape_controls


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="check specs: schema, references, shapes")
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files, or folders to search for *.yaml specs")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid specs")
    parser.add_argument(
        "--skip-non-specs",
        action="store_true",
        help="skip named YAML files that are not archspec specs (no 'archspec:' key), as for a folder; "
        "the pre-commit hook uses this so CI workflows and configs pass untouched",
    )
    add_set_option(parser)
    add_input_option(parser)
    add_budget_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.overrides)
    shapes = parse_input_shapes(args.input_shapes)
    budget = budget_from(args)
    worst, diagnostics, skipped = 0, [], 0
    for path, searched in _spec_paths(args.specs):
        try:
            compiled = compile_spec(path, overrides=overrides, budget=budget, input_shapes=shapes)
        except ArchspecError as exc:
            if (searched or args.skip_non_specs) and _not_a_spec(path, exc):
                skipped += 1  # other YAML (CI configs...), not a spec
                continue
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
                f"ok {escape_controls(str(path))}: {len(compiled.nodes)} layers, {compiled.params_total:,} params, "
                f"{compiled.macs:,} mult-adds, {_outputs(compiled)}" + _apart(compiled)
            )
    if args.format == "json":
        print(dumps([d.to_json() for d in diagnostics]))
    elif skipped and not args.quiet:
        print(f"skipped {skipped} YAML file(s) without an 'archspec:' key")
    return worst


def _spec_paths(arguments: list[str]) -> list[tuple[Path, bool]]:
    """Each spec to check, and whether it was found by searching a folder (``validate specs/``)."""
    paths: list[tuple[Path, bool]] = []
    for argument in arguments:
        path = Path(argument)
        if not os.path.isdir(path):  # never raises (Path.is_dir does for a name that is too long)
            paths.append((path, False))
            continue
        found = sorted(p for pattern in ("*.yaml", "*.yml") for p in path.rglob(pattern))
        visible = [p for p in found if not any(part.startswith(".") for part in p.relative_to(path).parts)]
        if not visible:
            raise UsageError(
                [Diagnostic("io", f"'{argument}' is a folder with no *.yaml or *.yml files", file=argument)]
            )
        paths += [(p, True) for p in visible if p.is_file()]
    return paths


SPEC_KEY = re.compile(r"""^[ \t{]*["']?archspec["']?[ \t]*:""", re.MULTILINE)


def _not_a_spec(path: Path, exc: ArchspecError) -> bool:
    """The file is YAML of another kind: no ``archspec:`` key, or (when it does not even load as a
    spec: custom tags, several documents) no line that starts with one."""
    if [d.code for d in exc.diagnostics] == ["not-a-spec"]:
        return True
    if not isinstance(exc, SpecError):
        return False  # unreadable: always reported
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return False
    return SPEC_KEY.search(head) is None


def _outputs(compiled: CompiledSpec) -> str:
    """``output [10]``; ``outputs a [8, 8], b [] int64`` for several (dtypes other than float32 shown)."""
    from archspec.backends.values import named

    outputs = compiled.outputs
    return f"output{'s' if len(outputs) > 1 else ''} {escape_controls(named(outputs, 'output'))}"


def _apart(compiled: CompiledSpec) -> str:
    if not compiled.unreachable:
        return ""
    return f" (+{compiled.unreachable_macs:,} mult-adds in {len(compiled.unreachable)} node(s) the output does not use)"
