"""One module per CLI command; shared argument helpers."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from archspec.errors import Diagnostic, UsageError


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a spec parameter (repeatable); VALUE is read as YAML: 100, 0.5, true, [1, 2]",
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["num_classes=100"]`` -> ``{"num_classes": 100}``; values are YAML scalars or lists."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError([Diagnostic("usage", f"--set expects KEY=VALUE, got '{item}'", file="<command line>")])
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        if isinstance(value, dict):
            raise UsageError([Diagnostic("usage", f"--set {key}: mappings are not allowed", file="<command line>")])
        overrides[key.strip()] = value
    return overrides


def add_max_param_bytes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-param-bytes",
        default="4GiB",
        metavar="SIZE",
        help="refuse to build specs whose float32 parameters need more "
        "(default 4GiB; e.g. 500MB, 16GiB; 0 or none = no limit)",
    )


def max_param_bytes(text: str) -> int | None:
    from archspec.backends.limits import parse_bytes

    try:
        value = parse_bytes(text)
    except ValueError as exc:
        raise UsageError([Diagnostic("usage", f"--max-param-bytes: {exc}", file="<command line>")]) from None
    return value or None
