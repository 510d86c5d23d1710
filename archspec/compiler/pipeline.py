"""The pipeline in one place: load -> validate -> bind parameters -> elaborate (expand + infer)."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archspec.compiler.elaborate import Elaborator
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.lint import lint
from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.layers.base import MAX_SIZE, Shape
from archspec.spec.expressions import ExpressionError, substitute
from archspec.spec.source import Path_, SetValue, Source, parse_yaml, read_spec_file
from archspec.spec.suggest import did_you_mean
from archspec.spec.validate import validate_document

PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def compile_spec(
    spec: str | Path, *, overrides: dict[str, Any] | None = None, allow_errors: bool = False
) -> CompiledSpec:
    """Compile a spec given as a path or as YAML text.

    Raises :class:`SpecError` carrying every diagnostic, unless ``allow_errors``, in
    which case the partial result (inferred up to the failing nodes) is returned with
    ``diagnostics`` set -- how diagrams of broken specs are drawn.
    """
    text, file = _read(spec)
    with _no_gc():
        return _compile(text, file, overrides or {}, allow_errors)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Compiling allocates many small, acyclic objects; the cyclic GC would make big specs superlinear."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile(text: str, file: str, overrides: dict[str, Any], allow_errors: bool) -> CompiledSpec:
    data, source = parse_yaml(text, file)
    model, invalid, bad_paths = validate_document(data, source)
    broken_nodes = _broken_nodes(bad_paths)
    if model is None and broken_nodes is None:
        raise SpecError(invalid)
    params = bind_params(data.get("params") or {}, overrides, source)
    input_shape = _input_shape(data["input"], params, source)
    elaborator = Elaborator(source, data.get("blocks") or {}, params, input_shape, skip=broken_nodes or set())
    root = elaborator.run(data["layers"], data.get("output"))
    diagnostics = sorted([*invalid, *elaborator.diagnostics], key=lambda d: (d.line, d.column))
    if diagnostics and not allow_errors:
        raise SpecError(diagnostics)
    compiled = CompiledSpec(
        name=model.name if model else str(data.get("name", "spec")),
        description=model.description if model else None,
        source=source,
        params=params,
        input_shape=input_shape,
        root=root,
        nodes=elaborator.nodes,
        values=elaborator.values,
        diagnostics=diagnostics,
        spec=model,
    )
    if not diagnostics:
        compiled.warnings = lint(compiled)
    return compiled


def _broken_nodes(bad_paths: set[Path_]) -> set[Path_] | None:
    """The nodes that failed validation, or None when something outside nodes failed.

    Invalid nodes are skipped by elaboration (their dependents silently), so shape errors
    elsewhere in the same spec are still reported in the same run.
    """
    nodes = set()
    for path in bad_paths:
        node = _node_prefix(path)
        if node is None:
            return None
        nodes.add(node)
    return nodes


def _node_prefix(path: Path_) -> Path_ | None:
    """``("layers", 3, "kernel_size")`` -> ``("layers", 3)``; None outside any node."""
    cut = None
    for index in range(1, len(path)):
        if path[index - 1] == "layers" and isinstance(path[index], int):
            cut = index + 1
    if cut is None or (path[0] not in ("layers", "blocks")) or (path[0] == "blocks" and path[2:3] != ("layers",)):
        return None
    return path[:cut]


def _read(spec: str | Path) -> tuple[str, str]:
    if isinstance(spec, Path) or ("\n" not in spec and (spec.endswith((".yaml", ".yml")) or os.path.isfile(spec))):
        return read_spec_file(spec), str(spec)
    return spec, "<spec>"


def bind_params(declared: dict[str, Any], overrides: dict[str, Any], source: Source) -> dict[str, Any]:
    """Parameter values in declaration order; defaults may use earlier parameters."""
    unknown = [name for name in overrides if name not in declared]
    if unknown:
        declares = "the spec declares: " + (", ".join(declared) or "no parameters")
        raise UsageError(
            [
                source.diagnostic(
                    "unknown-param",
                    f"cannot set '{name}': the spec has no parameter '{name}'",
                    ("params",),
                    hint=did_you_mean(name, declared, what="parameter") or declares,
                    key=True,
                )
                for name in unknown
            ]
        )
    values: dict[str, Any] = {}
    errors: list[Diagnostic] = []
    for name, default in declared.items():
        if not PARAM_NAME.match(name):
            errors.append(
                source.diagnostic(
                    "bad-param",
                    f"parameter name '{name}' is not an identifier",
                    ("params", name),
                    hint="use letters, digits and '_', not starting with a digit, so '${...}' can refer to it",
                    key=True,
                )
            )
            continue
        try:
            override = overrides.get(name, default)  # a SetValue from --set, or a plain value from load()
            values[name] = substitute(override.value if isinstance(override, SetValue) else override, values)
        except ExpressionError as exc:
            errors.append(source.diagnostic("expression", str(exc), ("params", name), hint=exc.hint))
    if errors:
        raise SpecError(errors)
    return values


def _input_shape(raw: dict[str, Any], params: dict[str, Any], source: Source) -> Shape:
    try:
        channels = substitute(raw["channels"], params)
        size = substitute(raw.get("size", []), params)
    except ExpressionError as exc:
        raise SpecError([source.diagnostic("expression", str(exc), ("input",), hint=exc.hint)]) from None
    dims = [channels, *([size, size] if isinstance(size, int) else size)]
    if not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_SIZE for d in dims):
        raise SpecError([source.diagnostic("bad-value", f"input shape {dims} must be positive integers", ("input",))])
    return tuple(dims)
