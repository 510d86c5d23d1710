"""Completion, read from the line being typed (which rarely parses) and the last spec that did.

What is offered depends on the text before the cursor:

* after ``type:``: the layer types; after ``use:``: the spec's blocks;
* inside ``${``: the spec's parameters, and a block's own inside its definition;
* inside ``inputs:``: the ids of the earlier nodes of the same scope, ``input`` and named inputs;
* where a key goes in a node: the arguments of its layer type with torch's defaults (from the
  layer's Pydantic fields), or its block's parameters; at the top level, the spec's sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticUndefined

from archspec.frontend.source import KeyPath
from archspec.layers.base import NODE_FIELDS
from archspec.layers.registry import layer_types
from archspec.lsp.analysis import Analysis
from archspec.lsp.text import Pos, value_at

_TYPE_VALUE = re.compile(r"""(?:^|[\s{,])type:\s*["']?[A-Za-z0-9_]*$""")
_USE_VALUE = re.compile(r"""(?:^|[\s{,])use:\s*["']?[A-Za-z0-9_]*$""")
_ROLE_KEY = re.compile(r"""(?:^|[\s{,])inputs:\s*\{(?:[^}:]*:[^},]*,)*\s*[A-Za-z_]*$""")
_FLOW_INPUTS = re.compile(r"""(?:^|[\s{,])inputs:\s*(?:\[[^\]]*|\{[^}]*:\s*["']?[\w.-]*)$""")
_BLOCK_ITEM = re.compile(r"""^\s*-\s+["']?[\w.-]*$""")
_BLOCK_KEY = re.compile(r"""^(\s*)(?:-\s+)?[A-Za-z_]\w*$|^(\s*)(?:-\s+)?$""")
_FLOW_KEY = re.compile(r"""[{,]\s*[A-Za-z_]?\w*$""")
_WRITTEN_KEY = re.compile(r"""(?:^|[\s{,])(?:-\s+)?([A-Za-z_]\w*)\s*:""")
_KIND_OF = re.compile(r"""(?:^|[\s{,])(?:-\s+)?(type|use):\s*["']?([A-Za-z0-9_]+)""")
TOP_LEVEL = ("archspec", "name", "description", "input", "inputs", "params", "blocks", "layers", "output", "train")
BLOCK_VARIABLES = ("in_channels", "in_shape", "in_shapes")


@dataclass(frozen=True)
class Item:
    label: str
    kind: str
    """``type``, ``block``, ``param``, ``node``, ``argument`` or ``key``."""
    detail: str = ""
    documentation: str = ""
    insert: str | None = None


def complete(lines: list[str], pos: Pos, structure: Analysis | None) -> list[Item]:
    """Completions at ``pos`` in the buffer ``lines``; ``structure`` is the last analysis whose YAML parsed."""
    line = lines[pos[0]] if pos[0] < len(lines) else ""
    before = line[: pos[1]]
    data = structure.data if structure is not None and isinstance(structure.data, dict) else {}
    where = _path_before(structure, pos) if structure is not None else ()
    opened = before.rfind("${")
    if opened >= 0 and "}" not in before[opened:]:
        return _parameters(data, where)
    if _TYPE_VALUE.search(before):
        return [Item(name, "type") for name in layer_types()]
    if _USE_VALUE.search(before):
        return [Item(str(name), "block", _doc(block)) for name, block in _mapping(data.get("blocks")).items()]
    if _ROLE_KEY.search(before):
        return _roles(lines, pos, before)
    if _FLOW_INPUTS.search(before) or (_BLOCK_ITEM.match(before) and _under_inputs(lines, pos[0])):
        return _node_ids(data, where, pos, structure)
    return _keys(lines, pos, before, data)


def _path_before(analysis: Analysis | None, pos: Pos) -> KeyPath:
    """The data path of the last token that starts before the cursor: where in the spec the cursor is."""
    if analysis is None:
        return ()
    best: KeyPath = ()
    for token in analysis.tokens.scalars:
        if token.span.start >= pos:
            break
        best = token.path
    return best


def _parameters(data: dict[str, Any], where: KeyPath) -> list[Item]:
    items = [Item(str(k), "param", f"= {_short(v)}") for k, v in _mapping(data.get("params")).items()]
    if where[:1] == ("blocks",) and len(where) > 1:
        block = _mapping(_mapping(data.get("blocks")).get(str(where[1])))
        items += [
            Item(str(k), "param", f"block parameter = {_short(v)}") for k, v in _mapping(block.get("params")).items()
        ]
        items += [Item(name, "param", "the block's input") for name in BLOCK_VARIABLES]
    return items


def _under_inputs(lines: list[str], number: int) -> bool:
    """A block-style list item whose list is the value of ``inputs:``."""
    indent = len(lines[number]) - len(lines[number].lstrip())
    for above in reversed(lines[:number]):
        stripped = above.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(above) - len(above.lstrip()) < indent or not stripped.startswith("-"):
            return bool(re.search(r"(?:^|[\s{,-])inputs:\s*$", above))
    return False


def _node_ids(data: dict[str, Any], where: KeyPath, pos: Pos, analysis: Analysis | None) -> list[Item]:
    """The names a node may read: earlier ids of its node list, ``input``, and the scope's named inputs."""
    scope, index = _node_place(where)
    items = [Item("input", "node", "the scope's input")]
    nodes = value_at(data, scope)
    if isinstance(nodes, list):
        last = index if index is not None else len(nodes)
        span = analysis.tokens.values.get((*scope, last)) if analysis is not None and index is not None else None
        if span is not None and pos > span.end:
            last += 1  # the cursor is past that node: a new one may read it
        for node in nodes[:last]:
            if isinstance(node, dict) and isinstance(node.get("id"), str | int) and "${" not in str(node["id"]):
                what = node.get("type") or node.get("use") or "group"
                items.append(Item(str(node["id"]), "node", str(what)))
    if len(scope) == 3 and scope[0] == "blocks":
        names = value_at(data, (*scope[:2], "inputs"))
        items += [Item(str(n), "node", "block input") for n in names or []]
    if scope == ("layers",):
        items += [Item(str(n), "node", "model input") for n in _mapping(data.get("inputs"))]
    return items


def _node_place(where: KeyPath) -> tuple[KeyPath, int | None]:
    """The node list and index of the innermost node in ``where``."""
    for end in range(len(where) - 1, 0, -1):
        if where[end - 1] == "layers" and isinstance(where[end], int):
            return where[:end], int(where[end])
    return ("layers",), None


def _keys(lines: list[str], pos: Pos, before: str, data: dict[str, Any]) -> list[Item]:
    flow = before.rfind("{") > before.rfind("}") and _FLOW_KEY.search(before)
    block = _BLOCK_KEY.match(before)
    if not flow and not block:
        return []
    if block and not flow and not (block.group(1) or block.group(2) or "-" in before):
        return [Item(k, "key") for k in TOP_LEVEL]
    text = _node_text(lines, pos, before, bool(flow))
    written = set(_WRITTEN_KEY.findall(text))
    kind = dict(_KIND_OF.findall(text))
    if "type" in kind:
        items = _arguments(kind["type"])
    elif "use" in kind:
        block_def = _mapping(_mapping(data.get("blocks")).get(kind["use"]))
        items = [
            Item(str(k), "argument", f"default: {_short(v)}" if v is not None else "required")
            for k, v in _mapping(block_def.get("params")).items()
        ]
        items += [Item("inline", "key", "splice the block's nodes into this scope")]
    else:
        items = [Item("type", "key", "a layer type"), Item("use", "key", "a block"), Item("layers", "key", "a group")]
    items += [Item(k, "key") for k in ("id", "inputs", "repeat", "when", "doc")]
    return [_with_colon(i) for i in items if i.label not in written]


def _roles(lines: list[str], pos: Pos, before: str) -> list[Item]:
    """The names a layer takes its inputs by (``inputs: {query: ..., key: ...}``)."""
    node = before[: before.rfind("inputs:")]
    kind = dict(_KIND_OF.findall(_node_text(lines, pos, node, node.rfind("{") > node.rfind("}"))))
    cls = layer_types().get(kind.get("type", ""))
    roles = cls.input_roles if cls is not None else ()
    written = set(re.findall(r"(\w+)\s*:", before[before.rfind("inputs:") + 7 :]))
    return [Item(role, "key", "an input by name", insert=f"{role}: ") for role in roles if role not in written]


def _arguments(type_name: str) -> list[Item]:
    """A layer type's arguments, with torch's defaults, as its Pydantic fields declare them."""
    cls = layer_types().get(type_name)
    if cls is None:
        return []
    items = []
    for name, info in cls.model_fields.items():
        if name in NODE_FIELDS:
            continue
        if name in cls.inferred_fields:
            detail = "inferred from the input when omitted"
        elif info.default is PydanticUndefined:
            detail = "required"
        else:
            detail = f"default: {_short(info.default)}"
        items.append(Item(name, "argument", detail, info.description or (cls.__doc__ or "").strip()))
    return items


def _node_text(lines: list[str], pos: Pos, before: str, flow: bool) -> str:
    """The text of the node the cursor is in: its flow mapping, or its block mapping's lines."""
    line = lines[pos[0]] if pos[0] < len(lines) else ""
    if flow:
        return line[before.rfind("{") :]
    indent = len(before) - len(before.lstrip(" -"))
    collected = [line]
    starts_item = line.lstrip().startswith("-")
    for number in range(pos[0] - 1, -1 if not starts_item else pos[0] - 1, -1):  # up to the item's first line
        above = lines[number]
        depth = len(above) - len(above.lstrip(" -"))
        if above.strip() and depth < indent:
            break
        if above.strip() and depth == indent:
            collected.append(above)
            if above.lstrip().startswith("-"):
                break
    if not line.lstrip().startswith("-"):
        for below in lines[pos[0] + 1 :]:
            depth = len(below) - len(below.lstrip(" -"))
            if below.strip() and (depth < indent or below.lstrip().startswith("-")):
                break
            if depth == indent:
                collected.append(below)
    return "\n".join(collected)


def _with_colon(item: Item) -> Item:
    return Item(item.label, item.kind, item.detail, item.documentation, item.label + ": ")


def _doc(block: Any) -> str:
    doc = _mapping(block).get("doc")
    return doc if isinstance(doc, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
