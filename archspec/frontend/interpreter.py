"""The interpreter behind ``${...}``: a whitelist of syntax, every step counted against the budget.

Each visit costs a step; building, comparing, copying or looping over a value costs its
elements (:func:`value_size` counts through nested lists and mappings, a shared list each time
it appears, and stops at the limit so counting itself stays bounded). Results a spec
cannot use are refused where they appear: integers over ``max_int_bits``, non-finite or
complex numbers, values over ``max_value_size`` elements or ``max_depth`` levels.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any

from archspec.frontend.budget import Budget

MAX_NESTING = 100  # syntax levels: deeper expressions are refused before Python's own recursion limit
MAX_ROUND_DIGITS = 400  # round(x, n): |n| beyond this only builds huge powers of ten

ALLOWED = (
    "expressions allow numbers, strings, names, + - * / // % **, comparisons, and/or/not, 'a if cond else b', "
    "lists, mappings, indexing (x[0], m['key'], m.key), list comprehensions and "
)


class ExpressionError(ValueError):
    """An expression could not be evaluated; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
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
CONSTANTS = {"True": True, "False": False, "None": None}


def value_size(value: Any, limit: int, max_depth: int) -> tuple[int, int, bool]:
    """(elements, work, too deep): a string counts its characters, a list or mapping its items' elements.

    Counts shared references each time and stops past ``limit`` (or ``max_depth``) so
    the work stays bounded.
    """
    count = work = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and count <= limit:
        item, depth = stack.pop()
        work += 1
        if depth > max_depth:
            return count, work, True
        if isinstance(item, str):
            count += max(len(item), 1)
        elif isinstance(item, list) and item:
            stack.extend((child, depth + 1) for child in item[: limit + 1])
        elif isinstance(item, dict) and item:
            stack.extend((child, depth + 1) for pair in islice(item.items(), limit + 1) for child in pair)
        else:
            count += 1  # a number, a boolean, None, an empty list or mapping
    return count, work, False


def _describe(value: Any) -> str:
    return {list: "a list", dict: "a mapping", str: "a string", bool: "a boolean", type(None): "None"}.get(
        type(value), "a number"
    )


_UNKNOWN: Any = object()
_VISITORS: dict[tuple[type, type], Callable[[Any, Any], Any] | None] = {}
"""Each interpreter class's ``visit_<Kind>`` method by node kind (``None``: a kind it refuses)."""


class Interpreter:
    """Walks one expression's syntax tree, counting every step against the budget."""

    def __init__(self, scope: Mapping[str, Any], budget: Budget) -> None:
        self.scope = scope
        self.budget = budget
        self.steps = 0
        self.depth = 0
        self.frames: list[dict[str, Any]] = []  # comprehension variables, innermost last

    # ------------------------------------------------------------------ bookkeeping

    def visit(self, node: ast.AST) -> Any:
        self.steps += 1  # charge(1), inlined: every syntax node passes here
        if self.steps > self.budget.max_expression_steps:
            self.charge(0)
        if self.depth >= MAX_NESTING:
            raise ExpressionError(f"expression nests deeper than {MAX_NESTING} levels", hint="split it into parameters")
        key = (type(self), type(node))
        method = _VISITORS.get(key, _UNKNOWN)
        if method is _UNKNOWN:  # looked up by name once per node kind, not per node
            method = _VISITORS[key] = getattr(type(self), f"visit_{type(node).__name__}", None)
        if method is None:
            return self.refuse(node)
        self.depth += 1
        try:
            return method(self, node)
        finally:
            self.depth -= 1

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > self.budget.max_expression_steps:
            raise ExpressionError(
                f"expression needs more than {self.budget.max_expression_steps:,} steps to evaluate",
                hint="compute smaller lists, or split the work into parameters",
            )

    def measure(self, value: Any) -> int:
        """Elements in ``value``, charged as work; refuses a value over the size or depth limit."""
        limit = self.budget.max_value_size
        count, work, too_deep = value_size(value, limit, self.budget.max_depth)
        self.charge(work)
        if too_deep:
            raise ExpressionError(
                f"expression uses a value nested deeper than {self.budget.max_depth} levels",
                hint="flatten the lists",
            )
        if count > limit:
            raise ExpressionError(
                f"expression builds {_describe(value)} of more than {limit:,} elements",
                hint="expressions are for sizes and short lists; make the list smaller",
            )
        return count

    def checked(self, value: Any) -> Any:
        """Refuse results a spec cannot use: huge integers, non-finite or complex numbers."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            if value.bit_length() > self.budget.max_int_bits:
                raise ExpressionError(
                    f"integer result has more than {self.budget.max_int_bits} bits",
                    hint="sizes and counts are far smaller; check the arithmetic",
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ExpressionError(
                    f"result is not a finite number ({value})", hint="floats must stay within about ±1.8e308"
                )
        elif isinstance(value, complex):
            raise ExpressionError(
                f"result is a complex number ({value})",
                hint="a negative number to a fractional power is complex; use a non-negative base",
            )
        elif isinstance(value, str | list | dict):
            self.measure(value)
        return value

    def refuse(self, node: ast.AST) -> Any:
        raise ExpressionError(
            f"'{type(node).__name__}' is not allowed in expressions", hint=ALLOWED + ", ".join(FUNCTIONS)
        )

    # ------------------------------------------------------------------ leaves

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, complex):
            raise ExpressionError(f"complex numbers ({node.value!r}) are not supported")
        if not isinstance(node.value, int | float | str | bool | None):
            return self.refuse(node)
        return self.checked(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        for frame in reversed(self.frames):
            if node.id in frame:
                return frame[node.id]
        if node.id in self.scope:
            return self.scope[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        from archspec.frontend.suggest import did_you_mean

        known = {name for frame in self.frames for name in frame} | set(self.scope)
        raise ExpressionError(f"unknown name '{node.id}'", hint=did_you_mean(node.id, known))

    # ------------------------------------------------------------------ operators

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            return self.refuse(node.op)
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise ExpressionError("string formatting with '%' is not supported", hint='interpolate instead: "conv${i}"')
        if isinstance(node.op, ast.Pow):
            self.check_power(left, right)
        if isinstance(node.op, ast.Mult):
            self.check_repeat(left, right)
        return self.checked(op(left, right))  # list + list copies what the operands hold: measured after

    def check_power(self, base: Any, exponent: Any) -> None:
        if not (_is_int(base) and _is_int(exponent)) or exponent < 0 or abs(base) < 2:
            return
        if (base.bit_length() - 1) * exponent > self.budget.max_int_bits:
            raise ExpressionError(
                f"{base} ** {exponent} has more than {self.budget.max_int_bits} bits",
                hint="sizes and counts are far smaller; check the exponent",
            )

    def check_repeat(self, left: Any, right: Any) -> None:
        sequence, count = (left, right) if isinstance(left, list | str) else (right, left)
        if not isinstance(sequence, list | str) or not _is_int(count) or count <= 0:
            return
        size = self.measure(sequence)
        if size * count > self.budget.max_value_size:
            raise ExpressionError(
                f"repeating {_describe(sequence)} of {size:,} elements {count:,} times builds more than "
                f"{self.budget.max_value_size:,} elements",
                hint="expressions are for sizes and short lists; make the list smaller",
            )
        self.charge(size * count)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        op = _UNARY.get(type(node.op))
        if op is None:
            return self.refuse(node.op)
        return self.checked(op(self.visit(node.operand)))

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
            for side in (left, right):  # comparing containers walks them: charge that work first
                if isinstance(side, list | dict | str):
                    self.measure(side)
            if not _COMPARE[type(op_node)](left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    # ------------------------------------------------------------------ containers

    def visit_List(self, node: ast.List) -> list[Any]:
        return self.checked([self.visit(item) for item in node.elts])

    visit_Tuple = visit_List  # a tuple literal is a list: specs have no tuples

    def visit_Dict(self, node: ast.Dict) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            key = self.visit(key_node) if key_node is not None else None
            if not isinstance(key, str):
                raise ExpressionError("mapping keys in expressions must be strings", hint="write {'key': value}")
            result[key] = self.visit(value_node)
        return self.checked(result)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            return self.slice(container, node.slice)
        index = self.visit(node.slice)
        if isinstance(container, dict):
            return self.key(container, index)
        if not isinstance(container, list | str) or not _is_int(index):
            raise ExpressionError(
                f"cannot index {_describe(container)} with {_describe(index)}",
                hint="index lists and strings with an integer, mappings with a string key",
            )
        return container[index]

    def slice(self, container: Any, part: ast.Slice) -> Any:
        bounds = [self.visit(b) if b is not None else None for b in (part.lower, part.upper, part.step)]
        if not isinstance(container, list | str) or not all(b is None or _is_int(b) for b in bounds):
            raise ExpressionError("only lists and strings can be sliced, with integers", hint="write x[1:3]")
        result = container[slice(*bounds)]
        self.charge(len(result))
        return result

    def key(self, mapping: dict[str, Any], key: Any) -> Any:
        if not isinstance(key, str):
            raise ExpressionError(f"mapping keys are strings, not {_describe(key)}", hint="write m['key']")
        if key not in mapping:
            from archspec.frontend.suggest import did_you_mean

            keys = ", ".join(list(mapping)[:20]) or "none"
            raise ExpressionError(
                f"the mapping has no key '{key}'", hint=did_you_mean(key, mapping) or f"its keys: {keys}"
            )
        return mapping[key]

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        mapping = self.visit(node.value)
        if not isinstance(mapping, dict):
            raise ExpressionError(
                f"'.{node.attr}' reads a key of a mapping, but this is {_describe(mapping)}",
                hint="attribute syntax is only for mapping parameters (stem.channels)",
            )
        return self.key(mapping, node.attr)

    def visit_ListComp(self, node: ast.ListComp) -> list[Any]:
        result: list[Any] = []
        self.comprehend(node.generators, node.elt, result)
        return self.checked(result)

    def comprehend(self, generators: list[ast.comprehension], element: ast.expr, result: list[Any]) -> None:
        if not generators:
            result.append(self.visit(element))
            if len(result) > self.budget.max_value_size:
                self.measure(result)
            return
        first, rest = generators[0], generators[1:]
        items = self.iterable(self.visit(first.iter))
        frame: dict[str, Any] = {}
        self.frames.append(frame)
        try:
            for item in items:
                self.bind(first.target, item, frame)
                if all(self.visit(condition) for condition in first.ifs):
                    self.comprehend(rest, element, result)
        finally:
            self.frames.pop()

    def iterable(self, value: Any) -> Iterator[Any]:
        if isinstance(value, dict):
            value = list(value)
        if not isinstance(value, list | str):
            raise ExpressionError(
                f"cannot loop over {_describe(value)}", hint="loop over a list, a range(...) or a mapping's keys"
            )
        for item in value:
            self.charge(1)
            yield item

    def bind(self, target: ast.expr, item: Any, frame: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            frame[target.id] = item
            return
        if isinstance(target, ast.Tuple | ast.List) and all(isinstance(e, ast.Name) for e in target.elts):
            if not isinstance(item, list) or len(item) != len(target.elts):
                raise ExpressionError(f"cannot unpack {_describe(item)} into {len(target.elts)} names")
            for name, part in zip(target.elts, item, strict=True):
                frame[name.id] = part  # type: ignore[attr-defined]
            return
        raise ExpressionError("a comprehension variable must be a name", hint="write [x * 2 for x in xs]")

    # ------------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)[:40]
            raise ExpressionError(
                f"'{called}' is not a function expressions can call", hint="the functions: " + ", ".join(FUNCTIONS)
            )
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments", hint="pass them by position")
        args = [self.visit(arg) for arg in node.args]
        name = node.func.id
        arity = _ARITY[name]
        if not arity[0] <= len(args) <= arity[1]:
            raise ExpressionError(f"{name}() takes {_arity_text(arity)}, got {len(args)}")
        for arg in args:
            if isinstance(arg, list | dict | str):
                self.measure(arg)
        return self.checked(FUNCTIONS[name](self.budget, *args))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _arity_text(arity: tuple[int, int]) -> str:
    low, high = arity
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments" if high < 99 else f"at least {low} argument"


def _round(budget: Budget, value: Any, digits: Any = None) -> Any:
    if digits is not None and (not _is_int(digits) or abs(digits) > MAX_ROUND_DIGITS):
        raise ExpressionError(
            f"round()'s digits must be an integer within ±{MAX_ROUND_DIGITS}, not {repr(digits)[:30]}"
        )
    return round(value) if digits is None else round(value, digits)


def _int(budget: Budget, value: Any) -> int:
    if isinstance(value, str) and len(value.strip()) > 100:
        raise ExpressionError("int() of a string of more than 100 characters")
    if not isinstance(value, int | float | str):
        raise ExpressionError(f"int() takes a number or a string, not {_describe(value)}")
    return int(value)


def _range(budget: Budget, *args: Any) -> list[int]:
    if not all(_is_int(a) for a in args):
        raise ExpressionError("range() takes integers")
    numbers = range(*args)
    if len(numbers) > budget.max_value_size:
        raise ExpressionError(
            f"range() of {len(numbers):,} items is longer than {budget.max_value_size:,}",
            hint="expressions are for sizes and short lists",
        )
    return list(numbers)


FUNCTIONS: dict[str, Callable[..., Any]] = {  # each takes the budget first
    "min": lambda budget, *args: min(*args),
    "max": lambda budget, *args: max(*args),
    "abs": lambda budget, value: abs(value),
    "int": _int,
    "round": _round,
    "len": lambda budget, value: len(value),
    "range": _range,
}
_ARITY: dict[str, tuple[int, int]] = {
    "min": (1, 99),
    "max": (1, 99),
    "abs": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "len": (1, 1),
    "range": (1, 3),
}
