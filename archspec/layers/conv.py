"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d, one N-d implementation.

Shapes follow the formulas in torch's ``nn.Conv2d`` / ``nn.ConvTranspose2d`` docs:

    out = floor((in + pad_left + pad_right - dilation * (kernel - 1) - 1) / stride) + 1
    out_transposed = (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1

Input per sample is ``(C, *spatial)`` with ``len(spatial) == N``.

FLOPs follow ``torch.utils.flop_counter.conv_flop_count``: 2 per weight element (bias
ignored) per position of the output, or of the *input* for a transposed convolution.
"""

import math
from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Autocast,
    Expr,
    Layer,
    LayerResult,
    NonNegativeInt,
    PositiveInt,
    Receptive,
    Saved,
    Saving,
    Shape,
    StateEntries,
    StrictBool,
    as_tuple,
    check_inferred,
    expect_rank,
    non_negative_sizes,
    positive_sizes,
    weight_and_bias,
    weight_macs,
)
from archspec.layers.registry import register_variant

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


def axis_names(n: int) -> tuple[str, ...]:
    return {1: ("length",), 2: ("height", "width")}.get(n, ("depth", "height", "width"))


def pad_for_same(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """torch's split of 'same' padding: the extra element goes to the right/bottom."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return [(t // 2, t - t // 2) for t in totals]


def sliding_output(size: int, pads: tuple[int, int], kernel: int, stride: int, dilation: int, axis: str) -> int:
    """One spatial axis of a convolution; the error shows the arithmetic."""
    effective = dilation * (kernel - 1) + 1
    padded = size + pads[0] + pads[1]
    out = (padded - effective) // stride + 1
    if padded < effective:
        raise LayerError(
            f"kernel is larger than the padded input along {axis}: "
            f"input {size} + padding {pads[0]}+{pads[1]} = {padded}, "
            f"effective kernel dilation*(kernel-1)+1 = {dilation}*({kernel}-1)+1 = {effective}, "
            f"output ({padded} - {effective}) // {stride} + 1 = {out}",
            hint="use a smaller kernel_size or dilation, more padding, or a larger input",
            field="kernel_size",
        )
    return out


def check_padding_mode(mode: str, pads: list[tuple[int, int]], spatial: Shape, axes: tuple[str, ...]) -> None:
    """Reflect and circular padding cannot pad more than the input holds (torch's F.pad checks)."""
    for (left, right), size, axis in zip(pads, spatial, axes, strict=True):
        if mode == "reflect" and max(left, right) >= size:
            raise LayerError(
                f"reflect padding {max(left, right)} must be smaller than the input {axis} {size}",
                hint="use less padding, a larger input, or padding_mode 'zeros' or 'replicate'",
                field="padding",
            )
        if mode == "circular" and max(left, right) > size:
            raise LayerError(
                f"circular padding {max(left, right)} wraps around the input {axis} {size} more than once",
                hint="use padding no larger than the input",
                field="padding",
            )


def conv_flops(params: int, bias: int, positions: Shape) -> int:
    """FlopCounterMode's convolution count: ``2 * weight elements * prod(positions)``, bias ignored.

    torch's ``conv_flop_count`` multiplies ``c_out * c_in`` of the weight (``c_in`` already
    divided by ``groups``) by the kernel size and by the output's spatial size, or the input's
    for a transposed convolution.
    """
    return 2 * (params - bias) * math.prod(positions)


class _ConvBase(Layer):
    autocast: ClassVar[Autocast] = "lower"
    family: ClassVar[str] = "conv"
    fresh_output: ClassVar[bool] = True
    ndim: ClassVar[int]
    inferred_fields: ClassVar[tuple[str, ...]] = ("in_channels",)

    in_channels: PositiveInt | Expr | None = Field(default=None, description="inferred from the input when omitted")
    out_channels: PositiveInt | Expr
    groups: PositiveInt | Expr = 1
    bias: StrictBool | Expr = True

    def inferred(self, inputs: list[Shape]) -> dict[str, int]:
        return {"in_channels": inputs[0][0]}

    def _check_channels(self, shape: Shape) -> int:
        expect_rank(shape, (self.ndim + 1,), "C, " + ", ".join(axis_names(self.ndim)))
        channels = shape[0]
        check_inferred("in_channels", self.in_channels, channels)
        for name, value in (("in_channels", channels), ("out_channels", self.out_channels)):
            if value % self.groups:
                raise LayerError(
                    f"{name} (={value}) must be divisible by groups (={self.groups})",
                    hint="choose groups that divides both in_channels and out_channels",
                    field="groups",
                )
        return channels

    def _label(self, kernel: tuple[int, ...], stride: tuple[int, ...], padding: object) -> str:
        parts = ["x".join(map(str, kernel))]
        if set(stride) != {1}:
            parts.append("/" + "x".join(map(str, stride)) if len(set(stride)) > 1 else f"/{stride[0]}")
        if isinstance(padding, str):
            parts.append(padding)
        elif any(as_tuple(padding, self.ndim)):  # type: ignore[arg-type]
            pads = as_tuple(padding, self.ndim)  # type: ignore[arg-type]
            parts.append(f"p{pads[0]}" if len(set(pads)) == 1 else "p" + "x".join(map(str, pads)))
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        return " ".join(parts)

    def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
        if not inputs or not inputs[0] or not output:
            return self.label()
        return f"{inputs[0][0]}->{output[0]} {self.label()}".strip()

    transposed: ClassVar[bool] = False

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        """``weight`` ``(out, in / groups, *kernel)`` (transposed ``(in, out / groups, *kernel)``), ``bias``."""
        channels, out = inputs[0][0], int(self.out_channels)
        kernel = as_tuple(self.kernel_size, self.ndim)  # type: ignore[attr-defined]
        first, second = (channels, out) if self.transposed else (out, channels)
        return weight_and_bias((first, second // int(self.groups), *kernel), out if self.bias else None)

    def saved(self, call: Saving) -> list[Saved]:
        """The input (the weight is the module's; under autocast, its cast copy is kept)."""
        kernel = math.prod(as_tuple(self.kernel_size, self.ndim))  # type: ignore[attr-defined, arg-type]
        weight = int(self.out_channels) * call.inputs[0].shape[0] // int(self.groups) * kernel
        return [*super().saved(call), *call.weight_copy(weight)] if call.recorded else []


class _ConvNd(_ConvBase):
    """nn.ConvNd with every argument torch accepts."""

    kernel_size: PositiveInt | list[PositiveInt] | Expr
    stride: PositiveInt | list[PositiveInt] | Expr = 1
    padding: NonNegativeInt | list[NonNegativeInt] | Literal["same", "valid"] | Expr = 0
    dilation: PositiveInt | list[PositiveInt] | Expr = 1
    padding_mode: PaddingMode | Expr = "zeros"

    def _pads(
        self, kernel: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...]
    ) -> list[tuple[int, int]]:
        if self.padding == "valid":
            return [(0, 0)] * self.ndim
        if self.padding == "same":
            if set(stride) != {1}:
                raise LayerError(
                    "padding='same' is not supported for strided convolutions",
                    hint="use stride 1 with 'same', or give padding as a number",
                    field="padding",
                )
            return pad_for_same(kernel, dilation)
        return [(p, p) for p in as_tuple(self.padding, self.ndim)]

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        channels = self._check_channels(shape)
        n = self.ndim
        kernel, stride = as_tuple(self.kernel_size, n), as_tuple(self.stride, n)
        dilation = as_tuple(self.dilation, n)
        pads = self._pads(kernel, dilation, stride)
        axes = axis_names(n)
        if self.padding_mode != "zeros":
            check_padding_mode(self.padding_mode, pads, shape[1:], axes)
        spatial = tuple(
            sliding_output(size, pad, k, s, d, axis)
            for size, pad, k, s, d, axis in zip(shape[1:], pads, kernel, stride, dilation, axes, strict=True)
        )
        bias = self.out_channels if self.bias else 0
        params = self.out_channels * (channels // self.groups) * math.prod(kernel) + bias
        flops = conv_flops(params, bias, spatial)
        return LayerResult((self.out_channels, *spatial), params, weight_macs(params, spatial), flops=flops)

    def label(self) -> str:
        n = self.ndim
        return self._label(as_tuple(self.kernel_size, n), as_tuple(self.stride, n), self.padding)

    def saved(self, call: Saving) -> list[Saved]:
        """The input (and the weight); a ``padding_mode`` other than zeros first pads with ``F.pad``:
        the conv keeps that padded copy, and a reflect or replicate pad keeps its own input too. So
        does ``padding='same'`` that pads one side more (an even kernel): ATen pads explicitly."""
        if not call.recorded:
            return []
        n, shape = self.ndim, call.inputs[0].shape
        kernel, stride = as_tuple(self.kernel_size, n), as_tuple(self.stride, n)
        pads = self._pads(kernel, as_tuple(self.dilation, n), stride)
        if self.padding_mode == "zeros" and all(a == b for a, b in pads):
            return super().saved(call)
        own = super().saved(call)[1:]  # the weight's autocast copy
        if self.padding_mode == "zeros":  # ATen pads only the extra side, then convolves symmetrically
            pads = [(0, abs(a - b)) for a, b in pads]
        padded = Saved("new", 0, shape[0] * math.prod(s + a + b for s, (a, b) in zip(shape[1:], pads, strict=True)))
        kept = [Saved("input", 0)] if self.padding_mode in ("reflect", "replicate") and call.grads[0] else []
        return [*kept, padded, *own]

    def receptive(self) -> Receptive:
        n = self.ndim
        kernel, stride = as_tuple(self.kernel_size, n), as_tuple(self.stride, n)
        dilation = as_tuple(self.dilation, n)
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)), stride


class _ConvTransposeNd(_ConvBase):
    """nn.ConvTransposeNd; torch allows only padding_mode 'zeros' and numeric padding."""

    transposed: ClassVar[bool] = True

    kernel_size: PositiveInt | list[PositiveInt] | Expr
    stride: PositiveInt | list[PositiveInt] | Expr = 1
    padding: NonNegativeInt | list[NonNegativeInt] | Expr = 0
    output_padding: NonNegativeInt | list[NonNegativeInt] | Expr = 0
    dilation: PositiveInt | list[PositiveInt] | Expr = 1
    padding_mode: Literal["zeros"] | Expr = "zeros"

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        channels = self._check_channels(shape)
        n = self.ndim
        kernel, stride = as_tuple(self.kernel_size, n), as_tuple(self.stride, n)
        dilation, padding = as_tuple(self.dilation, n), as_tuple(self.padding, n)
        extra = as_tuple(self.output_padding, n)
        spatial = []
        for size, k, s, d, p, op, axis in zip(
            shape[1:], kernel, stride, dilation, padding, extra, axis_names(n), strict=True
        ):
            if op >= s and op >= d:
                raise LayerError(
                    f"output_padding ({op}) must be smaller than either stride ({s}) or dilation ({d}) along {axis}",
                    hint="reduce output_padding",
                    field="output_padding",
                )
            out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            if out < 1:
                raise LayerError(
                    f"output {axis} would be {out}: ({size} - 1) * stride {s} - 2 * padding {p} "
                    f"+ dilation {d} * (kernel {k} - 1) + output_padding {op} + 1",
                    hint="reduce padding",
                    field="padding",
                )
            spatial.append(out)
        bias = self.out_channels if self.bias else 0
        params = channels * (self.out_channels // self.groups) * math.prod(kernel) + bias
        flops = conv_flops(params, bias, shape[1:])
        return LayerResult((self.out_channels, *spatial), params, weight_macs(params, tuple(spatial)), flops=flops)

    def receptive(self) -> Receptive:
        """Upsampling by ``stride``: each output sees about ``ceil(effective kernel / stride)`` inputs."""
        n = self.ndim
        kernel, stride = as_tuple(self.kernel_size, n), as_tuple(self.stride, n)
        dilation = as_tuple(self.dilation, n)
        extent = tuple(-(-(d * (k - 1) + 1) // s) for k, d, s in zip(kernel, dilation, stride, strict=True))
        return extent, tuple(Fraction(1, s) for s in stride)

    def label(self) -> str:
        n = self.ndim
        return "T " + self._label(as_tuple(self.kernel_size, n), as_tuple(self.stride, n), self.padding)


def _conv_fields(n: int) -> dict[str, tuple[Any, Any]]:
    return {
        "kernel_size": (positive_sizes(n), ...),
        "stride": (positive_sizes(n), 1),
        "dilation": (positive_sizes(n), 1),
        "padding": (non_negative_sizes(n) | Literal["same", "valid"], 0),
    }


def _conv_transpose_fields(n: int) -> dict[str, tuple[Any, Any]]:
    return {
        "kernel_size": (positive_sizes(n), ...),
        "stride": (positive_sizes(n), 1),
        "dilation": (positive_sizes(n), 1),
        "padding": (non_negative_sizes(n), 0),
        "output_padding": (non_negative_sizes(n), 0),
    }


for _n in (1, 2, 3):
    register_variant(_ConvNd, f"Conv{_n}d", _n, **_conv_fields(_n))
    register_variant(_ConvTransposeNd, f"ConvTranspose{_n}d", _n, **_conv_transpose_fields(_n))
