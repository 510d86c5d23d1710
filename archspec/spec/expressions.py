"""A small, safe evaluator for ``${...}`` expressions in specs.

Specs need integer arithmetic, comparisons, conditionals and indexing
(``${width * 2}``, ``${stride if i == 0 else 1}``, ``${[64, 128][i]}``).
We parse with :mod:`ast` and interpret a whitelist of node kinds: no attribute
access, no calls except a few pure builtins, no ``eval``. Sizes are bounded so
``${10 ** 10 ** 10}`` fails fast instead of hanging.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_EXPRESSION_LENGTH = 1000
MAX_INT_BITS = 256
MAX_SEQUENCE = 10_000

EXPRESSION = re.compile(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}")
WHOLE_EXPRESSION = re.compile(r"^\$\{((?:[^{}]|\{[^{}]*\})*)\}$")


class ExpressionError(ValueError):
    """An expression could not be evaluated; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "round": round,
    "len": len,
    "range": lambda *a: list(range(*a)),
}


def is_expression(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def substitute(value: Any, scope: Mapping[str, Any]) -> Any:
    """Resolve every ``${...}`` inside ``value`` (recursing into lists).

    A string that is exactly one expression takes the expression's type
    (``"${w * 2}"`` -> ``128``); an expression inside other text is
    interpolated as a string (``"conv${i}"`` -> ``"conv3"``).
    """
    if isinstance(value, list):
        return [substitute(item, scope) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = WHOLE_EXPRESSION.match(value)
    if whole:
        return evaluate(whole.group(1), scope)
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), scope)), value)


def evaluate(text: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one expression (the text between ``${`` and ``}``)."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ExpressionError(
            f"invalid expression '{text}': {exc.msg if isinstance(exc, SyntaxError) else exc}"
        ) from None
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    try:
        return _Interpreter(scope).visit(tree.body)
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise ExpressionError(f"cannot evaluate '{text.strip()}': {exc}") from None


class _Interpreter(ast.NodeVisitor):
    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope

    def generic_visit(self, node: ast.AST) -> Any:
        raise ExpressionError(
            f"'{type(node).__name__}' is not allowed in expressions",
            hint="expressions allow numbers, names, + - * / // % **, comparisons, and/or/not, "
            "'a if cond else b', lists, indexing and " + ", ".join(FUNCTIONS),
        )

    def visit_Constant(self, node: ast.Constant) -> Any:
        if not isinstance(node.value, int | float | str | bool | None):
            return self.generic_visit(node)
        return _checked(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.scope:
            return self.scope[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        from archspec.spec.suggest import did_you_mean

        raise ExpressionError(f"unknown name '{node.id}'", hint=did_you_mean(node.id, self.scope))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        op = _BINARY.get(type(node.op))
        if op is None:
            return self.generic_visit(node.op)
        too_big = (
            isinstance(left, int)
            and isinstance(right, int)
            and max(left.bit_length(), 1) * abs(right) > 2 * MAX_INT_BITS
        )
        if isinstance(node.op, ast.Pow) and too_big:
            raise ExpressionError(f"{left} ** {right} is too large")
        if isinstance(node.op, ast.Mult) and _is_sequence(left, right):
            count = right if isinstance(right, int) else left
            if isinstance(count, int) and count > MAX_SEQUENCE:
                raise ExpressionError(f"repetition count {count} is too large")
        return _checked(op(left, right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return _checked(_UNARY[type(node.op)](self.visit(node.operand)))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for value_node in node.values:
            result = self.visit(value_node)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            if not _COMPARE[type(op_node)](left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(item) for item in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> list[Any]:
        return [self.visit(item) for item in node.elts]

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            return self.generic_visit(node.slice)
        index = self.visit(node.slice)
        if not isinstance(container, list | str) or not isinstance(index, int) or isinstance(index, bool):
            raise ExpressionError("only lists and strings can be indexed, with an integer")
        return container[index]

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            return self.generic_visit(node)
        args = [self.visit(arg) for arg in node.args]
        if node.func.id == "range" and args and max(abs(a) for a in args if isinstance(a, int)) > MAX_SEQUENCE:
            raise ExpressionError(f"range is limited to {MAX_SEQUENCE} items")
        return _checked(FUNCTIONS[node.func.id](*args))


def _is_sequence(left: Any, right: Any) -> bool:
    return isinstance(left, list | str) or isinstance(right, list | str)


def _checked(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"integer result has more than {MAX_INT_BITS} bits")
    if isinstance(value, list | str) and len(value) > MAX_SEQUENCE * 10:
        raise ExpressionError("result is too long")
    return value


def names_in(value: Any) -> set[str]:
    """The variable names the ``${...}`` parts of ``value`` read (``"conv${i + 1}"`` -> ``{"i"}``)."""
    if not isinstance(value, str):
        return set()
    names: set[str] = set()
    for match in EXPRESSION.finditer(value):
        try:
            tree = ast.parse(match.group(1).strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError):
            continue
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return names
