"""Typed parameters: declarations, the checks every value passes, and binding with overrides.

A parameter is ``name: default`` (its type is the default's) or a declaration
``{default, type, choices, minimum, maximum, doc}``. Spec parameters can be overridden
(``--set``, ``load(path, **overrides)``); block parameters are set at each use. Every final
value is checked against its declaration, so ``--set version=1_0`` cannot silently become
the integer 10 and build another network. Overrides are literal values, never expressions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.expressions import ExpressionError, is_expression, substitute
from archspec.frontend.models import ParamDecl
from archspec.frontend.source import KeyPath, SetValue, Source
from archspec.frontend.suggest import did_you_mean
from archspec.layers.base import IDENTIFIER

PARAM_NAME = re.compile(IDENTIFIER)
_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "mapping": "a mapping",
}


class Declared(NamedTuple):
    """One parameter's declaration, normalised from either form (a named tuple: a frozen dataclass
    costs about a millisecond to create, at every ``validate``'s start)."""

    name: str
    default: Any
    type: str
    """``int``, ``float``, ``bool``, ``str``, ``list``, ``mapping`` or ``any``."""
    required: bool
    choices: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    doc: str | None = None
    """What the parameter means: the hint when a value does not fit."""

    def check(self, value: Any) -> str | None:
        """None when ``value`` fits the declaration, else what was expected."""
        if not _has_type(value, self.type):
            return f"expected {_TYPE_NAMES[self.type]}, got {_describe(value)}"
        if self.choices is not None and not any(_same(value, choice) for choice in self.choices):
            return f"expected one of {', '.join(map(_show, self.choices))}, got {_show(value)}"
        if self.minimum is not None and _is_number(value) and value < self.minimum:
            return f"expected at least {_show(self.minimum)}, got {_show(value)}"
        if self.maximum is not None and _is_number(value) and value > self.maximum:
            return f"expected at most {_show(self.maximum)}, got {_show(value)}"
        return None


def declare(name: str, written: Any) -> Declared:
    """The declaration of ``name`` from the spec's short form or a :class:`ParamDecl`."""
    if isinstance(written, ParamDecl):
        kind = written.type or _type_of(written.default)
        return Declared(
            name,
            written.default,
            kind,
            written.default is None,
            written.choices,
            written.minimum,
            written.maximum,
            written.doc,
        )
    return Declared(name, written, _type_of(written), written is None)


def _type_of(value: Any) -> str:
    if value is None or is_expression(value):
        return "any"
    for kind in ("bool", "int", "float", "str", "list", "mapping"):
        if _has_type(value, kind):
            return kind
    return "any"


def _has_type(value: Any, kind: str) -> bool:
    return kind == "any" or _TYPE_CHECKS[kind](value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "list": lambda v: isinstance(v, list),
    "mapping": lambda v: isinstance(v, dict),
}


def _same(value: Any, choice: Any) -> bool:
    """Equal, and a boolean only to a boolean: ``true`` is not the choice ``1``."""
    if isinstance(value, bool) or isinstance(choice, bool):
        return type(value) is type(choice) and value == choice
    return bool(value == choice)


def _describe(value: Any) -> str:
    kinds = {bool: "the boolean", int: "the integer", float: "the number", str: "the string"}
    for kind, words in kinds.items():
        if type(value) is kind:
            return f"{words} {_show(value)}"
    return {list: "a list", dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def coerce(declared: Declared, value: Any) -> Any:
    """An integer where a float is declared becomes that float (what the user meant)."""
    if declared.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def bind_params(
    written: dict[str, Any], overrides: dict[str, Any], source: Source, *, budget: Budget = DEFAULT_BUDGET
) -> dict[str, Any]:
    """Spec parameter values in declaration order (defaults may use earlier parameters)."""
    declared = {name: declare(name, value) for name, value in written.items()}
    _check_override_names(overrides, declared, source)
    values: dict[str, Any] = {}
    errors: list[Diagnostic] = []
    for name, decl in declared.items():
        where: KeyPath = ("params", name)
        if not PARAM_NAME.match(name):
            errors.append(_bad_name(name, source))
            continue
        if name in overrides:
            value, problem = _override(decl, overrides[name])
            if problem:
                raise UsageError([source.diagnostic("bad-override", problem, where, hint=_declared_hint(decl))])
        elif decl.required:
            errors.append(
                source.diagnostic(
                    "missing-argument",
                    f"parameter '{name}' has no default and was not set",
                    where,
                    hint=f"give it a default, or set it: --set {name}=... / load(path, {name}=...)",
                    key=True,
                )
            )
            continue
        else:
            try:
                value = substitute(decl.default, values, budget=budget)
            except ExpressionError as exc:
                errors.append(source.diagnostic("expression", str(exc), where, hint=exc.hint))
                continue
            if problem := decl.check(value):
                errors.append(source.diagnostic("bad-param", f"parameter '{name}': {problem}", where, hint=decl.doc))
                continue
        values[name] = coerce(decl, value)
    if errors:
        raise SpecError(errors)
    return values


def _bad_name(name: str, source: Source) -> Diagnostic:
    return source.diagnostic(
        "bad-param",
        f"parameter name '{name}' is not an identifier",
        ("params", name),
        hint="use letters, digits and '_', not starting with a digit, so '${...}' can refer to it",
        key=True,
    )


def _override(decl: Declared, given: Any) -> tuple[Any, str | None]:
    """The override's value and, if it does not fit, the message (which names the override)."""
    if isinstance(given, SetValue):
        value = given.text if decl.type == "str" and not isinstance(given.value, list | dict) else given.value
        label = f"--set {decl.name}={given.text}"
    else:
        value, label = given, f"override {decl.name}={_show(given)}"
    problem = decl.check(value)
    return value, f"{label}: {problem}" if problem else None


def _declared_hint(decl: Declared) -> str:
    extra = f", choices {', '.join(map(_show, decl.choices))}" if decl.choices else ""
    meaning = f" ({decl.doc})" if decl.doc else ""
    return f"'{decl.name}' is declared here as {decl.type}{extra}{meaning}"


def _check_override_names(overrides: dict[str, Any], declared: dict[str, Declared], source: Source) -> None:
    unknown = [name for name in overrides if name not in declared]
    if not unknown:
        return
    declares = "the spec declares: " + (", ".join(declared) or "no parameters")
    raise UsageError(
        [
            source.diagnostic(
                "unknown-param",
                f"cannot set '{name}': the spec has no parameter '{name}'",
                ("params",),
                hint=did_you_mean(name, declared, what="parameter") or declares,
                key=True,
            )
            for name in unknown
        ]
    )
