"""The validation pass: raw YAML data -> the typed :class:`~archspec.frontend.models.Spec`, once.

The Pydantic models are the one authority on what is valid (the JSON Schema generated
from them is for editors and other tools; a fuzz test keeps the two in agreement). A node
that fails validation becomes an :class:`~archspec.frontend.models.InvalidNode` placeholder, so
one bad node costs one diagnostic and the rest of the spec is still expanded and checked.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import Diagnostic
from archspec.frontend import models, quick
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.describe import describe_field
from archspec.frontend.source import KeyPath, Source
from archspec.frontend.suggest import did_you_mean
from archspec.layers.base import Repeat
from archspec.layers.registry import layer_types


def validate_document(
    data: Any, source: Source, *, budget: Budget = DEFAULT_BUDGET
) -> tuple[models.Spec | None, list[Diagnostic]]:
    """The typed spec (None when something outside the nodes is invalid) and its diagnostics, unordered.

    Diagnostics past ``budget.max_errors`` (plus one, so the caller can tell) are not built:
    a spec with thousands of broken nodes costs the same as one with a hundred. The pipeline
    orders and deduplicates what every pass reports.
    """
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} scalar"
        return None, [
            source.diagnostic(
                "not-a-mapping",
                f"a spec must be a mapping at the top level, got {kind}",
                hint="start the file with 'archspec: 1', then 'name:', 'input:' and 'layers:'",
            )
        ]
    if "archspec" not in data:
        return None, [
            source.diagnostic(
                "not-a-spec",
                "this YAML file is not an archspec spec: it has no 'archspec:' key",
                hint="archspec specs start with 'archspec: 1' (the language version)",
            )
        ]
    invalid: dict[int, models.InvalidNode] = {}
    spec: models.Spec | None = None
    diagnostics: list[Diagnostic] = []
    try:
        spec = quick.model_validate(models.Spec, data, {models.PLACEHOLDERS: invalid})
    except ValidationError as exc:
        diagnostics += pydantic_diagnostics(exc, data, source)
    for path, node in _located(data, invalid):
        if len(diagnostics) > budget.max_errors:
            break
        diagnostics += _node_diagnostics(node, path, source)
    return spec, diagnostics


def _located(data: dict[str, Any], invalid: dict[int, models.InvalidNode]) -> Iterator[tuple[KeyPath, Any]]:
    """Each failed node with its path: a placeholder (found by the ``id()`` of its raw mapping, unique
    in freshly loaded data) or a non-mapping item of a node list."""
    for path, items in _node_lists(data):
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                yield (*path, index), models.InvalidNode(item, ())
            elif id(item) in invalid:
                yield (*path, index), invalid[id(item)]


def _node_lists(data: dict[str, Any]) -> Iterator[tuple[KeyPath, list[Any]]]:
    """Every list of nodes in the document: the spec's, each block's and each group's ``layers``."""
    roots: list[tuple[KeyPath, Any]] = [(("layers",), data.get("layers"))]
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        roots += [(("blocks", name, "layers"), b.get("layers")) for name, b in blocks.items() if isinstance(b, dict)]
    while roots:
        path, items = roots.pop(0)
        if not isinstance(items, list):
            continue
        yield path, items
        for index, item in enumerate(items):
            if models.node_kind(item) == "group":
                roots.append(((*path, index, "layers"), item["layers"]))


def _node_diagnostics(node: models.InvalidNode, path: KeyPath, source: Source) -> list[Diagnostic]:
    if not isinstance(node.raw, dict):
        return [_bad_node(source, path)]
    by_path = _by_path(node.errors, node.raw)
    return [_diagnostic(errors, sub, node.raw, source, path) for sub, errors in by_path.items()]


def pydantic_diagnostics(
    exc: ValidationError, data: Any, source: Source, base: KeyPath = (), *, resolved: bool = False
) -> list[Diagnostic]:
    """One diagnostic per offending data path (union branches merged)."""
    by_path = _by_path(exc.errors(include_url=False), data)
    return [_diagnostic(errors, path, data, source, base, resolved) for path, errors in by_path.items()]


def _by_path(errors: Any, data: Any) -> dict[KeyPath, list[dict[str, Any]]]:
    by_path: dict[KeyPath, list[dict[str, Any]]] = {}
    for error in errors:
        by_path.setdefault(data_path(data, error["loc"]), []).append(dict(error))
    _drop_missing_explained_by_typos(by_path)
    return by_path


def _drop_missing_explained_by_typos(by_path: dict[KeyPath, list[dict[str, Any]]]) -> None:
    """``kernal_size: 3`` is one mistake, not two: don't also report ``kernel_size`` as missing."""
    import difflib  # here: only an invalid spec needs it, and validate starts faster without

    extra = {path for path, errors in by_path.items() if errors[0]["type"] == "extra_forbidden"}
    for path, errors in list(by_path.items()):
        if errors[0]["type"] != "missing":
            continue
        siblings = [str(p[-1]) for p in extra if p[:-1] == path[:-1]]
        if difflib.get_close_matches(str(path[-1]), siblings, n=1, cutoff=0.6):
            del by_path[path]


def data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Drop Pydantic's union tags from ``loc``, keeping only real keys and indexes."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in _TAGS and not _is_tag(part):
            path.append(part)  # a missing or extra key
            break
        else:
            continue
        path.append(part)
    return tuple(path)


_TAGS = {"layer", "group", "use"}


def _is_tag(part: str) -> bool:
    return "[" in part or part.startswith(("constrained-", "function-"))


def _diagnostic(
    errors: list[dict[str, Any]], path: KeyPath, data: Any, source: Source, base: KeyPath, resolved: bool = False
) -> Diagnostic:
    first = errors[0]
    kind = first["type"]
    where = (*base, *path)
    name = str(path[-1]) if path else "spec"
    if kind == "extra_forbidden":
        parent = _get(data, path[:-1])
        hint = did_you_mean(name, _fields_for(parent, (*base, *path[:-1])), what="argument")
        return source.diagnostic("unknown-argument", f"unknown argument '{name}'", where, hint=hint, key=True)
    if kind == "missing":
        hint = f"add '{name}: ...'"
        return source.diagnostic("missing-argument", f"missing required argument '{name}'", where[:-1], hint=hint)
    if kind == "union_tag_invalid":
        tag = first["ctx"]["tag"]
        return source.diagnostic(
            "unknown-layer",
            f"unknown layer type '{tag}'",
            (*where, "type"),
            hint=did_you_mean(tag, layer_types(), what="layer"),
        )
    if kind == "union_tag_not_found":
        return source.diagnostic(
            "missing-type",
            "this node has no 'type' (layer), 'layers' (group) or 'use' (block)",
            where,
            hint="add e.g. 'type: Conv2d', or 'use: <block name>'",
        )
    if kind == "node_kind":
        return _bad_node(source, where)
    return _bad_value(errors, path, data, source, base, resolved)


def _bad_node(source: Source, where: KeyPath) -> Diagnostic:
    return source.diagnostic("bad-node", "a node must be a mapping like '{type: ReLU}'", where)


def _bad_value(
    errors: list[dict[str, Any]], path: KeyPath, data: Any, source: Source, base: KeyPath, resolved: bool
) -> Diagnostic:
    """Say what the argument needs (from its schema), not which union branches Pydantic tried."""
    value = _get(data, path)
    owner, field = _owning_field(data, path, base)
    expected = describe_field(owner, field, resolved=resolved) if owner is not None and field is not None else None
    name = field or (str(path[-1]) if path else "spec")
    if expected is None:
        messages = sorted({_expected(e) for e in errors})
        expected = "; or ".join(messages)
    else:
        expected = "expected " + expected
    hint = _value_hint(value, expected, resolved)
    return source.diagnostic(
        "bad-value", f"invalid value {_show(value)} for '{name}': {expected}", (*base, *path), hint=hint
    )


def _value_hint(value: Any, expected: str, resolved: bool) -> str | None:
    """A float where an integer is needed: from an expression, ``/`` was meant as ``//``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and infinity are refused (torch would train to NaN losses): write a finite number"
    if isinstance(value, float) and "an integer" in expected and "a number" not in expected:
        if resolved:
            return "the expression gives a float ('/' divides exactly); use '//' for integer division"
        if value.is_integer():
            return f"write {int(value)}, without the decimal point"
    return None


def _owning_field(data: Any, path: KeyPath, base: KeyPath) -> tuple[type[BaseModel] | None, str | None]:
    """The model and field that own the value at ``path``: the deepest mapping with a known model."""
    for cut in range(len(path) - 1, -1, -1):
        parent, key = _get(data, path[:cut]), path[cut]
        if isinstance(parent, dict) and isinstance(key, str):
            model = _model_for(parent, (*base, *path[:cut]))
            if model is not None and key in model.model_fields:
                return model, key
    return None, None


def _expected(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "string_pattern_mismatch" and "\\$\\{" in str(error.get("ctx", {}).get("pattern", "")):
        return "expected an expression '${...}'"
    message: str = error["msg"]
    if message.startswith("Input should be"):
        return "expected " + message.removeprefix("Input should be ")
    return message.removeprefix("Value error, ")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _fields_for(parent: Any, path: KeyPath) -> list[str]:
    """Field names of the model that validated ``parent`` (for did-you-mean)."""
    model = _model_for(parent, path)
    return list(model.model_fields) if model else []


def _model_for(parent: Any, path: KeyPath) -> type[BaseModel] | None:
    if path == ():
        return models.Spec
    if path == ("input",):
        return models.InputSpec
    if path == ("train",):
        return models.TrainConfig
    if len(path) == 2 and path[0] == "blocks":
        return models.BlockDef
    if len(path) in (2, 4) and path[-2] == "params":
        return models.ParamDecl
    if isinstance(parent, dict) and path and isinstance(path[-1], int):
        kind = models.node_kind(parent)
        if kind == "group":
            return models.Group
        if kind == "use":
            return models.BlockUse
        return layer_types().get(str(parent.get("type")))
    if path and path[-1] == "repeat":
        return Repeat
    return None
