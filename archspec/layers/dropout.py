"""Dropout: Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout and StochasticDepth.

Dropout keeps the shape and has no parameters. ``p`` must lie in [0, 1] (torch's
``_DropoutNd`` constructor raises otherwise). Ranks are per sample (batch excluded);
torch (``F.dropout1d``/``dropout2d``/``dropout3d``, ATen's ``feature_dropout``) raises for:

* Dropout1d: anything but rank 1 or 2 -- the batched tensor must be 2-D or 3-D;
* Dropout2d and FeatureAlphaDropout: a scalar per sample when 0 < p < 1 (the channel-wise
  noise needs a dim besides the batch; p of 0 or 1 returns before that check).

Dropout2d and Dropout3d only *warn* on other ranks, so those stay legal. torch reads a
batched tensor with one dim too few as unbatched: Dropout1d on ``(L,)`` and Dropout3d on
``(C, H, W)`` therefore drop whole samples rather than channels.

StochasticDepth is ``torchvision.ops.StochasticDepth`` (Huang et al., 2016, "Deep Networks with
Stochastic Depth"), the drop-path of EfficientNet and ConvNeXt residual branches: it zeroes whole
samples (``mode: row``) or the whole batch (``mode: batch``) and takes any rank.
"""

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.activation import Elementwise
from archspec.layers.base import (
    Expr,
    Layer,
    LayerResult,
    Saved,
    Saving,
    Shape,
    StrictBool,
    TensorType,
    bounded_number,
)
from archspec.layers.registry import module_class, register_class

if TYPE_CHECKING:
    DropProbability = float
else:
    DropProbability = bounded_number("probability of zeroing an element (or channel), in [0, 1]", ge=0, le=1)


class _Dropout(Elementwise):
    family: ClassVar[str] = "dropout"

    p: DropProbability | Expr = 0.5
    inplace: StrictBool | Expr = Field(default=False, description="overwrite the input tensor to save memory")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        self._check_rank(inputs[0])
        return LayerResult(inputs[0])

    def _check_rank(self, shape: Shape) -> None:
        """Plain and alpha dropout take any rank."""

    def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
        """Eval mode and ``p = 0`` return the input itself; ``inplace`` writes into it."""
        if not training or self.p == 0:
            return 0
        return super().output_alias(inputs, training=training)

    def saved(self, call: Saving) -> list[Saved]:
        """ATen's ``_dropout_impl`` multiplies by a noise tensor, which the product keeps; ``p = 1``
        multiplies by a 0-d zero instead. CUDA's fused ``native_dropout`` keeps a bool mask."""
        if not call.recorded or self.p == 0:
            return []
        if self.p == 1:
            return [Saved("new", 0, 1, batched=False)]
        return [self._noise(call)]

    def _noise(self, call: Saving) -> Saved:
        fused = call.device == "cuda" and self.inplace is not True
        return call.like(0, "bool" if fused else None)

    def label(self) -> str:
        return f"p={self.p}"


def _rank_error(shape: Shape, wanted: str, layout: str) -> LayerError:
    return LayerError(
        f"expects a per-sample input of rank {wanted} ({layout}), got shape {list(shape)} (rank {len(shape)})",
        hint="use plain Dropout, or the DropoutNd that matches the input's spatial dims",
    )


class _FeatureDropout(_Dropout):
    """Channel-wise dropout: torch's ``feature_dropout`` needs a channel dim besides the batch.

    It returns early when ``p`` is 0 or 1, so only then does a scalar per sample pass.
    """

    def _check_rank(self, shape: Shape) -> None:
        if not shape and 0 < float(self.p) < 1:
            raise _rank_error(shape, "at least 1", "C, *")

    def _noise(self, call: Saving) -> Saved:
        """One noise value per channel: ``feature_dropout``'s noise has the input's first two dims."""
        shape = call.inputs[0].shape
        return Saved("new", 0, shape[0] if shape else 1)


@register_class("Dropout")
def _dropout_class() -> type[Layer]:
    class Dropout(_Dropout):
        """torch.nn.Dropout: zero each element with probability p, scale the rest by 1/(1-p)."""

        type: Literal["Dropout"]

    return Dropout


@register_class("Dropout1d")
def _dropout1d_class() -> type[Layer]:
    class Dropout1d(_Dropout):
        """torch.nn.Dropout1d: zero whole channels of (C, L) inputs."""

        type: Literal["Dropout1d"]

        def _check_rank(self, shape: Shape) -> None:
            if len(shape) not in (1, 2):
                raise _rank_error(shape, "1 or 2", "C, length")

        def _noise(self, call: Saving) -> Saved:
            """Per channel of a ``(C, L)`` sample; a ``(L,)`` one is read as unbatched: one value per sample."""
            shape = call.inputs[0].shape
            return Saved("new", 0, shape[0] if len(shape) == 2 else 1)

    return Dropout1d


@register_class("Dropout2d")
def _dropout2d_class() -> type[Layer]:
    class Dropout2d(_FeatureDropout):
        """torch.nn.Dropout2d: zero whole channels of (C, H, W) inputs."""

        type: Literal["Dropout2d"]

    return Dropout2d


@register_class("Dropout3d")
def _dropout3d_class() -> type[Layer]:
    class Dropout3d(_Dropout):
        """torch.nn.Dropout3d: zero whole channels of (C, D, H, W) inputs."""

        type: Literal["Dropout3d"]

        def _noise(self, call: Saving) -> Saved:
            """Per channel of a ``(C, D, H, W)`` sample; other ranks are read as unbatched: one value per sample."""
            shape = call.inputs[0].shape
            return Saved("new", 0, shape[0] if len(shape) == 4 else 1)

    return Dropout3d


@register_class("AlphaDropout")
def _alpha_dropout_class() -> type[Layer]:
    class AlphaDropout(_Dropout):
        """torch.nn.AlphaDropout: dropout that keeps a SELU network's mean and variance."""

        type: Literal["AlphaDropout"]

        def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
            """A new tensor even in place (``alpha_dropout_`` adds an offset out of place), except in eval mode."""
            return 0 if not training or self.p == 0 else None

    return AlphaDropout


@register_class("FeatureAlphaDropout")
def _feature_alpha_dropout_class() -> type[Layer]:
    class FeatureAlphaDropout(_FeatureDropout):
        """torch.nn.FeatureAlphaDropout: AlphaDropout of whole channels."""

        type: Literal["FeatureAlphaDropout"]

        def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
            """A new tensor even in place (``alpha_dropout_`` adds an offset out of place), except in eval mode."""
            return 0 if not training or self.p == 0 else None

    return FeatureAlphaDropout


@register_class("StochasticDepth")
def _stochastic_depth_class() -> type[Layer]:
    class StochasticDepth(Elementwise):
        """torchvision.ops.StochasticDepth: zero whole samples (or the whole batch) with probability p.

        The survivors are scaled by 1/(1-p); identity in eval mode. torchvision's constructor takes
        ``p`` and ``mode`` with no defaults and checks them in ``forward`` (``p`` in [0, 1], ``mode``
        'row' or 'batch'), where archspec's schema checks them as the spec is read.
        """

        type: Literal["StochasticDepth"]
        family: ClassVar[str] = "dropout"
        torch_module: ClassVar[str] = "torchvision.ops"

        p: DropProbability | Expr = Field(description="probability of dropping a sample (row) or the batch, in [0, 1]")
        mode: Literal["row", "batch"] | Expr = Field(
            description="'row': each sample of the batch is dropped on its own; 'batch': all of them together"
        )

        def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
            """``p`` as a float: TorchScript holds torchvision to its ``p: float`` annotation, and refuses ``1``."""
            return {**super().torch_kwargs(inputs), "p": float(self.p)}

        def label(self) -> str:
            return f"p={self.p} {self.mode}"

        def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
            return 0 if not training or self.p == 0 else None

        def saved(self, call: Saving) -> list[Saved]:
            """``input * noise``: the product keeps the noise, one value per sample (row) or one in all (batch)."""
            if not call.recorded or self.p == 0:
                return []
            return [Saved("new", 0, 1, batched=self.mode == "row")]

    return StochasticDepth


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
