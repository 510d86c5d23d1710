"""Linear: ``y = x W^T + b`` over the last dim.

Per sample the input is ``(*, in_features)`` with any number of leading dims, and the
output is ``(*, out_features)`` (torch's ``nn.Linear`` shape docs). Parameters are
``in_features * out_features`` weights plus ``out_features`` biases; torchinfo counts
them once per sample as mult-adds, however many leading dims there are.

FLOPs follow ``FlopCounterMode``: torch runs the layer as one ``addmm`` (or ``mm`` without a
bias) of ``(rows, in) @ (in, out)``, the rows being every leading dim, counted
``2 * rows * in * out``; the bias add is not counted.
"""

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Autocast,
    Expr,
    Layer,
    LayerResult,
    PositiveInt,
    Saved,
    Saving,
    Shape,
    StateEntries,
    StrictBool,
    check_inferred,
    weight_and_bias,
    weight_macs,
)
from archspec.layers.registry import module_class, register_class


@register_class("Linear")
def _linear_class() -> type[Layer]:
    class Linear(Layer):
        """torch.nn.Linear; ``in_features`` is inferred from the input's last dim."""

        autocast: ClassVar[Autocast] = "lower"

        fresh_output: ClassVar[bool] = True
        last_dim_only: ClassVar[bool] = True
        family: ClassVar[str] = "linear"
        inferred_fields: ClassVar[tuple[str, ...]] = ("in_features",)

        type: Literal["Linear"]
        in_features: PositiveInt | Expr | None = Field(default=None, description="inferred from the input when omitted")
        out_features: PositiveInt | Expr
        bias: StrictBool | Expr = True

        def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
            return {"in_features": inputs[0][-1]} if inputs[0] else {}

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if not shape:
                raise LayerError(
                    "expects a per-sample input of rank >= 1 (*, features), got a scalar per sample",
                    hint="torch would treat the batch as the feature dim; "
                    "give the input a feature dim before this layer",
                )
            check_inferred("in_features", self.in_features, shape[-1])
            out = int(self.out_features)
            params = shape[-1] * out + (out if self.bias else 0)
            flops = 2 * math.prod(shape[:-1]) * shape[-1] * out
            return LayerResult((*shape[:-1], out), params, weight_macs(params), flops=flops)

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            out = int(self.out_features)
            return weight_and_bias((out, inputs[0][-1]), out if self.bias else None)

        def label(self) -> str:
            return f"{self.out_features}" + ("" if self.bias else " no bias")

        def saved(self, call: Saving) -> list[Saved]:
            """The input (and the weight): ``addmm`` keeps a matrix as it is; a larger input is read as
            ``(-1, in_features)``, a view where its layout allows and a copy otherwise (``F.linear`` of a
            permuted tensor)."""
            if not call.recorded:
                return []
            features = call.inputs[0].shape[-1]
            copy = call.weight_copy(features * int(self.out_features))
            if len(call.full_shape(0)) <= 2:
                return [Saved("input", 0), *copy]
            return [call.flattened(0, (-1, features)), *copy]

        def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
            if not inputs or not inputs[0] or not output:
                return self.label()
            return f"{inputs[0][-1]}->{output[-1]}" + ("" if self.bias else " no bias")

    return Linear


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
