"""Hovers: a node's type, shapes and counts (every instance of a block's node); a ``${...}``'s value."""

from __future__ import annotations

from typing import Any

from archspec.compiler.ir import CompiledSpec
from archspec.frontend.expressions import EXPRESSION, ExpressionError, substitute
from archspec.frontend.source import KeyPath
from archspec.lsp.analysis import Analysis, Instance
from archspec.lsp.facts import Facts, facts, outermost, spec_node
from archspec.lsp.text import Pos, Span, Token

MAX_ROWS = 12


def hover(analysis: Analysis, pos: Pos) -> tuple[str, Span] | None:
    """Markdown for the cursor's place, and the span it describes; None where there is nothing to say."""
    token = analysis.tokens.at(pos)
    if token is None:
        return None
    if token.text and "${" in token.text and not token.key:
        shown = expression_hover(analysis, token)
        if shown:
            return shown, token.span
    if token.key and len(token.path) == 2 and token.path[0] == "params" and analysis.compiled:
        name = str(token.path[1])
        if name in analysis.compiled.params:
            return f"`{name}` = `{_show(analysis.compiled.params[name])}`", token.span
    found = spec_node(analysis, token.path)
    if found is None or analysis.compiled is None:
        return None
    path, instances = found
    return node_hover(analysis.compiled, instances), analysis.tokens.values.get(path, token.span)


def node_hover(compiled: CompiledSpec, instances: list[Instance]) -> str:
    """One instance: its facts. A repeat's group: its facts, then one row per copy. A node of a block
    (or inside a repeat): one row per instance, then the totals."""
    outer = outermost(instances)
    if len(outer) == 1:
        first = facts(compiled, outer[0])
        lines = [f"**{first.path}** `{first.kind}`"]
        if first.args:
            lines.append(f"parameters: `{first.args}`")
        lines += [f"input `{first.inputs}` → output `{first.output}`", _counts(first)]
        copies = [i for i in instances if i is not outer[0]]
        if copies:
            kinds = ", ".join(sorted({facts(compiled, c).kind for c in copies}))
            lines.append(f"{len(copies)} copies of `{kinds}`:\n\n" + _table(compiled, copies))
        return "\n\n".join(lines)
    rows = [facts(compiled, i) for i in outer]
    kinds = ", ".join(sorted({r.kind for r in rows}))
    total = Facts("", "", "", "", sum(r.params for r in rows), sum(r.macs for r in rows), sum(r.flops for r in rows))
    return f"`{kinds}`: {len(rows)} instances\n\n" + _table(compiled, outer) + "\n\nall instances: " + _counts(total)


def _table(compiled: CompiledSpec, instances: list[Instance]) -> str:
    rows = [facts(compiled, i) for i in instances]
    has_args = any(r.args for r in rows)
    header = ["instance", *(["parameters"] if has_args else []), "input", "output", "params", "mult-adds", "FLOPs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows[:MAX_ROWS]:
        cells = [row.path, *([row.args] if has_args else []), row.inputs, row.output]
        lines.append("| " + " | ".join([*cells, f"{row.params:,}", f"{row.macs:,}", f"{row.flops:,}"]) + " |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more")
    return "\n".join(lines)


def _counts(row: Facts) -> str:
    return f"params {row.params:,} · mult-adds {row.macs:,} · FLOPs {row.flops:,}"


def expression_hover(analysis: Analysis, token: Token) -> str | None:
    """What the ``${...}`` evaluated to: once per instance (a block's expression has one value per use)."""
    values = evaluated(analysis, token.path)
    text = str(token.text)
    written = ", ".join(f"`{m.group(0)}`" for m in EXPRESSION.finditer(text)) or f"`{text}`"
    if values is None:
        return None
    if len(set(map(_show, values))) == 1:
        return f"{written} = `{_show(values[0])}`"
    shown = ", ".join(f"`{_show(v)}`" for v in values[:16])
    return f"{written} = {shown}{', …' if len(values) > 16 else ''} ({len(values)} evaluations, one per instance)"


def evaluated(analysis: Analysis, path: KeyPath) -> list[Any] | None:
    """The values recorded at ``path`` (or inside a recorded list or mapping above it); else the
    value with the spec's parameters (inputs' shapes), or None where it cannot be known."""
    for end in range(len(path), 0, -1):
        recorded = analysis.evaluated.get(path[:end])
        if recorded:
            return [_index(value, path[end:]) for value in recorded]
    if analysis.compiled is None:
        return None
    try:
        return [substitute(_raw(analysis.data, path), analysis.compiled.params)]
    except (ExpressionError, LookupError, TypeError):
        return None


def _index(value: Any, rest: KeyPath) -> Any:
    """The part of a recorded value at ``rest`` (the value itself where it has no such part)."""
    for part in rest:
        try:
            value = value[part]
        except (LookupError, TypeError):
            return value
    return value


def _raw(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 200 else text[:197] + "..."
