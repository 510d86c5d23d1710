"""Hypothesis strategies for the layer contract test (``test_layer_contract.py``).

``STRATEGIES`` maps every single-input layer type name to a strategy drawing ``(args, shape)``:
the arguments as a spec writes them (torch's own names; an omitted key takes its default)
and one per-sample input shape (batch excluded). The strategies cover every argument,
mostly inside archspec's schema, with edge cases where torch raises: kernels larger than
the input, groups that do not divide, ``'same'`` with stride > 1, reflect padding as large
as the input, ceil_mode's last-window rule, padding above half the kernel, zero sizes.

Two rules keep the comparison with torch honest:

* Values that archspec's schema rejects on purpose although torch accepts them (a negative
  ``divisor_override``, ``momentum`` outside [0, 1], ``eps <= 0``, ``out_channels: 0``) are
  never drawn: they would only test the schema's choice, not torch's behaviour.
* Cases where archspec is stricter than torch by design are drawn, and ``STRICTER`` names
  them: for those the test asserts archspec rejects and skips the torch comparison.

Shapes stay small (spatial <= 12, channels <= 8) so the whole contract test stays fast.

Every strategy a composite draws from is made once (module constants, ``functools.cache``, or
``strategy_cache`` for those that depend on a drawn value): see ``strategy_cache``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st
from strategy_cache import either, sampled

Shape = tuple[int, ...]
Case = tuple[dict[str, Any], Shape]

MAX_CHANNELS = 8
MAX_SPATIAL = {0: 1, 1: 12, 2: 9, 3: 6}
"""Largest spatial size per axis for an N-d input (3-d inputs stay tiny to keep torch fast)."""


# -- building blocks -------------------------------------------------------------------------


def uniform(low: int, high: int) -> st.SearchStrategy[int]:
    """An int in [low, high], evenly spread (``st.integers`` draws its minimum about a third of the time)."""
    return sampled(range(low, high + 1))


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n`` draws; shrinks towards False."""
    return draw(uniform(0, n - 1)) == n - 1


NONE = st.none()
ZERO = st.just(0)


def rarely(draw: st.DrawFn, usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any], every: int = 12) -> Any:
    """Draw from ``unusual`` about once in ``every`` draws (an edge case), else from ``usual``."""
    return draw(unusual) if one_in(draw, every) else draw(usual)


@cache
def sizes(n: int, low: int, high: int) -> st.SearchStrategy[Any]:
    """torch's int-or-tuple convention: an int, or a list of exactly ``n`` ints."""
    return uniform(low, high) | st.lists(uniform(low, high), min_size=n, max_size=n)


@cache
def spatial(n: int, low: int = 1) -> st.SearchStrategy[Shape]:
    return st.tuples(*[uniform(low, MAX_SPATIAL[n])] * n)


@cache
def channels() -> st.SearchStrategy[int]:
    return uniform(1, MAX_CHANNELS)


def maybe_put(draw: st.DrawFn, args: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
    """Write ``key`` about half the time; omitted keys exercise the defaults."""
    if draw(st.booleans()):
        args[key] = draw(values)


def with_rank(draw: st.DrawFn, shape: Shape) -> Shape:
    """Now and then drop or add a dim, to check that a wrong per-sample rank is rejected."""
    if one_in(draw, 16) and len(shape) > 1:
        return shape[:-1]
    if one_in(draw, 16):
        return (*shape, draw(uniform(1, 4)))
    return shape


def as_tuple(value: Any, n: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * n


# -- convolutions ----------------------------------------------------------------------------


@st.composite
def conv_case(draw: st.DrawFn, n: int, transposed: bool) -> Case:
    groups = rarely(draw, sampled([1, 1, 2, 3, 4]), ZERO, every=25)
    g = max(groups, 1)
    divisible = draw(st.booleans()) and g <= MAX_CHANNELS
    in_ch = g * draw(uniform(1, MAX_CHANNELS // g)) if divisible else draw(channels())
    out_ch = g * draw(uniform(1, MAX_CHANNELS // g)) if divisible else draw(channels())
    shape = with_rank(draw, (in_ch, *draw(spatial(n))))
    args: dict[str, Any] = {
        "out_channels": out_ch,
        "kernel_size": rarely(draw, sizes(n, 1, 5 if n < 3 else 4), ZERO),
    }
    if one_in(draw, 6):
        args["in_channels"] = draw(sampled([in_ch, in_ch + 1]))
    maybe_put(draw, args, "stride", sizes(n, 1, 3))
    maybe_put(draw, args, "dilation", sizes(n, 1, 3))
    if groups != 1 or draw(st.booleans()):
        args["groups"] = groups
    maybe_put(draw, args, "bias", st.booleans())
    if transposed:
        maybe_put(draw, args, "padding", sizes(n, 0, 3))
        maybe_put(draw, args, "output_padding", sizes(n, 0, 2))
        # torch supports only 'zeros' for transposed convs; anything else must be rejected
        maybe_put(draw, args, "padding_mode", sampled(["zeros", "zeros", "zeros", "reflect"]))
    else:
        maybe_put(draw, args, "padding", either(sizes(n, 0, 3), sampled(["same", "valid"])))
        maybe_put(draw, args, "padding_mode", sampled(["zeros", "reflect", "replicate", "circular"]))
    if one_in(draw, 25):
        args["stride"] = 0
    return args, shape


# -- pooling ---------------------------------------------------------------------------------


@st.composite
def window_pool_case(draw: st.DrawFn, n: int, kind: str) -> Case:
    shape = with_rank(draw, (draw(channels()), *draw(spatial(n))))
    args: dict[str, Any] = {"kernel_size": rarely(draw, sizes(n, 1, 5 if n < 3 else 4), ZERO, every=25)}
    stride = rarely(draw, either(sizes(n, 1, 4), NONE), ZERO, every=25)
    if stride is not None or draw(st.booleans()):
        args["stride"] = stride
    maybe_put(draw, args, "padding", sizes(n, 0, 3))
    maybe_put(draw, args, "ceil_mode", st.booleans())
    if kind == "max":
        if draw(st.booleans()):
            args["dilation"] = rarely(draw, sizes(n, 1, 3), ZERO, every=25)
        maybe_put(draw, args, "return_indices", sampled([False, False, False, True]))
    else:
        maybe_put(draw, args, "count_include_pad", st.booleans())
        if n > 1:
            # torch also accepts negative divisors; archspec's schema does not, so none are drawn
            maybe_put(draw, args, "divisor_override", either(NONE, uniform(0, 6)))
    return args, shape


@st.composite
def adaptive_pool_case(draw: st.DrawFn, n: int, kind: str) -> Case:
    shape = with_rank(draw, (draw(channels()), *draw(spatial(n))))
    entry = uniform(1, 10) if n == 1 else either(uniform(1, 10), NONE)  # torch's 1-d pools reject None
    output_size: Any = draw(uniform(1, 10)) if draw(st.booleans()) else draw(st.lists(entry, min_size=n, max_size=n))
    if one_in(draw, 12):  # an empty output: see STRICTER
        output_size = 0 if isinstance(output_size, int) else [*output_size[:-1], 0]
    args: dict[str, Any] = {"output_size": output_size}
    if kind == "max":
        maybe_put(draw, args, "return_indices", sampled([False, False, False, True]))
    return args, shape


# -- normalisation ---------------------------------------------------------------------------

EPS = st.sampled_from([1e-5, 1e-3, 0.1, 1, 1.5])
EPS_OR_NONE = NONE | EPS
MOMENTUM = NONE | st.sampled_from([0, 0.1, 0.5, 1, 1.0])


@st.composite
def feature_norm_case(draw: st.DrawFn, n: int, instance: bool) -> Case:
    c = draw(channels())
    if n == 1 and not instance:
        shape: Shape = (c,) if draw(st.booleans()) else (c, *draw(spatial(1)))
    else:
        shape = (c, *draw(spatial(n)))
    shape = with_rank(draw, shape)
    args: dict[str, Any] = {}
    if one_in(draw, 4):
        args["num_features"] = draw(sampled([c, c, c + 1, max(c - 1, 1)]))
    maybe_put(draw, args, "eps", EPS)
    maybe_put(draw, args, "momentum", MOMENTUM)
    maybe_put(draw, args, "affine", st.booleans())
    maybe_put(draw, args, "track_running_stats", st.booleans())
    return args, shape


@st.composite
def group_norm_case(draw: st.DrawFn) -> Case:
    groups = draw(uniform(1, 8))
    c = groups * draw(uniform(1, 4)) if draw(st.booleans()) else draw(channels())
    rank = draw(uniform(0, 3))
    shape = (c, *draw(spatial(rank))) if rank else (c,)
    if one_in(draw, 25):
        shape = ()
    args: dict[str, Any] = {"num_groups": groups}
    if one_in(draw, 4):
        args["num_channels"] = draw(sampled([c, c, c + groups]))
    maybe_put(draw, args, "eps", EPS)
    maybe_put(draw, args, "affine", st.booleans())
    return args, shape


EDITS = st.sampled_from(["keep"] * 9 + ["mismatch", "batch", "empty"])
"""How layer_norm_case edits normalized_shape: mostly the input's trailing dims, else a torch error or STRICTER."""


@st.composite
def layer_norm_case(draw: st.DrawFn, rms: bool = False) -> Case:
    rank = draw(uniform(1, 3))
    shape = tuple(draw(st.lists(uniform(1, 6), min_size=rank, max_size=rank)))
    k = draw(uniform(1, rank))
    normalized = list(shape[rank - k :])
    edit = draw(EDITS)
    if edit == "mismatch":
        normalized[draw(uniform(0, k - 1))] += 1  # mismatch: torch raises
    elif edit == "batch":
        normalized = [3, *shape]  # reaches into the batch dim: see STRICTER
    elif edit == "empty":
        normalized = []  # torch: "Expected normalized_shape to be at least 1-dimensional"
    value: Any = normalized[0] if len(normalized) == 1 and draw(st.booleans()) else normalized
    args: dict[str, Any] = {"normalized_shape": value}
    maybe_put(draw, args, "eps", EPS_OR_NONE if rms else EPS)
    maybe_put(draw, args, "elementwise_affine", st.booleans())
    if not rms:  # RMSNorm has no bias
        maybe_put(draw, args, "bias", st.booleans())
    return args, shape


LRN_NUMBERS = st.sampled_from([1e-4, 0.75, 1.0, 2, -1.5, 0, 1e39, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64])
"""Python numbers in torch's tensor arithmetic: any float, ints within int64/uint64."""


@st.composite
def local_response_norm_case(draw: st.DrawFn) -> Case:
    rank = draw(sampled([0, 1, 2, 2, 3, 3, 4]))
    shape = (
        (draw(channels()), *draw(spatial(rank - 1)))
        if rank > 1
        else tuple(draw(st.lists(channels(), max_size=rank, min_size=rank)))
    )
    args: dict[str, Any] = {"size": draw(uniform(1, 10))}
    for key in ("alpha", "beta", "k"):
        maybe_put(draw, args, key, LRN_NUMBERS)
    return args, shape


# -- the registry of strategies --------------------------------------------------------------

STRATEGIES: dict[str, st.SearchStrategy[Case]] = {}
for _n in (1, 2, 3):
    STRATEGIES[f"Conv{_n}d"] = conv_case(_n, transposed=False)
    STRATEGIES[f"ConvTranspose{_n}d"] = conv_case(_n, transposed=True)
    STRATEGIES[f"MaxPool{_n}d"] = window_pool_case(_n, "max")
    STRATEGIES[f"AvgPool{_n}d"] = window_pool_case(_n, "avg")
    STRATEGIES[f"AdaptiveMaxPool{_n}d"] = adaptive_pool_case(_n, "max")
    STRATEGIES[f"AdaptiveAvgPool{_n}d"] = adaptive_pool_case(_n, "avg")
    STRATEGIES[f"BatchNorm{_n}d"] = feature_norm_case(_n, instance=False)
    STRATEGIES[f"InstanceNorm{_n}d"] = feature_norm_case(_n, instance=True)
STRATEGIES["GroupNorm"] = group_norm_case()
STRATEGIES["LayerNorm"] = layer_norm_case()
STRATEGIES["RMSNorm"] = layer_norm_case(rms=True)
STRATEGIES["LocalResponseNorm"] = local_response_norm_case()


# -- where archspec is stricter than torch on purpose ----------------------------------------
#
# Each entry returns a reason when archspec must reject a case that torch accepts (or accepts
# only in some modes or for some batch sizes); the test then checks the rejection only.


def _unbatched_rank(rank: int) -> Callable[[dict[str, Any], Shape], str | None]:
    """Conv/pool/instance-norm modules also accept unbatched input: a per-sample shape one rank
    short is, with the batch in front, a valid unbatched input to torch (batch read as channels)."""

    def check(args: dict[str, Any], shape: Shape) -> str | None:
        return "per-sample rank one short: torch reads it as unbatched input" if len(shape) == rank - 1 else None

    return check


def _written_mismatch(name: str) -> Callable[[dict[str, Any], Shape], str | None]:
    def check(args: dict[str, Any], shape: Shape) -> str | None:
        if args.get(name) is not None and shape and args[name] != shape[0]:
            return f"written {name} differs from the input's channels (torch may only warn or ignore it)"
        return None

    return check


def _all(*checks: Callable[[dict[str, Any], Shape], str | None]) -> Callable[[dict[str, Any], Shape], str | None]:
    def check(args: dict[str, Any], shape: Shape) -> str | None:
        return next((r for r in (c(args, shape) for c in checks) if r), None)

    return check


def _empty_adaptive_output(args: dict[str, Any], shape: Shape) -> str | None:
    if 0 in as_tuple(args["output_size"], 1):
        return "output_size 0: torch returns an empty tensor"
    return None


def _global_mean_any_rank(n: int) -> Callable[[dict[str, Any], Shape], str | None]:
    """AdaptiveAvgPool2d/3d to all-ones take torch's ``mean(-1, -2, ...)`` fast path, which skips the rank check."""

    def check(args: dict[str, Any], shape: Shape) -> str | None:
        if len(shape) <= n + 1:
            return None
        targets = as_tuple(args["output_size"], n)
        if all((size if t is None else t) == 1 for t, size in zip(targets, shape[-n:], strict=True)):
            return "higher-rank input pooled to all ones: torch's mean fast path skips the rank check"
        return None

    return check


def _empty_transposed_output(n: int) -> Callable[[dict[str, Any], Shape], str | None]:
    """A transposed conv whose output size is exactly 0 returns an empty tensor in torch (negative sizes raise)."""

    def check(args: dict[str, Any], shape: Shape) -> str | None:
        if len(shape) != n + 1:
            return None
        kernel, stride = as_tuple(args["kernel_size"], n), as_tuple(args.get("stride", 1), n)
        padding, dilation = as_tuple(args.get("padding", 0), n), as_tuple(args.get("dilation", 1), n)
        extra = as_tuple(args.get("output_padding", 0), n)
        for size, k, s, p, d, op in zip(shape[1:], kernel, stride, padding, dilation, extra, strict=True):
            if (size - 1) * s - 2 * p + d * (k - 1) + op + 1 == 0:
                return "transposed conv output size 0: torch returns an empty tensor"
        return None

    return check


def _single_spatial_element(args: dict[str, Any], shape: Shape) -> str | None:
    # torch raises only when it uses the input's statistics, i.e. in training mode too
    if len(shape) > 1 and math.prod(shape[1:]) == 1:
        return "one spatial element: torch raises in training mode"
    return None


def _normalizes_batch(args: dict[str, Any], shape: Shape) -> str | None:
    ns = args["normalized_shape"]
    if isinstance(ns, list) and len(ns) > len(shape):
        return "normalized_shape reaches into the batch dim, whose size a spec does not know"
    return None


STRICTER: dict[str, Callable[[dict[str, Any], Shape], str | None]] = {
    "LayerNorm": _normalizes_batch,
    "RMSNorm": _normalizes_batch,
}
for _n in (1, 2, 3):
    for _family in ("Conv", "MaxPool", "AvgPool"):
        STRICTER[f"{_family}{_n}d"] = _unbatched_rank(_n + 1)
    STRICTER[f"ConvTranspose{_n}d"] = _all(_unbatched_rank(_n + 1), _empty_transposed_output(_n))
    STRICTER[f"AdaptiveMaxPool{_n}d"] = _all(_unbatched_rank(_n + 1), _empty_adaptive_output)
    STRICTER[f"AdaptiveAvgPool{_n}d"] = _all(_unbatched_rank(_n + 1), _empty_adaptive_output, _global_mean_any_rank(_n))
    STRICTER[f"BatchNorm{_n}d"] = _written_mismatch("num_features")
    STRICTER[f"InstanceNorm{_n}d"] = _all(
        _unbatched_rank(_n + 1), _written_mismatch("num_features"), _single_spatial_element
    )
STRICTER["GroupNorm"] = _written_mismatch("num_channels")


# -- arguments archspec infers, filled for the torch reference from the shape ---------------

INFERRED_FROM_SHAPE: dict[str, Callable[[Shape], int]] = {
    "in_channels": lambda shape: shape[0],
    "num_features": lambda shape: shape[0],
    "num_channels": lambda shape: shape[0],
    "in_features": lambda shape: shape[-1],
}
"""How torch reads each inferred constructor argument off a per-sample input shape."""


# -- the other families ----------------------------------------------------------------------
#
# Activation, linear, dropout and shape layers keep their strategies in layer_strategies_basic.py,
# in the same form; they join the tables here (a type may have only one strategy).

try:
    import layer_strategies_basic as _basic
except ModuleNotFoundError as _exc:  # that file not written yet: its layer types then fail as "no strategy"
    if _exc.name != "layer_strategies_basic":
        raise
else:
    _twice = sorted(set(STRATEGIES) & set(_basic.STRATEGIES))
    assert not _twice, f"layer types with two contract strategies: {_twice}"
    STRATEGIES.update(_basic.STRATEGIES)
    STRICTER.update(_basic.STRICTER)
