"""How summaries, diagrams and docs show one value: shape, dtype, parts, and the bytes it takes.

Every backend that prints a value reads it here (no torch import), so a token input reads
``[5] int64`` in the summary, the diagram and the docs alike. ``float32``, the default, is
not written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from archspec.compiler.ir import INPUT, CompiledSpec, Node
from archspec.layers.base import DEFAULT_DTYPE, DTYPE_BYTES, TensorType


def shape_text(shape: Sequence[int] | None) -> str:
    """``(64, 56, 56)`` -> ``[64, 56, 56]``; unknown shapes are ``?``."""
    return "?" if shape is None else "[" + ", ".join(map(str, shape)) + "]"


def dtype_suffix(dtype: str | None) -> str:
    """`` int64`` for a dtype other than float32, else nothing."""
    return "" if dtype in (None, DEFAULT_DTYPE) else f" {dtype}"


def type_text(value: TensorType | None) -> str:
    """``[5] int64``, ``[3, 32, 32]``; ``?`` when unknown."""
    return "?" if value is None else shape_text(value.shape) + dtype_suffix(value.dtype)


def node_types(compiled: CompiledSpec, node: Node) -> list[TensorType]:
    """The node's output types: one, or one per part of a several-output node (chunk, split)."""
    if node.result is None:
        return []
    if node.result.parts is None:
        found = compiled.types.get(node.path)
        return [found] if found else []
    parts = (compiled.types.get(f"{node.path}.{i}") for i in range(len(node.result.parts)))
    return [t for t in parts if t is not None]


def node_text(compiled: CompiledSpec, node: Node) -> str:
    """A node's output column: ``[8, 12]``, ``2 x [8, 12]`` (equal parts) or ``[8, 12], [4, 12]``, dtype after."""
    if node.result is None:
        return "?"
    shapes = node.result.parts or (node.shape,)
    types = node_types(compiled, node)
    suffix = dtype_suffix(types[0].dtype if types else None)
    if node.result.parts is None:
        return shape_text(node.shape) + suffix
    if len(set(shapes)) == 1:
        return f"{len(shapes)} x {shape_text(shapes[0])}{suffix}"
    return ", ".join(shape_text(s) for s in shapes) + suffix


def value_bytes(value: TensorType | None) -> int:
    """Bytes of one sample's tensor (of the whole tensor, for one without a batch dim)."""
    return 0 if value is None else math.prod(value.shape) * DTYPE_BYTES[value.dtype]


def node_activation_bytes(compiled: CompiledSpec, node: Node) -> int:
    """Bytes per sample of a node's outputs at their dtypes; 0 for a held tensor (a parameter or
    buffer is allocated once, not per sample: it counts as the module's, not as an activation)."""
    if node.layer.stored:
        return 0
    return sum(value_bytes(t) for t in node_types(compiled, node) if t.batched)


def input_bytes(compiled: CompiledSpec) -> int:
    """Bytes per sample of every model input at its dtype."""
    return sum(value_bytes(t) for t in compiled.inputs.values())


def named(types: dict[str, TensorType | None], default: str) -> str:
    """``[3, 32, 32]`` for a lone ``default`` value; ``x [8, 6, 4], tokens [5] int64`` for named ones."""
    if list(types) == [default]:
        return type_text(types[default])
    return ", ".join(f"{name} {type_text(value)}" for name, value in types.items())


def io_line(compiled: CompiledSpec) -> str:
    """``input [3, 32, 32] -> output [10]``; with several, by name: ``inputs x [8, 6], tokens [5] int64 ->
    outputs a [8, 8], b [] int64``."""
    inputs: dict[str, TensorType | None] = dict(compiled.inputs)
    outputs = compiled.outputs
    head = "input" if list(inputs) == [INPUT] else ("inputs" if len(inputs) > 1 else "input")
    tail = "output" if len(outputs) == 1 else "outputs"
    return f"{head} {named(inputs, INPUT)} -> {tail} {named(outputs, 'output')}"


def tensor_json(value: TensorType | None) -> dict[str, object] | None:
    """``{"shape": [5], "dtype": "int64"}`` (with ``range`` for integer inputs that declare one)."""
    if value is None:
        return None
    data: dict[str, object] = {"shape": list(value.shape), "dtype": value.dtype}
    if value.low is not None and value.high is not None:
        data["range"] = [value.low, value.high]
    return data
