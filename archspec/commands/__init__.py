"""One module per CLI command; shared argument helpers."""

from __future__ import annotations

import argparse
from dataclasses import replace

from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.spec.budget import DEFAULT_BUDGET, Budget
from archspec.spec.source import SetValue, parse_value


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a spec parameter (repeatable); VALUE is read as plain YAML: 100, 0.5, true, [1, 2], {a: 1}",
    )


_SET_HINT = "write a plain value: 3, 0.5, true, text, [1, 2] or {a: 1}; quote text with special characters"


def parse_overrides(items: list[str], *, budget: Budget = DEFAULT_BUDGET) -> dict[str, SetValue]:
    """``["num_classes=100"]`` -> ``{"num_classes": SetValue("100", 100)}``.

    Values are read by the specs' own bounded loader (plain scalars, lists and mappings;
    no tags, no aliases); every refusal is a UsageError starting ``--set KEY=VALUE:``.
    """
    overrides: dict[str, SetValue] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError([Diagnostic("usage", f"--set expects KEY=VALUE, got '{item}'", file="<command line>")])
        try:
            value = parse_value(text, budget=budget)
        except SpecError as exc:
            shown = item if len(item) <= 60 else item[:57] + "..."
            raise UsageError(
                [
                    Diagnostic("usage", f"--set {shown}: {d.message}", file="<command line>", hint=_SET_HINT)
                    for d in exc.diagnostics
                ]
            ) from None
        overrides[key.strip()] = SetValue(text, value)
    return overrides


_BUDGET_FLAGS = {  # flag -> (Budget field, metavar): the limits a user may need to raise
    "--max-bytes": ("max_bytes", "SIZE"),
    "--max-nodes": ("max_nodes", "N"),
    "--max-errors": ("max_errors", "N"),
    "--max-expression-steps": ("max_expression_steps", "N"),
    "--max-value-size": ("max_value_size", "N"),
}


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """``--max-nodes`` and the like: raise one limit of the compilation budget (docs/performance.md)."""
    group = parser.add_argument_group("limits", "raise a limit of the compilation's budget (see docs/performance.md)")
    for flag, (name, metavar) in _BUDGET_FLAGS.items():
        default = getattr(DEFAULT_BUDGET, name)
        group.add_argument(flag, dest=name, metavar=metavar, default=None, help=f"default {default:,}")


def budget_from_args(args: argparse.Namespace) -> Budget:
    """The default budget with the limits given on the command line; a bad figure is a UsageError."""
    from archspec.backends.limits import parse_bytes

    changes: dict[str, int] = {}
    for flag, (name, _) in _BUDGET_FLAGS.items():
        text = getattr(args, name, None)
        if text is None:
            continue
        try:
            value = parse_bytes(text) if name == "max_bytes" else int(text)
        except (ValueError, OverflowError):
            value = 0
        if value < 1:
            raise UsageError(
                [Diagnostic("usage", f"{flag}: expected a positive number, got '{text}'", file="<command line>")]
            )
        changes[name] = value
    return replace(DEFAULT_BUDGET, **changes)


def add_max_param_bytes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-param-bytes",
        default="4GiB",
        metavar="SIZE",
        help="refuse to build specs whose float32 parameters need more (default 4GiB; e.g. 500MB, 16GiB, 0 = no limit)",
    )


def max_param_bytes(text: str) -> int | None:
    from archspec.backends.limits import parse_bytes

    try:
        value = parse_bytes(text)
    except ValueError as exc:
        raise UsageError([Diagnostic("usage", f"--max-param-bytes: {exc}", file="<command line>")]) from None
    return value or None
