"""Go to definition and find references: blocks, node ids, parameters and inputs, by where they are written.

Every name a spec defines or reads is found from the buffer's tokens and their data paths
(no compile needed, so navigation works in a spec with errors):

* a block is defined by its key under ``blocks:`` and read by ``use:``;
* a node id is defined by ``id:`` and read by ``inputs:`` (``chunk.1`` reads ``chunk``) and
  ``output:``, within one node list (ids are per scope);
* a parameter is defined under ``params:`` (the spec's, or a block's) and read by the names in
  ``${...}`` (a block's own parameter shadows the spec's) and by a block use's arguments;
* a block's (or the model's) named inputs are defined by its ``inputs:`` list (or mapping).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archspec.frontend.expressions import EXPRESSION
from archspec.frontend.source import KeyPath
from archspec.lsp.analysis import Analysis
from archspec.lsp.text import Pos, Span, Token, value_at

Scope = KeyPath
NODE_KEYS = frozenset({"id", "use", "type", "inputs", "repeat", "when", "inline", "doc", "layers"})


@dataclass(frozen=True)
class Symbol:
    kind: str
    """``block``, ``node``, ``param`` or ``input``."""
    scope: Scope
    """Where the name is defined: a node list's path, ``("blocks", name)`` for a block's parameters, ``()``."""
    name: str


@dataclass(frozen=True)
class Occurrence:
    symbol: Symbol
    span: Span
    definition: bool


def occurrences(analysis: Analysis) -> list[Occurrence]:
    """Every definition and use of a name in the buffer, in text order."""
    cached = analysis.cache.get("occurrences")
    if cached is None:
        data = analysis.data if isinstance(analysis.data, dict) else {}
        cached = analysis.cache["occurrences"] = [o for t in analysis.tokens.scalars for o in _classify(t, data)]
    return cached


def at(analysis: Analysis, pos: Pos) -> Occurrence | None:
    """The definition or use under the cursor (the innermost, for a name inside ``${...}``)."""
    hits = [o for o in occurrences(analysis) if o.span.contains(pos)]
    return min(hits, key=lambda o: (o.span.end[0] - o.span.start[0], o.span.end[1] - o.span.start[1]), default=None)


def definitions(analysis: Analysis, pos: Pos) -> list[Occurrence]:
    here = at(analysis, pos)
    if here is None:
        return []
    return [o for o in occurrences(analysis) if o.definition and o.symbol == here.symbol]


def references(analysis: Analysis, pos: Pos, *, include_definition: bool) -> list[Occurrence]:
    here = at(analysis, pos)
    if here is None:
        return []
    return [o for o in occurrences(analysis) if o.symbol == here.symbol and (include_definition or not o.definition)]


def _classify(token: Token, data: dict[str, Any]) -> list[Occurrence]:
    path = token.path
    text = token.text
    if text is None:
        return []
    if token.key:
        return _key_occurrence(token, data)
    if "${" in text:
        return list(_expression_names(token, data))
    if len(path) >= 2 and path[-1] == "use" and isinstance(path[-2], int):
        return [Occurrence(Symbol("block", (), text), token.span, False)]
    if len(path) >= 3 and path[-1] == "id" and isinstance(path[-2], int) and path[-3] == "layers":
        return [Occurrence(Symbol("node", path[:-2], text), token.span, True)]
    if path[:1] == ("output",) and len(path) <= 2:
        return [_node_read(("layers",), text, token, data)]
    inputs = _inputs_owner(path)
    if inputs is not None:
        return [_node_read(inputs, text, token, data)]
    if len(path) == 4 and path[0] == "blocks" and path[2] == "inputs":
        return [Occurrence(Symbol("input", ("blocks", path[1], "layers"), text), token.span, True)]
    return []


def _key_occurrence(token: Token, data: dict[str, Any]) -> list[Occurrence]:
    path, name = token.path, str(token.text)
    if len(path) == 2 and path[0] == "blocks":
        return [Occurrence(Symbol("block", (), name), token.span, True)]
    if len(path) == 2 and path[0] == "params":
        return [Occurrence(Symbol("param", (), name), token.span, True)]
    if len(path) == 4 and path[0] == "blocks" and path[2] == "params":
        return [Occurrence(Symbol("param", ("blocks", path[1]), name), token.span, True)]
    if len(path) == 2 and path[0] == "inputs":
        return [Occurrence(Symbol("input", ("layers",), name), token.span, True)]
    node = value_at(data, path[:-1])
    if name in NODE_KEYS:
        return []
    if len(path) >= 2 and isinstance(path[-2], int) and isinstance(node, dict) and isinstance(node.get("use"), str):
        return [Occurrence(Symbol("param", ("blocks", node["use"]), name), token.span, False)]  # a block argument
    return []


def _inputs_owner(path: KeyPath) -> KeyPath | None:
    """The node list whose ids ``inputs: [...]`` at ``path`` reads (``(..., 'layers', 3, 'inputs', 0)``)."""
    if len(path) >= 4 and path[-2] == "inputs" and isinstance(path[-3], int) and path[-4] == "layers":
        return path[:-3]
    return None


def _node_read(scope: Scope, text: str, token: Token, data: dict[str, Any]) -> Occurrence:
    """A read of a node id, a block's input name, or a model input."""
    base = text.partition(".")[0]
    if base == "input":
        return Occurrence(Symbol("input", scope, base), token.span, False)  # the scope's input: defined nowhere
    if len(scope) == 3 and scope[0] == "blocks" and base in (value_at(data, (*scope[:2], "inputs")) or []):
        return Occurrence(Symbol("input", scope, base), token.span, False)
    if scope == ("layers",) and isinstance(data.get("inputs"), dict) and base in data["inputs"]:
        return Occurrence(Symbol("input", scope, base), token.span, False)
    return Occurrence(Symbol("node", scope, base), token.span, False)


def _expression_names(token: Token, data: dict[str, Any]) -> Iterator[Occurrence]:
    """The parameters the ``${...}`` in a one-line value read, each at its own characters."""
    (line, start), end = token.span.start, token.span.end
    if end[0] != line:
        return
    raw = token.text or ""  # a quoted value's escapes would shift the columns; expressions have none
    offset = start + (1 if token.quoted else 0)
    block = token.path[1] if token.path[:1] == ("blocks",) and len(token.path) > 1 else None
    block_params = value_at(data, ("blocks", block, "params")) if block is not None else None
    spec_params = data.get("params") if isinstance(data.get("params"), dict) else {}
    for name, column in expression_names(raw):
        if isinstance(block_params, dict) and name in block_params:
            scope: Scope = ("blocks", str(block))
        elif isinstance(spec_params, dict) and name in spec_params:
            scope = ()
        else:
            continue  # in_channels, a repeat index, a comprehension's variable, a typo
        yield Occurrence(
            Symbol("param", scope, name), Span((line, offset + column), (line, offset + column + len(name))), False
        )


def expression_names(text: str) -> Iterator[tuple[str, int]]:
    """``(name, column)`` of each variable read by the ``${...}`` in ``text`` (columns in ``text``)."""
    for match in EXPRESSION.finditer(text):
        inner = match.group(1)
        lead = len(inner) - len(inner.lstrip())
        base = match.start(1) + lead
        try:
            tree = ast.parse(inner.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bound = {
            n.id
            for node in ast.walk(tree)
            if isinstance(node, ast.comprehension)
            for n in ast.walk(node.target)
            if isinstance(n, ast.Name)
        }
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        source = inner.strip().encode("utf-8")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in bound and id(node) not in called:
                yield node.id, base + len(source[: node.col_offset].decode("utf-8", "replace"))
