"""Sizes that remember how they were computed, so that codegen can write them as expressions.

A :class:`Sym` is an ``int`` (every layer's shape rule runs on it unchanged) that also
carries an expression of the spec language over a class's parameters: ``channels``,
``in_channels``, ``(in_shape[1] + 2 - 3) // stride + 1``. Arithmetic on it keeps the
expression; anything else (a comparison, ``max``, ``int()``) gives a plain ``int``, which
codegen treats as a constant and checks against every instance it has (a size that
depends on a parameter through such a step is caught there and its class is written per
instance instead). Nothing here imports torch.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

_OPERATORS: dict[str, type[ast.operator]] = {
    "add": ast.Add,
    "sub": ast.Sub,
    "mul": ast.Mult,
    "floordiv": ast.FloorDiv,
    "mod": ast.Mod,
    "pow": ast.Pow,
}


class Sym(int):
    """An integer and the expression (a spec-language :mod:`ast` node) that computes it."""

    expr: ast.expr

    def __new__(cls, value: int, expr: ast.expr) -> Sym:
        obj = super().__new__(cls, value)
        obj.expr = expr
        return obj

    def __neg__(self) -> int:
        return Sym(-int(self), ast.UnaryOp(ast.USub(), self.expr))

    def __pos__(self) -> int:
        return self


class SymFloat(float):
    """A float and its expression: carried through unchanged (a layer's ``p``, a fill value)."""

    expr: ast.expr

    def __new__(cls, value: float, expr: ast.expr) -> SymFloat:
        obj = super().__new__(cls, value)
        obj.expr = expr
        return obj


def _binary(name: str, *, reflected: bool) -> Callable[[Sym, Any], Any]:
    method = getattr(int, f"__{'r' if reflected else ''}{name}__")

    def apply(self: Sym, other: Any) -> Any:
        value = method(int(self), int(other) if isinstance(other, int) else other)
        if not isinstance(value, int) or isinstance(value, bool) or not isinstance(other, int):
            return value
        operand = expression(other)
        left, right = (operand, self.expr) if reflected else (self.expr, operand)
        return Sym(value, _simplified(left, name, right, value))

    return apply


def _simplified(left: ast.expr, name: str, right: ast.expr, value: int) -> ast.expr:
    """``left <op> right``, folded where an operand is a constant that changes nothing (``1 * c``, ``c + 0``)."""
    constants = [e.value if isinstance(e, ast.Constant) else None for e in (left, right)]
    if constants[0] is not None and constants[1] is not None:
        return ast.Constant(value)
    neutral = {"add": 0, "mul": 1}.get(name)
    if neutral is not None and constants[0] == neutral and not isinstance(constants[0], bool):
        return right
    if neutral is not None and constants[1] == neutral and not isinstance(constants[1], bool):
        return left
    if name in ("sub", "floordiv", "pow") and constants[1] == {"sub": 0, "floordiv": 1, "pow": 1}[name]:
        return left
    return bounded(ast.BinOp(left, _OPERATORS[name](), right))


MAX_EXPRESSION_NODES = 120
"""A size whose expression grows past this many syntax nodes is no longer followed (nobody would
read it; a spatial size through a deep network, whose expression would double at every repeat)."""

UNKNOWN = "__unknown__"
"""The name in an expression that could not be followed: a class that would write it is unwritable."""


def bounded(expr: ast.expr) -> ast.expr:
    """``expr``, or the unknown marker when it is too large to write."""
    for count, _ in enumerate(ast.walk(expr)):
        if count >= MAX_EXPRESSION_NODES:
            return ast.Name(UNKNOWN)
    return expr


for _name in _OPERATORS:
    setattr(Sym, f"__{_name}__", _binary(_name, reflected=False))
    setattr(Sym, f"__r{_name}__", _binary(_name, reflected=True))


def expression(value: Any) -> ast.expr:
    """The expression of a value: a :class:`Sym`'s own, else the value as a literal."""
    if isinstance(value, Sym | SymFloat):
        return value.expr
    if isinstance(value, list | tuple):
        return ast.List([expression(v) for v in value], ast.Load())
    if isinstance(value, dict):
        return ast.Dict([ast.Constant(k) for k in value], [expression(v) for v in value.values()])
    return ast.Constant(value)


def is_symbolic(value: Any) -> bool:
    """Whether ``value`` (or anything in it) depends on a parameter."""
    if isinstance(value, Sym | SymFloat):
        return not isinstance(value.expr, ast.Constant)
    if isinstance(value, list | tuple):
        return any(is_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(is_symbolic(v) for v in value.values())
    return False


def symbolic(value: Any, expr: ast.expr) -> Any:
    """``value`` with ``expr`` attached: an int becomes a :class:`Sym`, a list one per item."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Sym(value, expr)
    if isinstance(value, float):
        return SymFloat(value, expr)
    if isinstance(value, list | tuple):
        items = expr.elts if isinstance(expr, ast.List) and len(expr.elts) == len(value) else None
        parts = [
            symbolic(v, items[k] if items else ast.Subscript(expr, ast.Constant(k), ast.Load()))
            for k, v in enumerate(value)
        ]
        return type(value)(parts)
    return value


__all__ = ["UNKNOWN", "Sym", "SymFloat", "bounded", "expression", "is_symbolic", "symbolic"]
