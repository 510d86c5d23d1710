"""Activations: elementwise, shape-preserving layers, plus Softmax/LogSoftmax and PReLU.

Every layer here maps a per-sample shape to itself. Only PReLU has parameters:
``num_parameters`` weights, which torchinfo counts once per sample as mult-adds
(``LayerInfo.calculate_macs``: a non-conv ``weight`` counts ``batch * numel``).
"""

from typing import ClassVar, Literal

from pydantic import Field, create_model

from archspec.errors import LayerError
from archspec.layers.base import AnyInt, Expr, Layer, LayerResult, Number, PositiveInt, Shape, StrictBool, weight_macs
from archspec.layers.registry import register, register_lazy


class Elementwise(Layer):
    """Shape-preserving and parameter-free: the output has the input's shape."""

    batch_free: ClassVar[bool] = True

    def infer(self, inputs: list[Shape]) -> LayerResult:
        return LayerResult(inputs[0])


class _Activation(Elementwise):
    family: ClassVar[str] = "activation"


class _InplaceActivation(_Activation):
    inplace: StrictBool | Expr = Field(default=False, description="overwrite the input tensor to save memory")


def _alias(base: type[Layer], name: str, doc: str) -> None:
    """Register an argument-free (or inplace-only) activation: ``type: Literal[name]`` on ``base``."""

    def make() -> type[Layer]:
        cls = create_model(name, __base__=base, __module__=__name__, type=(Literal[name], ...))  # type: ignore[arg-type]
        cls.__doc__ = f"torch.nn.{name}: {doc}"
        return cls

    register_lazy(name, make)


for _name, _doc in (
    ("ReLU", "max(0, x)."),
    ("ReLU6", "min(max(0, x), 6)."),
    ("SiLU", "x * sigmoid(x) (swish)."),
    ("Mish", "x * tanh(softplus(x))."),
    ("Hardswish", "x * relu6(x + 3) / 6."),
    ("Hardsigmoid", "relu6(x + 3) / 6."),
):
    _alias(_InplaceActivation, _name, _doc)
for _name, _doc in (("Sigmoid", "1 / (1 + exp(-x))."), ("Tanh", "tanh(x).")):
    _alias(_Activation, _name, _doc)


def _check_inplace_slope(inplace: bool, value: float, name: str) -> None:
    """torch's in-place backward for leaky_relu/elu refuses a negative slope (training would fail)."""
    if inplace and value < 0:
        raise LayerError(
            f"in-place {name} (={value}) must not be negative: torch's in-place backward does not support it",
            hint=f"set inplace: false, or use a {name} >= 0",
            field=name,
        )


@register
class LeakyReLU(_InplaceActivation):
    """torch.nn.LeakyReLU: x if x >= 0 else negative_slope * x."""

    type: Literal["LeakyReLU"]
    negative_slope: Number | Expr = 0.01

    def infer(self, inputs: list[Shape]) -> LayerResult:
        _check_inplace_slope(bool(self.inplace), float(self.negative_slope), "negative_slope")
        return super().infer(inputs)

    def label(self) -> str:
        return "" if self.negative_slope == 0.01 else f"slope={self.negative_slope}"


@register
class ELU(_InplaceActivation):
    """torch.nn.ELU: x if x > 0 else alpha * (exp(x) - 1)."""

    type: Literal["ELU"]
    alpha: Number | Expr = 1.0

    def infer(self, inputs: list[Shape]) -> LayerResult:
        _check_inplace_slope(bool(self.inplace), float(self.alpha), "alpha")
        return super().infer(inputs)

    def label(self) -> str:
        return "" if self.alpha == 1 else f"alpha={self.alpha}"


@register
class GELU(_Activation):
    """torch.nn.GELU: x * Phi(x), exactly ('none') or with the tanh approximation."""

    type: Literal["GELU"]
    approximate: Literal["none", "tanh"] | Expr = "none"

    def label(self) -> str:
        return "tanh" if self.approximate == "tanh" else ""


def normalize_dim(dim: int, rank: int, what: str = "dim") -> int:
    """torch's dim wrapping for a tensor of ``rank`` dims (batch included): [-rank, rank) -> [0, rank)."""
    if not -rank <= dim < rank:
        raise LayerError(
            f"{what} (={dim}) is out of range for a tensor of rank {rank} (batch included): "
            f"expected a dim in [{-rank}, {rank - 1}]",
            hint="dims count the batch as dim 0; the last dim is -1",
            field=what,
        )
    return dim % rank


class _SoftmaxBase(_Activation):
    """Normalizes over ``dim`` of the batched tensor; ``None`` is torch's legacy implicit choice.

    With ``dim: null`` torch picks dim 0 for tensors of rank 0, 1 or 3 and dim 1 otherwise
    (``torch.nn.functional._get_softmax_dim``): for per-sample ranks 0 and 2 that is the batch.
    """

    dim: AnyInt | Expr | None = Field(default=None, description="dim of the batched tensor (0 is the batch)")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        if self.dim is not None:
            normalize_dim(int(self.dim), len(inputs[0]) + 1)
        return LayerResult(inputs[0])

    def label(self) -> str:
        return "" if self.dim is None else f"dim={self.dim}"


@register
class Softmax(_SoftmaxBase):
    __doc__ = "torch.nn.Softmax: exp(x) / sum(exp(x)) along dim. " + (_SoftmaxBase.__doc__ or "")

    type: Literal["Softmax"]


@register
class LogSoftmax(_SoftmaxBase):
    __doc__ = "torch.nn.LogSoftmax: log(softmax(x)) along dim. " + (_SoftmaxBase.__doc__ or "")

    type: Literal["LogSoftmax"]


@register
class PReLU(_Activation):
    """torch.nn.PReLU: LeakyReLU with a learned slope, shared (1) or one per channel (dim 1).

    The channel count is the first per-sample dim; a per-sample scalar has one channel.
    """

    type: Literal["PReLU"]
    num_parameters: PositiveInt | Expr = Field(default=1, description="1, or the number of input channels")
    init: Number | Expr = Field(default=0.25, description="initial slope")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        channels = shape[0] if shape else 1
        count = int(self.num_parameters)
        if count not in (1, channels):
            raise LayerError(
                f"num_parameters (={count}) must be 1 or the number of input channels (={channels})",
                hint=f"use num_parameters: 1 (one shared slope) or {channels} (one per channel)",
                field="num_parameters",
            )
        return LayerResult(shape, count, weight_macs(count))

    def label(self) -> str:
        return "" if self.num_parameters == 1 else f"n={self.num_parameters}"


del _name, _doc
