"""Layer-by-layer summaries of a compiled spec: text table, JSON and Markdown (no torch import).

Every row counts the work twice, as two tools do: ``macs`` are torchinfo's mult-adds (each
weight once per output position of a conv, once per sample otherwise), ``flops`` are what
``torch.utils.flop_counter.FlopCounterMode`` counts (2 per multiply-add of matmuls and
convolutions, 0 for everything else). Besides shapes, parameters and those counts, every
row carries two static estimates:

* the **receptive field** on the model's input, per spatial axis, and the cumulative stride
  ("jump") between neighbouring output positions, measured in input positions. A sliding
  window with effective kernel ``k_eff = dilation * (kernel - 1) + 1`` and stride ``s`` gives
  ``rf_out = rf_in + (k_eff - 1) * jump_in`` and ``jump_out = jump_in * s``; merges take the
  maximum over their inputs; layers whose every output sees the whole input (adaptive pools,
  linear layers) and layers that change the number of axes (flatten) make it ``global``. The
  per-layer rule is :meth:`archspec.layers.base.Layer.receptive`.
* the **activation memory**: output elements x the dtype's bytes, per sample; a held tensor
  (``Parameter``, ``Buffer``) is the module's, allocated once: counted as parameters, not here.

Several inputs and outputs are listed by name, and a node with several outputs (``chunk``)
shows each part's shape (``2 x [8, 12]``); dtypes other than float32 follow the shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from archspec.backends.sizes import input_sizes, sizes_lines
from archspec.backends.values import (
    input_bytes,
    io_line,
    node_activation_bytes,
    node_text,
    node_types,
    tensor_json,
)
from archspec.backends.values import shape_text as shape_text  # re-exported: diagrams and docs use it
from archspec.compiler.ir import INPUT, CompiledSpec, Node
from archspec.layers.base import Shape
from archspec.safetext import escape_controls

BYTES_PER_ELEMENT = 4
"""float32 activations."""


@dataclass(frozen=True)
class Receptive:
    """The receptive field of one value on the model's input."""

    size: tuple[int | Fraction, ...]
    """Per spatial axis, in input positions (a fraction only after upsampling); global: the input's spatial size."""
    jump: tuple[int | Fraction, ...] | None
    """Input positions between neighbouring outputs, per axis; ``None`` when global."""
    is_global: bool = False

    def size_text(self) -> str:
        if self.is_global:
            return "global"
        return _axes(self.size)

    def jump_text(self) -> str:
        return "-" if self.jump is None else _axes(self.jump)

    def to_json(self) -> dict[str, Any]:
        return {
            "size": [_number(v) for v in self.size],
            "jump": None if self.jump is None else [_number(j) for j in self.jump],
            "global": self.is_global,
        }


def receptive_fields(compiled: CompiledSpec) -> dict[str, Receptive]:
    """The receptive field of every value path that could be inferred (``"input"`` included)."""
    spatial = tuple(compiled.input_shape[1:])
    whole = Receptive(spatial, None, True)
    start = Receptive((1,) * len(spatial), (1,) * len(spatial))
    fields: dict[str, Receptive] = {INPUT: start, next(iter(compiled.inputs), INPUT): start}
    for node in compiled.nodes:
        if node.result is None or not node.input_shapes:
            continue
        batched = [s for s in node.sources if (t := compiled.types.get(s)) is None or t.batched]
        inputs = [fields.get(source) for source in batched]  # a held tensor has no position on the input
        if not inputs or any(rf is None for rf in inputs):
            continue
        field = _step(node, _combine(inputs), whole)  # type: ignore[arg-type]
        fields[node.path] = field
        for index in range(len(node.result.parts or ())):
            fields[f"{node.path}.{index}"] = field
    return fields


def _combine(inputs: list[Receptive]) -> Receptive:
    """Merges: the widest field and the coarsest jump over the inputs, per axis."""
    if len(inputs) == 1:
        return inputs[0]
    if any(rf.is_global for rf in inputs):
        return next(rf for rf in inputs if rf.is_global)
    ranks = {len(rf.size) for rf in inputs}
    if len(ranks) > 1:
        return Receptive(inputs[0].size, None, True)
    size = tuple(max(axis) for axis in zip(*(rf.size for rf in inputs), strict=True))
    jump = tuple(max(axis) for axis in zip(*(rf.jump or () for rf in inputs), strict=True))
    return Receptive(size, jump)


def _step(node: Node, field: Receptive, whole: Receptive) -> Receptive:
    if field.is_global:
        return field
    in_spatial = len(node.input_shapes[0]) - 1 if node.input_shapes else 0
    out_spatial = len(node.shape or ()) - 1
    rule = node.layer.receptive()
    if rule == "global" or in_spatial != len(field.size) or out_spatial != in_spatial:
        return whole
    if rule is None:
        return field
    kernel, stride = rule
    if len(kernel) != len(field.size) or len(stride) != len(field.size):
        return field
    jump = field.jump or (1,) * len(field.size)
    size = tuple(_int(rf + (k - 1) * j) for rf, k, j in zip(field.size, kernel, jump, strict=True))
    return Receptive(size, tuple(_int(j * s) for j, s in zip(jump, stride, strict=True)))


def _int(value: int | Fraction) -> int | Fraction:
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def _number(value: int | Fraction) -> int | float:
    return value if isinstance(value, int) else float(value)


def _axes(values: tuple[int | Fraction, ...]) -> str:
    if not values:
        return "-"
    texts = [str(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def key_args(node: Node) -> str:
    """The args column: what the layer says about itself given its shapes (``64->128 3x3 p1``)."""
    return node.layer.key_args(node.input_shapes, node.shape)


def activation_bytes(shape: Shape | None) -> int:
    """float32 bytes of one sample's tensor of this shape (:mod:`values` counts at each value's dtype)."""
    return 0 if shape is None else math.prod(shape) * BYTES_PER_ELEMENT


def summary_data(compiled: CompiledSpec) -> dict[str, Any]:
    """The summary as plain data; shapes are lists of ints, batch excluded."""
    return _table(compiled)[0]


def _table(compiled: CompiledSpec) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """The summary data and its rows as text cells (``HEADERS``)."""
    fields = receptive_fields(compiled)
    layers: list[dict[str, Any]] = []
    rows: list[tuple[str, ...]] = []
    for node in compiled.nodes:
        rf = fields.get(node.path)
        memory = node_activation_bytes(compiled, node)
        types = node_types(compiled, node)
        row: dict[str, Any] = {
            "id": node.path,
            "type": node.type,
            "args": key_args(node),
            "inputs": node.sources,
            "output_shape": list(node.shape or ()),
            "output_shapes": [list(p) for p in node.result.parts] if node.result and node.result.parts else None,
            "dtype": types[0].dtype if types else None,
            "held": node.layer.stored,
            "params": node.result.params if node.result else 0,
            "trainable_params": node.result.trainable if node.result else 0,
            "macs": node.result.macs if node.result else 0,
            "flops": node.result.flops if node.result else 0,
            "receptive_field": rf.to_json() if rf else None,
            "activation_bytes": memory,
        }
        layers.append(row)
        rows.append(
            (
                escape_controls(node.path),
                escape_controls(node.type),
                node_text(compiled, node),
                f"{row['params']:,}",
                f"{row['macs']:,}",
                f"{row['flops']:,}",
                rf.size_text() if rf else "?",
                rf.jump_text() if rf else "?",
                human_bytes(memory),
            )
        )
    data: dict[str, Any] = {
        "name": compiled.name,
        "description": compiled.description,
        "params_values": compiled.params,
        "input_shape": list(compiled.input_shape),
        "output_shape": list(compiled.output_shape or ()),
        "inputs": {name: tensor_json(value) for name, value in compiled.inputs.items()},
        "outputs": {name: tensor_json(value) for name, value in compiled.outputs.items()},
        "io": io_line(compiled),
        "params": compiled.params_total,
        "trainable_params": compiled.trainable_params,
        "macs": compiled.macs,
        "unreachable": sorted(compiled.unreachable),
        "unreachable_macs": compiled.unreachable_macs,
        "flops": compiled.flops,
        "unreachable_flops": compiled.unreachable_flops,
        "activation_bytes": sum(row["activation_bytes"] for row in layers),
        "input_bytes": input_bytes(compiled),
        "input_sizes": [axis.to_json() for axis in input_sizes(compiled)],
        "layers": layers,
    }
    return data, rows


HEADERS = ("id", "type", "output shape", "params", "mult-adds", "FLOPs", "rf", "jump", "activations")
RIGHT = frozenset({3, 4, 5, 6, 7, 8})


def summary_text(compiled: CompiledSpec) -> str:
    """A fixed-width table like torchinfo's, one row per layer, then totals."""
    data, rows = _table(compiled)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i in RIGHT else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    rule = "-" * len(line(HEADERS))
    out = [
        f"{escape_controls(data['name'])}: {escape_controls(data['io'])}",
        rule,
        line(HEADERS),
        rule,
    ]
    out += [line(r) for r in rows]
    out += [rule, *totals(data)]
    return "\n".join(out) + "\n"


def summary_markdown(compiled: CompiledSpec) -> str:
    """A GitHub-flavoured Markdown table (for docs), then the totals as a list."""
    data, rows = _table(compiled)
    headers = (
        "id",
        "type",
        "args",
        "output shape",
        "params",
        "mult-adds",
        "FLOPs",
        "receptive field",
        "jump",
        "activations",
    )
    align = ("---", "---", "---", "---", "--:", "--:", "--:", "--:", "--:", "--:")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    for row, cells in zip(data["layers"], rows, strict=True):
        args = f"`{row['args']}`" if row["args"] else ""
        values = (f"`{cells[0]}`", cells[1], args, f"`{cells[2]}`", *cells[3:])
        lines.append("| " + " | ".join(_md_cell(v) for v in values) + " |")
    lines.append("")
    lines.append(f"- {_md_cell(data['io'])}")
    lines += [f"- {text}" for text in totals(data)]
    return "\n".join(lines) + "\n"


def totals(data: dict[str, Any]) -> list[str]:
    """The totals lines of :func:`summary_data`'s result."""
    unused = data.get("unreachable") or []

    def apart(key: str) -> str:
        return f" (not counted: {data[key]:,} in {len(unused)} node(s) the output does not use)" if unused else ""

    return [
        f"params: {data['params']:,} (trainable {data['trainable_params']:,})",
        f"mult-adds: {data['macs']:,} per sample (torchinfo's count){apart('unreachable_macs')}",
        f"FLOPs: {data['flops']:,} per sample (FlopCounterMode's count){apart('unreachable_flops')}",
        f"activation memory: {human_bytes(data['activation_bytes'])} per sample "
        f"(every layer output at its dtype, held tensors excluded; input {human_bytes(data['input_bytes'])})",
        *sizes_lines(data.get("input_sizes") or []),
    ]


def _md_cell(text: str) -> str:
    return escape_controls(text).replace("|", "\\|")


def human_bytes(count: int) -> str:
    """``1536`` -> ``1.5 KiB``; exact bytes below 1 KiB."""
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")
