"""Spec expressions (``${...}``) as Python source with the same meaning, for generated classes.

The spec language is a safe subset of Python (:mod:`archspec.frontend.interpreter`), so most of
it is written as is. The differences are translated: ``m.key`` reads a mapping's key
(``m["key"]``), a tuple display is a list, ``range(...)`` is a list (``list(range(...))``,
except where a comprehension loops over it), and ``"conv${i}"`` is an f-string. Every
translated expression is also checked by evaluating it with the spec's own interpreter on
the values of each instance codegen has (:func:`evaluates_to`).
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from archspec.frontend.budget import DEFAULT_BUDGET
from archspec.frontend.expressions import EXPRESSION, WHOLE_EXPRESSION, _parse_text
from archspec.frontend.interpreter import ExpressionError, Interpreter


class Untranslatable(Exception):
    """A value codegen cannot write as an expression; the message says why."""


def written(value: Any) -> ast.expr:
    """The spec-language expression of a written value: a literal, ``${...}``, or text with ``${...}`` in it."""
    if isinstance(value, list):
        return ast.List([written(v) for v in value], ast.Load())
    if isinstance(value, dict):
        return ast.Dict([ast.Constant(k) for k in value], [written(v) for v in value.values()])
    if not isinstance(value, str) or "${" not in value:
        return ast.Constant(value)
    whole = WHOLE_EXPRESSION.match(value)
    try:
        if whole:
            return copy.deepcopy(_parse_text(whole.group(1).strip()))
        parts: list[ast.expr] = []
        end = 0
        for match in EXPRESSION.finditer(value):
            if match.start() > end:
                parts.append(ast.Constant(value[end : match.start()]))
            parts.append(ast.FormattedValue(copy.deepcopy(_parse_text(match.group(1).strip())), -1, None))
            end = match.end()
        if end < len(value):
            parts.append(ast.Constant(value[end:]))
        return ast.JoinedStr(parts)
    except ExpressionError as exc:
        raise Untranslatable(str(exc)) from None


def evaluates_to(expr: ast.expr, scope: dict[str, Any], expected: Any) -> bool:
    """Whether the spec's interpreter gives ``expected`` for ``expr`` in ``scope`` (lists equal tuples)."""
    try:
        if isinstance(expr, ast.JoinedStr):
            value: Any = "".join(
                str(Interpreter(scope, DEFAULT_BUDGET).visit(p.value))
                if isinstance(p, ast.FormattedValue)
                else str(p.value)
                for p in expr.values
                if isinstance(p, ast.FormattedValue | ast.Constant)
            )
        else:
            value = Interpreter(scope, DEFAULT_BUDGET).visit(expr)
    except (ExpressionError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError):
        return False
    return _same(value, expected)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(value, list | tuple) and isinstance(expected, list | tuple):
        return len(value) == len(expected) and all(_same(a, b) for a, b in zip(value, expected, strict=True))
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return bool(value == expected)
    return type(value) is type(expected) and bool(value == expected)


def names(expr: ast.expr) -> set[str]:
    """Free names an expression reads (comprehension variables excluded)."""
    from archspec.frontend.expressions import _free_names

    return _free_names(expr, frozenset())


def replace_names(expr: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """``expr`` with free names replaced by expressions (``i`` -> ``i - 1``, a parameter -> its argument)."""

    class Replace(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return copy.deepcopy(values[node.id]) if node.id in values else node

        def visit_ListComp(self, node: ast.ListComp) -> ast.expr:
            bound = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            if bound & set(values):
                raise Untranslatable("a comprehension variable shadows a parameter")
            self.generic_visit(node)
            return node

    return Replace().visit(copy.deepcopy(expr))


class _ToPython(ast.NodeTransformer):
    """The spec-language tree rewritten to Python's meaning (see the module docstring)."""

    def __init__(self) -> None:
        self.iterating = False

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        return ast.Subscript(self.visit(node.value), ast.Constant(node.attr), ast.Load())

    def visit_Tuple(self, node: ast.Tuple) -> ast.expr:
        return ast.List([self.visit(e) for e in node.elts], ast.Load())

    def visit_Call(self, node: ast.Call) -> ast.expr:
        iterating, self.iterating = self.iterating, False
        node.args = [self.visit(a) for a in node.args]
        if isinstance(node.func, ast.Name) and node.func.id == "range" and not iterating:
            return ast.Call(ast.Name("list", ast.Load()), [node], [])
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.iterating = True
        node.iter = self.visit(node.iter)
        self.iterating = False
        node.ifs = [self.visit(i) for i in node.ifs]
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        self.iterating = False
        return super().generic_visit(node)


def python(expr: ast.expr) -> str:
    """Python source for a spec-language expression, as ``ruff format`` writes it (double quotes)."""
    tree = _ToPython().visit(copy.deepcopy(expr))
    text = ast.unparse(ast.fix_missing_locations(tree))
    return _double_quotes(text) if "'" in text else text


def _double_quotes(text: str) -> str:
    """``'a'`` -> ``"a"`` where the string holds no quote of either kind (ruff's preference)."""

    class Quote(ast.NodeVisitor):
        ok = True

        def visit_Constant(self, node: ast.Constant) -> None:
            if isinstance(node.value, str) and ('"' in node.value or "'" in node.value or "\\" in node.value):
                self.ok = False

    check = Quote()
    check.visit(ast.parse(text, mode="eval"))
    if not check.ok:
        return text
    out, quoted = [], False
    for char in text:
        if char == "'":
            quoted = not quoted
            out.append('"')
        else:
            out.append(char)
    return "".join(out)


__all__ = ["Untranslatable", "evaluates_to", "names", "python", "replace_names", "written"]
