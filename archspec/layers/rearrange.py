"""Rearranging layers: ChannelShuffle, PixelShuffle, PixelUnshuffle, Fold and Unfold.

They move elements without computing new ones: no parameters, so no mult-adds (torchinfo
counts weights only). Shapes follow the torch docs' shape formulas; the errors follow aten's
checks (``ChannelShuffle.cpp``, ``PixelShuffle.h``, ``im2col_shape_check.h``).

Where torch also takes an unbatched input one rank short (PixelShuffle's ``(C, H, W)``,
Unfold's ``(C, H, W)``, Fold's ``(C * prod(kernel_size), L)``), a per-sample shape one rank
short would make torch read the batch as channels: archspec refuses it.
"""

from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Expr,
    Keeps,
    Layer,
    LayerResult,
    PositiveInt,
    Receptive,
    Shape,
    as_tuple,
    non_negative_sizes,
    positive_sizes,
)
from archspec.layers.registry import module_class, register_class

if TYPE_CHECKING:
    Sizes = Any
    Paddings = Any
else:
    Sizes = positive_sizes(2)
    Paddings = non_negative_sizes(2)


class _Rearrange(Layer):
    family: ClassVar[str] = "shape"
    keeps: ClassVar[Keeps] = "nothing"  # their backward is the inverse rearrangement


@register_class("ChannelShuffle")
def _channel_shuffle_class() -> type[Layer]:
    class ChannelShuffle(_Rearrange):
        """torch.nn.ChannelShuffle: split the channels into ``groups`` and interleave them (ShuffleNet).

        Input per sample ``(C, *)`` with at least one dim after the channels (aten's
        ``channel_shuffle`` needs more than 2 batched dims); ``groups`` must divide ``C``.
        """

        type: Literal["ChannelShuffle"]
        groups: PositiveInt | Expr = Field(description="number of channel groups; must divide the channels")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if len(shape) < 2:
                raise LayerError(
                    f"expects a per-sample input of rank 2 or more (C, *), got shape {list(shape)} (rank {len(shape)})",
                    hint="channel shuffle needs at least one dim after the channels",
                )
            channels, groups = shape[0], int(self.groups)
            if channels % groups:
                raise LayerError(
                    f"the input's channels (={channels}) must be divisible by groups (={groups})",
                    hint="choose groups that divides the channels",
                    field="groups",
                )
            return LayerResult(shape)

        def label(self) -> str:
            return f"g{self.groups}"

    return ChannelShuffle


def _at_least_chw(shape: Shape, name: str) -> None:
    if len(shape) < 3:
        raise LayerError(
            f"expects a per-sample input of rank 3 or more (*, C, H, W), got shape {list(shape)} (rank {len(shape)})",
            hint=f"{name} acts on (C, H, W) feature maps; with a rank-2 sample torch would read the batch as C",
        )


@register_class("PixelShuffle")
def _pixel_shuffle_class() -> type[Layer]:
    class PixelShuffle(_Rearrange):
        """torch.nn.PixelShuffle: ``(*, C * r**2, H, W)`` -> ``(*, C, H * r, W * r)``, r the upscale_factor."""

        type: Literal["PixelShuffle"]
        upscale_factor: PositiveInt | Expr = Field(description="r: the channels shrink by r**2, H and W grow by r")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            _at_least_chw(shape, "PixelShuffle")
            r = int(self.upscale_factor)
            *lead, channels, height, width = shape
            if channels % (r * r):
                raise LayerError(
                    f"the input's channels (={channels}, dim -3) must be divisible by upscale_factor**2 (={r * r})",
                    hint=f"give the input a multiple of {r * r} channels",
                    field="upscale_factor",
                )
            return LayerResult((*lead, channels // (r * r), height * r, width * r))

        def receptive(self) -> Receptive:
            r = int(self.upscale_factor)
            return (1, 1), (Fraction(1, r), Fraction(1, r))

        def label(self) -> str:
            return f"x{self.upscale_factor}"

    return PixelShuffle


@register_class("PixelUnshuffle")
def _pixel_unshuffle_class() -> type[Layer]:
    class PixelUnshuffle(_Rearrange):
        """torch.nn.PixelUnshuffle: ``(*, C, H * r, W * r)`` -> ``(*, C * r**2, H, W)``, r the downscale_factor."""

        type: Literal["PixelUnshuffle"]
        downscale_factor: PositiveInt | Expr = Field(description="r: H and W shrink by r, the channels grow by r**2")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            _at_least_chw(shape, "PixelUnshuffle")
            r = int(self.downscale_factor)
            *lead, channels, height, width = shape
            for axis, size in (("height", height), ("width", width)):
                if size % r:
                    raise LayerError(
                        f"the input's {axis} (={size}) must be divisible by downscale_factor (={r})",
                        hint=f"give the input a {axis} that is a multiple of {r}",
                        field="downscale_factor",
                    )
            return LayerResult((*lead, channels * r * r, height // r, width // r))

        def receptive(self) -> Receptive:
            r = int(self.downscale_factor)
            return (r, r), (r, r)

        def label(self) -> str:
            return f"/{self.downscale_factor}"

    return PixelUnshuffle


# -- sliding blocks --------------------------------------------------------------------------


def _expect_rank(shape: Shape, rank: int, layout: str, why: str) -> None:
    if len(shape) != rank:
        raise LayerError(
            f"expects a per-sample input of rank {rank} {layout}, got shape {list(shape)} (rank {len(shape)})",
            hint=f"{why}: {layout} per sample",
        )


class _SlidingBlocks(_Rearrange):
    """The sliding-window arguments Fold and Unfold share, always over 2 spatial dims."""

    kernel_size: Sizes = Field(description="block size: one int for H and W, or [kH, kW]")
    dilation: Sizes = 1
    padding: Paddings = Field(default=0, description="implicit zeros on both sides of each dim")
    stride: Sizes = 1

    def _window(self) -> tuple[tuple[int, ...], ...]:
        return tuple(as_tuple(getattr(self, name), 2) for name in ("kernel_size", "dilation", "padding", "stride"))

    def blocks(self, sizes: tuple[int, ...]) -> tuple[int, ...]:
        """Blocks per spatial dim (aten ``im2col_shape_check``, ``div_rtn``: a floor division)."""
        kernel, dilation, padding, stride = self._window()
        return tuple(
            (n + 2 * p - (d * (k - 1) + 1)) // s + 1
            for n, k, d, p, s in zip(sizes, kernel, dilation, padding, stride, strict=True)
        )

    def label(self) -> str:
        kernel, _, padding, stride = self._window()
        parts = ["x".join(map(str, kernel))]
        if set(stride) != {1}:
            parts.append("/" + "x".join(map(str, stride)))
        if any(padding):
            parts.append("p" + "x".join(map(str, padding)))
        return " ".join(parts)


@register_class("Unfold")
def _unfold_class() -> type[Layer]:
    class Unfold(_SlidingBlocks):
        """torch.nn.Unfold (im2col): ``(C, H, W)`` -> ``(C * kH * kW, L)``, L the number of blocks.

        Per spatial dim ``blocks = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1``
        (torch docs' formula), and each must be >= 1.
        """

        type: Literal["Unfold"]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            _expect_rank(shape, 3, "(C, H, W)", "Unfold slides over 2-d feature maps")
            blocks = self.blocks(shape[1:])
            if min(blocks) < 1:
                kernel = self._window()[0]
                raise LayerError(
                    f"input {shape[1]}x{shape[2]} gives {blocks[0]}x{blocks[1]} sliding blocks for kernel_size "
                    f"{kernel[0]}x{kernel[1]}; each must be at least one",
                    hint="use a smaller kernel_size or dilation, or more padding",
                    field="kernel_size",
                )
            kernel = self._window()[0]
            return LayerResult((shape[0] * kernel[0] * kernel[1], blocks[0] * blocks[1]))

        def receptive(self) -> Receptive:
            return "global"

    return Unfold


@register_class("Fold")
def _fold_class() -> type[Layer]:
    class Fold(_SlidingBlocks):
        """torch.nn.Fold (col2im): ``(C * kH * kW, L)`` -> ``(C, *output_size)``, summing overlaps.

        ``C * kH * kW`` must be divisible by ``kH * kW``, and L must equal the number of blocks
        that fit ``output_size`` (Unfold's formula with ``output_size`` as the input size), each >= 1.
        """

        type: Literal["Fold"]
        output_size: Sizes = Field(description="the spatial output size: one int for H and W, or [H, W]")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            _expect_rank(shape, 2, "(C * kH * kW, L)", "Fold takes blocks as Unfold makes them")
            kernel = self._window()[0]
            planes, length = shape
            if planes % (kernel[0] * kernel[1]):
                raise LayerError(
                    f"the input's dim 1 (={planes}) must be divisible by the product of kernel_size "
                    f"({kernel[0]}x{kernel[1]} = {kernel[0] * kernel[1]})",
                    hint="the input holds C * kH * kW values per block: give it a multiple of kH * kW",
                    field="kernel_size",
                )
            out = as_tuple(self.output_size, 2)
            blocks = self.blocks(out)
            if min(blocks) < 1 or blocks[0] * blocks[1] != length:
                raise LayerError(
                    f"output_size {out[0]}x{out[1]} holds {blocks[0]}x{blocks[1]} sliding blocks, but the input has "
                    f"{length} (its last dim); they must match and each be at least one",
                    hint="set output_size (or kernel_size, dilation, padding, stride) so the blocks match the input",
                    field="output_size",
                )
            return LayerResult((planes // (kernel[0] * kernel[1]), *out))

        def receptive(self) -> Receptive:
            return "global"

    return Fold


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
