"""A small, safe evaluator for ``${...}`` expressions in specs, with bounded work.

Specs need integer arithmetic, comparisons, conditionals, indexing and a little list
building (``${width * 2}``, ``${stride if i == 0 else 1}``, ``${[64, 128][i]}``,
``${stem.channels}``, ``${[c * 2 for c in widths]}``). We parse with :mod:`ast` and
interpret a whitelist of node kinds: no attribute access except mapping keys, no calls
except a few pure builtins, no ``eval``.

Every evaluation runs under a :class:`~archspec.frontend.budget.Budget`: a step count (syntax
nodes visited plus elements built, compared or copied), a size for every value it builds
(counted through nested lists, a shared list each time it appears), bits for integers,
finite floats only. So ``${10 ** 10 ** 10}``, ``${[[0] * 100] * 100}`` compounded through
parameters, ``${round(1, -10**70)}`` or ``${'%2147483648d' % 1}`` fail at once with a
message instead of exhausting time or memory.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.interpreter import CONSTANTS, FUNCTIONS, ExpressionError, Interpreter, value_size

__all__ = ["FUNCTIONS", "ExpressionError", "evaluate", "is_expression", "names_in", "substitute"]

EXPRESSION = re.compile(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}")
WHOLE_EXPRESSION = re.compile(r"^\$\{((?:[^{}]|\{[^{}]*\})*)\}$")


def is_expression(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def has_expression(value: Any) -> bool:
    """Whether ``value`` holds a ``${...}`` anywhere, through nested lists and mappings."""
    if isinstance(value, list):
        return any(has_expression(item) for item in value)
    if isinstance(value, dict):
        return any(has_expression(item) for item in value.values())
    return is_expression(value)


def substitute(value: Any, scope: Mapping[str, Any], *, budget: Budget = DEFAULT_BUDGET) -> Any:
    """Resolve every ``${...}`` inside ``value`` (recursing into lists and mappings).

    A string that is exactly one expression takes the expression's type
    (``"${w * 2}"`` -> ``128``); an expression inside other text is
    interpolated as a string (``"conv${i}"`` -> ``"conv3"``).
    """
    if isinstance(value, list):
        return [substitute(item, scope, budget=budget) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, scope, budget=budget) for key, item in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = WHOLE_EXPRESSION.match(value)
    if whole:
        return evaluate(whole.group(1), scope, budget=budget)
    text = EXPRESSION.sub(lambda m: _interpolated(evaluate(m.group(1), scope, budget=budget), budget), value)
    if len(text) > budget.max_value_size:
        raise ExpressionError(
            f"the text '{value[:60]}' becomes {len(text):,} characters; the limit is {budget.max_value_size:,}",
            hint="interpolate shorter values",
        )
    return text


def _interpolated(value: Any, budget: Budget) -> str:
    count, _, too_deep = value_size(value, budget.max_value_size, budget.max_depth)
    if too_deep or count > budget.max_value_size:
        raise ExpressionError(
            f"a value of more than {budget.max_value_size:,} elements cannot be written into text",
            hint="interpolate a number or a short list",
        )
    return str(value)


def evaluate(text: str, scope: Mapping[str, Any], *, budget: Budget = DEFAULT_BUDGET) -> Any:
    """Evaluate one expression (the text between ``${`` and ``}``)."""
    tree = _parse(text, budget)
    try:
        return Interpreter(scope, budget).visit(tree)
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", hint="split it into parameters") from None
    except OverflowError:
        raise ExpressionError(
            f"'{text.strip()}' is too large for a float", hint="floats stay within ±1.8e308"
        ) from None
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise ExpressionError(f"cannot evaluate '{text.strip()}': {exc}") from None


def names_in(value: Any) -> set[str]:
    """The free names the expressions in ``value`` read (``"conv${i + 1}"`` -> ``{"i"}``).

    Recurses into lists and mappings; names bound by a list comprehension are not free.
    An expression that does not parse contributes nothing (evaluating it reports the error).
    """
    if isinstance(value, list):
        return set().union(*(names_in(item) for item in value))
    if isinstance(value, dict):
        return set().union(*(names_in(item) for item in value.values()))
    if not is_expression(value):
        return set()
    names: set[str] = set()
    for match in EXPRESSION.finditer(value):
        try:
            names |= _free_names(_parse(match.group(1), DEFAULT_BUDGET), frozenset())
        except (ExpressionError, RecursionError):
            continue
    return names


def names_mentioned(value: str) -> frozenset[str]:
    """Every name the expressions in ``value`` mention, bound or free, constants included: a superset
    of what evaluating it can read from a scope (a scope may shadow a constant). Unparsable: none."""
    names: set[str] = set()
    for match in EXPRESSION.finditer(value):
        try:
            tree = _parse(match.group(1), DEFAULT_BUDGET)
        except (ExpressionError, RecursionError):
            continue
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return frozenset(names)


def _parse(text: str, budget: Budget) -> ast.expr:
    if len(text) > budget.max_expression_length:
        raise ExpressionError(
            f"expression is longer than {budget.max_expression_length:,} characters",
            hint="split it into parameters",
        )
    return _parse_text(text.strip())


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> ast.expr:
    """The parsed expression: a spec repeats the same few texts in every copy of a block, and the
    interpreter only reads the tree, so one parse serves them all."""
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression '{text}': {exc.msg}") from None
    except (ValueError, MemoryError) as exc:
        raise ExpressionError(f"invalid expression '{text}': {exc}") from None
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", hint="split it into parameters") from None


def _free_names(node: ast.AST, bound: frozenset[str]) -> set[str]:
    if isinstance(node, ast.Name):
        return set() if node.id in bound or node.id in CONSTANTS else {node.id}
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        names: set[str] = set()
        inner = bound
        for generator in node.generators:
            names |= _free_names(generator.iter, inner)
            inner = inner | {n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)}
            for condition in generator.ifs:
                names |= _free_names(condition, inner)
        return names | _free_names(node.elt, inner)
    if isinstance(node, ast.Call):  # the function's own name is not a variable
        children: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
        if not isinstance(node.func, ast.Name):
            children.append(node.func)
        return set().union(*(_free_names(child, bound) for child in children))
    return set().union(*(_free_names(child, bound) for child in ast.iter_child_nodes(node)))
