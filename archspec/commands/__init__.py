"""One module per CLI command; shared argument helpers."""

from __future__ import annotations

import argparse
from typing import Any, Literal, overload

from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.source import SetValue, parse_value


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


def add_weights_options(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--weights FILE`` and ``--strict/--no-strict`` (build, train)."""
    parser.add_argument("--weights", metavar="FILE", help=help_text)
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --weights: every entry must load (default); --no-strict loads what fits and lists what it skipped",
    )


def read_and_plan(compiled: Any, args: argparse.Namespace) -> Any:
    """``(weights, comparison)`` for ``--weights`` (checked against the spec, strictly unless --no-strict), or None."""
    if getattr(args, "weights", None) is None:
        return None
    from archspec.backends.weights import plan, read_weights

    weights = read_weights(args.weights)
    return weights, plan(compiled, weights, strict=args.strict)


def add_max_param_bytes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-param-bytes",
        default="4GiB",
        metavar="SIZE",
        help="refuse to build specs whose float32 parameters need more "
        "(default 4GiB; e.g. 500MB, 16GiB; 0 or none = no limit)",
    )


def max_param_bytes(text: str) -> int | None:
    """The ``--max-param-bytes`` value in bytes; ``None``: no limit."""
    return byte_limit("--max-param-bytes", text)


def byte_limit(flag: str, text: str, *, auto: bool = False) -> int | None:
    """A size flag's value in bytes (``None``: no limit), or a usage error naming the flag."""
    from archspec.backends.limits import parse_bytes

    try:
        return parse_bytes(text) or None
    except ValueError as exc:
        extra = "; or auto" if auto else ""
        raise UsageError([Diagnostic("usage", f"{flag}: {exc}{extra}", file="<command line>")]) from None


def add_max_activation_bytes_option(parser: argparse.ArgumentParser, *, default: str = "4GiB") -> None:
    auto = " auto = the device's memory (at least 4GiB)," if default == "auto" else ""
    parser.add_argument(
        "--max-activation-bytes",
        default=default,
        metavar="SIZE",
        help="refuse to run a forward pass whose float32 activations (the input and every node's output, for "
        f"the whole batch) need more (default {default};{auto} e.g. 500MB, 16GiB; 0 or none = no limit)",
    )


@overload
def max_activation_bytes(text: str) -> int | None: ...


@overload
def max_activation_bytes(text: str, *, auto: Literal[True]) -> int | Literal["auto"] | None: ...


def max_activation_bytes(text: str, *, auto: bool = False) -> int | Literal["auto"] | None:
    """The ``--max-activation-bytes`` value in bytes; ``None``: no limit; ``"auto"`` where ``auto`` allows it."""
    if auto and text.strip().lower() == "auto":
        return "auto"
    return byte_limit("--max-activation-bytes", text, auto=auto)


BUDGET_FLAGS = (
    ("--max-nodes", "max_nodes", "expanded layer nodes"),
    ("--max-errors", "max_errors", "errors reported before stopping"),
    ("--max-spec-bytes", "max_bytes", "size of a spec file"),
    ("--max-expression-steps", "max_expression_steps", "work of one ${...} evaluation"),
    ("--max-value-size", "max_value_size", "elements in one value an expression builds"),
)
"""(flag, :class:`~archspec.frontend.budget.Budget` field, what it limits)."""
MAX_BUDGET = 2**40


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """``--max-nodes`` and friends: raise a compilation limit for a spec known to need it."""
    from archspec.frontend.budget import DEFAULT_BUDGET

    for flag, field, what in BUDGET_FLAGS:
        default = getattr(DEFAULT_BUDGET, field)
        parser.add_argument(
            flag, dest=f"budget_{field}", metavar="N", default=None, help=f"limit on {what} (default {default:,})"
        )


def budget_from(args: argparse.Namespace) -> Any:
    """The :class:`~archspec.frontend.budget.Budget` the budget options ask for (positive integers only)."""
    import dataclasses

    from archspec.frontend.budget import DEFAULT_BUDGET

    changes: dict[str, int] = {}
    for flag, field, _ in BUDGET_FLAGS:
        text = getattr(args, f"budget_{field}", None)
        if text is None:
            continue
        if not text.isdigit() or len(text) > 13 or not 0 < int(text) <= MAX_BUDGET:  # 5,000 digits: int() refuses
            message = f"{flag} {text}: expected a whole number from 1 to {MAX_BUDGET:,}"
            raise UsageError([Diagnostic("usage", message, file="<command line>")])
        changes[field] = int(text)
    return dataclasses.replace(DEFAULT_BUDGET, **changes)


def add_input_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        dest="input_shapes",
        metavar="[NAME=]SHAPE",
        action="append",
        default=[],
        help="evaluate the spec at another per-sample input shape (batch excluded), e.g. 3x299x299; "
        "NAME= picks one of several inputs (tokens=64); repeatable",
    )


def parse_input_shapes(items: list[str]) -> dict[str, tuple[int, ...]]:
    """``["3x299x299", "mask=64"]`` -> ``{"input": (3, 299, 299), "mask": (64,)}`` (``input``: the first input)."""
    from archspec.compiler.ir import INPUT

    shapes: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, sep, text = item.rpartition("=")
        dims = text.strip().lower().split("x")
        if (sep and not name.strip()) or not all(d.isdigit() and len(d) <= 9 for d in dims):
            message = f"--input {item[:60]}: expected [NAME=]SIZExSIZEx..., positive whole numbers"
            hint = "e.g. --input 3x299x299, or --input tokens=64 for a spec with several inputs"
            raise UsageError([Diagnostic("usage", message, file="<command line>", hint=hint)])
        shapes[name.strip() or INPUT] = tuple(int(d) for d in dims)
    return shapes
