"""The validation pass: the Pydantic models, errors mapped to source positions.

The JSON Schema (for editors and tools) is generated from the same models and a test
fuzzes that both agree, so it is not run here: Pydantic's messages know more
(did-you-mean for unknown layer types and arguments).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import Diagnostic
from archspec.layers.registry import layer_types
from archspec.spec import models
from archspec.spec.source import Path_, Source
from archspec.spec.suggest import did_you_mean


def validate_document(data: Any, source: Source) -> tuple[models.Spec | None, list[Diagnostic], set[Path_]]:
    """Check the raw document: the Spec model (or None), diagnostics, and the data paths at fault."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} scalar"
        diagnostic = source.diagnostic(
            "not-a-mapping",
            f"a spec must be a mapping at the top level, got {kind}",
            hint="start the file with 'archspec: 1', then 'name:', 'input:' and 'layers:'",
        )
        return None, [diagnostic], {()}
    try:
        spec = models.Spec.model_validate(data)
    except ValidationError as exc:
        bad = {data_path(data, error["loc"]) for error in exc.errors(include_url=False)}
        return None, pydantic_diagnostics(exc, data, source), bad
    return spec, [], set()


def pydantic_diagnostics(exc: ValidationError, data: Any, source: Source, base: Path_ = ()) -> list[Diagnostic]:
    """One diagnostic per offending data path (union branches merged), in source order."""
    by_path: dict[Path_, list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False):
        path = data_path(data, error["loc"])
        by_path.setdefault(path, []).append(dict(error))
    _drop_missing_explained_by_typos(by_path)
    diagnostics = [_diagnostic(errors, path, data, source, base) for path, errors in by_path.items()]
    return sorted(diagnostics, key=lambda d: (d.line, d.column))


def _drop_missing_explained_by_typos(by_path: dict[Path_, list[dict[str, Any]]]) -> None:
    """``kernal_size: 3`` is one mistake, not two: don't also report ``kernel_size`` as missing."""
    extra = {path for path, errors in by_path.items() if errors[0]["type"] == "extra_forbidden"}
    for path, errors in list(by_path.items()):
        if errors[0]["type"] != "missing":
            continue
        siblings = [str(p[-1]) for p in extra if p[:-1] == path[:-1]]
        if difflib.get_close_matches(str(path[-1]), siblings, n=1, cutoff=0.6):
            del by_path[path]


def data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
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


def _diagnostic(errors: list[dict[str, Any]], path: Path_, data: Any, source: Source, base: Path_) -> Diagnostic:
    first = errors[0]
    kind = first["type"]
    where = (*base, *path)
    name = str(path[-1]) if path else "spec"
    if kind == "extra_forbidden":
        parent = _get(data, path[:-1])
        hint = did_you_mean(name, _fields_for(parent, path[:-1]), what="argument")
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
        return source.diagnostic("bad-node", "a node must be a mapping like '{type: ReLU}'", where)
    value = _get(data, path)
    messages = sorted({_expected(e) for e in errors})
    detail = (
        messages[0] if len(messages) == 1 else "expected " + "; or ".join(m.removeprefix("expected ") for m in messages)
    )
    return source.diagnostic("bad-value", f"invalid value {_show(value)} for '{name}': {detail}", where)


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


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _fields_for(parent: Any, path: Path_) -> list[str]:
    """Field names of the model that validated ``parent`` (for did-you-mean)."""
    model: type[BaseModel] | None = None
    if path == ():
        model = models.Spec
    elif path == ("input",):
        model = models.InputSpec
    elif path == ("train",):
        model = models.TrainConfig
    elif len(path) == 2 and path[0] == "blocks":
        model = models.BlockDef
    elif isinstance(parent, dict):
        kind = models.node_kind(parent)
        model = models.Group if kind == "group" else layer_types().get(str(parent.get("type")))
    return list(model.model_fields) if model else []
