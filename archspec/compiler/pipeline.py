"""The pipeline in one place: load -> validate -> bind parameters -> elaborate (expand + infer) -> reach -> lint."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archspec.compiler.elaborate import Elaborator
from archspec.compiler.ir import INPUT, CompiledSpec
from archspec.compiler.lint import lint
from archspec.compiler.params import bind_params
from archspec.compiler.reach import unreachable_nodes
from archspec.errors import Diagnostic, SpecError
from archspec.layers.base import MAX_SIZE, TensorType
from archspec.spec.budget import DEFAULT_BUDGET, Budget
from archspec.spec.expressions import ExpressionError, substitute
from archspec.spec.models import InputSpec, Spec
from archspec.spec.source import Path_, Source, parse_yaml, read_spec_file
from archspec.spec.validate import validate_document


def compile_spec(
    spec: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    allow_errors: bool = False,
    budget: Budget = DEFAULT_BUDGET,
) -> CompiledSpec:
    """Compile a spec given as a path or as YAML text: load -> validate -> bind -> elaborate -> reach -> lint.

    Raises :class:`SpecError` carrying every diagnostic, unless ``allow_errors``, in
    which case the partial result (inferred up to the failing nodes) is returned with
    ``diagnostics`` set -- how diagrams of broken specs are drawn. ``overrides`` are
    literal parameter values (never expressions), checked against the declarations.
    """
    text, file = _read(spec, budget)
    return compile_text(text, file, overrides=overrides, allow_errors=allow_errors, budget=budget)


def compile_text(
    text: str,
    file: str = "<spec>",
    *,
    overrides: dict[str, Any] | None = None,
    allow_errors: bool = False,
    budget: Budget = DEFAULT_BUDGET,
    elaborator: Callable[..., Elaborator] = Elaborator,
) -> CompiledSpec:
    """:func:`compile_spec` of YAML text that is never taken for a path (an editor's buffer, where a
    half-typed one-line text may name a file); ``elaborator`` lets a tool watch the pass (the
    language server records what each ``${...}`` evaluated to)."""
    return _compile(text, file, overrides or {}, allow_errors, budget, elaborator)


def _compile(
    text: str, file: str, overrides: dict[str, Any], allow_errors: bool, budget: Budget, make: Callable[..., Elaborator]
) -> CompiledSpec:
    data, source = parse_yaml(text, file, budget=budget)
    spec, invalid = validate_document(data, source, budget=budget)
    if spec is None:
        raise SpecError(_finish(invalid, budget))
    params = bind_params(spec.params, overrides, source, budget=budget)
    inputs = _inputs(spec, params, source, budget)
    input_shape = next(iter(inputs.values())).shape
    elaborator = make(source, spec.blocks, params, inputs, budget=budget, named_inputs=spec.inputs is not None)
    root = elaborator.run(spec.layers, spec.output)
    diagnostics = _finish([*invalid, *elaborator.diagnostics], budget)
    if diagnostics and not allow_errors:
        raise SpecError(diagnostics)
    compiled = CompiledSpec(
        name=spec.name,
        description=spec.description,
        source=source,
        params=params,
        input_shape=input_shape,
        inputs=inputs,
        root=root,
        nodes=elaborator.nodes,
        types=elaborator.types,
        diagnostics=diagnostics,
        spec=spec,
    )
    compiled.unreachable = unreachable_nodes(compiled)
    if not diagnostics:
        compiled.warnings = lint(compiled)
    return compiled


def _finish(diagnostics: list[Diagnostic], budget: Budget) -> list[Diagnostic]:
    """Each diagnostic once, in source order, at most ``budget.max_errors`` of them."""
    unique = sorted(set(diagnostics), key=lambda d: (d.line, d.column, d.code, d.message))
    if len(unique) <= budget.max_errors:
        return unique
    shown = unique[: budget.max_errors]
    last = shown[-1]
    note = Diagnostic(
        "too-many-errors",
        f"stopped after {budget.max_errors} errors",
        file=last.file,
        line=last.line,
        column=last.column,
        hint="fix these first, or raise the limit with --max-errors",
    )
    return [*shown, note]


def _read(spec: str | Path, budget: Budget) -> tuple[str, str]:
    if isinstance(spec, Path) or ("\n" not in spec and (spec.endswith((".yaml", ".yml")) or os.path.isfile(spec))):
        return read_spec_file(spec, budget=budget), str(spec)
    return spec, "<spec>"


def _inputs(spec: Spec, params: dict[str, Any], source: Source, budget: Budget) -> dict[str, TensorType]:
    """The model's inputs by name (``input`` when the spec has one), with their shapes evaluated."""
    if spec.inputs is None:
        return {INPUT: _input_type(spec.input, ("input",), params, source, budget)}
    return {
        name: _input_type(written, ("inputs", name), params, source, budget) for name, written in spec.inputs.items()
    }


def _input_type(written: InputSpec, where: Path_, params: dict[str, Any], source: Source, budget: Budget) -> TensorType:
    try:
        if written.channels is not None:
            channels = substitute(written.channels, params, budget=budget)
            size = substitute(written.size if written.size is not None else [], params, budget=budget)
            dims = [channels, *([size, size] if isinstance(size, int) else size)]
        else:
            dims = substitute(written.shape, params, budget=budget)
    except ExpressionError as exc:
        raise SpecError([source.diagnostic("expression", str(exc), where, hint=exc.hint)]) from None
    if not isinstance(dims, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_SIZE for d in dims
    ):
        raise SpecError([source.diagnostic("bad-value", f"input shape {dims} must be positive integers", where)])
    low, high = _input_range(written, where, params, source, budget)
    return TensorType(tuple(dims), written.dtype, low=low, high=high)


def _input_range(
    written: InputSpec, where: Path_, params: dict[str, Any], source: Source, budget: Budget
) -> tuple[int | None, int | None]:
    """An integer input's ``[low, high)``, its expressions evaluated (``[0, "${vocab_size}"]``)."""
    if written.range is None:
        return None, None
    try:
        low, high = substitute(written.range, params, budget=budget)
    except ExpressionError as exc:
        raise SpecError([source.diagnostic("expression", str(exc), (*where, "range"), hint=exc.hint)]) from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or low >= high:
        message = f"input range [{low!r}, {high!r}] must be two integers low < high"
        raise SpecError([source.diagnostic("bad-value", message, (*where, "range"), hint="[low, high): ids lie in it")])
    return low, high
