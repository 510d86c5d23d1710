"""What a field accepts, in words, read from its JSON Schema.

Pydantic reports a failed union as one message per branch ("expected a valid string; or
greater than or equal to 1"); a user wants to hear what the argument needs: "an integer
>= 1, a list of 2 integers >= 1, or an expression '${...}'". The schema is the single
description of every field, so the sentence is generated from it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from archspec.layers.base import MAX_SIZE

EXPRESSION = "an expression '${...}'"


def describe_field(model: type[BaseModel], field: str, *, resolved: bool = False) -> str | None:
    """``"an integer >= 1 or a list of 2 integers >= 1"``; without expressions when ``resolved``."""
    schema = _schema(model)
    prop = schema.get("properties", {}).get(field)
    if prop is None:
        return None
    options = _dedupe(_options(prop, schema.get("$defs", {})))
    options = [o for o in options if o != "null" and not _covered_integer(o, options)]
    if resolved:
        options = [o for o in options if o != EXPRESSION] or options
    return _join(options, "or")


@cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _options(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return _options(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [option for branch in schema[key] for option in _options(branch, defs)]
    if "const" in schema:
        return [_literal(schema["const"])]
    if "enum" in schema:
        values = [_literal(v) for v in schema["enum"]]
        return values if len(values) <= 8 else ["one of " + ", ".join(values[:8]) + ", ..."]
    return [_single(schema, defs)]


def _single(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "integer":
        return "an integer" + _bounds(schema)
    if kind == "number":
        return "a number" + _bounds(schema)
    if kind == "boolean":
        return "true or false"
    if kind == "null":
        return "null"
    if kind == "string":
        if "${" in schema.get("pattern", "").replace("\\", ""):
            return EXPRESSION
        return "a string"
    if kind == "array":
        return _array(schema, defs)
    if kind == "object":
        keys = list(schema.get("properties", {}))
        return "a mapping {" + ", ".join(keys) + "}" if keys else "a mapping"
    return "a value"


def _covered_integer(option: str, options: list[str]) -> bool:
    """``an integer >= 0`` says nothing more when ``a number >= 0`` is also accepted."""
    return option.startswith("an integer") and "a number" + option.removeprefix("an integer") in options


def _array(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    low, high = schema.get("minItems"), schema.get("maxItems")
    count = f"{low} " if low is not None and low == high else ""
    items = _dedupe(_options(schema.get("items", {}), defs)) if schema.get("items") else []
    plural = [_plural(item) for item in items if item != EXPRESSION]
    of = f" of {count}" + _join(plural, "or") if plural else (f" of {count}values" if count else "")
    return "a list" + of


def _plural(item: str) -> str:
    for article in ("an ", "a "):
        if item.startswith(article):
            noun, _, rest = item.removeprefix(article).partition(" ")
            return f"{noun}s" + (f" {rest}" if rest else "")
    return item


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    if "minimum" in schema:
        parts.append(f">= {_number(schema['minimum'])}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {_number(schema['exclusiveMinimum'])}")
    if "maximum" in schema and schema["maximum"] != MAX_SIZE:
        parts.append(f"<= {_number(schema['maximum'])}")
    if "exclusiveMaximum" in schema:
        parts.append(f"< {_number(schema['exclusiveMaximum'])}")
    return " " + " and ".join(parts) if parts else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)


def _dedupe(options: list[str]) -> list[str]:
    return list(dict.fromkeys(options))


def _join(options: list[str], word: str) -> str:
    if len(options) <= 1:
        return "".join(options)
    if len(options) == 2:
        return f"{options[0]} {word} {options[1]}"
    return ", ".join(options[:-1]) + f", {word} " + options[-1]
