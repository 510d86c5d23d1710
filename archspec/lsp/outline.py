"""The node tree for an editor's outline, and each node's output shape as an inlay hint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from archspec.frontend.source import KeyPath
from archspec.lsp.analysis import Analysis
from archspec.lsp.facts import distinct, facts, outermost
from archspec.lsp.text import Pos, Span


@dataclass
class Entry:
    """One outline entry: a section, parameter, block or node, with its children."""

    name: str
    detail: str
    kind: str
    """``section``, ``param``, ``block``, ``module`` (a group or block use) or ``layer``."""
    span: Span
    selection: Span
    children: list[Entry] = field(default_factory=list)


def outline(analysis: Analysis) -> list[Entry]:
    data = analysis.data if isinstance(analysis.data, dict) else {}
    entries = []
    for section in ("params", "blocks", "layers"):
        key = analysis.tokens.keys.get((section,))
        value = analysis.tokens.values.get((section,))
        if key is None or value is None:
            continue
        entry = Entry(section, "", "section", Span(key.start, max(key.end, value.end)), key)
        entry.children = list(_section(analysis, section, data.get(section)))
        entries.append(entry)
    return entries


def _section(analysis: Analysis, section: str, value: Any) -> Iterator[Entry]:
    if section == "layers":
        yield from _nodes(analysis, ("layers",), value)
        return
    if not isinstance(value, dict):
        return
    for name, item in value.items():
        path = (section, name)
        entry = _entry(analysis, path, str(name), "", "param" if section == "params" else "block")
        if entry is None:
            continue
        if section == "blocks" and isinstance(item, dict):
            doc = item.get("doc")
            entry.detail = doc if isinstance(doc, str) else ""
            entry.children = list(_nodes(analysis, (*path, "layers"), item.get("layers")))
        elif section == "params":
            entry.detail = _short(item)
        yield entry


def _nodes(analysis: Analysis, path: KeyPath, items: Any) -> Iterator[Entry]:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        node_path = (*path, index)
        if not isinstance(item, dict):
            continue
        name = item.get("id")
        what = item.get("type") or (f"use {item['use']}" if "use" in item else "group" if "layers" in item else "")
        shape = output_text(analysis, node_path)
        detail = " ".join(str(part) for part in (what, f"→ {shape}" if shape else "") if part)
        kind = "layer" if "type" in item else "module"
        entry = _entry(analysis, node_path, str(name) if name is not None else f"#{index}", detail, kind)
        if entry is None:
            continue
        entry.children = list(_nodes(analysis, (*node_path, "layers"), item.get("layers")))
        yield entry


def _entry(analysis: Analysis, path: KeyPath, name: str, detail: str, kind: str) -> Entry | None:
    value = analysis.tokens.values.get(path)
    key = analysis.tokens.keys.get(path)
    if value is None:
        return None
    start = key.start if key else value.start
    span = Span(start, max(value.end, start))
    selection = analysis.tokens.values.get((*path, "id")) or key or Span(start, start)
    return Entry(name or "?", detail, kind, span, selection)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def output_text(analysis: Analysis, path: KeyPath) -> str | None:
    """A spec node's output type (the distinct ones of its instances), or None where inference did not reach it."""
    compiled = analysis.compiled
    instances = analysis.instances.get(path)
    if compiled is None or not instances:
        return None
    outputs = [facts(compiled, i).output for i in outermost(instances)]
    known = [o for o in outputs if o != "?"]
    return distinct(known) if known else None


def inlay_hints(analysis: Analysis, first: int, last: int) -> list[tuple[Pos, str]]:
    """``(position, label)`` for each node whose first line lies in ``[first, last]``: after a one-line
    node's closing brace, else at the end of its first line."""
    hints = []
    for path in analysis.instances:
        span = analysis.tokens.values.get(path)
        if span is None or not first <= span.start[0] <= last:
            continue
        label = output_text(analysis, path)
        if label is None:
            continue
        line = analysis.text_lines[span.start[0]] if span.start[0] < len(analysis.text_lines) else ""
        end = span.end if span.end[0] == span.start[0] else (span.start[0], len(line.rstrip()))
        hints.append((end, f"→ {label}"))
    return sorted(hints)
