"""Normalisation: BatchNorm1d/2d/3d, GroupNorm, LayerNorm, RMSNorm, InstanceNorm1d/2d/3d, LocalResponseNorm.

Normalisation keeps the shape. Parameters are only the learnable ones: ``weight``
and ``bias`` of ``num_features`` (or ``num_channels``) elements when ``affine`` is
true, or of ``prod(normalized_shape)`` elements for LayerNorm (RMSNorm: a weight only); running statistics
are buffers, not parameters. torchinfo counts each parameter once per sample as a
mult-add, so ``macs == params``.

archspec checks per sample, so it cannot see conditions on the batch size; see
each class for the ones it leaves to run time.
"""

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Autocast,
    Expr,
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
    bounded_number,
    check_inferred,
    check_scalar,
    expect_rank,
    nd_variant,
    weight_and_bias,
    weight_macs,
)
from archspec.layers.conv import axis_names
from archspec.layers.registry import lazy_base, module_class, register_class, register_lazy, register_variant

if TYPE_CHECKING:
    Eps = float
    Momentum = float
else:
    Eps = bounded_number("added to the variance for numerical stability; must be > 0", gt=0)
    Momentum = bounded_number("weight of the newest batch in the running statistics", ge=0, le=1)


def _affine_params(enabled: bool, features: int) -> int:
    return 2 * features if enabled else 0


def _affine_state(enabled: bool, features: int) -> StateEntries:
    return weight_and_bias((features,), features) if enabled else {}


def _running_stats(features: int) -> StateEntries:
    """``_NormBase``'s buffers with ``track_running_stats``: the running mean and variance, and the
    int64 scalar count of batches seen (the default momentum of ``None`` reads it)."""
    return {
        "running_mean": StateEntry((features,), kind="buffer"),
        "running_var": StateEntry((features,), kind="buffer"),
        "num_batches_tracked": StateEntry((), "int64", "buffer"),
    }


def _stats(call: Saving, elements: int, count: int = 2, *, batched: bool = True) -> list[Saved]:
    """The input and ``count`` statistics (mean, inverse std) of ``elements`` each (per sample when
    ``batched``): in the input's dtype on CPU, in the accumulation type (float32 for half inputs) on CUDA."""
    dtype = call.inputs[0].dtype
    if call.device == "cuda" and dtype in ("float16", "bfloat16"):
        dtype = "float32"
    return [Saved("input", 0), *[Saved("new", 0, elements, dtype, batched)] * count]


class _FeatureNorm(Layer):
    family: ClassVar[str] = "norm"
    fresh_output: ClassVar[bool] = True
    ndim: ClassVar[int]
    inferred_fields: ClassVar[tuple[str, ...]] = ("num_features",)
    ranks: ClassVar[tuple[int, ...] | None] = None

    num_features: PositiveInt | Expr | None = Field(default=None, description="inferred from the input's channels")
    eps: Eps | Expr = 1e-5
    momentum: Momentum | Expr | None = Field(
        default=0.1, description="running-statistics update weight; null means a cumulative average"
    )

    def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
        return {"num_features": inputs[0][0]}

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        ranks = self.ranks or (self.ndim + 1,)
        layouts = {1: "C", 2: "C, length"}
        layout = " or ".join(layouts[r] for r in ranks) if self.ranks else "C, " + ", ".join(axis_names(self.ndim))
        expect_rank(shape, ranks, layout)
        check_inferred("num_features", self.num_features, shape[0])
        self._check(shape)
        params = _affine_params(bool(self.affine), shape[0])  # type: ignore[attr-defined]
        return LayerResult(shape, params, weight_macs(params))

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        features = inputs[0][0]
        stats = _running_stats(features) if self.track_running_stats else {}  # type: ignore[attr-defined]
        return {**_affine_state(bool(self.affine), features), **stats}  # type: ignore[attr-defined]

    def _check(self, shape: Shape) -> None:
        """Extra checks of the input shape."""

    def label(self) -> str:
        fields = type(self).model_fields
        flags = ("affine", "track_running_stats")
        return " ".join(
            f"{name}={getattr(self, name)}" for name in flags if getattr(self, name) != fields[name].default
        )


class _BatchNormNd(_FeatureNorm):
    """Per-channel normalisation over the batch (and spatial dims); input per sample ``(C, *spatial)``.

    BatchNorm1d takes ``(C,)`` or ``(C, L)`` per sample. A written ``num_features`` must equal
    the input's channels; archspec is stricter than torch here, which accepts a mismatch when
    ``affine`` and ``track_running_stats`` are both false (nothing then has ``num_features`` elements).
    Not checked (batch-dependent): when it uses batch statistics (training, or
    ``track_running_stats: false``) torch needs more than one value per channel, batch x spatial > 1.
    """

    affine: StrictBool | Expr = Field(default=True, description="learn a per-channel weight and bias")
    track_running_stats: StrictBool | Expr = Field(
        default=True, description="keep running mean/var buffers (used in eval mode)"
    )

    def saved(self, call: Saving) -> list[Saved]:
        """``native_batch_norm`` keeps the input, ``save_mean`` and ``save_invstd`` (one per channel,
        not per sample; the weight and running buffers it keeps are the module's)."""
        if not call.recorded:
            return []
        return _stats(call, call.inputs[0].shape[0], batched=False)


@lazy_base
def _instance_norm_nd() -> type[Layer]:
    class _InstanceNormNd(_FeatureNorm):
        """Per-sample, per-channel normalisation over the spatial dims; input per sample ``(C, *spatial)``.

        ``num_features`` is inferred from the channels. archspec is stricter than torch: a written
        ``num_features`` that differs from the input's channels is an error, where torch only warns
        (when ``affine`` and ``track_running_stats`` are false) and normalises anyway. archspec also
        requires more than one spatial element always: torch raises for a single one whenever it uses
        the input's statistics (training, or ``track_running_stats: false``), so such a model could not train.
        """

        affine: StrictBool | Expr = Field(default=False, description="learn a per-channel weight and bias")
        track_running_stats: StrictBool | Expr = Field(
            default=False, description="keep running mean/var buffers (used in eval mode)"
        )

        def saved(self, call: Saving) -> list[Saved]:
            """``instance_norm`` runs batch_norm on ``(1, N*C, *)``: besides the input and statistics it
            keeps the weight and the running buffers repeated N times (new tensors, N*C elements)."""
            if not call.recorded:
                return []
            copies = 2 + (self.affine is True) + 2 * (self.track_running_stats is True)
            return _stats(call, call.inputs[0].shape[0], copies)

        def _check(self, shape: Shape) -> None:
            if math.prod(shape[1:]) == 1:
                sizes = "x".join(map(str, shape[1:]))
                raise LayerError(
                    f"needs more than 1 spatial element to normalise over, got {sizes} (input {list(shape)})",
                    hint="instance statistics of a single value are undefined; use a larger input or drop this layer",
                )

    return _InstanceNormNd


@register_class("GroupNorm")
def _group_norm_class() -> type[Layer]:
    class GroupNorm(Layer):
        """torch.nn.GroupNorm: normalise groups of channels per sample; input per sample ``(C, *)``.

        ``num_channels`` is inferred from the channels and must be divisible by ``num_groups``.
        Not checked (batch-dependent): torch needs more than one value per group across the batch,
        which fails only for batch 1 with one channel per group and no spatial dims.
        """

        autocast: ClassVar[Autocast] = "float32"

        fresh_output: ClassVar[bool] = True

        family: ClassVar[str] = "norm"
        inferred_fields: ClassVar[tuple[str, ...]] = ("num_channels",)

        type: Literal["GroupNorm"]
        num_groups: PositiveInt | Expr = Field(description="number of channel groups; must divide num_channels")
        num_channels: PositiveInt | Expr | None = Field(default=None, description="inferred from the input's channels")
        eps: Eps | Expr = 1e-5
        affine: StrictBool | Expr = Field(default=True, description="learn a per-channel weight and bias")

        def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
            return {"num_channels": inputs[0][0]}

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            _at_least_rank_1(shape, "C, *")
            channels = shape[0]
            check_inferred("num_channels", self.num_channels, channels)
            groups: int = self.num_groups
            if channels % groups:
                raise LayerError(
                    f"num_channels (={channels}) must be divisible by num_groups (={groups}): "
                    f"{channels} % {groups} = {channels % groups}",
                    hint="choose num_groups that divides the channels",
                    field="num_groups",
                )
            params = _affine_params(bool(self.affine), channels)
            return LayerResult(shape, params, weight_macs(params))

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            return _affine_state(bool(self.affine), inputs[0][0])

        def label(self) -> str:
            return f"g{self.num_groups}"

        def saved(self, call: Saving) -> list[Saved]:
            """``native_group_norm`` keeps the input, and a mean and inverse std per group of each sample."""
            return _stats(call, int(self.num_groups)) if call.recorded else []

    return GroupNorm


NormalizedShape = PositiveInt | Annotated[list[PositiveInt | Expr], Field(min_length=1)] | Expr


def _normalized(written: Any) -> tuple[int, ...]:
    return (written,) if isinstance(written, int) else tuple(written)


def _check_trailing(written: Any, ns: tuple[int, ...], shape: Shape) -> None:
    """LayerNorm's and RMSNorm's rule: ``normalized_shape`` is the sample's trailing dims."""
    if len(ns) > len(shape):
        raise LayerError(
            f"normalized_shape (={written}) has {len(ns)} dims but the per-sample input {list(shape)} has "
            f"only {len(shape)}; archspec does not normalise over the batch dim",
            hint=f"set normalized_shape to {list(shape)} to normalise over the whole sample",
            field="normalized_shape",
        )
    trailing = tuple(shape[len(shape) - len(ns) :])
    if trailing != ns:
        fix = trailing[0] if isinstance(written, int) else list(trailing)
        raise LayerError(
            f"normalized_shape (={written}) must equal the last {len(ns)} dim(s) of the per-sample input "
            f"{list(shape)}, which are {list(trailing)}",
            hint=f"set normalized_shape to {fix}",
            field="normalized_shape",
        )


@register_class("LayerNorm")
def _layer_norm_class() -> type[Layer]:
    class LayerNorm(Layer):
        """torch.nn.LayerNorm: normalise each sample over its last ``len(normalized_shape)`` dims.

        ``normalized_shape`` must equal the input's trailing per-sample dims. archspec does not
        let it reach into the batch dim (torch would accept that when the batch size happens to
        match), since the batch size is not part of a spec.
        """

        autocast: ClassVar[Autocast] = "float32"

        fresh_output: ClassVar[bool] = True

        family: ClassVar[str] = "norm"

        type: Literal["LayerNorm"]
        normalized_shape: NormalizedShape = Field(
            description="the trailing dims to normalise over, e.g. the feature size"
        )
        eps: Eps | Expr = 1e-5
        elementwise_affine: StrictBool | Expr = Field(default=True, description="learn a weight (and bias) per element")
        bias: StrictBool | Expr = Field(default=True, description="learn a bias too (only with elementwise_affine)")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            ns = _normalized(self.normalized_shape)
            _check_trailing(self.normalized_shape, ns, shape)
            size = math.prod(ns)
            params = (size + (size if self.bias else 0)) if self.elementwise_affine else 0
            return LayerResult(shape, params, weight_macs(params))

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            if not self.elementwise_affine:
                return {}
            ns = _normalized(self.normalized_shape)
            return {"weight": StateEntry(ns), **({"bias": StateEntry(ns)} if self.bias else {})}

        def label(self) -> str:
            return "x".join(map(str, _normalized(self.normalized_shape)))

        def saved(self, call: Saving) -> list[Saved]:
            """``native_layer_norm`` keeps the input, and a mean and inverse std per normalised row."""
            if not call.recorded:
                return []
            shape = call.inputs[0].shape
            return _stats(call, math.prod(shape[: len(shape) - len(_normalized(self.normalized_shape))]))

    return LayerNorm


@register_class("RMSNorm")
def _rms_norm_class() -> type[Layer]:
    class RMSNorm(Layer):
        """torch.nn.RMSNorm: x / sqrt(mean(x**2) + eps) over the last ``len(normalized_shape)`` dims, times a weight.

        The same shape rule as LayerNorm; no bias. ``eps: null`` (the default) is
        ``torch.finfo(x.dtype).eps`` at run time.
        """

        fresh_output: ClassVar[bool] = True

        family: ClassVar[str] = "norm"

        type: Literal["RMSNorm"]
        normalized_shape: NormalizedShape = Field(
            description="the trailing dims to normalise over, e.g. the feature size"
        )
        eps: Eps | Expr | None = Field(default=None, description="added to the mean square; null: the dtype's epsilon")
        elementwise_affine: StrictBool | Expr = Field(default=True, description="learn a weight per element")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            ns = _normalized(self.normalized_shape)
            _check_trailing(self.normalized_shape, ns, shape)
            params = math.prod(ns) if self.elementwise_affine else 0
            return LayerResult(shape, params, weight_macs(params))

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            return {"weight": StateEntry(_normalized(self.normalized_shape))} if self.elementwise_affine else {}

        def label(self) -> str:
            return "x".join(map(str, _normalized(self.normalized_shape)))

        def saved(self, call: Saving) -> list[Saved]:
            """``_fused_rms_norm`` keeps, for the input's gradient, the input and an inverse rms per row,
            and for the weight's, the normalised input (a new tensor)."""
            shape = call.inputs[0].shape
            rows = math.prod(shape[: len(shape) - len(_normalized(self.normalized_shape))])
            kept = _stats(call, rows, 1) if call.grads[0] else []
            return kept + ([call.like(0)] if call.trainable else [])

    return RMSNorm


@register_class("LocalResponseNorm")
def _local_response_norm_class() -> type[Layer]:
    class LocalResponseNorm(Layer):
        """torch.nn.LocalResponseNorm: x / (k + alpha * mean of x**2 over ``size`` neighbouring channels)**beta.

        Input per sample ``(C, *)`` with at least one dim after the channels (torch needs a
        3-d batched tensor or more). No parameters. ``alpha``, ``beta`` and ``k`` are Python
        numbers in torch's tensor arithmetic: any finite float, an int within int64/uint64.
        """

        family: ClassVar[str] = "norm"

        type: Literal["LocalResponseNorm"]
        size: PositiveInt | Expr = Field(description="number of neighbouring channels to normalise over")
        alpha: Number | Expr = 1e-4
        beta: Number | Expr = 0.75
        k: Number | Expr = 1.0

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if len(shape) < 2:
                raise LayerError(
                    f"expects a per-sample input of rank 2 or more (C, *spatial), got shape {list(shape)}",
                    hint="local response normalisation runs across channels at each position: "
                    "give the input spatial dims",
                )
            for name in ("alpha", "beta", "k"):
                check_scalar(getattr(self, name), name, float32=False)
            return LayerResult(shape)

        def saved(self, call: Saving) -> list[Saved]:
            """``F.local_response_norm``: ``x * x`` keeps x; the average pool keeps the squares padded
            with ``size - 1`` channels; ``pow`` keeps its base and the division its result (both new)."""
            if not call.recorded:
                return []
            shape = call.inputs[0].shape
            padded = (shape[0] + int(self.size) - 1) * math.prod(shape[1:])
            return [Saved("input", 0), Saved("new", 0, padded), call.like(0), call.like(0)]

        def label(self) -> str:
            return f"size={self.size}"

    return LocalResponseNorm


def _at_least_rank_1(shape: Shape, layout: str) -> None:
    if not shape:
        raise LayerError(
            f"expects a per-sample input of rank 1 or more ({layout}), got a scalar per sample",
            hint="normalisation needs a channel dim",
        )


def _batch_norm_1d() -> type[Layer]:
    cls = nd_variant(_BatchNormNd, "BatchNorm1d", 1)
    cls.ranks = (1, 2)  # type: ignore[attr-defined]  # (C,) or (C, L) per sample
    return cls


register_lazy("BatchNorm1d", _batch_norm_1d)
for _n in (2, 3):
    register_variant(_BatchNormNd, f"BatchNorm{_n}d", _n)
for _n in (1, 2, 3):
    register_variant(_instance_norm_nd, f"InstanceNorm{_n}d", _n)


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
