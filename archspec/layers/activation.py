"""Activations: elementwise, shape-preserving layers, plus the softmax family, GLU and PReLU.

Every layer here maps a per-sample shape to itself, except GLU, which halves one dim.
Only PReLU has parameters: ``num_parameters`` weights, which torchinfo counts once per
sample as mult-adds (``LayerInfo.calculate_macs``: a non-conv ``weight`` counts ``batch * numel``).

Scalar arguments (slopes, thresholds, bounds) reach torch's kernels as Scalars converted to
the input's dtype, float32: torch refuses a float beyond float32's range ("value cannot be
converted to type float without overflow") and an int outside int64/uint64; so does archspec
(:func:`check_scalar`).
"""

import math
from collections.abc import Callable
from functools import partial
from typing import ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    FLOAT32_MAX,
    AnyInt,
    Autocast,
    Expr,
    Keeps,
    Layer,
    LayerResult,
    Number,
    PositiveInt,
    Saved,
    Saving,
    Shape,
    StateEntries,
    StateEntry,
    StrictBool,
    check_scalar,
    expect_rank,
    normalize_dim,
    type_alias,
    weight_macs,
)
from archspec.layers.registry import lazy_base, module_class, register_class, register_lazy


class Elementwise(Layer):
    """Shape-preserving and parameter-free: the output has the input's shape."""

    batch_free: ClassVar[bool] = True
    keeps_layout: ClassVar[bool] = True

    def infer(self, inputs: list[Shape]) -> LayerResult:
        return LayerResult(inputs[0])


class _Activation(Elementwise):
    family: ClassVar[str] = "activation"


class _InplaceActivation(_Activation):
    inplace: StrictBool | Expr = Field(default=False, description="overwrite the input tensor to save memory")
    result_backward: ClassVar[bool] = False
    """True when the in-place backward reads the result (``relu_``, ``elu_``, ``leaky_relu_``); else
    it needs the overwritten input, and autograd saves a copy of it first (``hardtanh_``, ``silu_``)."""

    def saved(self, call: Saving) -> list[Saved]:
        if self.inplace is not True or not call.recorded:
            return super().saved(call)
        return [Saved("output")] if self.result_backward else [call.like(0)]


class _ResultInplaceActivation(_InplaceActivation):
    result_backward: ClassVar[bool] = True


class _OutputActivation(_Activation):
    """The backward reads the output (sigmoid, tanh, softmax)."""

    keeps: ClassVar[Keeps] = "output"


class _ReLU(_ResultInplaceActivation):
    keeps: ClassVar[Keeps] = "output"


@lazy_base
def _softsign() -> type[Layer]:
    class _Softsign(_Activation):
        """``x / (1 + |x|)``: ``abs`` keeps x, the division x and the new denominator."""

        def saved(self, call: Saving) -> list[Saved]:
            return [Saved("input", 0), call.like(0)] if call.recorded else []

    return _Softsign


@lazy_base
def _tanhshrink() -> type[Layer]:
    class _Tanhshrink(_Activation):
        """``x - tanh(x)``: ``tanh`` keeps its new output."""

        def saved(self, call: Saving) -> list[Saved]:
            return [call.like(0)] if call.recorded else []

    return _Tanhshrink


@lazy_base
def _log_sigmoid() -> type[Layer]:
    class _LogSigmoid(_Activation):
        """``log_sigmoid_forward`` keeps the input and a buffer, input-sized on CPU and empty on CUDA."""

        def saved(self, call: Saving) -> list[Saved]:
            if not call.recorded:
                return []
            return [Saved("input", 0), call.like(0) if call.device == "cpu" else Saved("new", 0, 0, batched=False)]

    return _LogSigmoid


def _alias(base: type[Layer] | Callable[[], type[Layer]], name: str, doc: str) -> None:
    """Register an argument-free (or inplace-only) activation: ``type: Literal[name]`` on ``base``
    (or on the class that the :func:`lazy_base` function ``base`` makes)."""
    register_lazy(name, partial(_aliased, base, name, f"torch.nn.{name}: {doc}"))


def _aliased(base: type[Layer] | Callable[[], type[Layer]], name: str, doc: str) -> type[Layer]:
    return type_alias(base if isinstance(base, type) else base(), name, doc)


_alias(_ReLU, "ReLU", "max(0, x).")
_alias(_ResultInplaceActivation, "SELU", "scale * elu(x, alpha) with torch's fixed self-normalising constants.")
for _name, _doc in (
    ("ReLU6", "min(max(0, x), 6)."),
    ("SiLU", "x * sigmoid(x) (swish)."),
    ("Mish", "x * tanh(softplus(x))."),
    ("Hardswish", "x * relu6(x + 3) / 6."),
    ("Hardsigmoid", "relu6(x + 3) / 6."),
):
    _alias(_InplaceActivation, _name, _doc)
for _base, _name, _doc in (
    (_OutputActivation, "Sigmoid", "1 / (1 + exp(-x))."),
    (_OutputActivation, "Tanh", "tanh(x)."),
    (_softsign, "Softsign", "x / (1 + |x|)."),
    (_tanhshrink, "Tanhshrink", "x - tanh(x)."),
    (_log_sigmoid, "LogSigmoid", "log(sigmoid(x))."),
):
    _alias(_base, _name, _doc)


def _check_inplace_slope(inplace: bool, value: float, name: str) -> None:
    """torch's in-place backward for leaky_relu/elu refuses a negative slope (training would fail)."""
    if inplace and value < 0:
        raise LayerError(
            f"in-place {name} (={value}) must not be negative: torch's in-place backward does not support it",
            hint=f"set inplace: false, or use a {name} >= 0",
            field=name,
        )


@register_class("LeakyReLU")
def _leaky_re_lu_class() -> type[Layer]:
    class LeakyReLU(_ResultInplaceActivation):
        """torch.nn.LeakyReLU: x if x >= 0 else negative_slope * x."""

        type: Literal["LeakyReLU"]
        negative_slope: Number | Expr = 0.01

        def infer(self, inputs: list[Shape]) -> LayerResult:
            check_scalar(self.negative_slope, "negative_slope")
            _check_inplace_slope(bool(self.inplace), float(self.negative_slope), "negative_slope")
            return super().infer(inputs)

        def label(self) -> str:
            return "" if self.negative_slope == 0.01 else f"slope={self.negative_slope}"

    return LeakyReLU


@register_class("ELU")
def _elu_class() -> type[Layer]:
    class ELU(_ResultInplaceActivation):
        """torch.nn.ELU: x if x > 0 else alpha * (exp(x) - 1)."""

        type: Literal["ELU"]
        alpha: Number | Expr = 1.0

        def infer(self, inputs: list[Shape]) -> LayerResult:
            check_scalar(self.alpha, "alpha")
            _check_inplace_slope(bool(self.inplace), float(self.alpha), "alpha")
            return super().infer(inputs)

        def label(self) -> str:
            return "" if self.alpha == 1 else f"alpha={self.alpha}"

    return ELU


@register_class("CELU")
def _celu_class() -> type[Layer]:
    class CELU(_ResultInplaceActivation):
        """torch.nn.CELU: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

        torch computes it as ELU with ``input_scale = 1 / alpha``, so ``alpha`` must not be 0
        and ``1 / alpha`` must fit float32 too (an infinite one, from a subnormal alpha, passes).
        """

        type: Literal["CELU"]
        alpha: Number | Expr = 1.0

        def infer(self, inputs: list[Shape]) -> LayerResult:
            alpha = self.alpha
            if alpha == 0:
                raise LayerError(
                    "alpha (=0) must not be 0: CELU divides by it", hint="use a non-zero alpha, e.g. 1.0", field="alpha"
                )
            check_scalar(alpha, "alpha")
            inverse = 1 / float(alpha)  # a double, as in aten's celu: infinite for a subnormal alpha
            if math.isfinite(inverse) and abs(inverse) > FLOAT32_MAX:
                raise LayerError(
                    f"1 / alpha (alpha={alpha}) does not fit the float32 scalar torch converts it to",
                    hint="use an alpha further from 0",
                    field="alpha",
                )
            _check_inplace_slope(bool(self.inplace), float(alpha), "alpha")
            return super().infer(inputs)

        def label(self) -> str:
            return "" if self.alpha == 1 else f"alpha={self.alpha}"

    return CELU


@register_class("Softplus")
def _softplus_class() -> type[Layer]:
    class Softplus(_Activation):
        """torch.nn.Softplus: log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

        torch accepts any beta, 0 and negative included (a zero beta gives NaN).
        """

        type: Literal["Softplus"]
        beta: Number | Expr = 1.0
        threshold: Number | Expr = Field(
            default=20.0, description="where beta * x > threshold, return x (for stability)"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            check_scalar(self.beta, "beta")
            check_scalar(self.threshold, "threshold")
            return super().infer(inputs)

        def label(self) -> str:
            return "" if self.beta == 1 else f"beta={self.beta}"

    return Softplus


@register_class("Threshold")
def _threshold_class() -> type[Layer]:
    class Threshold(_InplaceActivation):
        """torch.nn.Threshold: x if x > threshold else value."""

        type: Literal["Threshold"]
        threshold: Number | Expr = Field(description="the value to threshold at")
        value: Number | Expr = Field(description="what replaces x where x <= threshold")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            check_scalar(self.threshold, "threshold")
            check_scalar(self.value, "value")
            return super().infer(inputs)

        def label(self) -> str:
            return f"{self.threshold} -> {self.value}"

    return Threshold


@register_class("Hardtanh")
def _hardtanh_class() -> type[Layer]:
    class Hardtanh(_InplaceActivation):
        """torch.nn.Hardtanh: x clamped to [min_val, max_val]; torch requires max_val > min_val."""

        type: Literal["Hardtanh"]
        min_val: Number | Expr = -1.0
        max_val: Number | Expr = 1.0

        def infer(self, inputs: list[Shape]) -> LayerResult:
            if not self.max_val > self.min_val:
                raise LayerError(
                    f"max_val (={self.max_val}) must be greater than min_val (={self.min_val})",
                    hint="swap them, or widen the range",
                    field="max_val",
                )
            check_scalar(self.min_val, "min_val")
            check_scalar(self.max_val, "max_val")
            return super().infer(inputs)

        def label(self) -> str:
            return "" if (self.min_val, self.max_val) == (-1, 1) else f"[{self.min_val}, {self.max_val}]"

    return Hardtanh


@register_class("RReLU")
def _r_re_lu_class() -> type[Layer]:
    class RReLU(_InplaceActivation):
        """torch.nn.RReLU: LeakyReLU with a random slope in [lower, upper] when training, their mean in eval.

        torch requires lower <= upper, and training converts each bound to float32 (eval only
        their mean: archspec checks the bounds, so that the model can train). Eval mode adds the
        bounds as Scalars: two ints, one of them beyond int64 (a uint64), fail there. In-place with
        a negative mean slope is accepted: torch raises only in a backward pass run in eval mode.
        """

        type: Literal["RReLU"]
        lower: Number | Expr = Field(default=1 / 8, description="smallest random slope")
        upper: Number | Expr = Field(default=1 / 3, description="largest random slope")

        def saved(self, call: Saving) -> list[Saved]:
            """``rrelu_with_noise`` keeps its input (or, in place, the result) and the input-sized slopes it drew."""
            return [call.like(0), Saved("input", 0)] if call.recorded else []

        def infer(self, inputs: list[Shape]) -> LayerResult:
            check_scalar(self.lower, "lower")
            check_scalar(self.upper, "upper")
            if self.lower > self.upper:
                raise LayerError(
                    f"lower (={self.lower}) must not be greater than upper (={self.upper})",
                    hint="swap them",
                    field="lower",
                )
            big = next((name for name in ("upper", "lower") if getattr(self, name) >= 2**63), None)
            if big and isinstance(self.lower, int) and isinstance(self.upper, int):
                raise LayerError(
                    f"{big} (={getattr(self, big)}) is an int beyond int64: torch's eval mode adds the two int "
                    "bounds as tensors, and has no uint64 addition",
                    hint=f"write {big} as a float, e.g. {float(getattr(self, big)):.3g}",
                    field=big,
                )
            return super().infer(inputs)

        def label(self) -> str:
            return f"[{self.lower:.3g}, {self.upper:.3g}]"

    return RReLU


class _Shrink(_Activation):
    lambd: Number | Expr = Field(default=0.5, description="the threshold lambda")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        check_scalar(self.lambd, "lambd")
        return super().infer(inputs)

    def label(self) -> str:
        return "" if self.lambd == 0.5 else f"lambd={self.lambd}"


@register_class("Hardshrink")
def _hardshrink_class() -> type[Layer]:
    class Hardshrink(_Shrink):
        """torch.nn.Hardshrink: x where |x| > lambd, else 0 (any lambd, negative too)."""

        type: Literal["Hardshrink"]

    return Hardshrink


@register_class("Softshrink")
def _softshrink_class() -> type[Layer]:
    class Softshrink(_Shrink):
        """torch.nn.Softshrink: x - lambd above lambd, x + lambd below -lambd, else 0; torch requires lambd >= 0."""

        type: Literal["Softshrink"]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            if not 0 <= self.lambd <= FLOAT32_MAX:
                raise LayerError(
                    f"lambd (={self.lambd}) must be in [0, {FLOAT32_MAX:.8g}] (float32 input)",
                    hint="use a lambd >= 0, e.g. 0.5",
                    field="lambd",
                )
            return super().infer(inputs)

    return Softshrink


@register_class("GELU")
def _gelu_class() -> type[Layer]:
    class GELU(_Activation):
        """torch.nn.GELU: x * Phi(x), exactly ('none') or with the tanh approximation."""

        type: Literal["GELU"]
        approximate: Literal["none", "tanh"] | Expr = "none"

        def label(self) -> str:
            return "tanh" if self.approximate == "tanh" else ""

    return GELU


class _SoftmaxBase(_OutputActivation):
    """Normalizes over ``dim`` of the batched tensor; ``None`` is torch's legacy implicit choice.

    With ``dim: null`` torch picks dim 0 for tensors of rank 0, 1 or 3 and dim 1 otherwise
    (``torch.nn.functional._get_softmax_dim``): for per-sample ranks 0 and 2 that is the batch.
    """

    autocast: ClassVar[Autocast] = "float32"

    dim: AnyInt | Expr | None = Field(default=None, description="dim of the batched tensor (0 is the batch)")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        if self.dim is not None:
            normalize_dim(int(self.dim), len(inputs[0]) + 1)
        return LayerResult(inputs[0])

    def label(self) -> str:
        return "" if self.dim is None else f"dim={self.dim}"


@register_class("Softmax")
def _softmax_class() -> type[Layer]:
    class Softmax(_SoftmaxBase):
        __doc__ = "torch.nn.Softmax: exp(x) / sum(exp(x)) along dim. " + (_SoftmaxBase.__doc__ or "")

        type: Literal["Softmax"]

    return Softmax


@register_class("LogSoftmax")
def _log_softmax_class() -> type[Layer]:
    class LogSoftmax(_SoftmaxBase):
        __doc__ = "torch.nn.LogSoftmax: log(softmax(x)) along dim. " + (_SoftmaxBase.__doc__ or "")

        type: Literal["LogSoftmax"]

    return LogSoftmax


@register_class("Softmin")
def _softmin_class() -> type[Layer]:
    class Softmin(_SoftmaxBase):
        __doc__ = "torch.nn.Softmin: softmax(-x) along dim. " + (_SoftmaxBase.__doc__ or "")

        type: Literal["Softmin"]

    return Softmin


@register_class("Softmax2d")
def _softmax2d_class() -> type[Layer]:
    class Softmax2d(_OutputActivation):
        """torch.nn.Softmax2d: softmax over the channels at each position; input per sample ``(C, H, W)``.

        torch also takes a 3-d tensor as one unbatched ``(C, H, W)``: with the batch in front,
        a per-sample ``(H, W)`` would be normalised across the batch, so archspec refuses it.
        """

        type: Literal["Softmax2d"]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            expect_rank(inputs[0], (3,), "C, H, W")
            return LayerResult(inputs[0])

    return Softmax2d


@register_class("GLU")
def _glu_class() -> type[Layer]:
    class GLU(_Activation):
        """torch.nn.GLU: split ``dim`` in halves a, b and return a * sigmoid(b); that dim halves.

        ``dim`` is a dim of the batched tensor; the batch dim 0 is refused (torch halves the batch).
        """

        type: Literal["GLU"]
        dim: AnyInt | Expr = Field(default=-1, description="dim of the batched tensor to halve (0 is the batch)")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            dim = normalize_dim(int(self.dim), len(shape) + 1)
            if dim == 0:
                raise LayerError(
                    f"dim (={self.dim}) is the batch dim for a per-sample input {list(shape)}; "
                    "archspec models one sample at a time",
                    hint="use dims >= 1 (dim 1 is the first per-sample dim) or negative dims counted from the end",
                    field="dim",
                )
            size = shape[dim - 1]
            if size % 2:
                raise LayerError(
                    f"dim {self.dim} has size {size}, which cannot be halved (input {list(shape)})",
                    hint="GLU needs an even size along dim",
                    field="dim",
                )
            return LayerResult((*shape[: dim - 1], size // 2, *shape[dim:]))

        def label(self) -> str:
            return "" if self.dim == -1 else f"dim={self.dim}"

    return GLU


@register_class("PReLU")
def _p_re_lu_class() -> type[Layer]:
    class PReLU(_Activation):
        """torch.nn.PReLU: LeakyReLU with a learned slope, shared (1) or one per channel (dim 1).

        The channel count is the first per-sample dim; a per-sample scalar has one channel.
        """

        autocast: ClassVar[Autocast] = "lower"

        type: Literal["PReLU"]
        num_parameters: PositiveInt | Expr = Field(default=1, description="1, or the number of input channels")
        init: Number | Expr = Field(default=0.25, description="initial slope")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            check_scalar(self.init, "init")
            channels = shape[0] if shape else 1
            count = int(self.num_parameters)
            if count not in (1, channels):
                raise LayerError(
                    f"num_parameters (={count}) must be 1 or the number of input channels (={channels})",
                    hint=f"use num_parameters: 1 (one shared slope) or {channels} (one per channel)",
                    field="num_parameters",
                )
            return LayerResult(shape, count, weight_macs(count))

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            return {"weight": StateEntry((int(self.num_parameters),))}

        def label(self) -> str:
            return "" if self.num_parameters == 1 else f"n={self.num_parameters}"

    return PReLU


del _base, _name, _doc


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
