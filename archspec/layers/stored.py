"""Tensors a module holds: learned ``Parameter`` tensors and fixed ``Buffer`` tensors.

A node of either type reads no input; its value is the tensor, whole (it has no batch
dim), and its id is its state_dict key under the enclosing module, as torchvision names
them (``class_token``, ``encoder.pos_embedding``, ``layer_scale``). It feeds any node
that takes tensors without a batch dim: ``add`` a position embedding, ``mul`` by a layer
scale, ``expand`` a class token to the batch and ``concat`` it. How the tensor is made
is an :class:`~archspec.layers.base.Op` (``torch.zeros(...)``, ``nn.init.trunc_normal_``),
so the build and the generated code make the same tensor.
"""

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    DEFAULT_DTYPE,
    DTYPES,
    AnyInt,
    DType,
    Expr,
    Layer,
    LayerResult,
    NonNegativeInt,
    Number,
    Op,
    PositiveInt,
    Shape,
    StateEntries,
    StateEntry,
    StrictBool,
    Symbol,
    Unbatched,
    bounded_number,
)
from archspec.layers.registry import module_class, register_class

StoredShape = Annotated[
    list[NonNegativeInt | Expr],
    Field(max_length=64, description="the tensor's whole shape, as in the state_dict (no batch dim)"),
]


class _Stored(Layer):
    family: ClassVar[str] = "tensor"
    stored: ClassVar[bool] = True
    min_inputs: ClassVar[int] = 0
    max_inputs: ClassVar[int | None] = 0
    learned: ClassVar[bool] = False
    """True for a parameter (the optimiser trains it), False for a buffer."""

    shape: StoredShape
    dtype: DType = Field(default="float32", description="the tensor's dtype")

    def sizes(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.shape)

    def size_args(self) -> tuple[Any, ...]:
        """The shape as the positional arguments of ``torch.zeros``-style factories: ``(1, 1, 768)``,
        or ``(())`` for a 0-d tensor (``torch.zeros()`` without a size raises)."""
        return self.sizes() or ((),)

    def creation(self) -> Op:
        """How the tensor is made: a torch call (backends evaluate or write it)."""
        raise NotImplementedError

    def dtype_kwargs(self, always: bool = False) -> tuple[tuple[str, Any], ...]:
        """``dtype=`` for the factory; ``always`` for ``torch.full`` and ``torch.arange``, which
        otherwise take the dtype of their number (``torch.full((2,), 0)`` is int64)."""
        if self.dtype == DEFAULT_DTYPE and not always:
            return ()
        return (("dtype", Symbol(f"torch.{self.dtype}")),)

    def result_dtype(self, dtypes: list[str]) -> str:
        return str(self.dtype)

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        """The tensor itself, under the node's own path (``""``); a non-persistent buffer has none."""
        if getattr(self, "persistent", True) is not True:
            return {}
        return {"": StateEntry(self.sizes(), str(self.dtype), "parameter" if self.learned else "buffer")}

    def label(self) -> str:
        return "x".join(map(str, self.shape)) or "scalar"


ParameterInit = Literal["zeros", "ones", "constant", "normal", "trunc_normal", "uniform"]


@register_class("Parameter")
def _parameter_class() -> type[Layer]:
    class Parameter(_Stored):
        """``nn.Parameter``: a learned tensor (class token, position embedding, layer scale).

        ``init`` follows ``torch.nn.init``: ``constant`` fills ``value``; ``normal`` draws with
        ``mean``/``std``; ``trunc_normal`` also cuts at ``[a, b]`` (default [-2, 2]);
        ``uniform`` draws from ``[a, b)`` (default [0, 1)).
        """

        type: Literal["Parameter"]
        learned: ClassVar[bool] = True
        init: ParameterInit = Field(default="zeros", description="how the tensor starts: torch.nn.init's schemes")
        value: Number | Expr = Field(default=0.0, description="the fill value of init: constant")
        mean: Number | Expr = Field(default=0.0, description="normal and trunc_normal")
        std: bounded_number(gt=0) | Expr = Field(default=1.0, description="normal and trunc_normal")  # type: ignore[valid-type]
        a: Number | Expr | None = Field(default=None, description="lower bound: uniform (default 0), trunc_normal (-2)")
        b: Number | Expr | None = Field(default=None, description="upper bound: uniform (default 1), trunc_normal (2)")
        requires_grad: StrictBool | Expr = Field(default=True, description="false: kept fixed, still in the state_dict")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            if DTYPES[str(self.dtype)] != "float" and self.requires_grad:
                raise LayerError(
                    f"only floating tensors can require gradients, got dtype {self.dtype}",
                    hint="use a float dtype, set requires_grad: false, or use a Buffer",
                    field="dtype",
                )
            if self.init in ("normal", "trunc_normal", "uniform") and DTYPES[str(self.dtype)] != "float":
                raise LayerError(
                    f"init: {self.init} draws random floats, which a {self.dtype} tensor cannot hold",
                    hint="use a float dtype, or init: zeros, ones or constant",
                    field="init",
                )
            low, high = self._bounds()
            if self.init in ("uniform", "trunc_normal") and low > high:
                raise LayerError(f"a (={low}) must not exceed b (={high})", hint="swap a and b", field="a")
            count = math.prod(self.sizes())
            return LayerResult(
                Unbatched(self.sizes()), count, trainable_params=count if self.requires_grad else 0, batched=False
            )

        def _bounds(self) -> tuple[float, float]:
            default = (-2.0, 2.0) if self.init == "trunc_normal" else (0.0, 1.0)
            return (
                default[0] if self.a is None else float(self.a),
                default[1] if self.b is None else float(self.b),
            )

        def creation(self) -> Op:
            shape, dtype = self.size_args(), self.dtype_kwargs()
            if self.init in ("zeros", "ones"):
                return Op(f"torch.{self.init}", shape, dtype)
            if self.init == "constant":
                return Op("torch.full", (self.sizes(), self.value), self.dtype_kwargs(always=True))
            empty = Op("torch.empty", shape, dtype)
            low, high = self._bounds()
            if self.init == "normal":
                return Op("torch.nn.init.normal_", (empty,), (("mean", self.mean), ("std", self.std)))
            if self.init == "uniform":
                return Op("torch.nn.init.uniform_", (empty,), (("a", low), ("b", high)))
            return Op(
                "torch.nn.init.trunc_normal_",
                (empty,),
                (("mean", self.mean), ("std", self.std), ("a", low), ("b", high)),
            )

        def label(self) -> str:
            return f"{super().label()} {self.init}"

    return Parameter


def _sinusoidal(length: int, features: int, dtype: tuple[tuple[str, Any], ...]) -> Op:
    """``stack([sin(a), cos(a)], -1).reshape(L, D)`` with ``a = pos * exp(2i * -ln(10000) / D)``:
    the PyTorch tutorial's table, interleaving sin and cos without item assignment."""
    positions = Op("Tensor.unsqueeze", (Op("torch.arange", (length,), dtype), 1))
    rates = Op("torch.exp", (Op("*", (Op("torch.arange", (0, features, 2), dtype), -math.log(10000.0) / features)),))
    angles = Op("*", (positions, rates))
    pairs = Op("torch.stack", ([Op("torch.sin", (angles,)), Op("torch.cos", (angles,))],), (("dim", -1),))
    return Op("Tensor.reshape", (pairs, length, features))


def _relative_position_index(window: tuple[int, ...], shape: tuple[Any, ...], dtype: tuple[tuple[str, Any], ...]) -> Op:
    """``sum_k (c_k[p] - c_k[q] + w_k - 1) * prod_{l > k} (2 w_l - 1)`` for positions p, q of a window
    flattened row-major, ``c_k`` the coordinate along axis k: the row of the ``(2 w_0 - 1)(2 w_1 - 1)...``
    offsets table that p-to-q reads, as Swin V1/V2 (torchvision, the reference code), BEiT and Video
    Swin (3-d) compute it. Written ``f[p] - f[q] + const`` with ``f = sum_k c_k * stride_k``, built
    axis by axis; function calls, not methods, so generated code can break the expression into lines."""
    code = Op("torch.arange", (window[0],), dtype)
    for size in window[1:]:
        spread = Op("*", (Op("torch.unsqueeze", (code, 1)), 2 * size - 1))
        code = Op("torch.flatten", (Op("+", (spread, Op("torch.arange", (size,), dtype))),))
    strides = [math.prod(2 * w - 1 for w in window[k + 1 :]) for k in range(len(window))]
    offset = sum((w - 1) * stride for w, stride in zip(window, strides, strict=True))
    pairs = Op("+", (Op("-", (Op("torch.unsqueeze", (code, 1)), code)), offset))
    return Op("torch.reshape", (pairs, shape))


BufferFill = Literal["zeros", "ones", "full", "arange", "tril", "triu", "sinusoidal", "relative_position_index"]


@register_class("Buffer")
def _buffer_class() -> type[Layer]:
    class Buffer(_Stored):
        """A fixed tensor the module holds (``register_buffer``): a mask, positions, a constant.

        ``fill``: ``zeros``, ``ones``, ``full`` (``value``), ``arange`` (0 to n-1, 1-d),
        ``tril`` / ``triu`` (ones on and below / above the ``diagonal`` of a 2-d tensor: a
        causal mask), ``sinusoidal`` (the Transformer's fixed position encoding, shape ``[L, D]``
        with D even: ``sin`` at even features, ``cos`` at odd ones, of ``pos / 10000^(2i/D)``).
        ``relative_position_index`` (for a ``window_size`` window of N positions, shape ``[N * N]`` or
        ``[N, N]``: which entry of a ``(2 w_0 - 1)(2 w_1 - 1)...`` relative-offset table each pair of
        positions reads; Swin, BEiT). ``persistent: false`` keeps it out of the state_dict.
        """

        type: Literal["Buffer"]
        fill: BufferFill = Field(default="zeros", description="the tensor's values")
        value: Number | StrictBool | Expr = Field(default=0, description="the fill value of fill: full")
        diagonal: AnyInt | Expr = Field(default=0, description="tril and triu: which diagonal (torch.tril's argument)")
        persistent: StrictBool | Expr = Field(default=True, description="saved in the state_dict")
        window_size: Annotated[list[PositiveInt | Expr], Field(min_length=1, max_length=8)] | Expr | None = Field(
            default=None, description="relative_position_index: the window's size per axis"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            sizes = self.sizes()
            if self.fill == "arange" and len(sizes) != 1:
                raise LayerError(f"arange makes a 1-d tensor, got shape {sizes}", hint="use shape: [n]", field="shape")
            # torch reshapes [L, ceil(D/2), 2] to [L, D]: D odd only works with no positions; D = 0 divides by zero
            odd = len(sizes) == 2 and (sizes[1] == 0 or (sizes[1] % 2 and sizes[0] > 0))
            if self.fill == "sinusoidal" and (len(sizes) != 2 or odd or DTYPES[str(self.dtype)] != "float"):
                raise LayerError(
                    f"sinusoidal positions are a float tensor [positions, features] "
                    f"with an even, positive feature count, "
                    f"got shape {list(sizes)} and dtype {self.dtype}",
                    hint="use shape: [L, D] with D even (and above 0) and a float dtype",
                    field="shape",
                )
            if self.fill == "arange" and self.dtype == "bool":
                raise LayerError(
                    "arange has no bool form in torch", hint="use an integer or float dtype", field="dtype"
                )
            if self.fill == "relative_position_index":
                self._check_window(sizes)
            elif self.window_size is not None:
                raise LayerError(
                    "window_size belongs to fill: relative_position_index",
                    hint="drop window_size, or use fill: relative_position_index",
                    field="window_size",
                )
            if self.fill in ("tril", "triu") and len(sizes) < 2:
                raise LayerError(
                    f"{self.fill} needs a tensor of 2 or more dims, got shape {list(sizes)}",
                    hint="use shape: [n, n] for a mask",
                    field="shape",
                )
            return LayerResult(Unbatched(sizes), batched=False, values=self._values(sizes))

        def _values(self, sizes: tuple[int, ...]) -> tuple[int, int] | None:
            """Where an index buffer's values lie (``int64``/``int32``, what torch indexes with), so that
            ``index_select`` can check them against the table it reads: Swin's index against its bias table."""
            if self.dtype not in ("int64", "int32"):
                return None
            if self.fill == "relative_position_index":
                return 0, math.prod(2 * int(w) - 1 for w in self.window_size or ())
            if self.fill == "arange":
                return 0, sizes[0]
            return {"zeros": (0, 1), "ones": (1, 2), "tril": (0, 2), "triu": (0, 2)}.get(str(self.fill))

        def _check_window(self, sizes: tuple[int, ...]) -> None:
            if self.window_size is None:
                raise LayerError(
                    "fill: relative_position_index needs the window's size",
                    hint="add window_size: [7, 7]",
                    field="window_size",
                )
            positions = math.prod(int(w) for w in self.window_size)
            if sizes not in ((positions * positions,), (positions, positions)):
                raise LayerError(
                    f"a relative position index of a {'x'.join(map(str, self.window_size))} window "
                    f"({positions} positions) "
                    f"has shape [{positions * positions}] or [{positions}, {positions}], got {list(sizes)}",
                    hint=f"use shape: [{positions * positions}] (torchvision) or [{positions}, {positions}]",
                    field="shape",
                )
            if self.dtype not in ("int64", "int32"):
                raise LayerError(
                    f"a relative position index holds indices, so its dtype is int64 or int32, got {self.dtype}",
                    hint="add dtype: int64",
                    field="dtype",
                )

        def creation(self) -> Op:
            shape, dtype = self.size_args(), self.dtype_kwargs()
            if self.fill == "relative_position_index":
                window = tuple(int(w) for w in self.window_size or ())
                return _relative_position_index(window, self.sizes(), self.dtype_kwargs(always=True))
            if self.fill == "full":
                return Op("torch.full", (self.sizes(), self.value), self.dtype_kwargs(always=True))
            if self.fill == "arange":
                return Op("torch.arange", shape, self.dtype_kwargs(always=True))
            if self.fill in ("tril", "triu"):
                return Op(f"Tensor.{self.fill}", (Op("torch.ones", shape, dtype), self.diagonal))
            if self.fill == "sinusoidal":
                length, features = self.sizes()
                return _sinusoidal(length, features, dtype)
            return Op(f"torch.{self.fill}", shape, dtype)

        def label(self) -> str:
            return f"{super().label()} {self.fill}"

    return Buffer


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
