"""Merge nodes: ``add`` and ``mul`` (broadcasting) and ``concat`` (along one dim).

These are functions, not ``nn.Module`` classes: the torch backend emits them as
operations in the generated ``forward`` (``a + b``, ``torch.cat([a, b], 1)``).
Broadcasting follows torch's rules (align trailing dims, sizes equal or 1); the
batch dim aligns only when every input has the same rank, so archspec requires that.
"""

from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import AnyInt, Arg, Expr, Layer, LayerResult, Op, Shape
from archspec.layers.registry import register


def _same_rank(inputs: list[Shape]) -> None:
    ranks = {len(s) for s in inputs}
    if len(ranks) > 1:
        shapes = ", ".join(str(list(s)) for s in inputs)
        raise LayerError(
            f"inputs have different ranks: {shapes}",
            hint="make every input the same rank (e.g. Flatten or pool the larger one)",
        )


def broadcast(inputs: list[Shape]) -> Shape:
    """torch.broadcast_shapes for per-sample shapes of equal rank."""
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


class _Merge(Layer):
    family: ClassVar[str] = "merge"
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int | None] = None
    functional: ClassVar[bool] = True

    def build(self, inputs: list[Shape]) -> Any:
        raise TypeError(f"'{self.type_name()}' is a function in the generated forward, not a module")

    def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
        label = self.label()
        return "" if label in ("+", "x", "cat") else label  # the type name says it all


@register
class Add(_Merge):
    """Elementwise sum of two or more inputs (residual connections)."""

    type: Literal["add"]
    in_place_sum: ClassVar[bool] = True

    def call(self, inputs: list[Shape]) -> Op:
        return Op.fold("+", len(inputs))

    def infer(self, inputs: list[Shape]) -> LayerResult:
        return LayerResult(broadcast(inputs))

    def label(self) -> str:
        return "+"


@register
class Mul(_Merge):
    """Elementwise product of two or more inputs (gating, squeeze-and-excitation)."""

    type: Literal["mul"]

    def call(self, inputs: list[Shape]) -> Op:
        return Op.fold("*", len(inputs))

    def infer(self, inputs: list[Shape]) -> LayerResult:
        return LayerResult(broadcast(inputs))

    def label(self) -> str:
        return "x"


@register
class Concat(_Merge):
    """torch.cat along ``dim`` of the batched tensor (default 1: channels)."""

    type: Literal["concat"]
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
