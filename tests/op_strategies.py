"""Hypothesis strategies for the tensor-op contract test (``test_tensor_op_contract.py``).

``STRATEGIES`` maps every functional and held-tensor type (``functional`` or ``stored``) to a
strategy drawing ``(args, inputs)``: the arguments as a spec writes them, and one
:class:`~archspec.layers.base.TensorType` per input (per-sample shape, dtype, batched or not:
a tensor without a batch dim is a learned tensor or buffer). Shapes are tiny (sizes <= 4, rank
<= 4) and never hold the test's batch size, so a torch run that works only because a size
happens to equal the batch cannot pass for a success.

As in ``layer_strategies``, values archspec's schema rejects on purpose (an ``Expr``, a
negative ``length``) are never drawn. Cases where archspec is stricter than torch by design
are drawn, and ``STRICTER`` names them: the test asserts archspec rejects them and skips the
comparison with torch. Each entry is one sentence of ``docs/tensor-ops.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from strategy_cache import sampled

from archspec.layers.base import DTYPES, TensorType

Case = tuple[dict[str, Any], list[TensorType]]
ALL_DTYPES = tuple(DTYPES)
FLOATS = ("float16", "bfloat16", "float32", "float64")
MAX_SIZE = 4
"""Largest drawn size: below the test's batch, so the batch never meets an equal size by chance."""
HELD = 4
"""One layout or selecting case in this many gets a held tensor (no batch dim), which those types take."""


# -- building blocks -------------------------------------------------------------------------


def one_in(draw: st.DrawFn, n: int) -> bool:
    return draw(sampled(range(n))) == n - 1


def size(draw: st.DrawFn) -> int:
    """Mostly 1..MAX_SIZE, now and then 0 (empty tensors are where torch's corner cases live)."""
    return 0 if one_in(draw, 16) else draw(sampled(range(1, MAX_SIZE + 1)))


def shape(draw: st.DrawFn, low: int = 0, high: int = 3) -> tuple[int, ...]:
    rank = draw(sampled(range(low, high + 1)))
    return tuple(size(draw) for _ in range(rank))


def dtype(draw: st.DrawFn, usual: tuple[str, ...] = FLOATS) -> str:
    """Mostly one of ``usual``, about one draw in four any dtype (ints, bool)."""
    return draw(sampled(ALL_DTYPES)) if one_in(draw, 4) else draw(sampled(usual))


def tensor(draw: st.DrawFn, low: int = 0, high: int = 3, usual: tuple[str, ...] = FLOATS, held: int = 12) -> TensorType:
    """A batched tensor, one time in ``held`` one without a batch dim (every type must refuse or handle it;
    the layout and selecting types take it, so their strategies draw it more often)."""
    dims = shape(draw, low, high)
    if one_in(draw, held):
        return TensorType(dims or (1,), dtype(draw, usual), batched=False)
    return TensorType(dims, dtype(draw, usual))


def dim(draw: st.DrawFn, rank: int, extra: int = 0) -> int:
    """A torch dim of a batched tensor with ``rank`` per-sample dims: mostly in range, now and then not."""
    full = rank + 1 + extra
    if one_in(draw, 10):
        return draw(sampled([full, -full - 1, 0]))
    return draw(sampled(range(-full, full)))


def dims_arg(draw: st.DrawFn, rank: int) -> int | list[int]:
    if draw(st.booleans()):
        return dim(draw, rank)
    return draw(st.lists(sampled(range(-rank - 1, rank + 1)), min_size=1, max_size=3))


def maybe(draw: st.DrawFn, args: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        args[key] = draw(values)


# -- per-sample axis helpers for STRICTER ----------------------------------------------------


def _axis(d: int, rank: int) -> int | None:
    """``d`` wrapped into ``[0, rank)`` (dims of the batched tensor), or None when out of range."""
    return d % rank if -rank <= d < rank else None


def touches_batch(dims: Any, rank: int) -> bool:
    """Whether a dim argument names dim 0 (the batch) of a tensor of ``rank`` dims, batch included."""
    return any(_axis(int(d), rank) == 0 for d in (dims if isinstance(dims, list) else [dims]))


# -- layout ------------------------------------------------------------------------------------


@st.composite
def permute(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 4, held=HELD)
    order = list(range(len(x.shape) + (1 if x.batched else 0)))
    moved = one_in(draw, 6) or not x.batched  # a permutation that may move the batch; a held tensor has none
    order = draw(st.permutations(order)) if moved else [0, *draw(st.permutations(order[1:]))]
    order = [d - len(order) if draw(st.booleans()) else d for d in order]
    if one_in(draw, 10) and len(order) > 1:
        order = order[:-1] if draw(st.booleans()) else [*order, order[-1]]
    return {"dims": order}, [x]


@st.composite
def transpose(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 4, held=HELD)
    return {"dim0": dim(draw, len(x.shape)), "dim1": dim(draw, len(x.shape))}, [x]


@st.composite
def reshape(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 3, held=HELD)
    elements = 1
    for n in x.shape:
        elements *= n
    sizes: list[int] = []
    left = elements
    for _ in range(draw(sampled(range(4)))):
        factor = draw(sampled([f for f in range(1, MAX_SIZE + 1) if left % f == 0] or [0]))
        sizes.append(factor)
        left = left // factor if factor else 0
    sizes.append(left)
    if draw(st.booleans()):
        sizes[draw(sampled(range(len(sizes))))] = -1
    if one_in(draw, 8):
        sizes[-1] += 1  # the wrong number of elements
    if one_in(draw, 12):
        sizes = [-1, -1]
    return {"shape": sizes}, [x]


@st.composite
def squeeze(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 4, held=HELD)
    x = TensorType(tuple(1 if draw(st.booleans()) else n for n in x.shape), x.dtype, x.batched)
    return {"dim": dims_arg(draw, len(x.shape))}, [x]


@st.composite
def unsqueeze(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 4, held=HELD)
    return {"dim": dim(draw, len(x.shape), extra=1)}, [x]


# -- several outputs ---------------------------------------------------------------------------


@st.composite
def chunk(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3)
    args: dict[str, Any] = {"chunks": draw(sampled(range(1, 6)))}
    maybe(draw, args, "dim", st.just(dim(draw, len(x.shape))))
    return args, [x]


@st.composite
def split(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3)
    args: dict[str, Any] = {"dim": dim(draw, len(x.shape))}
    axis = _axis(args["dim"], len(x.shape) + 1)
    total = x.shape[axis - 1] if axis else 3
    if draw(st.booleans()):
        args["split_size_or_sections"] = draw(sampled(range(0, 5)))
    else:
        parts = draw(st.lists(sampled(range(0, 4)), min_size=1, max_size=3))
        if not one_in(draw, 5):
            parts[-1] = max(0, total - sum(parts[:-1]))
        args["split_size_or_sections"] = parts
    return args, [x]


@st.composite
def unbind(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3)
    args: dict[str, Any] = {}
    maybe(draw, args, "dim", st.just(dim(draw, len(x.shape))))
    return args, [x]


# -- selecting ---------------------------------------------------------------------------------


@st.composite
def select(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, held=HELD)
    return {"dim": dim(draw, len(x.shape)), "index": draw(sampled(range(-5, 5)))}, [x]


@st.composite
def narrow(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, held=HELD)
    args = {
        "dim": dim(draw, len(x.shape)),
        "start": draw(sampled(range(-5, 6))),
        "length": draw(sampled(range(0, 5))),
    }
    return args, [x]


@st.composite
def slice_(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, held=HELD)
    args: dict[str, Any] = {"dim": dim(draw, len(x.shape))}
    maybe(draw, args, "start", sampled(range(-6, 7)))
    maybe(draw, args, "end", sampled(range(-6, 7)))
    maybe(draw, args, "step", sampled([1, 2, 3]))
    return args, [x]


# -- repeating ---------------------------------------------------------------------------------


@st.composite
def expand(draw: st.DrawFn) -> Case:
    if draw(st.booleans()):  # a learned tensor taking the batch of a second input
        held = TensorType(draw(sampled([(1,), ()])) + shape(draw, 0, 2), dtype(draw), batched=False)
        if one_in(draw, 6):
            held = TensorType((3, *held.shape), held.dtype, batched=False)
        x = tensor(draw, 0, 2)
        rest = held.shape[1:] if held.shape and held.shape[0] == 1 else held.shape
        sizes = [-1 if draw(st.booleans()) else (size(draw) if n == 1 else n) for n in rest]
        inputs = [held, x]
    else:
        x = tensor(draw, 0, 3)
        x = TensorType(tuple(1 if draw(st.booleans()) else n for n in x.shape), x.dtype, x.batched)
        sizes = [-1 if draw(st.booleans()) else (size(draw) if n == 1 else n) for n in x.shape]
        inputs = [x]
    if one_in(draw, 10):
        sizes = [*sizes, 2] if draw(st.booleans()) else sizes[1:]
    if one_in(draw, 10) and sizes:
        sizes[0] = draw(sampled([-2, 3]))
    return {"size": sizes}, inputs


@st.composite
def repeat(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 3)
    repeats = [draw(sampled(range(0, 4))) for _ in x.shape]
    if one_in(draw, 10):
        repeats = [*repeats, 2] if draw(st.booleans()) else repeats[1:]
    return {"repeats": repeats}, [x]


@st.composite
def tile(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 3)
    count = draw(sampled(range(0, len(x.shape) + 2)))
    return {"dims": [draw(sampled(range(0, 4))) for _ in range(count)]}, [x]


@st.composite
def index_select(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, held=HELD)
    args: dict[str, Any] = {"dim": dim(draw, len(x.shape))}
    if draw(st.booleans()):
        args["index"] = draw(st.lists(st.integers(0, 5), max_size=4))  # the schema takes no negative index
        return args, [x]
    # the indices as a second input: its values lie in [low, high) (the contract test draws them so)
    index_dtype = draw(sampled(ALL_DTYPES)) if one_in(draw, 5) else draw(sampled(["int64", "int32"]))
    index_shape = draw(sampled([(size(draw),), (size(draw),), (), (2, 2)]))
    count = math.prod(index_shape)
    low = -1 if one_in(draw, 10) else 0
    high = low + draw(sampled(range(1, max(count, 1) + 1)))  # a range the values fill: a tight one
    index = TensorType(index_shape, index_dtype, batched=one_in(draw, 8), low=low, high=high)
    if one_in(draw, 10):
        args["index"] = [0]  # both: refused
    return args, [x, index]


@st.composite
def stack(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 3)
    inputs = [x]
    for _ in range(draw(sampled(range(0, 3)))):
        other = x.shape if not one_in(draw, 6) else shape(draw, 0, 3)
        inputs.append(TensorType(other, dtype(draw), batched=not one_in(draw, 10)))
    args: dict[str, Any] = {}
    maybe(draw, args, "dim", st.just(dim(draw, len(x.shape), extra=1)))
    return args, inputs


@st.composite
def roll(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, usual=ALL_DTYPES, held=HELD)
    count = draw(sampled([1, 1, 2]))
    dims = [dim(draw, len(x.shape)) for _ in range(count)]
    shifts = [draw(sampled(range(-5, 6))) for _ in range(count + (1 if one_in(draw, 10) else 0))]
    as_int = count == 1 and draw(st.booleans())
    args = {"shifts": shifts[0] if as_int and len(shifts) == 1 else shifts, "dims": dims[0] if as_int else dims}
    return args, [x]


# -- reductions --------------------------------------------------------------------------------


@st.composite
def reduction(draw: st.DrawFn) -> Case:
    x = tensor(draw, 1, 3, usual=ALL_DTYPES)
    args: dict[str, Any] = {"dim": dims_arg(draw, len(x.shape))}
    maybe(draw, args, "keepdim", st.booleans())
    return args, [x]


# -- products ----------------------------------------------------------------------------------


@st.composite
def matmul(draw: st.DrawFn) -> Case:
    n, k, m = (draw(sampled(range(1, 4))) for _ in range(3))
    kind = draw(sampled(["batched", "batched", "held", "other"]))
    dt = dtype(draw)
    if kind == "batched":
        lead = shape(draw, 0, 1)
        a, b = TensorType((*lead, n, k), dt), TensorType((*lead, k, m), dt)
    elif kind == "held":
        a = TensorType((*shape(draw, 0, 2), k), dt)
        b = TensorType((k, m), dt, batched=False)
        if one_in(draw, 4):
            a, b = b, TensorType((m, n), dt)  # W @ x
    else:
        a, b = tensor(draw, 0, 3), tensor(draw, 0, 3)
    if one_in(draw, 8):
        b = TensorType(b.shape, dtype(draw), b.batched)
    return {}, [a, b]


@st.composite
def bmm(draw: st.DrawFn) -> Case:
    args, (a, b) = draw(matmul())
    return args, [a, b]


@st.composite
def einsum(draw: st.DrawFn) -> Case:
    letters = "ijkl"
    dt = dtype(draw)
    if draw(st.booleans()):
        x = tensor(draw, 1, 3)
        names = letters[: len(x.shape)]
        out = "".join(draw(st.permutations(names))[: draw(sampled(range(len(names) + 1)))])
        equation = f"b{names}->b{out}"
        inputs = [x]
    else:
        _, (a, b) = draw(matmul())
        na, nb = letters[: len(a.shape)], "kl"[: len(b.shape)] if len(b.shape) <= 2 else letters[: len(b.shape)]
        if a.shape and b.shape and draw(st.booleans()):
            nb = na[-1] + nb[1:]  # contract over a shared letter
        out = "".join(sorted(set(na + nb)))[: draw(sampled(range(4)))]
        equation = f"b{na},b{nb}->b{out}"
        inputs = [TensorType(a.shape, dt, a.batched), TensorType(b.shape, dt, b.batched)]
    if one_in(draw, 10):
        equation = equation.replace("->b", "->", 1)
    return {"equation": equation}, inputs


# -- elementwise -------------------------------------------------------------------------------


@st.composite
def operands(draw: st.DrawFn, low: int = 2, high: int = 3, usual: tuple[str, ...] = FLOATS) -> list[TensorType]:
    """Inputs that mostly broadcast: one base shape, each input with some dims 1, dropped or changed."""
    base = shape(draw, 0, 3)
    count = draw(sampled(range(low, high + 1)))
    inputs = []
    for _ in range(count):
        dims = tuple(1 if draw(st.booleans()) and one_in(draw, 2) else n for n in base)
        if one_in(draw, 10) and dims:
            dims = (*dims[:-1], dims[-1] + 1)  # does not broadcast
        if one_in(draw, 4):  # a learned tensor: trailing dims, maybe a leading 1 or more
            dims = dims[draw(sampled(range(len(dims) + 1))) :]
            if one_in(draw, 4):
                dims = (draw(sampled([1, 1, 3])), *dims)
            inputs.append(TensorType(dims, dtype(draw, usual), batched=False))
        else:
            if one_in(draw, 10) and dims:
                dims = dims[1:]  # a batched input of another rank
            inputs.append(TensorType(dims, dtype(draw, usual)))
    return inputs


@st.composite
def elementwise(draw: st.DrawFn, low: int = 2, high: int = 3) -> Case:
    return {}, draw(operands(low, high))


@st.composite
def concat(draw: st.DrawFn) -> Case:
    base = shape(draw, 0, 3)
    args: dict[str, Any] = {}
    maybe(draw, args, "dim", st.just(dim(draw, len(base))))
    axis = _axis(args.get("dim", 1), len(base) + 1)
    inputs = []
    for _ in range(draw(sampled(range(2, 4)))):
        dims = list(base)
        if axis and not one_in(draw, 8):
            dims[axis - 1] = size(draw)
        elif one_in(draw, 2) and dims:
            dims[-1] = size(draw)
        inputs.append(TensorType(tuple(dims), dtype(draw), batched=not one_in(draw, 12)))
    return args, inputs


@st.composite
def scalar_op(draw: st.DrawFn, key: str) -> Case:
    x = tensor(draw, 0, 3, usual=ALL_DTYPES)
    value = draw(sampled([0.5, 2, -1, 0, 3, 1.5, -2.0]))
    return {key: value}, [x]


@st.composite
def clamp(draw: st.DrawFn) -> Case:
    x = tensor(draw, 0, 3, usual=ALL_DTYPES)
    args: dict[str, Any] = {}
    maybe(draw, args, "min", sampled([0, -1, 0.5, -1.5]))
    maybe(draw, args, "max", sampled([0, 2, 0.5, 1.5]))
    return args, [x]


@st.composite
def compare(draw: st.DrawFn) -> Case:
    if draw(st.booleans()):
        x = tensor(draw, 0, 3, usual=ALL_DTYPES)
        inputs = [x, x] if one_in(draw, 10) else [x]
        return {"other": draw(sampled([0, 1, 0.5, -2.5, True, False]))}, inputs
    inputs = draw(operands(1, 2, usual=ALL_DTYPES))
    return {}, inputs


@st.composite
def to(draw: st.DrawFn) -> Case:
    return {"dtype": draw(sampled(ALL_DTYPES))}, [tensor(draw, 0, 3, usual=ALL_DTYPES)]


# -- attention -------------------------------------------------------------------------------


@st.composite
def scaled_dot_product_attention(draw: st.DrawFn) -> Case:
    """Query, key and value of one rank (mostly 3 per sample: the fused kernel's 4-d), heads
    equal, 1 or another count (GQA, MQA, broadcasting), now and then a mismatched size, rank,
    dtype or batch dim; half the time a mask, bool or float, batched or a buffer, mostly of
    the attention weights' shape with some dims 1 or dropped."""

    def extent() -> int:  # empty attention is refused (STRICTER): rarely drawn
        return 0 if one_in(draw, 64) else draw(sampled(range(1, MAX_SIZE + 1)))

    rank = 1 if one_in(draw, 16) else draw(sampled([2, 3, 3, 3, 4]))
    lead = [extent() for _ in range(rank - 2)]
    length, keys, features = extent(), extent(), extent()
    value_features = features if draw(st.booleans()) else extent()
    dt = dtype(draw)

    def operand(last: int, rows: int) -> TensorType:
        dims = list(lead)
        if dims and draw(st.booleans()):
            dims[-1] = draw(sampled([1, 2, lead[-1]]))
        if one_in(draw, 16):
            return tensor(draw, 0, 4)  # anything: another rank, dtype or no batch dim
        return TensorType((*dims, rows, last)[-max(rank, 1) :], dt)

    query = operand(features, length)
    key = operand(features if not one_in(draw, 12) else extent(), keys)
    value = operand(value_features, keys if not one_in(draw, 12) else extent())
    args: dict[str, Any] = {}
    maybe(draw, args, "is_causal", st.booleans())
    maybe(draw, args, "enable_gqa", st.booleans())
    maybe(draw, args, "scale", sampled([0.5, 2, 0.0]))
    maybe(draw, args, "dropout_p", sampled([0.0, 0.5]))  # the test runs in eval mode: never applied
    if draw(st.booleans()):
        return args, [query, key, value]
    weights = [*lead, length, keys]
    dims = [1 if one_in(draw, 3) else n for n in weights]
    batched = draw(st.booleans())
    if not batched:
        dims = dims[draw(sampled(range(len(dims) - 1))) :] if len(dims) > 2 else dims
        if one_in(draw, 6):
            dims = [1, *dims]
    if one_in(draw, 10):
        dims = list(shape(draw, 0, 4))
    mask_dtype = draw(sampled(["bool", "bool", "float32", dt])) if not one_in(draw, 8) else dtype(draw)
    return args, [query, key, value, TensorType(tuple(dims) or (1,), mask_dtype, batched)]


# -- held tensors ------------------------------------------------------------------------------


@st.composite
def parameter(draw: st.DrawFn) -> Case:
    args: dict[str, Any] = {"shape": list(shape(draw, 0, 3))}
    maybe(draw, args, "dtype", sampled(FLOATS) if not one_in(draw, 4) else sampled(ALL_DTYPES))
    maybe(draw, args, "init", sampled(["zeros", "ones", "constant", "normal", "trunc_normal", "uniform"]))
    maybe(draw, args, "value", sampled([0, 1.5, -2]))
    maybe(draw, args, "mean", sampled([0, 0.5]))
    maybe(draw, args, "std", sampled([0.02, 1]))
    maybe(draw, args, "a", sampled([-1, 0.5, 3]))
    maybe(draw, args, "b", sampled([-3, 1, 2.5]))
    maybe(draw, args, "requires_grad", st.booleans())
    return args, []


@st.composite
def buffer(draw: st.DrawFn) -> Case:
    args: dict[str, Any] = {"shape": list(shape(draw, 0, 3))}
    maybe(draw, args, "dtype", sampled(ALL_DTYPES))
    maybe(draw, args, "fill", sampled(["zeros", "ones", "full", "arange", "tril", "triu", "sinusoidal"]))
    maybe(draw, args, "value", sampled([0, 1, -1.5, True]))
    maybe(draw, args, "diagonal", sampled([-1, 0, 2]))
    maybe(draw, args, "persistent", st.booleans())
    if draw(sampled(range(4))) == 0:  # a window's relative position index (Swin, BEiT)
        args["fill"] = "relative_position_index"
        odd = one_in(draw, 6)
        args["dtype"] = draw(sampled(ALL_DTYPES if odd else ("int64", "int32")))
        window = draw(st.lists(sampled([1, 2, 3]), min_size=1, max_size=3))
        positions = math.prod(window)
        args["shape"] = draw(sampled([[positions * positions], [positions, positions], args["shape"]]))
        if not one_in(draw, 10):
            args["window_size"] = window
    elif one_in(draw, 20):
        args["window_size"] = [2, 2]
    return args, []


STRATEGIES: dict[str, st.SearchStrategy[Case]] = {
    "permute": permute(),
    "transpose": transpose(),
    "reshape": reshape(),
    "squeeze": squeeze(),
    "unsqueeze": unsqueeze(),
    "chunk": chunk(),
    "split": split(),
    "unbind": unbind(),
    "select": select(),
    "narrow": narrow(),
    "index_select": index_select(),
    "tile": tile(),
    "slice": slice_(),
    "expand": expand(),
    "repeat": repeat(),
    "stack": stack(),
    "roll": roll(),
    "mean": reduction(),
    "sum": reduction(),
    "amax": reduction(),
    "amin": reduction(),
    "matmul": matmul(),
    "bmm": bmm(),
    "einsum": einsum(),
    "add": elementwise(2, 3),
    "mul": elementwise(2, 3),
    "sub": elementwise(2, 2),
    "div": elementwise(2, 2),
    "concat": concat(),
    "scale": scalar_op("factor"),
    "pow": scalar_op("exponent"),
    "clamp": clamp(),
    **{name: compare() for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    "to": to(),
    "Parameter": parameter(),
    "Buffer": buffer(),
    "scaled_dot_product_attention": scaled_dot_product_attention(),
}


# -- where archspec refuses what torch runs, on purpose ----------------------------------------

Stricter = Callable[[dict[str, Any], list[TensorType]], str | None]


def _batch_rank(t: TensorType) -> int:
    """The rank torch sees: a batched tensor's with its batch dim, a held tensor's own."""
    return len(t.shape) + (1 if t.batched else 0)


def _dim_rule(*keys: str, extra: int = 0, default: int | None = None) -> Stricter:
    """Refused: a dim argument (written, or its default) that names the batch dim: archspec models
    one sample at a time."""

    def rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
        if not inputs[0].batched:
            return None  # a held tensor has no batch dim: its dims are its own
        rank = len(inputs[0].shape) + 1 + extra
        for key in keys:
            value = args.get(key, default)
            if value is not None and touches_batch(value, rank):
                return f"{key} names the batch dim"
        return None

    return rule


def _broadcast_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    """Refused: broadcasting that would not keep the batch as dim 0 of its own."""
    batched = [len(t.shape) for t in inputs if t.batched]
    if len(set(batched)) > 1:
        return "batched inputs of different ranks: the batch would meet a per-sample dim"
    held = [len(t.shape) for t in inputs if not t.batched]
    if batched and held and max(held) > batched[0] + 1:
        return "a learned tensor with more dims than the batched input: the batch would not stay dim 0"
    return None


def _unbind_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    reason = _dim_rule("dim", default=0)(args, inputs)
    if reason:
        return reason
    axis = _axis(args.get("dim", 0), len(inputs[0].shape) + 1)
    if axis and inputs[0].shape[axis - 1] == 0:
        return "unbind of an empty dim: a node with no outputs"
    return None


def _permute_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    dims, rank = args["dims"], len(inputs[0].shape) + 1
    moved = inputs[0].batched and len(dims) == rank and _axis(dims[0], rank) != 0
    return "moves the batch dim" if moved else None


def _matmul_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    a, b = inputs
    if not a.batched:
        return "a learned tensor as matmul's first operand (W @ x; write x @ W.T)"
    if a.batched and b.batched and (len(a.shape) != len(b.shape) or len(a.shape) < 2):
        return "batched matmul operands of different ranks or rank < 2: the batch would be multiplied"
    if not b.batched and a.batched and len(b.shape) != 2:
        return "a learned right-hand side that is not a matrix"
    return None


def _compare_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if len(inputs) == 2 and args.get("other") is not None:
        return "a second input and a constant other: which one the spec means is unclear"
    return _broadcast_rule(args, inputs)


def _roll_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    dims, rank = args["dims"], _batch_rank(inputs[0])
    if 0 in inputs[0].shape and any(_axis(d, rank) is None for d in (dims if isinstance(dims, list) else [dims])):
        return "a dim out of range: torch checks none on an empty tensor"
    return _dim_rule("dims")(args, inputs)


def _float_products(rule: Stricter | None = None) -> Stricter:
    def check(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
        if any(t.kind != "float" for t in inputs):
            return "a product of integer or bool tensors: torch has such kernels on CPU only, none on CUDA"
        if len({t.dtype for t in inputs}) > 1 and any(0 in t.shape for t in inputs):
            return "operands of different dtypes: torch checks them only when there is something to multiply"
        return rule(args, inputs) if rule else None

    return check


def _parameter_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    empty = 0 in args["shape"]
    if empty and args.get("init") in ("normal", "trunc_normal") and args.get("dtype", "float32") not in FLOATS:
        return "a random init of an integer or bool tensor: torch draws nothing for an empty one, so does not check"
    return None


def _buffer_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if args.get("fill") == "sinusoidal" and args.get("dtype", "float32") in INTEGER_AND_BOOL:
        return "fill: sinusoidal in an integer or bool dtype: torch computes it, truncated to nonsense"
    if args.get("fill") == "arange" and len(args["shape"]) != 1:
        return "fill: arange with a shape that is not [n]: torch.arange takes no shape"
    if args.get("fill") != "relative_position_index":
        return "window_size with another fill: torch ignores it" if "window_size" in args else None
    window = args.get("window_size")
    if window is None:
        return "fill: relative_position_index without window_size: which window it indexes is unknown"
    positions = math.prod(window)
    if args["shape"] not in ([positions * positions], [positions, positions]):
        return "a relative position index whose shape is not [N * N] or [N, N]: a reshape of it is another tensor"
    if args.get("dtype", "float32") not in ("int64", "int32"):
        return "a relative position index in a dtype torch does not index with"
    return None


def _einsum_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    left, output = args["equation"].split("->")
    if not output or any(output[0] != operand[0] for operand in left.split(",")):
        return "an equation whose output does not keep the batch letter first: it would sum over samples"
    return None


def _expand_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if len(inputs) == 2 and not inputs[1].batched:
        return "a second input without a batch dim: there is no batch to take"
    return None


def _repeat_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    return (
        "more repeats than dims: the batch would be repeated" if len(args["repeats"]) > len(inputs[0].shape) else None
    )


def _joining(extra: int) -> Stricter:
    def rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
        if all(not t.batched for t in inputs):
            return "joining tensors that all lack a batch dim (stack and concat take batched inputs)"
        return _dim_rule("dim", extra=extra, default=1)(args, inputs)

    return rule


def _index_select_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if len(inputs) == 2:
        index, x = inputs[1], inputs[0]
        if args.get("index") is not None:
            return "both an index list and an index input: which one the spec means is unclear"
        if index.batched:
            return "a batched index input: index_select would read the batch as the index list"
        axis = _axis(args["dim"], _batch_rank(x))
        axis = None if axis is None else axis - (1 if x.batched else 0)
        fits = axis is None or axis < 0 or ((index.low or 0) >= 0 and (index.high or 0) <= x.shape[axis])
        if index.dtype in ("int64", "int32") and 0 in index.shape and not fits:
            return "an empty index input whose declared range does not fit: archspec checks it, torch reads no value"
    return _dim_rule("dim")(args, inputs)


def _tile_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if len(args["dims"]) > len(inputs[0].shape):
        return "tile with more counts than per-sample dims: the new dims would come before the batch"
    return None


def _attention_weights(query: tuple[int, ...], key: tuple[int, ...], value: tuple[int, ...], gqa: bool) -> list[int]:
    """The attention weights' per-sample shape where the leads broadcast (sizes 1 give way), heads as GQA
    repeats them."""
    leads = [list(t[:-2]) for t in (query, key, value)]
    if gqa and len(query) >= 3:
        leads[1][-1] = leads[2][-1] = query[-3]
    lead = [next((n for n in sizes if n != 1), 1) for sizes in zip(*leads, strict=True)]
    return [*lead, query[-2], key[-2]]


def _attention_rule(args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    query, key, value = inputs[:3]
    if not (query.batched and key.batched and value.batched):
        return "a query, key or value without a batch dim: it would meet the batch as a per-sample dim"
    if len({len(t.shape) for t in inputs[:3]}) > 1 or len(query.shape) < 2:
        return "query, key and value of different ranks, or of rank 1 per sample: the batch would be a length"
    if key.shape[-2] != value.shape[-2]:
        return "key and value of different lengths: torch's fused CPU kernel reads value without checking"
    if len(inputs) > 3 and inputs[3].batched and len(inputs[3].shape) != len(query.shape):
        return "a batched mask of another rank than the query: the batch would meet a per-sample dim"
    if any(0 in t.shape for t in inputs[:3]):
        return "an empty query, key or value: torch's kernels special-case it each their own way"
    if len(inputs) < 4:
        return None
    mask = inputs[3]
    if len(mask.shape) + mask.batched < 2:
        return "a mask of fewer than 2 dims: torch reads its last two, and only some kernels take fewer"
    weights = [-1, *_attention_weights(query.shape, key.shape, value.shape, bool(args.get("enable_gqa")))]
    full = [-1, *mask.shape] if mask.batched else list(mask.shape)
    if len(full) > len(weights) or any(w == 1 and m != 1 for m, w in zip(full[::-1], weights[::-1], strict=False)):
        return "a mask that broadcasting would enlarge beyond the attention weights: torch's kernels disagree"
    return None


INTEGER_AND_BOOL = ("uint8", "int8", "int16", "int32", "int64", "bool")

STRICTER: dict[str, Stricter] = {
    "permute": _permute_rule,
    "transpose": _dim_rule("dim0", "dim1"),
    "squeeze": _dim_rule("dim"),
    "unsqueeze": _dim_rule("dim", extra=1),
    "chunk": _dim_rule("dim", default=0),
    "split": _dim_rule("dim", default=0),
    "unbind": _unbind_rule,
    "select": _dim_rule("dim"),
    "narrow": _dim_rule("dim"),
    "index_select": _index_select_rule,
    "tile": _tile_rule,
    "slice": _dim_rule("dim"),
    "roll": _roll_rule,
    "mean": _dim_rule("dim"),
    "sum": _dim_rule("dim"),
    "amax": _dim_rule("dim"),
    "amin": _dim_rule("dim"),
    "repeat": _repeat_rule,
    "stack": _joining(extra=1),
    "concat": _joining(extra=0),
    "matmul": _float_products(_matmul_rule),
    "bmm": _float_products(),
    "einsum": _float_products(_einsum_rule),
    "expand": _expand_rule,
    "Buffer": _buffer_rule,
    "Parameter": _parameter_rule,
    "add": _broadcast_rule,
    "mul": _broadcast_rule,
    "sub": _broadcast_rule,
    "div": _broadcast_rule,
    **{name: _compare_rule for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    "scaled_dot_product_attention": _attention_rule,
}
"""Per type: why archspec refuses a case torch runs (None: not refused on purpose)."""
