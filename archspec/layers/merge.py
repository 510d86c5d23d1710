"""Merge nodes: ``add`` and ``mul`` (broadcasting) and ``concat`` (along one dim).

These are functions, not ``nn.Module`` classes: the torch backend emits them as
operations in the generated ``forward`` (``a + b``, ``torch.cat([a, b], 1)``).
Broadcasting follows torch's rules (align trailing dims, sizes equal or 1); the
batch dim aligns only when every input has the same rank, so archspec requires that.
"""

import math
from typing import ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    AnyInt,
    Arg,
    Expr,
    Keeps,
    Layer,
    LayerResult,
    Op,
    Saved,
    Saving,
    Shape,
    TensorType,
    Unbatched,
    fold_result_type,
)
from archspec.layers.registry import module_class, register_class


def _same_rank(inputs: list[Shape]) -> None:
    ranks = {len(s) for s in inputs}
    if len(ranks) > 1:
        shapes = ", ".join(str(list(s)) for s in inputs)
        raise LayerError(
            f"inputs have different ranks: {shapes}",
            hint="make every input the same rank (e.g. Flatten or pool the larger one)",
        )


def broadcast(inputs: list[Shape]) -> Shape:
    """torch.broadcast_shapes for per-sample shapes of equal rank, or with tensors without a batch dim."""
    if any(isinstance(s, Unbatched) for s in inputs):
        return _broadcast_with_unbatched(inputs)
    _same_rank(inputs)
    result = []
    for axis, sizes in enumerate(zip(*inputs, strict=True)):
        distinct = {s for s in sizes if s != 1}
        if len(distinct) > 1:
            shapes = ", ".join(str(list(s)) for s in inputs)
            raise LayerError(
                f"shapes {shapes} do not broadcast: per-sample dim {axis} (batch excluded) has sizes "
                f"{', '.join(map(str, sizes))} in input order",
                hint="sizes must match or be 1; add a 1x1 conv or pooling to align them",
            )
        result.append(distinct.pop() if distinct else 1)
    return tuple(result)


BATCH = -1
"""The batch dim in :func:`_broadcast_with_unbatched`: any size at run time."""


def _broadcast_with_unbatched(inputs: list[Shape]) -> Shape:
    """torch's broadcasting of whole tensors, the batch being a size known only at run time.

    A tensor without a batch dim (a learned tensor) aligns with the trailing dims; it may
    reach the batch dim only with size 1. The result keeps the batch as dim 0.
    """
    _same_rank([s for s in inputs if not isinstance(s, Unbatched)])  # else the batch meets a per-sample dim
    full = [tuple(s) if isinstance(s, Unbatched) else (BATCH, *s) for s in inputs]
    rank = max(len(f) for f in full)
    shapes = ", ".join(f"{list(s)}" + (" (no batch dim)" if isinstance(s, Unbatched) else "") for s in inputs)
    result: list[int] = []
    for axis in range(-rank, 0):
        sizes = {f[axis] for f in full if len(f) >= -axis} - {1}
        if len(sizes) > 1:
            what = "meets the batch dim" if BATCH in sizes else "has sizes " + ", ".join(map(str, sorted(sizes)))
            raise LayerError(
                f"shapes {shapes} do not broadcast: dim {axis} (from the end) {what}",
                hint="sizes must match or be 1; a learned tensor lines up with the trailing dims",
            )
        result.append(sizes.pop() if sizes else 1)
    if all(isinstance(s, Unbatched) for s in inputs):
        return Unbatched(result)
    if result[0] != BATCH:
        raise LayerError(
            f"shapes {shapes} do not broadcast: a learned tensor has more dims than the batched input, "
            "so the batch would not stay dim 0",
            hint="give the learned tensor at most as many dims as the batched tensor has with its batch",
        )
    return tuple(result[1:])


class _Merge(Layer):
    family: ClassVar[str] = "merge"
    keeps: ClassVar[Keeps] = "nothing"
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int | None] = None
    functional: ClassVar[bool] = True
    batch_free: ClassVar[bool] = True
    accepts: ClassVar[tuple[str, ...]] = ("float", "int", "bool")  # bool + bool is logical or, as in torch

    def output_dtype(self, types: list[TensorType]) -> str:
        return fold_result_type(types)

    def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
        label = self.label()
        return "" if label in ("+", "x", "cat") else label  # the type name says it all


@register_class("add")
def _add_class() -> type[Layer]:
    class Add(_Merge):
        """Elementwise sum of two or more inputs (residual connections)."""

        keeps_layout: ClassVar[bool] = True

        type: Literal["add"]
        in_place_sum: ClassVar[bool] = True

        def call(self, inputs: list[Shape]) -> Op:
            return Op.fold("+", len(inputs))

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult(broadcast(inputs))

        def label(self) -> str:
            return "+"

    return Add


@register_class("mul")
def _mul_class() -> type[Layer]:
    class Mul(_Merge):
        """Elementwise product of two or more inputs (gating, squeeze-and-excitation)."""

        keeps_layout: ClassVar[bool] = True

        type: Literal["mul"]

        def saved(self, call: Saving) -> list[Saved]:
            """``((a * b) * c)``: each product keeps one factor for the other's gradient; from the third
            factor on, the running product (a new tensor) is a factor."""
            kept: list[Saved] = []
            running, running_grad = Saved("input", 0), call.grads[0]
            for index in range(1, len(call.inputs)):
                kept += [Saved("input", index)] * running_grad + [running] * call.grads[index]
                first = call.inputs[: index + 1]
                shape = broadcast([t.layer_shape() for t in first])
                batched = any(t.batched for t in first)
                running = Saved("new", 0, math.prod(shape), fold_result_type(list(first)), batched)
                running_grad = running_grad or call.grads[index]
            return kept

        def call(self, inputs: list[Shape]) -> Op:
            return Op.fold("*", len(inputs))

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult(broadcast(inputs))

        def label(self) -> str:
            return "x"

    return Mul


@register_class("concat")
def _concat_class() -> type[Layer]:
    class Concat(_Merge):
        """torch.cat along ``dim`` of the batched tensor (default 1: channels)."""

        type: Literal["concat"]
        batch_free: ClassVar[bool] = False
        accepts: ClassVar[tuple[str, ...]] = ("float", "int", "bool")
        dim: AnyInt | Expr = Field(
            default=1, description="dim of the batched tensor, as in torch.cat; 0 (batch) is not allowed"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            _same_rank(inputs)
            rank = len(inputs[0]) + 1
            if not -rank <= self.dim < rank:
                raise LayerError(
                    f"dim (={self.dim}) is out of range for tensors of rank {rank} (batch included)",
                    hint=f"use a dim in [{-rank + 1}, {rank - 1}]; 1 is channels",
                    field="dim",
                )
            axis = self.dim % rank - 1
            if axis < 0:
                raise LayerError(
                    "concat along dim 0 would merge samples of the batch", hint="use dim 1 (channels)", field="dim"
                )
            for shape in inputs[1:]:
                for i, (a, b) in enumerate(zip(inputs[0], shape, strict=True)):
                    if i != axis and a != b:
                        shapes = ", ".join(str(list(s)) for s in inputs)
                        raise LayerError(
                            f"shapes {shapes} differ outside the concat dim {self.dim} (at dim {i + 1})",
                            hint="all inputs must agree on every dim except the one being concatenated",
                        )
            out = list(inputs[0])
            out[axis] = sum(s[axis] for s in inputs)
            return LayerResult(tuple(out))

        def label(self) -> str:
            return "cat" if self.dim == 1 else f"cat dim={self.dim}"

        def call(self, inputs: list[Shape]) -> Op:
            return Op("torch.cat", ([Arg(i) for i in range(len(inputs))],), (("dim", self.dim),))

    return Concat


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
