"""Shape layers: Flatten, Unflatten, Identity, Upsample and the padding layers.

None has parameters. ``dim`` arguments are torch's dims of the batched tensor (dim 0
is the batch), wrapped as torch wraps them; archspec models one sample, so a layer
that would merge or split the batch dim is rejected even where torch allows it.
"""

import math
from functools import cache, partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.activation import Elementwise
from archspec.layers.base import (
    MAX_SIZE,
    AnyInt,
    Expr,
    Keeps,
    Layer,
    LayerResult,
    Number,
    PositiveInt,
    Shape,
    StrictBool,
    as_tuple,
    check_scalar,
    expect_rank,
    normalize_dim,
)
from archspec.layers.conv import axis_names
from archspec.layers.registry import as_module_level, lazy_base, module_class, register_class, register_variant

DIMS_HINT = "use dims >= 1 (dim 1 is the first per-sample dim) or negative dims counted from the end"


def _batch_error(what: str, field: str, hint: str = DIMS_HINT) -> LayerError:
    return LayerError(
        f"{what} would involve the batch dim 0; archspec models one sample at a time", hint=hint, field=field
    )


@register_class("Flatten")
def _flatten_class() -> type[Layer]:
    class Flatten(Layer):
        """torch.nn.Flatten: merge dims start_dim..end_dim of the batched tensor into one.

        ``(64, 7, 7)`` per sample becomes ``(3136,)`` with the defaults (1, -1).
        """

        aliases_input: ClassVar[bool] = True
        keeps: ClassVar[Keeps] = "nothing"

        family: ClassVar[str] = "shape"
        type: Literal["Flatten"]
        start_dim: AnyInt | Expr = Field(default=1, description="first dim to merge (batched; 0 is the batch)")
        end_dim: AnyInt | Expr = Field(default=-1, description="last dim to merge (batched)")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            rank = len(shape) + 1
            start = normalize_dim(int(self.start_dim), rank, "start_dim")
            end = normalize_dim(int(self.end_dim), rank, "end_dim")
            if start > end:
                raise LayerError(
                    f"start_dim (={self.start_dim}) comes after end_dim (={self.end_dim}) for a tensor of rank {rank}",
                    hint="start_dim must not come after end_dim once negative dims are wrapped",
                    field="start_dim",
                )
            if start == end:
                return LayerResult(shape)
            if start == 0:
                raise _batch_error("flattening from start_dim 0", "start_dim")
            merged = math.prod(shape[start - 1 : end])
            return LayerResult((*shape[: start - 1], merged, *shape[end:]))

        def label(self) -> str:
            return "" if (self.start_dim, self.end_dim) == (1, -1) else f"{self.start_dim}..{self.end_dim}"

    return Flatten


UnflattenedSize = Annotated[
    list[AnyInt | Expr],
    Field(min_length=1, description="sizes that multiply to the size of dim; one may be -1 (inferred)"),
]


@register_class("Unflatten")
def _unflatten_class() -> type[Layer]:
    class Unflatten(Layer):
        """torch.nn.Unflatten: split dim ``dim`` of the batched tensor into ``unflattened_size``.

        ``(3136,)`` per sample with dim 1 and size ``[64, 7, 7]`` becomes ``(64, 7, 7)``.
        """

        aliases_input: ClassVar[bool] = True
        keeps: ClassVar[Keeps] = "nothing"

        family: ClassVar[str] = "shape"
        type: Literal["Unflatten"]
        dim: AnyInt | Expr = Field(description="dim of the batched tensor to split (0 is the batch)")
        unflattened_size: UnflattenedSize | Expr

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            dim = normalize_dim(int(self.dim), len(shape) + 1)
            if dim == 0:
                raise _batch_error("unflattening dim 0", "dim")
            size = shape[dim - 1]
            sizes = [int(s) for s in self.unflattened_size]
            return LayerResult((*shape[: dim - 1], *_unflatten(size, sizes), *shape[dim:]))

        def label(self) -> str:
            return f"dim {self.dim} -> " + "x".join(map(str, self.unflattened_size))

    return Unflatten


def _unflatten(size: int, sizes: list[int]) -> list[int]:
    """torch's ``infer_size`` for ``view``: at most one -1, the rest >= 0, product equal to ``size``."""
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise LayerError(
            f"unflattened_size {sizes} may hold one -1 and otherwise sizes >= 0",
            hint="write every size but at most one, which may be -1 to infer it",
            field="unflattened_size",
        )
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and known and size % known == 0:
        return [size // known if s == -1 else s for s in sizes]
    if -1 not in sizes and known == size:
        return sizes
    raise LayerError(
        f"unflattened_size {sizes} does not multiply up to the size of the dim ({size})",
        hint=f"use sizes whose product is {size}",
        field="unflattened_size",
    )


@register_class("Identity")
def _identity_class() -> type[Layer]:
    class Identity(Elementwise):
        """torch.nn.Identity: returns its input (a placeholder; torch ignores constructor arguments)."""

        aliases_input: ClassVar[bool] = True
        keeps: ClassVar[Keeps] = "nothing"

        family: ClassVar[str] = "shape"
        type: Literal["Identity"]

    return Identity


# -- Upsample --------------------------------------------------------------------------------

UpsampleMode = Literal["nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact"]
MODE_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
"""Interpolating modes that need a fixed number of spatial dims; the nearest modes take 1 to 3."""


@register_class("Upsample")
def _upsample_class() -> type[Layer]:
    class Upsample(Layer):
        """torch.nn.Upsample (``F.interpolate``) over the spatial dims of ``(C, *spatial)``, 1 to 3 of them.

        Give exactly one of ``size`` and ``scale_factor``. With a scale factor each output size is
        ``int(in * scale)`` (a double product, truncated), whatever ``recompute_scale_factor`` says;
        it must be >= 1. A scale factor must be > 0 (torch reads a single 0 as "not given" and fails).
        """

        keeps: ClassVar[Keeps] = "nothing"

        family: ClassVar[str] = "shape"
        type: Literal["Upsample"]
        size: PositiveInt | list[PositiveInt | Expr] | Expr | None = Field(
            default=None, description="output spatial size: one int for every dim, or one per dim"
        )
        scale_factor: Number | list[Number | Expr] | Expr | None = Field(
            default=None, description="multiplier for the spatial size: one for every dim, or one per dim"
        )
        mode: UpsampleMode | Expr = "nearest"
        align_corners: StrictBool | Expr | None = Field(
            default=None, description="only for linear, bilinear, bicubic and trilinear"
        )
        recompute_scale_factor: StrictBool | Expr | None = Field(
            default=None, description="pass the computed output size, not the scale, to the kernel (scale only)"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            self._check_arguments()
            expect_rank(shape, (2, 3, 4), "C, then 1 to 3 spatial dims")
            spatial = shape[1:]
            wanted = MODE_SPATIAL.get(str(self.mode))
            if wanted is not None and wanted != len(spatial):
                raise LayerError(
                    f"mode '{self.mode}' needs {wanted} spatial dim(s), got input {list(shape)} with {len(spatial)}",
                    hint="linear is for (C, L), bilinear/bicubic for (C, H, W), trilinear for (C, D, H, W)",
                    field="mode",
                )
            axes = axis_names(len(spatial))
            if self.size is not None:
                out = self._per_axis("size", self.size, len(spatial))
            else:
                scales = self._per_axis("scale_factor", self.scale_factor, len(spatial))
                out = tuple(n * float(s) for n, s in zip(spatial, scales, strict=True))
            for n, o, axis in zip(spatial, out, axes, strict=True):
                if not 1 <= o < MAX_SIZE + 1:  # also catches nan
                    raise LayerError(
                        f"output {axis} would be {int(o) if abs(o) < 1e15 else f'{o:.3g}'} (input {n}); "
                        f"it must be between 1 and {MAX_SIZE}",
                        hint="use a scale_factor that keeps every size >= 1, or give size",
                        field="size" if self.size is not None else "scale_factor",
                    )
            return LayerResult((shape[0], *(int(o) for o in out)))

        def _scale(self) -> Any:
            """torch's constructor: ``float(scale_factor) if scale_factor else None`` for a single number."""
            return self.scale_factor if isinstance(self.scale_factor, list) or self.scale_factor else None

        def _check_arguments(self) -> None:
            scales = self.scale_factor if isinstance(self.scale_factor, list) else [self.scale_factor]
            bad = next((s for s in scales if s is not None and s <= 0), None)
            if bad is not None and self.size is None:  # torch: a single 0 is "not given"; 0 or less in a list fails
                raise LayerError(
                    f"scale_factor must be greater than 0, got {bad}"
                    + (" (torch reads a scale factor of 0 as 'not given')" if bad == 0 and len(scales) == 1 else ""),
                    hint="use a positive scale_factor (0.5 halves, 2 doubles), or give size",
                    field="scale_factor",
                )
            if self.mode in ("nearest", "nearest-exact") and self.align_corners is not None:
                raise LayerError(
                    "align_corners can only be set with the interpolating modes: linear, bilinear, bicubic, trilinear",
                    hint=f"remove align_corners for mode '{self.mode}'",
                    field="align_corners",
                )
            scale = self._scale()
            if (self.size is None) == (scale is None):
                given = "neither" if self.size is None else "both"
                raise LayerError(
                    f"give exactly one of size and scale_factor ({given} given)",
                    hint="size sets the output size; scale_factor multiplies the input size",
                    field="size" if self.size is not None else None,
                )
            if self.size is not None and self.recompute_scale_factor:
                raise LayerError(
                    "recompute_scale_factor is not meaningful with an explicit size",
                    hint="remove recompute_scale_factor, or use scale_factor instead of size",
                    field="recompute_scale_factor",
                )

        def _per_axis(self, name: str, value: Any, n: int) -> tuple[Any, ...]:
            if isinstance(value, list) and len(value) != n:
                raise LayerError(
                    f"{name} has {len(value)} entries but the input has {n} spatial dim(s)",
                    hint=f"give one {name} for all spatial dims, or exactly {n}",
                    field=name,
                )
            return tuple(value) if isinstance(value, list) else (value,) * n

        def label(self) -> str:
            mode = "" if self.mode == "nearest" else f" {self.mode}"
            if self.size is not None:
                sizes = self.size if isinstance(self.size, list) else [self.size]
                return "size " + "x".join(map(str, sizes)) + mode
            scales = self.scale_factor if isinstance(self.scale_factor, list) else [self.scale_factor]
            return "x" + "x".join(f"{s:g}" if isinstance(s, float) else str(s) for s in scales) + mode

    return Upsample


# -- padding ---------------------------------------------------------------------------------


class _PadNd(Layer):
    """Pads (or, with negative padding, crops) the last N dims.

    ``padding`` is one int for every side, or ``2N`` ints in torch's ``F.pad`` order: last dim
    first, ``(left, right, top, bottom, front, back)``. Each output size is
    ``in + before + after`` and must be >= 1.
    """

    family: ClassVar[str] = "shape"
    ndim: ClassVar[int]

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        pads = as_tuple(self.padding, 2 * self.ndim)  # type: ignore[attr-defined]
        self._check_rank(shape, pads)
        out = list(shape)
        for i, axis in enumerate(reversed(axis_names(self.ndim)[-len(shape) :] if shape else ())):
            before, after = pads[2 * i], pads[2 * i + 1]
            size = shape[-1 - i]
            self._check_axis(size, before, after, axis)
            out[-1 - i] = size + before + after
            if out[-1 - i] < 1:
                raise LayerError(
                    f"output {axis} would be {out[-1 - i]}: input {size} + padding {before} + {after}",
                    hint="negative padding crops; crop less than the input holds",
                    field="padding",
                )
        return LayerResult(tuple(out))

    def _check_rank(self, shape: Shape, pads: tuple[int, ...]) -> None:
        """Constant padding pads the last N dims of any rank, but never the batch dim.

        A rank N-1 sample passes only if the padding meant for the batch dim is zero.
        """
        rank = len(shape)
        if rank + 1 < self.ndim:
            raise LayerError(
                f"{2 * self.ndim} padding values pad {self.ndim} dims, but a rank-{rank} sample has "
                f"{rank + 1} with the batch",
                hint=f"use ZeroPad{rank}d/ConstantPad{rank}d, or give the input more dims",
                field="padding",
            )
        if rank < self.ndim and any(pads[2 * rank :]):
            what = f"padding {self.ndim} dims of a rank-{rank} sample"
            raise _batch_error(what, "padding", hint=f"pad only the sample's dims (ZeroPad{rank}d/ConstantPad{rank}d)")

    def _check_axis(self, size: int, before: int, after: int, axis: str) -> None:
        """Mode-specific limits on the padding of one axis."""

    def label(self) -> str:
        pads = as_tuple(self.padding, 2 * self.ndim)  # type: ignore[attr-defined]
        return f"p{pads[0]}" if len(set(pads)) == 1 else "p" + ",".join(map(str, pads))


class _FillPadNd(_PadNd):
    """Constant padding (``torch.constant_pad_nd``) crops first, so the crops alone must leave >= 0."""

    keeps: ClassVar[Keeps] = "nothing"

    def _check_axis(self, size: int, before: int, after: int, axis: str) -> None:
        cropped = size + min(before, 0) + min(after, 0)
        if cropped < 0:
            raise LayerError(
                f"negative padding crops {-(cropped - size)} from the input {axis} {size}, more than it holds",
                hint="crop less than the input holds (torch crops before it pads)",
                field="padding",
            )


class _ZeroPadNd(_FillPadNd):
    __doc__ = "Pads with zeros. " + (_PadNd.__doc__ or "")


@lazy_base
def _constant_pad_nd() -> type[Layer]:
    class _ConstantPadNd(_FillPadNd):
        __doc__ = "Pads with ``value``. " + (_PadNd.__doc__ or "")

        value: Number | Expr = Field(description="the fill value")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            """``F.pad`` reads ``value`` as a double; a fill (some padding > 0) converts it to float32."""
            try:
                fill = float(self.value)
            except OverflowError:
                fill = math.inf
            pads = as_tuple(self.padding, 2 * self.ndim)  # type: ignore[attr-defined]
            if math.isinf(fill) or any(p > 0 for p in pads):
                check_scalar(fill, "value")
            return super().infer(inputs)

        def label(self) -> str:
            return f"{super().label()} value={self.value}"

    return _ConstantPadNd


@cache
def _shaped_pads() -> dict[str, type[Layer]]:
    """Reflection, replication and circular padding's bases, made with the first of their variants."""

    class _ShapedPadNd(_PadNd):
        """Reflection, replication and circular padding: torch takes ``(C, *N dims)`` or ``(*N dims)`` per sample."""

        def _check_rank(self, shape: Shape, pads: tuple[int, ...]) -> None:
            n = self.ndim
            layout = ", ".join(axis_names(n))
            expect_rank(shape, (n, n + 1), f"C, {layout} or {layout}")

    class _ReflectionPadNd(_ShapedPadNd):
        __doc__ = "Pads with the mirror image of the input, edge excluded. " + (_PadNd.__doc__ or "")

        def _check_axis(self, size: int, before: int, after: int, axis: str) -> None:
            if max(before, after) >= size:
                raise LayerError(
                    f"reflection padding {max(before, after)} must be smaller than the input {axis} {size}",
                    hint="use less padding, a larger input, or ReplicationPad/ZeroPad",
                    field="padding",
                )

    class _ReplicationPadNd(_ShapedPadNd):
        __doc__ = "Pads by repeating the edge values. " + (_PadNd.__doc__ or "")

    class _CircularPadNd(_ShapedPadNd):
        keeps: ClassVar[Keeps] = "nothing"

        __doc__ = "Pads by wrapping around (the input repeats). " + (_PadNd.__doc__ or "")

        def _check_axis(self, size: int, before: int, after: int, axis: str) -> None:
            if max(before, after) > size:
                raise LayerError(
                    f"circular padding {max(before, after)} wraps around the input {axis} {size} more than once",
                    hint="use padding no larger than the input",
                    field="padding",
                )

    as_module_level(_ShapedPadNd)
    return {
        "Reflection": as_module_level(_ReflectionPadNd),
        "Replication": as_module_level(_ReplicationPadNd),
        "Circular": as_module_level(_CircularPadNd),
    }


def _shaped_pad(kind: str) -> type[Layer]:
    return _shaped_pads()[kind]


def _padding(n: int) -> Any:
    """One int for every side, or 2N ints (negative crops)."""
    sides = Annotated[list[AnyInt | Expr], Field(min_length=2 * n, max_length=2 * n)]
    return AnyInt | sides | Expr


for _n in (1, 2, 3):
    _fields: dict[str, Any] = {"padding": (_padding(_n), ...)}
    register_variant(_ZeroPadNd, f"ZeroPad{_n}d", _n, **_fields)
    register_variant(_constant_pad_nd, f"ConstantPad{_n}d", _n, **_fields)
    for _kind in ("Reflection", "Replication", "Circular"):
        register_variant(partial(_shaped_pad, _kind), f"{_kind}Pad{_n}d", _n, **_fields)


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
