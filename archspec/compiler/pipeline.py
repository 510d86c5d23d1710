"""The pipeline in one place: load -> validate -> bind parameters -> elaborate (expand + infer) -> reach -> lint.

Loading (read, parse, validate) does not depend on parameter values or input sizes, so it
happens once: :func:`load_spec` returns a :class:`LoadedSpec`, which compiles again for
each set of overrides or inputs (what sweeps and the input-size scan do) without
re-reading the file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspec.compiler.elaborate import ElaborationCache, Elaborator
from archspec.compiler.ir import INPUT, CompiledSpec
from archspec.compiler.lint import lint
from archspec.compiler.params import bind_params
from archspec.compiler.reach import unreachable_nodes
from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.expressions import ExpressionError, substitute
from archspec.frontend.models import InputSpec, Spec
from archspec.frontend.source import KeyPath, Source, parse_yaml, read_spec_file
from archspec.frontend.validate import validate_document
from archspec.layers.base import MAX_SIZE, TensorType

InputShapes = Mapping[str, Sequence[int]]
"""Input shapes that replace the spec's, per sample, by input name (``input``: the first input)."""


def compile_spec(
    spec: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    allow_errors: bool = False,
    budget: Budget = DEFAULT_BUDGET,
    input_shapes: InputShapes | None = None,
) -> CompiledSpec:
    """Compile a spec given as a path or as YAML text: load -> validate -> bind -> elaborate -> reach -> lint.

    Raises :class:`SpecError` carrying every diagnostic, unless ``allow_errors``, in
    which case the partial result (inferred up to the failing nodes) is returned with
    ``diagnostics`` set -- how diagrams of broken specs are drawn. ``overrides`` are
    literal parameter values (never expressions), checked against the declarations;
    ``input_shapes`` evaluate the spec at other input sizes (``{"input": (3, 299, 299)}``).
    """
    loaded = load_spec(spec, budget=budget)
    return loaded.compile(overrides=overrides, allow_errors=allow_errors, input_shapes=input_shapes)


def load_spec(spec: str | Path, *, budget: Budget = DEFAULT_BUDGET) -> LoadedSpec:
    """Read, parse and validate a spec once (a path or YAML text); raises SpecError when nothing is usable."""
    text, file = _read(spec, budget)
    return load_text(text, file, budget=budget)


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
    loaded = dataclasses.replace(load_text(text, file, budget=budget), make_elaborator=elaborator)
    return loaded.compile(overrides=overrides, allow_errors=allow_errors)


def load_text(text: str, file: str = "<spec>", *, budget: Budget = DEFAULT_BUDGET) -> LoadedSpec:
    """:func:`load_spec` of YAML text already read (``file`` names it in diagnostics)."""
    data, source = parse_yaml(text, file, budget=budget)
    typed, invalid = validate_document(data, source, budget=budget)
    if typed is None:
        raise SpecError(_finish(invalid, budget))
    return LoadedSpec(typed, source, invalid, budget)


@dataclass(eq=False)
class LoadedSpec:
    """A validated spec, ready to compile for any parameter values and input shapes.

    Compiling again re-runs only what depends on them (binding, elaboration, reach, lint);
    each layer's substitution plan is worked out once and shared by every compile.
    """

    spec: Spec
    source: Source
    invalid: list[Diagnostic]
    """Diagnostics of the validation pass (invalid nodes became typed placeholders)."""
    budget: Budget = DEFAULT_BUDGET
    cache: ElaborationCache = field(default_factory=ElaborationCache, repr=False)
    """Substitution plans and validated layers, shared across compiles (it lives as long as the typed spec)."""
    make_elaborator: Callable[..., Elaborator] = field(default=Elaborator, repr=False)
    """The elaboration pass, or a subclass that watches it (the language server's)."""

    def compile(
        self,
        *,
        overrides: dict[str, Any] | None = None,
        allow_errors: bool = False,
        input_shapes: InputShapes | None = None,
        warn: bool = True,
    ) -> CompiledSpec:
        """Bind ``overrides``, then elaborate at ``input_shapes`` (see :func:`compile_spec`);
        ``warn=False`` skips the lint pass."""
        params = bind_params(self.spec.params, overrides or {}, self.source, budget=self.budget)
        inputs = self.inputs(params, input_shapes)
        return self.elaborate(params, inputs, allow_errors=allow_errors, warn=warn)

    def inputs(self, params: dict[str, Any], shapes: InputShapes | None = None) -> dict[str, TensorType]:
        """The model's inputs by name (``input`` when the spec has one), shapes evaluated or replaced."""
        inputs = _inputs(self.spec, params, self.source, self.budget)
        return replace_shapes(inputs, shapes) if shapes else inputs

    def elaborate(
        self,
        params: dict[str, Any],
        inputs: dict[str, TensorType],
        *,
        allow_errors: bool = False,
        max_errors: int | None = None,
        reach: bool = True,
        warn: bool = True,
    ) -> CompiledSpec:
        """Elaborate bound ``params`` at ``inputs``, then the reach and lint passes (``reach``, ``warn``).

        ``max_errors=0`` stops at the first error: a quick validity probe.
        """
        budget = self.budget if max_errors is None else dataclasses.replace(self.budget, max_errors=max_errors)
        spec = self.spec
        elaborator = self.make_elaborator(
            self.source,
            spec.blocks,
            params,
            inputs,
            budget=budget,
            named_inputs=spec.inputs is not None,
            cache=self.cache,
        )
        root = elaborator.run(spec.layers, spec.output)
        diagnostics = _finish([*self.invalid, *elaborator.diagnostics], self.budget)
        if diagnostics and not allow_errors:
            raise SpecError(diagnostics)
        compiled = CompiledSpec(
            name=spec.name,
            description=spec.description,
            source=self.source,
            params=params,
            input_shape=next(iter(inputs.values())).shape,
            inputs=inputs,
            root=root,
            nodes=elaborator.nodes,
            types=elaborator.types,
            diagnostics=diagnostics,
            spec=spec,
            loaded=self,
        )
        if reach:
            compiled.unreachable = unreachable_nodes(compiled)
        if warn and reach and not diagnostics:
            compiled.warnings = lint(compiled)
        return compiled


def replace_shapes(inputs: dict[str, TensorType], shapes: InputShapes) -> dict[str, TensorType]:
    """``inputs`` with the shapes in ``shapes`` (by input name; ``input`` is the first), dtypes kept.

    Raises UsageError for an unknown name, or a shape that is not positive sizes of the same rank.
    """
    names = list(inputs)
    replaced = dict(inputs)
    for name, shape in shapes.items():
        target = names[0] if name == INPUT else name
        if target not in inputs:
            raise UsageError([_input_problem(f"the spec has no input '{name}'", f"name one of: {', '.join(names)}")])
        written = inputs[target]
        dims = tuple(shape)
        if len(dims) != len(written.shape):
            shown = "x".join(map(str, written.shape)) or "a scalar"
            raise UsageError(
                [
                    _input_problem(
                        f"input '{target}' has {len(written.shape)} dims ({shown}); got {len(dims)}",
                        f"give the whole per-sample shape (batch excluded), e.g. {shown}",
                    )
                ]
            )
        if not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_SIZE for d in dims):
            raise UsageError([_input_problem(f"input '{target}' shape {list(dims)} must be positive integers")])
        replaced[target] = written._replace(shape=dims)
    return replaced


def _input_problem(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic("usage", f"--input: {message}", file="<command line>", hint=hint)


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


def _input_type(
    written: InputSpec, where: KeyPath, params: dict[str, Any], source: Source, budget: Budget
) -> TensorType:
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
    written: InputSpec, where: KeyPath, params: dict[str, Any], source: Source, budget: Budget
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
