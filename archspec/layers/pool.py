"""Pooling: MaxPool, AvgPool, AdaptiveAvgPool and AdaptiveMaxPool in 1, 2 and 3 dims.

Fixed-window pools follow aten's ``pooling_output_shape`` (``aten/src/ATen/native/Pool.h``)::

    effective = dilation * (kernel - 1) + 1
    out = floor((in + 2 * padding - effective + (stride - 1 if ceil_mode else 0)) / stride) + 1
    if ceil_mode and (out - 1) * stride >= in + padding:
        out -= 1    # the last window must start inside the input or the left padding

and torch raises when ``padding > kernel_size // 2`` (``pool2d_shape_check`` and friends;
the kernel, not the dilated kernel, bounds the padding) or when an output size is < 1.
AvgPool3d also requires every input dim to be at least the kernel, padding not counted
(``pool3d_shape_check(..., check_input_size=true)``); AvgPool1d/2d do not.

Adaptive pools produce exactly ``output_size``; a ``null`` entry keeps that input dim
(2-d and 3-d only: torch's adaptive 1-d pools reject ``None``).

Input per sample is ``(C, *spatial)`` with ``len(spatial) == N``. Pools have no
parameters, so their mult-adds are 0 (torchinfo counts only weights and biases).
"""

import math
from typing import Annotated, Any, ClassVar

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Expr,
    Layer,
    LayerResult,
    NonNegativeInt,
    PositiveInt,
    Receptive,
    Saved,
    Saving,
    Shape,
    StrictBool,
    as_tuple,
    expect_rank,
    non_negative_sizes,
    positive_sizes,
)
from archspec.layers.conv import axis_names
from archspec.layers.registry import register_variant


def _fmt(values: tuple[int | None, ...]) -> str:
    return "x".join("*" if v is None else str(v) for v in values)


def check_pool_padding(padding: int, kernel: int, axis: str) -> None:
    """torch: ``pad should be at most half of kernel size`` (the undilated kernel)."""
    if padding > kernel // 2:
        raise LayerError(
            f"padding (={padding}) must be at most half of kernel_size (={kernel}) along {axis}: "
            f"{padding} > {kernel} // 2 = {kernel // 2}",
            hint=f"use padding <= {kernel // 2}, or a larger kernel_size",
            field="padding",
        )


def pool_output(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool, axis: str) -> int:
    """One spatial axis of a fixed-window pool (aten ``pooling_output_shape``); the error shows the arithmetic."""
    check_pool_padding(padding, kernel, axis)
    effective = dilation * (kernel - 1) + 1
    padded = size + 2 * padding
    extra = stride - 1 if ceil_mode else 0
    out = (padded - effective + extra) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        rounding = "ceil" if ceil_mode else "floor"
        raise LayerError(
            f"output {axis} would be {out}: {rounding}((input {size} + 2*padding {padding} - effective kernel "
            f"{effective}) / stride {stride}) + 1 = {out}, where effective kernel = dilation*(kernel-1)+1 = "
            f"{dilation}*({kernel}-1)+1",
            hint="use a smaller kernel_size or dilation, more padding, or a larger input",
            field="kernel_size",
        )
    return out


class _PoolNd(Layer):
    family: ClassVar[str] = "pool"
    ndim: ClassVar[int]

    def _spatial(self, shape: Shape) -> Shape:
        expect_rank(shape, (self.ndim + 1,), "C, " + ", ".join(axis_names(self.ndim)))
        return shape[1:]

    def _sizes(self, value: Any) -> tuple[int, ...]:
        return as_tuple(value, self.ndim)


class _WindowPoolNd(_PoolNd):
    kernel_size: PositiveInt | list[PositiveInt] | Expr
    stride: PositiveInt | list[PositiveInt] | Expr | None = Field(default=None, description="default: kernel_size")
    padding: NonNegativeInt | list[NonNegativeInt] | Expr = Field(default=0, description="at most kernel_size // 2")
    ceil_mode: StrictBool | Expr = Field(
        default=False, description="round the output size up (a last window must still start inside the input)"
    )

    def _window(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        kernel = self._sizes(self.kernel_size)
        stride = kernel if self.stride is None else self._sizes(self.stride)
        return kernel, stride, self._sizes(self.padding)

    def _dilation(self) -> tuple[int, ...]:
        return (1,) * self.ndim

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        spatial = self._spatial(shape)
        self._check(spatial)
        kernel, stride, padding = self._window()
        out = tuple(
            pool_output(size, k, s, p, d, bool(self.ceil_mode), axis)
            for size, k, s, p, d, axis in zip(
                spatial, kernel, stride, padding, self._dilation(), axis_names(self.ndim), strict=True
            )
        )
        return LayerResult((shape[0], *out))

    def _check(self, spatial: Shape) -> None:
        """Extra per-layer checks before the output size."""

    def receptive(self) -> Receptive:
        kernel, stride, _ = self._window()
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, self._dilation(), strict=True)), stride

    def label(self) -> str:
        kernel, stride, padding = self._window()
        parts = [_fmt(kernel)]
        if set(stride) != {1}:
            parts.append("/" + (str(stride[0]) if len(set(stride)) == 1 else _fmt(stride)))
        if any(padding):
            parts.append("p" + (str(padding[0]) if len(set(padding)) == 1 else _fmt(padding)))
        dilation = self._dilation()
        if set(dilation) != {1}:
            parts.append("d" + (str(dilation[0]) if len(set(dilation)) == 1 else _fmt(dilation)))
        if self.ceil_mode:
            parts.append("ceil")
        return " ".join(parts)


def _max_saved(call: Saving) -> list[Saved]:
    """Max pooling keeps its input and the int64 index of each output's maximum."""
    return [Saved("input", 0), Saved("new", 0, math.prod(call.output.shape), "int64")] if call.recorded else []


def _reject_indices(layer: Layer) -> None:
    if getattr(layer, "return_indices", False):
        raise LayerError(
            f"return_indices=true makes {layer.type_name()} return a tuple (output, indices), "
            "which the next layer cannot take",
            hint="remove return_indices (archspec layers produce one tensor)",
            field="return_indices",
        )


class _MaxPoolNd(_WindowPoolNd):
    """Max over sliding windows; ``stride`` defaults to ``kernel_size``; ``padding`` pads with -inf."""

    dilation: PositiveInt | list[PositiveInt] | Expr = 1
    return_indices: StrictBool | Expr = Field(
        default=False, description="must stay false: torch would return a tuple (output, indices)"
    )

    def saved(self, call: Saving) -> list[Saved]:
        return _max_saved(call)

    def _dilation(self) -> tuple[int, ...]:
        return self._sizes(self.dilation)

    def _check(self, spatial: Shape) -> None:
        _reject_indices(self)


class _AvgPoolNd(_WindowPoolNd):
    """Mean over sliding windows; ``stride`` defaults to ``kernel_size``.

    ``divisor_override`` (2-d and 3-d only) must be a positive int in archspec; torch also
    accepts negative divisors, which only flip the sign.
    """

    count_include_pad: StrictBool | Expr = Field(default=True, description="count zero padding in the mean's divisor")

    def _check(self, spatial: Shape) -> None:
        if self.ndim != 3:
            return
        # avg_pool3d's shape check compares the raw input (padding not counted) with the kernel.
        for size, k, axis in zip(spatial, self._sizes(self.kernel_size), axis_names(3), strict=True):
            if size < k:
                raise LayerError(
                    f"input {axis} {size} is smaller than kernel_size {k}: AvgPool3d requires every input dim "
                    "to be at least the kernel, padding not counted",
                    hint="use a smaller kernel_size or a larger input",
                    field="kernel_size",
                )

    def label(self) -> str:
        text = super().label()
        if getattr(self, "divisor_override", None) is not None:
            text += f" ÷{self.divisor_override}"  # type: ignore[attr-defined]
        return text


def _output_size_type(n: int) -> Any:
    entry = PositiveInt | Expr if n == 1 else PositiveInt | Expr | None
    return PositiveInt | Annotated[list[entry], Field(min_length=n, max_length=n)] | Expr  # type: ignore[valid-type]


class _AdaptivePoolNd(_PoolNd):
    """Pool to a fixed ``output_size`` whatever the input size; ``null`` entries keep that input dim.

    archspec requires output sizes >= 1; torch also accepts 0 and returns an empty tensor.
    """

    output_size: PositiveInt | list[PositiveInt | Expr | None] | Expr = Field(
        description="an int, or one entry per spatial dim (null keeps the input size, 2-d and 3-d only)"
    )

    def _target(self) -> tuple[int | None, ...]:
        if isinstance(self.output_size, int):
            return (self.output_size,) * self.ndim
        return tuple(self.output_size)

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        spatial = self._spatial(shape)
        _reject_indices(self)
        out = tuple(size if target is None else target for size, target in zip(spatial, self._target(), strict=True))
        return LayerResult((shape[0], *out))

    def label(self) -> str:
        return "-> " + _fmt(self._target())

    def receptive(self) -> Receptive:
        return "global"

    def saved(self, call: Saving) -> list[Saved]:
        """``adaptive_avg_pool`` to a single position is ``mean``, which keeps nothing."""
        if set(call.output.shape[1:]) == {1}:
            return []
        return super().saved(call)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """Max over adaptive windows to a fixed ``output_size``; ``null`` entries keep that input dim (2-d and 3-d).

    archspec requires output sizes >= 1 (torch also accepts 0 and returns an empty tensor),
    and ``return_indices`` must stay false.
    """

    return_indices: StrictBool | Expr = Field(
        default=False, description="must stay false: torch would return a tuple (output, indices)"
    )

    def saved(self, call: Saving) -> list[Saved]:
        return _max_saved(call)


def _window_fields(n: int, dilation: bool = False) -> dict[str, tuple[Any, Any]]:
    fields: dict[str, tuple[Any, Any]] = {
        "kernel_size": (positive_sizes(n), ...),
        "stride": (positive_sizes(n) | None, Field(default=None, description="default: kernel_size")),
        "padding": (non_negative_sizes(n), Field(default=0, description="at most kernel_size // 2")),
    }
    if dilation:
        fields["dilation"] = (positive_sizes(n), 1)
    return fields


for _n in (1, 2, 3):
    register_variant(_MaxPoolNd, f"MaxPool{_n}d", _n, **_window_fields(_n, dilation=True))
    _avg = _window_fields(_n)
    if _n > 1:
        _avg["divisor_override"] = (
            PositiveInt | Expr | None,
            Field(default=None, description="divide every window sum by this instead of the window size"),
        )
    register_variant(_AvgPoolNd, f"AvgPool{_n}d", _n, **_avg)
    _output: dict[str, Any] = {"output_size": (_output_size_type(_n), ...)}
    register_variant(_AdaptivePoolNd, f"AdaptiveAvgPool{_n}d", _n, **_output)
    register_variant(_AdaptiveMaxPoolNd, f"AdaptiveMaxPool{_n}d", _n, **_output)
