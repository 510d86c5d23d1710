"""Tensor operations: permute, reshape, split, select, reduce, matmul... (no parameters).

Each is a function in the generated ``forward`` (``functional``), described once as an
:class:`~archspec.layers.base.Op` (the tensor method or ``torch`` function with its
arguments) and named after it, with torch's arguments. ``dim`` arguments are torch's dims
of the batched tensor (dim 0 is the batch, negative dims count from the end), as in
``torch.cat``; an operation that would touch the batch dim is refused, since archspec
models one sample. Sizes (``reshape``'s ``shape``, ``expand``'s ``size``, ``repeat``'s
``repeats``) are per sample: the batch is prepended in the generated code.

The layout and selecting operations (:class:`HeldLayout`) also take a held tensor (a
``Parameter``, a ``Buffer``, or what other operations made of them): it has no batch, so
their dims are its own dims and ``reshape``'s sizes its whole shape, exactly as torch reads
them on that tensor. Swin's relative position bias is such a computation: a learned table,
gathered with a fixed index buffer and permuted, at every forward.
"""

import math
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    AnyInt,
    Arg,
    Autocast,
    DType,
    Expr,
    Keeps,
    Layer,
    LayerResult,
    NonNegativeInt,
    Number,
    Op,
    PositiveInt,
    Saved,
    Saving,
    Shape,
    SizeOf,
    Slice,
    StrictBool,
    Strides,
    Symbol,
    TensorType,
    Unbatched,
    fold_result_type,
    normalize_dim,
    type_alias,
)
from archspec.layers.merge import broadcast
from archspec.layers.registry import module_class, register_class, register_lazy

Dims = Annotated[list[AnyInt | Expr], Field(min_length=1)]
Sizes = Annotated[list[AnyInt | Expr], Field(description="per-sample sizes (batch excluded)")]

BATCH_HINT = "dim 0 is the batch: use dims >= 1, or negative dims counted from the end"


def sample_axis(dim: int, rank: int, field: str = "dim") -> int:
    """A torch dim of a batched tensor with ``rank`` per-sample dims, as a per-sample axis (0-based)."""
    axis = normalize_dim(dim, rank + 1, field)
    if axis == 0:
        raise LayerError(
            f"{field} (={dim}) is the batch dim; archspec models one sample at a time", hint=BATCH_HINT, field=field
        )
    return axis - 1


def sample_axes(dims: list[int], rank: int, field: str = "dim") -> list[int]:
    axes = [sample_axis(d, rank, field) for d in dims]
    if len(set(axes)) != len(axes):
        raise LayerError(f"{field} {dims} names a dim more than once", hint="list each dim once", field=field)
    return axes


def tensor_axis(dim: int, shape: Shape, field: str = "dim", extra: int = 0) -> int:
    """A torch dim of the tensor an operation gets, as an axis of ``shape`` (0-based): a batched
    tensor's dims count the batch as 0 (refused, :func:`sample_axis`); a held tensor
    (:class:`Unbatched`) has no batch, so its dims are its own. ``extra`` widens the range for a
    dim of the result (``unsqueeze``'s new dim)."""
    if not isinstance(shape, Unbatched):
        return sample_axis(dim, len(shape) + extra, field)
    rank = len(shape) + extra
    if rank == 0:
        raise LayerError(
            f"{field} (={dim}) names a dim of a 0-d held tensor, which has none",
            hint="reshape it to shape [1] first",
            field=field,
        )
    if not -rank <= dim < rank:
        raise LayerError(
            f"{field} (={dim}) is out of range for a held tensor of rank {rank} (it has no batch dim): "
            f"expected a dim in [{-rank}, {rank - 1}]",
            hint="a held tensor's dims are its own: dim 0 is its first",
            field=field,
        )
    return dim % rank


def tensor_axes(dims: list[int], shape: Shape, field: str = "dim") -> list[int]:
    axes = [tensor_axis(d, shape, field) for d in dims]
    if len(set(axes)) != len(axes):
        raise LayerError(f"{field} {dims} names a dim more than once", hint="list each dim once", field=field)
    return axes


def _dims(value: Any) -> list[int]:
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


class TensorOp(Layer):
    """A parameter-free tensor operation, emitted as code."""

    family: ClassVar[str] = "tensor"
    keeps: ClassVar[Keeps] = "nothing"
    functional: ClassVar[bool] = True
    accepts: ClassVar[tuple[str, ...]] = ("float", "int", "bool")


class HeldLayout(TensorOp):
    """A layout or selecting operation that also takes a held tensor (no batch dim): its dims are
    then the tensor's own (:func:`tensor_axis`), and the result is held too. A view of its input."""

    batch_free: ClassVar[bool] = True
    aliases_input: ClassVar[bool] = True


# -- layout --------------------------------------------------------------------------------


@register_class("permute")
def _permute_class() -> type[Layer]:
    class Permute(HeldLayout):
        """``x.permute(*dims)``: reorder the dims (``dims`` lists every dim of the batched tensor, 0 first;
        of a held tensor, its own dims in any order)."""

        type: Literal["permute"]
        dims: Annotated[
            list[AnyInt | Expr],
            Field(description="a permutation of the tensor's dims: of a batched tensor, starting with 0 (the batch)"),
        ]

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            rank = len(shapes[0])
            return [tuple(strides[0][int(d) % rank] for d in self.dims)]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            held = isinstance(shape, Unbatched)
            dims, rank = [int(d) for d in self.dims], len(shape) + (0 if held else 1)
            if len(dims) != rank:
                what = "dims (a held tensor: no batch dim)" if held else "dims (batch included)"
                raise LayerError(
                    f"dims {dims} has {len(dims)} entries but the input has {rank} {what}",
                    hint="list every dim of the tensor once, e.g. [0, 2, 3, 1] for NCHW -> NHWC",
                    field="dims",
                )
            wrapped = [normalize_dim(d, rank, "dims") for d in dims] if rank else []
            if len(set(wrapped)) != len(wrapped):
                raise LayerError(f"dims {dims} repeats a dim", hint="list each dim once", field="dims")
            if held:
                return LayerResult(tuple(shape[d] for d in wrapped))
            if wrapped[0] != 0:
                raise LayerError(f"dims {dims} moves the batch dim", hint="keep 0 (the batch) first", field="dims")
            return LayerResult(tuple(shape[d - 1] for d in wrapped[1:]))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("permute", *self.dims)

        def label(self) -> str:
            return ",".join(map(str, self.dims))

    return Permute


@register_class("transpose")
def _transpose_class() -> type[Layer]:
    class Transpose(HeldLayout):
        """``x.transpose(dim0, dim1)``: swap two dims."""

        type: Literal["transpose"]
        dim0: AnyInt | Expr
        dim1: AnyInt | Expr

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            rank, moved = len(shapes[0]), list(strides[0])
            a, b = int(self.dim0) % rank, int(self.dim1) % rank
            moved[a], moved[b] = moved[b], moved[a]
            return [tuple(moved)]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = list(inputs[0])
            a = tensor_axis(int(self.dim0), inputs[0], "dim0")
            b = tensor_axis(int(self.dim1), inputs[0], "dim1")
            shape[a], shape[b] = shape[b], shape[a]
            return LayerResult(tuple(shape))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("transpose", self.dim0, self.dim1)

        def label(self) -> str:
            return f"{self.dim0}<->{self.dim1}"

    return Transpose


def infer_sizes(sizes: list[int], elements: int, field: str) -> Shape:
    """Sizes with at most one -1, which is inferred so that they hold ``elements`` (torch's ``infer_size``)."""
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise LayerError(
            f"{field} {sizes} may hold one -1 and otherwise sizes >= 0",
            hint="write every size but at most one, which may be -1 to infer it",
            field=field,
        )
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or elements % known:
            raise LayerError(
                f"{field} {sizes} cannot hold {elements} elements per sample",
                hint=f"use sizes whose product divides {elements}",
                field=field,
            )
        return tuple(elements // known if s == -1 else s for s in sizes)
    if known != elements:
        raise LayerError(
            f"{field} {sizes} holds {known} elements per sample, the input {elements}",
            hint=f"use sizes whose product is {elements}, or one -1 to infer a size",
            field=field,
        )
    return tuple(sizes)


@register_class("reshape")
def _reshape_class() -> type[Layer]:
    class Reshape(HeldLayout):
        """``x.reshape(x.shape[0], *shape)``: the same elements in a new per-sample shape; one size may be -1.
        A held tensor has no batch: ``t.reshape(*shape)``, ``shape`` its whole new shape.

        There is no ``view``: it fails on non-contiguous tensors (after a permute), which only the
        strides tell, and a spec has no strides; ``reshape`` is ``view`` wherever ``view`` works.
        """

        type: Literal["reshape"]
        shape: Sizes

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult(infer_sizes([int(s) for s in self.shape], math.prod(inputs[0]), "shape"))

        def call(self, inputs: list[Shape]) -> Op:
            if isinstance(inputs[0], Unbatched):
                return Op.method("reshape", *self.shape)
            return Op.method("reshape", SizeOf(Arg(0)), *self.shape)

        def label(self) -> str:
            return "x".join(map(str, self.shape)) or "scalar"

    return Reshape


@register_class("squeeze")
def _squeeze_class() -> type[Layer]:
    class Squeeze(HeldLayout):
        """``x.squeeze(dim)``: drop the listed dims where their size is 1 (others stay, as in torch)."""

        type: Literal["squeeze"]
        dim: AnyInt | Dims | Expr = Field(
            description="the dim(s) to drop; required, since squeezing all would take a batch of 1"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            axes = tensor_axes(_dims(self.dim), shape)
            return LayerResult(tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1)))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("squeeze", tuple(self.dim) if isinstance(self.dim, list) else self.dim)

    return Squeeze


@register_class("unsqueeze")
def _unsqueeze_class() -> type[Layer]:
    class Unsqueeze(HeldLayout):
        """``x.unsqueeze(dim)``: insert a dim of size 1."""

        type: Literal["unsqueeze"]
        dim: AnyInt | Expr

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            axis = tensor_axis(int(self.dim), shape, extra=1)
            return LayerResult((*shape[:axis], 1, *shape[axis:]))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("unsqueeze", self.dim)

    return Unsqueeze


# -- several outputs -------------------------------------------------------------------------


class _Parts(TensorOp):
    """An operation with several outputs, read as ``id.0``, ``id.1``...: views of its input."""

    aliases_input: ClassVar[bool] = True

    def view_strides(self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]) -> list[Strides] | None:
        return [strides[0]] * len(outputs)

    def pieces(self, size: int) -> list[int]:
        raise NotImplementedError

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        axis = sample_axis(int(self.dim), len(shape))  # type: ignore[attr-defined]
        parts = tuple((*shape[:axis], n, *shape[axis + 1 :]) for n in self.pieces(shape[axis]))
        return LayerResult(parts[0], parts=parts)


@register_class("chunk")
def _chunk_class() -> type[Layer]:
    class Chunk(_Parts):
        """``x.chunk(chunks, dim)``: equal pieces of ``ceil(size / chunks)`` (fewer pieces when they run out)."""

        type: Literal["chunk"]
        chunks: PositiveInt | Expr
        dim: AnyInt | Expr = 0

        def pieces(self, size: int) -> list[int]:
            step = -(-size // int(self.chunks))
            if size == 0:
                return [0] * int(self.chunks)
            return [min(step, size - start) for start in range(0, size, step)]

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("chunk", self.chunks, self.dim)

        def label(self) -> str:
            return f"{self.chunks} dim={self.dim}"

    return Chunk


@register_class("split")
def _split_class() -> type[Layer]:
    class Split(_Parts):
        """``x.split(split_size_or_sections, dim)``: pieces of one size (the last may be smaller), or of listed sizes."""  # noqa: E501

        type: Literal["split"]
        split_size_or_sections: NonNegativeInt | Annotated[list[NonNegativeInt | Expr], Field(min_length=1)] | Expr
        dim: AnyInt | Expr = 0

        def pieces(self, size: int) -> list[int]:
            sections = self.split_size_or_sections
            if isinstance(sections, list):
                if sum(sections) != size:
                    raise LayerError(
                        f"sections {sections} add up to {sum(sections)}, but the dim has size {size}",
                        hint=f"use sections that add up to {size}",
                        field="split_size_or_sections",
                    )
                return [int(s) for s in sections]
            step = int(sections)
            if step == 0:
                if size:
                    raise LayerError(
                        f"split size 0 cannot split a dim of size {size}",
                        hint="use a split size >= 1",
                        field="split_size_or_sections",
                    )
                return [0]
            return [min(step, size - start) for start in range(0, size, step)] or [0]

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("split", self.split_size_or_sections, self.dim)

    return Split


@register_class("unbind")
def _unbind_class() -> type[Layer]:
    class Unbind(TensorOp):
        """``x.unbind(dim)``: one output per index along ``dim``, which disappears."""

        type: Literal["unbind"]
        aliases_input: ClassVar[bool] = True
        dim: AnyInt | Expr = 0

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            dim = int(self.dim) % len(shapes[0])
            return [strides[0][:dim] + strides[0][dim + 1 :]] * len(outputs)

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            axis = sample_axis(int(self.dim), len(shape))
            part = (*shape[:axis], *shape[axis + 1 :])
            if shape[axis] == 0:
                raise LayerError(
                    "unbind of a dim of size 0 has no outputs", hint="unbind a dim of size >= 1", field="dim"
                )
            return LayerResult(part, parts=(part,) * shape[axis])

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("unbind", self.dim)

    return Unbind


# -- selecting -------------------------------------------------------------------------------


@register_class("select")
def _select_class() -> type[Layer]:
    class Select(HeldLayout):
        """``x.select(dim, index)``: one index along ``dim``, which disappears (ViT's ``x[:, 0]``)."""

        type: Literal["select"]
        dim: AnyInt | Expr
        index: AnyInt | Expr

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            dim = int(self.dim) % len(shapes[0])
            return [strides[0][:dim] + strides[0][dim + 1 :]]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            axis = tensor_axis(int(self.dim), shape)
            size = shape[axis]
            if not -size <= int(self.index) < size:
                raise LayerError(
                    f"index {self.index} is out of range for dim {self.dim} of size {size}",
                    hint=f"use an index in [{-size}, {size - 1}]",
                    field="index",
                )
            return LayerResult((*shape[:axis], *shape[axis + 1 :]))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("select", self.dim, self.index)

        def label(self) -> str:
            return f"dim={self.dim} [{self.index}]"

    return Select


@register_class("narrow")
def _narrow_class() -> type[Layer]:
    class Narrow(HeldLayout):
        """``x.narrow(dim, start, length)``: ``length`` consecutive indices from ``start`` (a slice)."""

        type: Literal["narrow"]
        dim: AnyInt | Expr
        start: AnyInt | Expr
        length: NonNegativeInt | Expr

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            return [strides[0]]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = list(inputs[0])
            axis = tensor_axis(int(self.dim), inputs[0])
            size, start, length = shape[axis], int(self.start), int(self.length)
            if not -size <= start <= size:
                raise LayerError(
                    f"start {start} is out of range for dim {self.dim} of size {size}",
                    hint=f"use a start in [{-size}, {size}]",
                    field="start",
                )
            start += size if start < 0 else 0
            if start + length > size:
                raise LayerError(
                    f"start {self.start} + length {length} exceeds dim {self.dim} of size {size}",
                    hint=f"use start + length <= {size}",
                    field="length",
                )
            shape[axis] = length
            return LayerResult(tuple(shape))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("narrow", self.dim, self.start, self.length)

        def label(self) -> str:
            return f"dim={self.dim} [{self.start}:+{self.length}]"

    return Narrow


@register_class("slice")
def _slice_tensor_class() -> type[Layer]:
    class SliceTensor(HeldLayout):
        """``x[:, start:end:step]`` along ``dim``: Python's slicing (bounds clamp, negatives count from the end).

        Swin's patch merging takes ``x[:, 0::2, 0::2, :]`` as two slices.
        """

        type: Literal["slice"]
        dim: AnyInt | Expr
        start: AnyInt | Expr | None = None
        end: AnyInt | Expr | None = None
        step: PositiveInt | Expr = 1

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            dim, step = int(self.dim) % len(shapes[0]), int(self.step)
            return [tuple(s * step if d == dim else s for d, s in enumerate(strides[0]))]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = list(inputs[0])
            axis = tensor_axis(int(self.dim), inputs[0])
            start = None if self.start is None else int(self.start)
            end = None if self.end is None else int(self.end)
            shape[axis] = len(range(*slice(start, end, int(self.step)).indices(shape[axis])))
            return LayerResult(tuple(shape))

        def call(self, inputs: list[Shape]) -> Op:
            dim, step = int(self.dim), None if self.step == 1 else self.step
            wanted = Slice(self.start, self.end, step)
            if dim >= 0:  # x[:, :, 0::2]
                return Op("[]", (Arg(0), (*([Slice()] * dim), wanted)))
            return Op("[]", (Arg(0), (..., wanted, *([Slice()] * (-dim - 1)))))  # x[..., 0::2, :]

        def label(self) -> str:
            start = "" if self.start is None else self.start
            end = "" if self.end is None else self.end
            return f"dim={self.dim} [{start}:{end}" + ("]" if self.step == 1 else f":{self.step}]")

    return SliceTensor


INDEX_DTYPES = ("int64", "int32")
"""The dtypes torch takes for an index tensor."""


@register_class("index_select")
def _index_select_class() -> type[Layer]:
    class IndexSelect(HeldLayout):
        """``x.index_select(dim, index)``: the indices along ``dim``, in order, repeats allowed.

        The indices are a list (``torch.tensor(index)`` in the generated code) or a second input: a
        held 1-d ``int64``/``int32`` tensor, such as a ``Buffer`` of fixed indices. Swin gathers its
        relative position bias so: ``table.index_select(0, relative_position_index)``. An index
        input's values are checked statically where its range is declared, otherwise by torch.
        """

        type: Literal["index_select"]
        min_inputs: ClassVar[int] = 1
        max_inputs: ClassVar[int | None] = 2
        dim: AnyInt | Expr
        index: (
            Annotated[list[NonNegativeInt | Expr], Field(description="indices in [0, size of dim)")] | Expr | None
        ) = Field(default=None, description="the indices; leave out to take them from a second input")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = list(inputs[0])
            axis = tensor_axis(int(self.dim), inputs[0])
            if (self.index is None) == (len(inputs) == 1):
                raise LayerError(
                    "index_select takes its indices from 'index' or from a second input, one of them",
                    hint="give index: [...] or inputs: [x, index_tensor]",
                    field="index",
                )
            if self.index is None:
                shape[axis] = self._index_length(inputs[1])
                return LayerResult(tuple(shape))
            bad = [i for i in self.index if not 0 <= int(i) < shape[axis]]
            if bad:
                raise LayerError(
                    f"index {bad[0]} is out of range for dim {self.dim} of size {shape[axis]}",
                    hint=f"use indices in [0, {shape[axis] - 1}] (index_select takes no negative indices)",
                    field="index",
                )
            shape[axis] = len(self.index)
            return LayerResult(tuple(shape))

        @staticmethod
        def _index_length(index: Shape) -> int:
            if not isinstance(index, Unbatched) or len(index) > 1:
                what = "a batched tensor" if not isinstance(index, Unbatched) else f"of shape {list(index)}"
                raise LayerError(
                    f"the index input must be a held 1-d tensor (a Buffer), got {what}",
                    hint="index with a Buffer of shape [n]; a batched index would select per sample, which "
                    "index_select cannot",
                )
            return index[0] if index else 1

        def output_dtype(self, types: list[TensorType]) -> str:
            """The index input is an integer tensor torch indexes with, its declared values in range."""
            if len(types) == 2:
                index = types[1]
                if index.dtype not in INDEX_DTYPES:
                    raise LayerError(
                        f"the index input must be int64 or int32, got {index.dtype}",
                        hint="declare the index Buffer with dtype: int64",
                    )
                size = types[0].layer_shape()[tensor_axis(int(self.dim), types[0].layer_shape())]
                if index.high is not None and ((index.low or 0) < 0 or index.high > size):
                    raise LayerError(
                        f"the index input holds values in [{index.low}, {index.high}), "
                        f"but dim {self.dim} has size {size}",
                        hint=f"indices must lie in [0, {size})",
                    )
            return types[0].dtype

        def call(self, inputs: list[Shape]) -> Op:
            if self.index is None:
                return Op.method("index_select", self.dim, Arg(1))
            index = Op("torch.tensor", (list(self.index),), (("dtype", Symbol("torch.int64")),))
            return Op.method("index_select", self.dim, index)

        def label(self) -> str:
            return f"dim={self.dim}" + ("" if self.index is None else f" {self.index}")

        aliases_input: ClassVar[bool] = False

        def saved(self, call: Saving) -> list[Saved]:
            """The backward scatters into the input's shape by the index: it keeps the index (a new
            int64 tensor where the spec lists it)."""
            if not call.grads[0]:
                return []
            return [Saved("input", 1) if self.index is None else Saved("new", 0, len(self.index), "int64", False)]

    return IndexSelect


# -- repeating -------------------------------------------------------------------------------


def _batch_from_second(shape: Shape, sizes: list[int]) -> Shape:
    """A tensor without a batch dim expanded to ``(batch, *sizes)``: the per-sample shape it stands for.

    As in torch, ``sizes`` align with the tensor's trailing dims; the batch meets the tensor's
    dim 0 (which must then be 1) or is a new leading dim, like any other new dim (not -1).
    """
    if len(sizes) + 1 == len(shape):
        if shape[0] != 1:
            raise LayerError(
                f"the tensor's dim 0 becomes the batch, so it must have size 1, got shape {list(shape)}",
                hint="declare the learned tensor with a leading 1, e.g. shape: [1, 1, 768], or drop that dim",
            )
        return shape[1:]
    new = len(sizes) - len(shape)
    if new < 0:
        raise LayerError(
            f"size {sizes} has fewer entries than the tensor of shape {list(shape)} has dims (less its dim 0)",
            hint="give one size per dim after the batch, -1 to keep one",
            field="size",
        )
    if any(s < 0 for s in sizes[:new]):
        raise LayerError(
            f"size {sizes} has -1 for a dim the tensor of shape {list(shape)} does not have",
            hint="give new leading dims an explicit size",
            field="size",
        )
    return (1,) * new + tuple(shape)


@register_class("expand")
def _expand_class() -> type[Layer]:
    class Expand(TensorOp):
        """``x.expand(-1, *size)``: repeat size-1 dims without copying (-1 keeps a size).

        A learned tensor (no batch dim) gets the batch of a second input:
        ``{type: expand, inputs: [class_token, x], size: [-1, -1]}`` is torchvision's
        ``class_token.expand(x.shape[0], -1, -1)`` (dim 0 of size 1 becomes the batch; a tensor
        with one dim fewer gets the batch as a new leading dim).
        """

        type: Literal["expand"]
        aliases_input: ClassVar[bool] = True
        min_inputs: ClassVar[int] = 1
        max_inputs: ClassVar[int | None] = 2
        batch_free: ClassVar[bool] = True
        size: Sizes

        def view_strides(
            self, shapes: list[Shape], strides: list[Strides], outputs: list[Shape]
        ) -> list[Strides] | None:
            shape, (out,) = shapes[0], outputs
            lead = len(out) - len(shape)
            kept = [
                0 if size == 1 and out[lead + d] != 1 else s
                for d, (size, s) in enumerate(zip(shape, strides[0], strict=True))
            ]
            return [(0,) * lead + tuple(kept)]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            sizes = [int(s) for s in self.size]
            learned = isinstance(shape, Unbatched)
            if learned:
                if len(inputs) != 2 or isinstance(inputs[1], Unbatched):
                    raise LayerError(
                        "a tensor without a batch dim needs a second, batched input to take the batch size from",
                        hint="write inputs: [tensor, x]",
                    )
                shape = _batch_from_second(shape, sizes)
            elif len(inputs) == 2:
                raise LayerError("a batched tensor takes one input", hint="drop the second input")
            if len(sizes) != len(shape):
                raise LayerError(
                    f"size {sizes} has {len(sizes)} entries for a per-sample shape {list(shape)} of rank {len(shape)}",
                    hint="give one size per dim (batch excluded), -1 to keep one",
                    field="size",
                )
            out = []
            for old, new in zip(shape, sizes, strict=True):
                if new == -1 or new == old:
                    out.append(old)
                elif old == 1 and new >= 0:
                    out.append(new)
                else:
                    raise LayerError(
                        f"cannot expand size {old} to {new} (shape {list(shape)} to {sizes})",
                        hint="only size-1 dims expand; -1 keeps a size",
                        field="size",
                    )
            return LayerResult(tuple(out), batched=True)

        def result_dtype(self, dtypes: list[str]) -> str:
            return dtypes[0]  # the second input only lends its batch size

        def call(self, inputs: list[Shape]) -> Op:
            batch = SizeOf(Arg(1)) if isinstance(inputs[0], Unbatched) else -1
            return Op("Tensor.expand", (Arg(0), batch, *self.size))

    return Expand


@register_class("repeat")
def _repeat_tensor_class() -> type[Layer]:
    class RepeatTensor(TensorOp):
        """``x.repeat(1, *repeats)``: tile the data ``repeats`` times per dim (copies)."""

        type: Literal["repeat"]
        repeats: Annotated[list[NonNegativeInt | Expr], Field(description="per-sample repeat counts (batch excluded)")]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if len(self.repeats) != len(shape):
                raise LayerError(
                    f"repeats {self.repeats} has {len(self.repeats)} entries "
                    f"for a per-sample shape of rank {len(shape)}",
                    hint="give one count per dim (batch excluded)",
                    field="repeats",
                )
            return LayerResult(tuple(n * int(r) for n, r in zip(shape, self.repeats, strict=True)))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("repeat", 1, *self.repeats)

    return RepeatTensor


@register_class("tile")
def _tile_class() -> type[Layer]:
    class Tile(TensorOp):
        """``x.tile((1, *dims))``: like ``repeat``, but fewer ``dims`` than dims means 1s in front, as in torch."""

        type: Literal["tile"]
        dims: Annotated[list[NonNegativeInt | Expr], Field(description="per-sample repeat counts (batch excluded)")]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if len(self.dims) > len(shape):
                raise LayerError(
                    f"dims {self.dims} has more entries than the per-sample shape {list(shape)} has dims: "
                    "the new dims would come before the batch",
                    hint="give at most one count per dim (batch excluded); unsqueeze first to add dims",
                    field="dims",
                )
            counts = [1] * (len(shape) - len(self.dims)) + [int(d) for d in self.dims]
            return LayerResult(tuple(n * c for n, c in zip(shape, counts, strict=True)))

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("tile", (1, *self.dims))

    return Tile


@register_class("stack")
def _stack_class() -> type[Layer]:
    class Stack(TensorOp):
        """``torch.stack(inputs, dim)``: a new dim ``dim`` holding the inputs (which have one shape)."""

        type: Literal["stack"]
        min_inputs: ClassVar[int] = 1
        max_inputs: ClassVar[int | None] = None
        dim: AnyInt | Expr = Field(default=1, description="the new dim of the batched result (0 is the batch)")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shape = inputs[0]
            if any(s != shape for s in inputs[1:]):
                raise LayerError(
                    f"stack takes inputs of one shape, got {', '.join(str(list(s)) for s in inputs)}",
                    hint="make the shapes equal first, or use concat",
                )
            axis = sample_axis(int(self.dim), len(shape) + 1)
            return LayerResult((*shape[:axis], len(inputs), *shape[axis:]))

        def call(self, inputs: list[Shape]) -> Op:
            return Op("torch.stack", ([Arg(i) for i in range(len(inputs))],), (("dim", self.dim),))

    return Stack


@register_class("roll")
def _roll_class() -> type[Layer]:
    class Roll(HeldLayout):
        """``x.roll(shifts, dims)``: shift entries along dims, wrapping around (Swin's shifted windows)."""

        type: Literal["roll"]
        aliases_input: ClassVar[bool] = False
        shifts: AnyInt | Dims | Expr
        dims: AnyInt | Dims | Expr = Field(description="required: rolling the flattened tensor would mix samples")

        def infer(self, inputs: list[Shape]) -> LayerResult:
            shifts, dims = _dims(self.shifts), _dims(self.dims)
            if len(shifts) != len(dims):
                raise LayerError(
                    f"shifts {shifts} and dims {dims} have different lengths",
                    hint="give one shift per dim",
                    field="shifts",
                )
            for d in dims:
                tensor_axis(d, inputs[0], "dims")
            return LayerResult(inputs[0])

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("roll", self.shifts, self.dims)

    return Roll


# -- reductions ------------------------------------------------------------------------------


class _Reduction(TensorOp):
    identity: ClassVar[bool] = True
    """False where an empty reduction has no value (``amax``, ``amin``): torch refuses a dim of size 0."""
    dim: AnyInt | Dims | Expr = Field(description="dim(s) to reduce; required: reducing all would mix samples")
    keepdim: StrictBool | Expr = False

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        axes = sample_axes(_dims(self.dim), len(shape))
        if not self.identity and any(shape[axis] == 0 for axis in axes):
            raise LayerError(
                f"{self.type_name()} over a dim of size 0 has no identity",
                hint="reduce a dim of size >= 1",
                field="dim",
            )
        if self.keepdim:
            return LayerResult(tuple(1 if i in axes else n for i, n in enumerate(shape)))
        return LayerResult(tuple(n for i, n in enumerate(shape) if i not in axes))

    def call(self, inputs: list[Shape]) -> Op:
        dim = tuple(self.dim) if isinstance(self.dim, list) else self.dim
        return Op.method(self.type_name(), dim, **({"keepdim": True} if self.keepdim else {}))

    def label(self) -> str:
        return f"dim={self.dim}" + (" keepdim" if self.keepdim else "")


@register_class("mean")
def _mean_class() -> type[Layer]:
    class Mean(_Reduction):
        """``x.mean(dim, keepdim)``: floating tensors only, as in torch."""

        type: Literal["mean"]
        accepts: ClassVar[tuple[str, ...]] = ("float",)

    return Mean


@register_class("sum")
def _sum_class() -> type[Layer]:
    class Sum(_Reduction):
        """``x.sum(dim, keepdim)``: integer and bool tensors sum to int64, as in torch."""

        type: Literal["sum"]

        def result_dtype(self, dtypes: list[str]) -> str:
            return dtypes[0] if dtypes[0].startswith(("float", "bfloat")) else "int64"

    return Sum


@register_class("amax")
def _amax_class() -> type[Layer]:
    class Amax(_Reduction):
        """``x.amax(dim, keepdim)``: the largest entries."""

        type: Literal["amax"]

        def saved(self, call: Saving) -> list[Saved]:
            """The backward spreads the gradient over the maxima: it keeps the input and the result."""
            return [Saved("input", 0), Saved("output")] if call.recorded else []

        identity: ClassVar[bool] = False

    return Amax


@register_class("amin")
def _amin_class() -> type[Layer]:
    class Amin(_Reduction):
        """``x.amin(dim, keepdim)``: the smallest entries."""

        type: Literal["amin"]

        def saved(self, call: Saving) -> list[Saved]:
            """The backward spreads the gradient over the maxima: it keeps the input and the result."""
            return [Saved("input", 0), Saved("output")] if call.recorded else []

        identity: ClassVar[bool] = False

    return Amin


# -- products --------------------------------------------------------------------------------


def _same_float_dtype(layer: Layer, dtypes: list[str]) -> str:
    if len(set(dtypes)) > 1:
        raise LayerError(
            f"{layer.type_name()} takes inputs of one dtype, got {', '.join(dtypes)}",
            hint="convert one with {type: to, dtype: ...}",
        )
    return dtypes[0]


def _matmul_operand(call: Saving, index: int) -> Saved:
    """Operand ``index`` of ``torch.matmul`` as its ``mm``/``bmm`` keeps it (``_matmul_impl``)."""
    a, b = call.full_shape(0), call.full_shape(1)
    shape = (a, b)[index]
    if len(a) <= 2 and len(b) <= 2:
        return Saved("input", index)
    if len(b) <= 2 or len(a) <= 2:  # folded against a matrix: (..., n, m) -> (-1, m) for the larger one
        larger = 0 if len(a) > len(b) else 1
        return call.flattened(index, (-1, shape[-1])) if index == larger else Saved("input", index)
    batch = broadcast([a[:-2], b[:-2]])
    target = (math.prod(batch), *shape[-2:])
    if tuple(shape[:-2]) == tuple(batch):
        return call.flattened(index, target)
    return Saved("new", 0, math.prod(target), call.inputs[index].dtype, False)  # expanded, then copied


def _each_other(call: Saving) -> list[Saved]:
    """A product of two operands keeps operand 1 for operand 0's gradient, and 0 for 1's."""
    return [Saved("input", 1)] * call.grads[0] + [Saved("input", 0)] * call.grads[1]


class _Product(TensorOp):
    autocast: ClassVar[Autocast] = "lower"
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int | None] = 2
    accepts: ClassVar[tuple[str, ...]] = ("float",)

    def result_dtype(self, dtypes: list[str]) -> str:
        return _same_float_dtype(self, dtypes)


def _product(a: Shape, b: Shape, out: Shape, k: int, k2: int) -> LayerResult:
    """A matrix product's result: ``k`` columns of ``a`` meet ``k2`` rows of ``b``; 2 FLOPs per multiply-add."""
    if k != k2:
        raise LayerError(
            f"inner dims differ: {list(a)} @ {list(b)} multiplies {k} by {k2}",
            hint="the last dim of the first input must equal the second-to-last of the second",
        )
    return LayerResult(out, flops=2 * math.prod(out) * k)


@register_class("matmul")
def _matmul_class() -> type[Layer]:
    class Matmul(_Product):
        """``torch.matmul(a, b)`` per sample: ``(*, n, k) @ (*, k, m)``, leading dims broadcast.

        Both inputs batched with the same rank (>= 2 per sample), or ``b`` a learned matrix
        ``(k, m)`` without a batch dim (``x @ W``).
        """

        type: Literal["matmul"]

        def saved(self, call: Saving) -> list[Saved]:
            """Each operand's gradient is a product with the other, as ``mm`` or ``bmm`` sees it: torch folds
            an operand of rank 3 or more against a matrix into one matrix, and broadcasts two batched ones
            to one batch of matrices, both with ``reshape`` (a copy where no view can express it)."""
            return [_matmul_operand(call, 1)] * call.grads[0] + [_matmul_operand(call, 0)] * call.grads[1]

        batch_free: ClassVar[bool] = True

        def infer(self, inputs: list[Shape]) -> LayerResult:
            a, b = inputs
            if isinstance(a, Unbatched):
                raise LayerError("the first input needs a batch dim", hint="put the learned tensor second: x @ W")
            if isinstance(b, Unbatched):
                if len(b) != 2 or not a:
                    raise LayerError(
                        f"a learned right-hand side must be a matrix (k, m), got {list(b)}, for input {list(a)}",
                        hint="declare it with shape [k, m]",
                    )
                return _product(a, b, (*a[:-1], b[1]), a[-1], b[0])
            if len(a) < 2 or len(a) != len(b):
                raise LayerError(
                    f"takes two batched inputs of the same rank >= 2 per sample, got {list(a)} and {list(b)}",
                    hint="reshape or unsqueeze them to (..., n, k) and (..., k, m)",
                )
            lead = broadcast([a[:-2], b[:-2]]) if a[:-2] else ()
            return _product(a, b, (*lead, a[-2], b[-1]), a[-1], b[-2])

        def call(self, inputs: list[Shape]) -> Op:
            return Op("torch.matmul", (Arg(0), Arg(1)))

    return Matmul


@register_class("bmm")
def _bmm_class() -> type[Layer]:
    class Bmm(_Product):
        """``torch.bmm(a, b)``: one ``(n, k) @ (k, m)`` product per sample; no broadcasting."""

        type: Literal["bmm"]

        def saved(self, call: Saving) -> list[Saved]:
            """Each operand's gradient is a product with the other: it keeps that other operand."""
            return _each_other(call)

        def infer(self, inputs: list[Shape]) -> LayerResult:
            a, b = inputs
            if len(a) != 2 or len(b) != 2:
                raise LayerError(
                    f"takes two inputs of rank 2 per sample (3 with the batch), got {list(a)} and {list(b)}",
                    hint="use matmul for other ranks",
                )
            return _product(a, b, (a[0], b[1]), a[1], b[0])

        def call(self, inputs: list[Shape]) -> Op:
            return Op("torch.bmm", (Arg(0), Arg(1)))

    return Bmm


def _einsum_flops(operands: list[str], inputs: list[Shape], output: str) -> int:
    """FLOPs of torch's einsum per sample: one bmm over the letters both operands share, the output
    leaves out and neither has at size 1 (``sumproduct_pair``; a size-1 side is summed first); no
    such letter, and torch multiplies elementwise (no FLOPs counted)."""
    if len(operands) != 2:
        return 0
    left, right = (dict(zip(o[1:], s, strict=True)) for o, s in zip(operands, inputs, strict=True))
    contracted = [k for k in left.keys() & right.keys() if k not in output and 1 not in (left[k], right[k])]
    if not contracted:
        return 0
    # a letter's size broadcasts from 1 (a size 0 wins over a 1, so no max())
    kept = math.prod(right.get(k, 1) if left.get(k, 1) == 1 else left[k] for k in output[1:])
    return 2 * kept * math.prod(left[k] for k in contracted)


@register_class("einsum")
def _einsum_class() -> type[Layer]:
    class Einsum(TensorOp):
        """``torch.einsum(equation, *inputs)`` over one or two batched inputs.

        The equation names every dim of the batched tensors, so each operand's and the
        output's first letter is the batch (``"bhqd,bhkd->bhqk"``); the output is explicit.
        """

        type: Literal["einsum"]

        def saved(self, call: Saving) -> list[Saved]:
            """Of two operands, each operand's gradient needs the other; one operand alone is a sum or a view.
            Where torch sums an index of one operand away first (``bij,bkl->b``), it keeps those sums:
            this rule then over-counts (docs/analysis.md)."""
            return _each_other(call) if len(call.inputs) == 2 else []

        min_inputs: ClassVar[int] = 1
        max_inputs: ClassVar[int | None] = 2
        accepts: ClassVar[tuple[str, ...]] = ("float",)
        equation: Annotated[str, Field(pattern=r"^[a-zA-Z]+(,[a-zA-Z]+)?->[a-zA-Z]*$", max_length=128)] | Expr

        def infer(self, inputs: list[Shape]) -> LayerResult:
            left, output = str(self.equation).split("->")
            operands = left.split(",")
            if len(operands) != len(inputs):
                raise LayerError(
                    f"the equation has {len(operands)} operand(s), the node {len(inputs)} input(s)",
                    hint="give one subscript group per input",
                    field="equation",
                )
            sizes: dict[str, int] = {}
            for letters, shape in zip(operands, inputs, strict=True):
                if len(letters) != len(shape) + 1:
                    raise LayerError(
                        f"'{letters}' names {len(letters)} dims but the input has {len(shape) + 1} (batch included)",
                        hint="name every dim of the batched tensor, the batch first",
                        field="equation",
                    )
                own: dict[str, int] = {}
                for letter, size in zip(letters[1:], shape, strict=True):
                    if own.setdefault(letter, size) != size:
                        raise LayerError(
                            f"'{letter}' is repeated in '{letters}' with sizes {own[letter]} and {size}",
                            hint="a letter repeated within one operand (a diagonal) needs equal sizes there",
                            field="equation",
                        )
                    known = sizes.get(letter, size)
                    if known != size and 1 not in (known, size):
                        raise LayerError(
                            f"dim '{letter}' has sizes {known} and {size}",
                            hint="dims named by one letter must have one size (or 1, to broadcast)",
                            field="equation",
                        )
                    sizes[letter] = size if known == 1 else known
            batch = {letters[0] for letters in operands}
            others = set(output[1:] + "".join(o[1:] for o in operands))
            if len(batch) != 1 or not output or output[0] not in batch or batch & others:
                raise LayerError(
                    f"every operand and the output start with the batch letter, used nowhere else: '{self.equation}'",
                    hint="e.g. 'bij,bjk->bik': b is the batch",
                    field="equation",
                )
            if len(set(output)) != len(output) or any(letter not in sizes for letter in output[1:]):
                raise LayerError(
                    f"output '{output}' repeats a letter or names one no input has",
                    hint="name each output dim once, from the inputs' letters",
                    field="equation",
                )
            out = tuple(sizes[letter] for letter in output[1:])
            return LayerResult(out, flops=_einsum_flops(operands, inputs, output))

        def call(self, inputs: list[Shape]) -> Op:
            return Op("torch.einsum", (self.equation, *(Arg(i) for i in range(len(inputs)))))

        def label(self) -> str:
            return str(self.equation)

    return Einsum


# -- elementwise arithmetic ------------------------------------------------------------------


class _Elementwise(TensorOp):
    """Elementwise, so it also takes tensors without a batch dim."""

    batch_free: ClassVar[bool] = True
    keeps_layout: ClassVar[bool] = True

    def infer(self, inputs: list[Shape]) -> LayerResult:
        return LayerResult(broadcast(inputs) if len(inputs) > 1 else inputs[0], batched=_batched(inputs))

    def scalars(self) -> tuple[Any, ...]:
        """The Python numbers the operation takes (``x * 0.5``): they count in torch's type promotion."""
        return ()

    def output_dtype(self, types: list[TensorType]) -> str:
        return self.result_dtype([fold_result_type(types, self.scalars())])


def _batched(inputs: list[Shape]) -> bool:
    return not all(isinstance(s, Unbatched) for s in inputs)


@register_class("sub")
def _sub_class() -> type[Layer]:
    class Sub(_Elementwise):
        """``a - b``, broadcasting."""

        type: Literal["sub"]
        min_inputs: ClassVar[int] = 2
        max_inputs: ClassVar[int | None] = 2
        accepts: ClassVar[tuple[str, ...]] = ("float", "int")

        def call(self, inputs: list[Shape]) -> Op:
            return Op.fold("-", 2)

    return Sub


@register_class("div")
def _div_class() -> type[Layer]:
    class Div(_Elementwise):
        """``a / b`` (true division: integers give floats), broadcasting."""

        type: Literal["div"]

        def saved(self, call: Saving) -> list[Saved]:
            """``a / b``: a's gradient needs b; b's needs a and b."""
            grads = call.grads
            return [Saved("input", 1)] * (grads[0] or grads[1]) + [Saved("input", 0)] * grads[1]

        min_inputs: ClassVar[int] = 2
        max_inputs: ClassVar[int | None] = 2

        def result_dtype(self, dtypes: list[str]) -> str:
            dtype = super().result_dtype(dtypes)
            return dtype if dtype.startswith(("float", "bfloat")) else "float32"

        def call(self, inputs: list[Shape]) -> Op:
            return Op.fold("/", 2)

    return Div


@register_class("scale")
def _scale_class() -> type[Layer]:
    class Scale(_Elementwise):
        """``x * factor`` (attention's ``1/sqrt(d)``, a residual scale)."""

        type: Literal["scale"]
        factor: Number | Expr

        def scalars(self) -> tuple[Any, ...]:
            return (self.factor,)

        def call(self, inputs: list[Shape]) -> Op:
            return Op("*", (Arg(0), self.factor))

        def label(self) -> str:
            return f"x{self.factor}"

    return Scale


@register_class("pow")
def _pow_class() -> type[Layer]:
    class Pow(_Elementwise):
        """``x ** exponent``."""

        type: Literal["pow"]
        keeps: ClassVar[Keeps] = "input"
        exponent: Number | Expr

        def scalars(self) -> tuple[Any, ...]:
            return (self.exponent,)

        def output_dtype(self, types: list[TensorType]) -> str:
            dtype = super().output_dtype(types)
            if isinstance(self.exponent, int) and self.exponent < 0 and not dtype.startswith(("float", "bfloat")):
                raise LayerError(
                    f"integer tensors to a negative integer power (={self.exponent}) are not allowed, as in torch",
                    hint="convert first with {type: to, dtype: float32}, or write the exponent as a float",
                    field="exponent",
                )
            return dtype

        def call(self, inputs: list[Shape]) -> Op:
            return Op("**", (Arg(0), self.exponent))

        def label(self) -> str:
            return f"**{self.exponent}"

    return Pow


@register_class("clamp")
def _clamp_class() -> type[Layer]:
    class Clamp(_Elementwise):
        """``x.clamp(min, max)``: at least one bound; ``min > max`` gives ``max`` everywhere, as in torch."""

        type: Literal["clamp"]
        keeps: ClassVar[Keeps] = "input"
        min: Number | Expr | None = None
        max: Number | Expr | None = None

        def infer(self, inputs: list[Shape]) -> LayerResult:
            if self.min is None and self.max is None:
                raise LayerError("clamp needs min, max or both", hint="give min: or max:")
            return super().infer(inputs)

        def scalars(self) -> tuple[Any, ...]:
            return tuple(b for b in (self.min, self.max) if b is not None)

        def call(self, inputs: list[Shape]) -> Op:
            bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
            return Op.method("clamp", **bounds)

    return Clamp


class _Compare(_Elementwise):
    """A comparison: two inputs (broadcasting), or one and a constant ``other``; the result is bool."""

    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 2
    other: Number | StrictBool | Expr | None = Field(default=None, description="a constant to compare with (one input)")

    def infer(self, inputs: list[Shape]) -> LayerResult:
        if (len(inputs) == 2) == (self.other is not None):
            raise LayerError(
                "compare two inputs, or one input with a constant 'other'",
                hint="give two inputs, or one input and other: <number>",
            )
        return super().infer(inputs)

    def result_dtype(self, dtypes: list[str]) -> str:
        return "bool"

    def call(self, inputs: list[Shape]) -> Op:
        other = Arg(1) if len(inputs) == 2 else self.other
        return Op(f"torch.{self.type_name()}", (Arg(0), other))

    def label(self) -> str:
        return "" if self.other is None else f"{self.type_name()} {self.other}"


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    _doc = f"``torch.{_name}(a, b)``: an elementwise comparison; the result is a bool tensor."
    register_lazy(_name, partial(type_alias, _Compare, _name, _doc, class_name=_name.capitalize()))


@register_class("to")
def _to_class() -> type[Layer]:
    class To(_Elementwise):
        """``x.to(dtype)``: convert the dtype (token ids to float, a mask to float...)."""

        type: Literal["to"]

        def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
            """``x.to(dtype)`` returns x itself when it already has that dtype."""
            return 0 if inputs[0].dtype == self.dtype else None

        dtype: DType

        def result_dtype(self, dtypes: list[str]) -> str:
            return str(self.dtype)

        def call(self, inputs: list[Shape]) -> Op:
            return Op.method("to", Symbol(f"torch.{self.dtype}"))

        def label(self) -> str:
            return str(self.dtype)

    return To


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
