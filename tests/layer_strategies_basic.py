"""Hypothesis strategies for the activation, linear, dropout and shape layer families.

``STRATEGIES[type]`` draws ``(args, shape)``: constructor arguments (without ``type``) and a
per-sample input shape. Arguments cover every field, including values torch rejects, so the
contract test checks both archspec's shapes and its errors against torch; values that only
archspec's schema rejects (a pad list of the wrong length, ``out_features: 0``, Upsample's
``'area'`` mode) are never drawn. ``STRICTER[type]`` names the drawn cases archspec rejects on
purpose although torch accepts them. Shapes stay small (<= 8 channels, spatial sizes <= 10).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from strategy_cache import either, sampled

Shape = tuple[int, ...]
Case = tuple[dict[str, Any], Shape]


@cache
def shapes(min_rank: int = 0, max_rank: int = 4) -> SearchStrategy[tuple[int, ...]]:
    """A per-sample shape: channels (<= 8) first, then small spatial sizes (<= 10).

    Made once per pair of ranks: ``@st.composite`` parses the function's source each time it
    decorates one (~2 ms), and composites call this for every draw."""

    @st.composite
    def draw_shape(draw: st.DrawFn) -> tuple[int, ...]:
        rank = draw(st.integers(min_rank, max_rank))
        if rank == 0:
            return ()
        rest = draw(st.lists(st.integers(1, 10), min_size=rank - 1, max_size=rank - 1))
        return (draw(st.integers(1, 8)), *rest)

    return draw_shape()


def case(shape: SearchStrategy[tuple[int, ...]], **optional: SearchStrategy[Any]) -> SearchStrategy[Case]:
    """Arguments where every key may be left out (torch's default), with an independent shape."""
    return st.tuples(st.fixed_dictionaries({}, optional=optional), shape)


floats = st.floats(-2, 2, allow_nan=False, width=32) | st.integers(-2, 2)
dims = st.integers(-6, 6)

OVERFLOWING = [3.4e38, -3.4e38, 3.4028235e38, -1e39, 1e300, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]
"""Scalars at the edge of what torch converts to float32 (or to int64/uint64): some fit, some do not."""
OVERFLOWING_VALUES = st.sampled_from(OVERFLOWING)


def scalars(usual: SearchStrategy[Any] = floats) -> SearchStrategy[Any]:
    """Mostly ``usual``; about once in 12 draws a value at float32's or int64's edge."""
    return st.integers(0, 11).flatmap(lambda i: OVERFLOWING_VALUES if i == 0 else usual)


slopes = scalars(st.sampled_from([0.0, 0.01, 0.2, 1.0, -0.1]) | floats)


# -- activation --------------------------------------------------------------------------------


def inplace_only() -> SearchStrategy[Case]:
    return case(shapes(0, 4), inplace=st.booleans())


@st.composite
def prelu(draw: st.DrawFn) -> Case:
    shape = draw(shapes(0, 4))
    channels = shape[0] if shape else 1
    args: dict[str, Any] = {}
    if draw(st.booleans()):
        args["num_parameters"] = draw(either(sampled([1, channels]), st.integers(1, 8)))
    if draw(st.booleans()):
        args["init"] = draw(scalars())
    return args, shape


def softmax() -> SearchStrategy[Case]:
    return case(shapes(0, 4), dim=st.none() | dims)


# alpha near 0: torch divides by it (CELU), and 1 / alpha must fit float32 too unless it is infinite
celu_alphas = scalars(st.sampled_from([0, 0.0, 1e-40, -1e-40, 1e-300, 1e-320, 0.5, -0.5]) | slopes)


def threshold() -> SearchStrategy[Case]:
    required = {"threshold": scalars(), "value": scalars()}
    return st.tuples(st.fixed_dictionaries(required, optional={"inplace": st.booleans()}), shapes(0, 4))


def bounds(low: str, high: str) -> SearchStrategy[Case]:
    """Two scalars that torch requires in order (Hardtanh's max_val > min_val, RReLU's lower <= upper)."""
    return case(shapes(0, 4), **{low: scalars(), high: scalars()}, inplace=st.booleans())


GLU_ARGS = st.fixed_dictionaries({}, optional={"dim": dims})


@st.composite
def glu(draw: st.DrawFn) -> Case:
    shape = draw(shapes(0, 4))
    if shape and draw(st.booleans()):  # mostly even sizes, so that the halving succeeds
        shape = tuple(2 * ((n + 1) // 2) for n in shape)
    return draw(GLU_ARGS), shape


ACTIVATION: dict[str, SearchStrategy[Case]] = {
    **{name: inplace_only() for name in ("ReLU", "ReLU6", "SiLU", "Mish", "Hardswish", "Hardsigmoid")},
    "Sigmoid": case(shapes(0, 4)),
    "Tanh": case(shapes(0, 4)),
    "LeakyReLU": case(shapes(0, 4), negative_slope=slopes, inplace=st.booleans()),
    "ELU": case(shapes(0, 4), alpha=slopes, inplace=st.booleans()),
    "GELU": case(shapes(0, 4), approximate=st.sampled_from(["none", "tanh"])),
    "Softmax": softmax(),
    "LogSoftmax": softmax(),
    "PReLU": prelu(),
    "SELU": inplace_only(),
    "CELU": case(shapes(0, 4), alpha=celu_alphas, inplace=st.booleans()),
    "Softsign": case(shapes(0, 4)),
    "Tanhshrink": case(shapes(0, 4)),
    "LogSigmoid": case(shapes(0, 4)),
    "Softplus": case(shapes(0, 4), beta=scalars(), threshold=scalars(floats | st.sampled_from([20, -5, 0.0]))),
    "Threshold": threshold(),
    "Hardtanh": bounds("min_val", "max_val"),
    "RReLU": bounds("lower", "upper"),
    "Hardshrink": case(shapes(0, 4), lambd=scalars()),
    "Softshrink": case(shapes(0, 4), lambd=scalars()),
    "Softmin": softmax(),
    "Softmax2d": case(shapes(0, 5)),
    "GLU": glu(),
}


# -- linear ------------------------------------------------------------------------------------


@st.composite
def linear(draw: st.DrawFn) -> Case:
    shape = draw(shapes(0, 3))
    args: dict[str, Any] = {"out_features": draw(st.integers(1, 8))}
    if shape and draw(st.booleans()):
        args["in_features"] = draw(st.just(shape[-1]) | st.integers(1, 10))
    if draw(st.booleans()):
        args["bias"] = draw(st.booleans())
    return args, shape


# -- dropout -----------------------------------------------------------------------------------

probabilities = st.sampled_from([0, 0.0, 0.5, 1, 1.0, -0.1, 1.1]) | st.floats(-0.5, 1.5, allow_nan=False)


def dropout() -> SearchStrategy[Case]:
    return case(shapes(0, 5), p=probabilities, inplace=st.booleans())


DROPOUT = {
    name: dropout()
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
}


@st.composite
def stochastic_depth(draw: st.DrawFn) -> Case:
    """torchvision.ops.StochasticDepth: ``p`` and ``mode`` are required; its forward checks both values."""
    args = {"p": draw(probabilities), "mode": draw(sampled(["row", "batch", "row", "batch", "col", "Row", ""]))}
    if draw(st.integers(0, 9)) == 0:
        del args[draw(sampled(["p", "mode"]))]
    return args, draw(shapes(0, 5))


DROPOUT["StochasticDepth"] = stochastic_depth()


# -- shape -------------------------------------------------------------------------------------


@st.composite
def unflatten(draw: st.DrawFn) -> Case:
    shape = draw(shapes(0, 3))
    dim = draw(dims)
    rank = len(shape) + 1
    target = shape[dim % rank - 1] if -rank <= dim < rank and dim % rank else draw(st.integers(1, 10))
    factors = [d for d in range(1, target + 1) if target % d == 0]
    first = draw(sampled(factors))
    sizes = [first, target // first]
    if draw(st.booleans()):
        sizes[draw(st.integers(0, 1))] = -1
    if draw(st.integers(0, 3)) == 0:  # anything, mostly wrong
        sizes = draw(st.lists(st.integers(-2, 6), min_size=0, max_size=3))
    return {"dim": dim, "unflattened_size": sizes}, shape


scales = st.sampled_from([2, 2.0, 0.5, 1.5, 0.3, 1 / 3, 2.5, 0, -1.0]) | st.floats(0.05, 3, allow_nan=False)
modes = st.sampled_from(["nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact"])


UPSAMPLE_OPTIONS = st.fixed_dictionaries(
    {}, optional={"mode": modes, "align_corners": st.booleans(), "recompute_scale_factor": st.booleans()}
)


@cache
def one_or_list(value: SearchStrategy[Any], spatial: int) -> SearchStrategy[Any]:
    """One value, or a list of them: mostly one per spatial dim, else of any length 1..3."""
    lengths = sampled([spatial, spatial, 1, 2, 3])
    return value | lengths.flatmap(lambda n: st.lists(value, min_size=n, max_size=n))


@st.composite
def upsample(draw: st.DrawFn) -> Case:
    shape = draw(shapes(1, 5))
    spatial = max(len(shape) - 1, 1)
    args: dict[str, Any] = {}
    if draw(st.integers(0, 4)):  # usually size xor scale_factor; sometimes neither or both
        use_size = draw(st.booleans())
        key, value = ("size", st.integers(1, 12)) if use_size else ("scale_factor", scales)
        args[key] = draw(one_or_list(value, spatial))
        if draw(st.integers(0, 5)) == 0:
            args["scale_factor" if use_size else "size"] = draw(st.integers(1, 12) if use_size else scales)
    args |= draw(UPSAMPLE_OPTIONS)
    return args, shape


def padding(n: int) -> SearchStrategy[int | list[int]]:
    side = st.integers(-3, 4)
    return side | st.lists(side, min_size=2 * n, max_size=2 * n)


def pad(n: int, **extra: SearchStrategy[Any]) -> SearchStrategy[Case]:
    return st.tuples(st.fixed_dictionaries({"padding": padding(n), **extra}), shapes(0, 5))


@st.composite
def channel_shuffle(draw: st.DrawFn) -> Case:
    shape = draw(shapes(0, 4))
    channels = shape[0] if shape else 1
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    return {"groups": draw(either(sampled(divisors), st.integers(1, 9)))}, shape


@st.composite
def pixel_shuffle(draw: st.DrawFn, key: str, up: bool) -> Case:
    """``(*, C, H, W)``: mostly sizes that divide (C by r**2 upscaling, H and W by r downscaling)."""
    r = draw(st.integers(1, 3))
    rank = draw(sampled([3, 3, 3, 4, 5, 0, 1, 2]))
    shape = draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))
    if rank >= 3 and draw(st.integers(0, 3)):
        if up:
            shape[-3] *= r * r
        else:
            shape[-2:] = [n * r for n in shape[-2:]]
    return {key: r}, tuple(shape)


windows = {
    "dilation": st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=2, max_size=2),
    "padding": st.integers(0, 2) | st.lists(st.integers(0, 2), min_size=2, max_size=2),
    "stride": st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=2, max_size=2),
}
kernels = st.integers(1, 4) | st.lists(st.integers(1, 4), min_size=2, max_size=2)


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def sliding_blocks(args: dict[str, Any], sizes: tuple[int, int]) -> tuple[int, int]:
    """The torch docs' block count per spatial dim, as an independent reference for the strategies."""
    k, d, p, s = (
        pair(args.get(key, default))
        for key, default in (("kernel_size", 1), ("dilation", 1), ("padding", 0), ("stride", 1))
    )
    h, w = (math.floor((n + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i]) + 1 for i, n in enumerate(sizes))
    return h, w


UNFOLD_ARGS = st.fixed_dictionaries({"kernel_size": kernels}, optional=windows)
FOLD_ARGS = st.fixed_dictionaries(
    {"output_size": st.integers(1, 8) | st.lists(st.integers(1, 8), min_size=2, max_size=2), "kernel_size": kernels},
    optional=windows,
)


@st.composite
def unfold(draw: st.DrawFn) -> Case:
    args = draw(UNFOLD_ARGS)
    rank = draw(sampled([3, 3, 3, 3, 3, 2, 1, 4]))
    shape = (draw(st.integers(1, 4)), *draw(st.lists(st.integers(1, 8), min_size=rank - 1, max_size=rank - 1)))
    return args, shape[:rank]


@st.composite
def fold(draw: st.DrawFn) -> Case:
    """Output size and window first; the input then holds the matching blocks, or now and then not."""
    args = draw(FOLD_ARGS)
    k = pair(args["kernel_size"])
    blocks = sliding_blocks(args, pair(args["output_size"]))
    length = blocks[0] * blocks[1] if min(blocks) >= 1 and draw(st.integers(0, 4)) else draw(st.integers(1, 20))
    planes = k[0] * k[1] * draw(st.integers(1, 3)) if draw(st.integers(0, 5)) else draw(st.integers(1, 12))
    shape: Shape = draw(sampled([(planes, length)] * 6 + [(length,), (2, planes, length), ()]))
    return args, shape


SHAPE: dict[str, SearchStrategy[Case]] = {
    "ChannelShuffle": channel_shuffle(),
    "PixelShuffle": pixel_shuffle("upscale_factor", up=True),
    "PixelUnshuffle": pixel_shuffle("downscale_factor", up=False),
    "Unfold": unfold(),
    "Fold": fold(),
    "Flatten": case(shapes(0, 4), start_dim=dims, end_dim=dims),
    "Unflatten": unflatten(),
    "Identity": case(shapes(0, 4)),
    "Upsample": upsample(),
}
for _n in (1, 2, 3):
    SHAPE[f"ZeroPad{_n}d"] = pad(_n)
    SHAPE[f"ConstantPad{_n}d"] = pad(_n, value=scalars())
    for _mode in ("Reflection", "Replication", "Circular"):
        SHAPE[f"{_mode}Pad{_n}d"] = pad(_n)


STRATEGIES: dict[str, SearchStrategy[Case]] = {
    **ACTIVATION,
    "Linear": linear(),
    **DROPOUT,
    **SHAPE,
}


# -- where archspec is stricter than torch on purpose ------------------------------------------
#
# Each entry returns a reason when archspec must reject a case that torch (in eval mode, under
# no_grad, on a batch of 2) accepts: the batch dim would be touched, the output would be empty,
# or torch raises only when training.

Reason = Callable[[dict[str, Any], Shape], str | None]
"""Why archspec rejects a case on purpose, or None."""


def _wrapped(dim: int, shape: Shape) -> int | None:
    """``dim`` wrapped into the batched tensor's range, or None if torch rejects it anyway."""
    rank = len(shape) + 1
    return dim % rank if -rank <= dim < rank else None


def _flatten_batch(args: dict[str, Any], shape: Shape) -> str | None:
    start, end = _wrapped(args.get("start_dim", 1), shape), _wrapped(args.get("end_dim", -1), shape)
    if start == 0 and end is not None and end > 0:
        return "start_dim 0 merges the batch dim"
    return None


def _unflatten_batch(args: dict[str, Any], shape: Shape) -> str | None:
    return "dim 0 splits the batch dim" if _wrapped(args["dim"], shape) == 0 else None


def _linear_scalar(args: dict[str, Any], shape: Shape) -> str | None:
    return "a scalar per sample: torch would read the batch as the features" if not shape else None


def _training_only_feature_dropout(args: dict[str, Any], shape: Shape) -> str | None:
    if not shape and 0 < args.get("p", 0.5) < 1:
        return "a scalar per sample: feature dropout raises in training mode only"
    return None


def _inplace_negative(field: str, default: float) -> Reason:
    def check(args: dict[str, Any], shape: Shape) -> str | None:
        if args.get("inplace") and args.get(field, default) < 0:
            return f"in-place with negative {field}: torch raises in backward only"
        return None

    return check


def _pad_output(n: int, constant: bool) -> Reason:
    """An empty output (torch returns it), or constant padding that reaches into the batch dim."""

    def check(args: dict[str, Any], shape: Shape) -> str | None:
        pads = args["padding"] if isinstance(args["padding"], list) else [args["padding"]] * (2 * n)
        if constant and len(shape) + 1 == n and any(pads[2 * len(shape) :]):
            return "constant padding of the batch dim"
        for i, size in enumerate(reversed(shape[-n:] if shape else ())):
            if size + pads[2 * i] + pads[2 * i + 1] == 0:
                return "output size 0: torch returns an empty tensor"
        return None

    return check


def _batch_as_channels(rank: int) -> Reason:
    """torch also takes an unbatched input a rank short: then it reads the batch as channels."""

    def check(args: dict[str, Any], shape: Shape) -> str | None:
        return (
            f"per-sample rank {rank}: torch reads the batched input as one unbatched sample"
            if len(shape) == rank
            else None
        )

    return check


def _rrelu_bound_overflow(args: dict[str, Any], shape: Shape) -> str | None:
    bounds = (args.get("lower", 1 / 8), args.get("upper", 1 / 3))
    if any(isinstance(b, float) and abs(b) > 3.4028234663852886e38 for b in bounds):
        return "a bound beyond float32: torch raises in training only (eval converts their mean)"
    return None


def _glu_batch(args: dict[str, Any], shape: Shape) -> str | None:
    return "dim 0 halves the batch dim" if _wrapped(args.get("dim", -1), shape) == 0 else None


STRICTER: dict[str, Reason] = {
    "CELU": _inplace_negative("alpha", 1.0),
    "Softmax2d": _batch_as_channels(2),
    "GLU": _glu_batch,
    "RReLU": _rrelu_bound_overflow,
    "PixelShuffle": _batch_as_channels(2),
    "PixelUnshuffle": _batch_as_channels(2),
    "Unfold": _batch_as_channels(2),
    "Fold": _batch_as_channels(1),
    "Flatten": _flatten_batch,
    "Unflatten": _unflatten_batch,
    "Linear": _linear_scalar,
    "Dropout2d": _training_only_feature_dropout,
    "FeatureAlphaDropout": _training_only_feature_dropout,
    "LeakyReLU": _inplace_negative("negative_slope", 0.01),
    "ELU": _inplace_negative("alpha", 1.0),
}
for _n in (1, 2, 3):
    for _mode in ("Zero", "Constant"):
        STRICTER[f"{_mode}Pad{_n}d"] = _pad_output(_n, constant=True)
    for _mode in ("Reflection", "Replication", "Circular"):
        STRICTER[f"{_mode}Pad{_n}d"] = _pad_output(_n, constant=False)
