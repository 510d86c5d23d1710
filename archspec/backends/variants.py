"""Variants of a compiled spec, one parameter changed at a time, to check generic classes against.

A class written over its parameters is checked against every instance of one compiled
spec (:mod:`archspec.backends.blockgen`); a size that a layer's shape rule computes with a
step that forgets its expression (``int(x)``) still looks constant there. Compiling the
spec again with one parameter changed, and writing the classes again, shows it: a class
whose text changes depends on that parameter in a way codegen did not follow, and is then
written per instance. Only static compilation runs here (no torch).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archspec.compiler.ir import CompiledSpec
from archspec.compiler.params import declare
from archspec.errors import ArchspecError
from archspec.frontend.expressions import ExpressionError, substitute


def overridden(compiled: CompiledSpec) -> dict[str, Any]:
    """The parameters whose value is not what their default gives: the overrides it was compiled with."""
    written = getattr(compiled.spec, "params", None) or {}
    values: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    for name, declaration in written.items():
        final = compiled.params.get(name)
        try:
            default = substitute(declare(name, declaration).default, values)
        except ExpressionError:
            default = None
        if default != final or type(default) is not type(final):
            changed[name] = final
        values[name] = final
    return changed


def _changes(value: Any) -> Iterator[Any]:
    """Other values of the same type, most likely valid first."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        yield from (value * 2, value + 1)
    elif isinstance(value, float):
        yield from (value / 2, value * 2) if value else (0.25,)
    elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        yield from ([v * 2 for v in value], [v + 1 for v in value], [*value[:-1], value[-1] * 2])


def variants(compiled: CompiledSpec, *, limit: int = 24) -> Iterator[tuple[str, CompiledSpec]]:
    """(changed parameter, compiled spec) for each parameter that one change leaves a valid spec."""
    from archspec.compiler.pipeline import compile_spec

    base = overridden(compiled)
    made = 0
    for name, value in compiled.params.items():
        for changed in _changes(value):
            if made >= limit:
                return
            try:
                variant = compile_spec(compiled.source.text, overrides={**base, name: changed})
            except (ArchspecError, ValueError, RecursionError):
                continue
            made += 1
            yield name, variant
            break


__all__ = ["overridden", "variants"]
