"""The contract every layer type fulfils, and the argument types layers share.

A layer type is one Pydantic model: its fields are torch's own constructor
arguments (plus the node fields every spec node has), and its methods are the
static shape rule, the parameter and mult-add counts, a short label for
diagrams, and the torch constructor. Shapes are per sample: batch excluded.
"""

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
)
from pydantic import StrictBool as StrictBool

from archspec.errors import LayerError
from archspec.frontend import quick
from archspec.layers.layout import Strides, view

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]

Receptive = tuple[tuple[int, ...], tuple[int | Fraction, ...]] | Literal["global"] | None
"""What :meth:`Layer.receptive` returns: ``(effective kernel, stride)`` per spatial axis, ``"global"`` or ``None``."""

DTYPES = {
    "float16": "float", "bfloat16": "float", "float32": "float", "float64": "float",
    "uint8": "int", "int8": "int", "int16": "int", "int32": "int", "int64": "int",
    "bool": "bool",
}  # fmt: skip
"""The dtypes a tensor may have, with their kind (what a layer accepts: ``float``, ``int``, ``bool``)."""
DTYPE_BYTES = {
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
    "uint8": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "bool": 1,
}  # fmt: skip
"""Bytes per element of each dtype (``torch.dtype.itemsize``)."""
DType = Literal[
    "float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"
]  # fmt: skip
DEFAULT_DTYPE = "float32"
_ORDER = {"bool": 0, "uint8": 1, "int8": 1, "int16": 2, "int32": 3, "int64": 4}
_FLOAT_ORDER = {"float16": 1, "bfloat16": 1, "float32": 2, "float64": 3}


def promote(dtypes: list[str]) -> str:
    """torch's type promotion between tensors of equal dimension category
    (``torch.promote_types``): the higher kind wins, then the wider type."""
    if len(dtypes) == 1:
        return dtypes[0]
    floats = [d for d in dtypes if DTYPES[d] == "float"]
    if floats:
        if len(set(floats)) > 1 and {"float16", "bfloat16"} <= set(floats) and "float64" not in floats:
            return "float32"  # torch.promote_types(float16, bfloat16)
        return max(floats, key=lambda d: _FLOAT_ORDER[d])
    if set(dtypes) == {"uint8", "int8"}:
        return "int16"
    return max(dtypes, key=lambda d: (_ORDER[d], d == "uint8"))


def scalar_dtype(value: Any) -> str:
    """The dtype torch gives a Python number in an operation with tensors (a "wrapped number")."""
    if isinstance(value, bool):
        return "bool"
    return "int64" if isinstance(value, int) else DEFAULT_DTYPE


def _combine(higher: str | None, lower: str | None) -> str | None:
    """c10's ``combine_categories``: a lower-priority operand counts only where its kind is higher."""
    if higher is None or lower is None:
        return higher or lower
    if DTYPES[higher] == "float":
        return higher
    if higher == "bool" or DTYPES[lower] == "float":
        return promote([higher, lower])
    return higher


def result_type(types: "list[TensorType]", scalars: tuple[Any, ...] = ()) -> str:
    """``torch.result_type`` of these operands: tensors with dims decide; a 0-d tensor (a held
    scalar) and Python numbers change the dtype only where their kind is higher (``float16``
    tensor + ``float32`` 0-d tensor is ``float16``; ``int8`` tensor * ``0.5`` is ``float32``)."""
    dims = [t.dtype for t in types if t.batched or t.shape]
    zero = [t.dtype for t in types if not t.batched and not t.shape]
    wrapped = [scalar_dtype(s) for s in scalars]
    tiers = [promote(d) if d else None for d in (dims, zero, wrapped)]
    return _combine(tiers[0], _combine(tiers[1], tiers[2])) or DEFAULT_DTYPE


def fold_result_type(types: "list[TensorType]", scalars: tuple[Any, ...] = ()) -> str:
    """The dtype of ``a op b op c`` as Python folds it, left to right: each step is a
    :func:`result_type` of two operands, and its result has dims unless both had none
    (``f16 0-d * uint8 * bf16`` is ``(f16 0-d * uint8) * bf16``: float16, then float32)."""
    if not scalars and all(t.dtype == types[0].dtype for t in types):
        return types[0].dtype  # one dtype: nothing to promote (the usual residual add)
    acc = types[0]
    for item in types[1:]:
        dtype = result_type([acc, item])
        zero_dim = not (acc.batched or acc.shape or item.batched or item.shape)
        acc = TensorType(() if zero_dim else (1,), dtype, batched=acc.batched or item.batched)
    return result_type([acc], scalars)


class Unbatched(tuple[int, ...]):
    """The shape of a tensor without a batch dim (a learned tensor or buffer): its whole shape.

    Layers see it where a per-sample shape would be; those that accept such tensors
    (``batch_free``: elementwise and broadcasting operations) tell it apart by its type.
    """

    __slots__ = ()


class TensorType(NamedTuple):
    """What static inference knows about one value: per-sample shape, dtype, and whether it has a batch dim.

    A named tuple: one is made per node, and that is cheaper than a frozen dataclass."""

    shape: tuple[int, ...]
    dtype: str = DEFAULT_DTYPE
    batched: bool = True
    low: int | None = None
    high: int | None = None
    """For integer inputs: the values lie in ``[low, high)`` (an Embedding checks ``num_embeddings``)."""

    @property
    def kind(self) -> str:
        return DTYPES[self.dtype]

    def layer_shape(self) -> tuple[int, ...]:
        """The shape a layer's ``infer`` sees: per sample, or :class:`Unbatched`."""
        return self.shape if self.batched else Unbatched(self.shape)


MAX_SIZE = 2**31 - 1
"""Largest size, count or channel number a spec may write (torch's int32 limit for many kernels)."""


def _unresolved_only(value: str, info: ValidationInfo) -> str:
    if info.context and info.context.get("resolved"):
        raise ValueError(f"'{value}' is still an expression after substitution")
    return value


quick.register_after(_unresolved_only, lambda value, context: not (context and context.get("resolved")))


if TYPE_CHECKING:
    from typing_extensions import Never

    Expr = Never
    """Substituted before any layer method runs, so to a type checker a field holds its value:
    ``PositiveInt | Expr`` is checked as ``int``."""
else:
    Expr = Annotated[
        str,
        StringConstraints(pattern=r"^\$\{.+\}$"),
        AfterValidator(_unresolved_only),
        Field(description="an expression '${...}' over the spec's parameters"),
    ]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=MAX_SIZE)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)]
AnyInt = Annotated[StrictInt, Field(ge=-MAX_SIZE, le=MAX_SIZE)]
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
"""A float that is not NaN or infinite (YAML's ``.nan``, ``.inf``): torch takes them silently and
computes NaN losses. JSON has no such numbers, so the JSON Schema's ``number`` agrees."""
Number = FiniteFloat | StrictInt


@cache
def bounded_number(description: str | None = None, **bounds: float) -> Any:
    """A finite float or an int within ``bounds`` (``gt``, ``ge``, ``le``...).

    The bounds sit on each member of the union: on the union itself, the JSON Schema would
    get Pydantic's non-standard ``gt``/``ge`` keys, which JSON Schema validators ignore.
    """
    finite = Annotated[FiniteFloat, Field(**bounds)]
    union = finite | Annotated[StrictInt, Field(**bounds)]
    return union if description is None else Annotated[union, Field(description=description)]


Probability = Annotated[Number, Field(description="a probability in [0, 1]")]


@cache  # one annotation object per argument: classes share it, and quick.py compiles its checker once
def positive_sizes(n: int) -> Any:
    """An int, or a list of exactly ``n`` ints, each >= 1 (torch's ``_size_n_t``)."""
    return PositiveInt | Annotated[list[PositiveInt | Expr], Field(min_length=n, max_length=n)] | Expr


@cache
def non_negative_sizes(n: int) -> Any:
    """An int, or a list of exactly ``n`` ints, each >= 0."""
    return NonNegativeInt | Annotated[list[NonNegativeInt | Expr], Field(min_length=n, max_length=n)] | Expr


def as_tuple(value: int | list[int] | tuple[int, ...], n: int) -> tuple[int, ...]:
    """Expand torch's int-or-tuple convention to an ``n``-tuple."""
    if isinstance(value, int):
        return (value,) * n
    return tuple(value)


@dataclass(frozen=True)
class Arg:
    """Placeholder in an :class:`Op`: the node's input number ``index``."""

    index: int


@dataclass(frozen=True)
class SizeOf:
    """Placeholder in an :class:`Op`: ``size(dim)`` of an input, known only at run time (the batch)."""

    arg: Arg
    dim: int = 0


@dataclass(frozen=True)
class Symbol:
    """A name in torch's namespace as an :class:`Op` argument, e.g. ``torch.float32``."""

    text: str


@dataclass(frozen=True)
class Slice:
    """In a subscript :class:`Op` (target ``"[]"``): the slice ``start:end:step`` (None: omitted)."""

    start: int | None = None
    end: int | None = None
    step: int | None = None


@dataclass(frozen=True)
class InTraining:
    """Placeholder in an :class:`Op`: ``value`` in training mode, ``otherwise`` in eval mode
    (``dropout_p if self.training else 0.0``): a functional op's dropout follows the module's
    mode, as ``nn.Dropout`` does."""

    value: Any
    otherwise: Any = 0.0


OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}
CALL_MODULE = "module"
"""An :class:`Op` target: the node's own module, in a layer's :meth:`Layer.forward_call`."""
"""Python operators an :class:`Op` may name, with their ``operator`` module functions."""


@dataclass(frozen=True)
class Op:
    """A functional operation as data: which torch callable, with which arguments.

    ``target`` is a function of the torch namespace (``"torch.cat"``,
    ``"torch.nn.functional.pad"``), a tensor method (``"Tensor.permute"``: called on the
    first argument), an operator from :data:`OPERATORS` (folded left over two or more
    arguments: ``a + b + c``), ``"[]"``: the first argument subscripted by the second, a
    tuple of ints and :class:`Slice` (``x[:, 0::2]``), or :data:`CALL_MODULE`: the node's
    module. Arguments hold plain values, :class:`Arg`, :class:`SizeOf` and :class:`InTraining`
    placeholders, :class:`Symbol` names, nested ops (``torch.empty(...)`` inside an initialiser),
    and lists or tuples of them. Layers describe; the
    backends (``pysource`` for generated code, ``torch.fx`` through it) interpret.
    """

    target: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def fold(cls, operator: str, count: int) -> "Op":
        """``a op b op c`` over ``count`` inputs."""
        return cls(operator, tuple(Arg(i) for i in range(count)))

    @classmethod
    def method(cls, name: str, *args: Any, **kwargs: Any) -> "Op":
        """``input.name(*args, **kwargs)`` on the node's first input."""
        return cls(f"Tensor.{name}", (Arg(0), *args), tuple(kwargs.items()))


@dataclass(frozen=True)
class LayerResult:
    """What static inference knows about one node."""

    shape: Shape
    params: int = 0
    macs: int = 0
    flops: int = 0
    """Forward FLOPs as ``torch.utils.flop_counter.FlopCounterMode`` counts them: 2 per multiply-add
    of matrix products and convolutions, nothing else."""
    trainable_params: int | None = None
    parts: tuple[Shape, ...] | None = None
    """For a node with several outputs (chunk, split, unbind): each one's shape, read as ``id.0``,
    ``id.1``...; ``shape`` is then the first."""
    batched: bool | None = None
    """False for a tensor without a batch dim; None: batched when any input is."""
    values: tuple[int, int] | None = None
    """For an integer tensor whose values are known statically (a held index): they lie in
    ``[low, high)``, so a node that indexes with it (``index_select``) checks them against its table."""

    @property
    def trainable(self) -> int:
        return self.params if self.trainable_params is None else self.trainable_params


class StateEntry(NamedTuple):
    """One entry of a module's ``state_dict``: shape, dtype, and whether torch holds it as a
    ``parameter`` (the optimiser's) or a ``buffer`` (running statistics, masks)."""

    shape: tuple[int, ...]
    dtype: str = DEFAULT_DTYPE
    kind: Literal["parameter", "buffer"] = "parameter"


StateEntries = dict[str, StateEntry]
"""A module's ``state_dict`` entries by key relative to the module, in torch's order; ``""``
is the node's own tensor (a held ``Parameter`` or ``Buffer``, whose key is its path)."""


def weight_and_bias(weight: tuple[int, ...], bias: int | None, prefix: str = "") -> StateEntries:
    """``weight`` and, unless ``bias`` is None, a 1-d ``bias``: most modules' parameters, in torch's order."""
    entries = {f"{prefix}weight": StateEntry(weight)}
    if bias is not None:
        entries[f"{prefix}bias"] = StateEntry((bias,))
    return entries


def prefixed(prefix: str, entries: StateEntries) -> StateEntries:
    """A child module's entries under ``prefix.`` (``out_proj.weight``)."""
    return {f"{prefix}.{key}" if key else prefix: entry for key, entry in entries.items()}


Keeps = Literal["input", "output", "nothing"]
Autocast = Literal["lower", "float32", "keep"]
"""What ``torch.autocast`` does to a layer's call (:attr:`Layer.autocast`)."""
"""What a layer's backward keeps by default (:attr:`Layer.keeps`)."""


class Saved(NamedTuple):
    """One tensor a call keeps for its backward, as :meth:`Layer.saved` describes it."""

    source: Literal["input", "output", "new"]
    """The call's input ``slot``, its output (part ``slot``), or a tensor it makes (a mask, statistics)."""
    slot: int = 0
    """Which input (or output part)."""
    elements: int = 0
    """For a new tensor: its elements per sample, or in all when not ``batched``."""
    dtype: str | None = None
    """For a new tensor: its dtype; None: the first input's."""
    batched: bool = True


class Saving(NamedTuple):
    """What :meth:`Layer.saved` knows about one call of a training forward."""

    inputs: list[TensorType]
    output: TensorType
    grads: tuple[bool, ...]
    """Per input: whether it requires grad (depends on a trainable parameter)."""
    trainable: bool
    """Whether the layer holds parameters that require grad."""
    device: str = "cpu"
    """``cpu`` or ``cuda``: a few kernels keep different tensors on each (dropout's mask)."""
    batch: int = 1
    """The batch size, for the rare kernel whose saved bytes are not linear in it (oneDNN's
    page-aligned LSTM workspace)."""
    autocast: str | None = None
    """Under ``torch.autocast``, the dtype the layer's weights are cast to (:attr:`Layer.autocast`)."""
    strides: "tuple[Strides, ...]" = ()
    """Per input: its strides, batch dim included (:mod:`archspec.layers.layout`); a reshape that
    cannot view them copies, and the copy is what a consumer keeps."""

    def weight_copy(self, elements: int) -> list[Saved]:
        """Autocast's lower-precision copy of a weight of ``elements``, which the backward keeps
        (biases are cast too, but not kept)."""
        return [Saved("new", 0, elements, self.autocast, False)] if self.autocast and self.trainable else []

    def full_shape(self, index: int) -> tuple[int, ...]:
        """Input ``index``'s shape with its batch dim."""
        t = self.inputs[index]
        return (self.batch, *t.shape) if t.batched else t.shape

    def flattened(self, index: int, target: tuple[int, ...]) -> Saved:
        """Input ``index`` read through ``reshape(target)``: the input itself where that is a view,
        else the copy torch makes (matmul's folding, ``F.linear`` of a permuted input)."""
        shape = self.full_shape(index)
        if -1 in target:
            known = math.prod(n for n in target if n != -1)
            target = tuple(math.prod(shape) // known if n == -1 else n for n in target)
        if not self.strides or view(shape, self.strides[index], target) is not None:
            return Saved("input", index)
        t = self.inputs[index]
        return Saved("new", 0, math.prod(target), t.dtype, False)

    @property
    def recorded(self) -> bool:
        """Autograd records the call (and keeps anything) only when some operand requires grad."""
        return self.trainable or any(self.grads)

    def like(self, index: int = 0, dtype: str | None = None) -> Saved:
        """A new tensor with input ``index``'s shape: a mask, noise, or a copy of the input."""
        t = self.inputs[index]
        return Saved("new", 0, math.prod(t.shape), dtype or t.dtype, t.batched)


NODE_FIELDS = frozenset({"type", "id", "inputs", "repeat", "when", "doc"})
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
NodeId = StrictStr | Annotated[StrictInt, Field(ge=0)]
"""A node's name: any string ``add_module`` accepts (checked by the compiler), or a Sequential index."""


class Repeat(BaseModel):
    """``repeat: {count: 4, as: stage}``: copies with a named index, so nested repeats keep both."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    count: PositiveInt | Expr = Field(description="how many copies")
    index: StrictStr = Field(
        alias="as", pattern=IDENTIFIER, description="the variable holding the copy index (default 'i')"
    )


class NodeFields(BaseModel):
    """Fields every spec node has, whatever its kind."""

    # validators are built on first use: bases are never validated, and most specs use a few layer types
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: NodeId | None = Field(
        default=None,
        description="node name; becomes the module's attribute name (and state_dict key prefix): any name "
        "nn.Module.add_module accepts (no '.'), e.g. 'conv1', 'block1-0', 0. Unnamed nodes are numbered like "
        "nn.Sequential children.",
    )
    inputs: list[NodeId] | dict[str, NodeId] | Expr | None = Field(
        default=None,
        description="ids of earlier nodes in the same scope (or 'input', or the enclosing block's input names); "
        "default: the previous node. A block use lists its block's inputs in order, or maps their names to ids; "
        "a layer with named arguments (MultiheadAttention: query, key, value, ...) takes a mapping by those names",
    )
    repeat: PositiveInt | Expr | Repeat | None = Field(
        default=None,
        description="make this many copies; the copy index is the variable 'i' (or name it: {count: N, as: stage})",
    )
    when: StrictBool | Expr | None = Field(
        default=None, description="keep this node only if true; a dropped node passes its (first) input through"
    )
    doc: str | None = Field(default=None, description="free text, shown in summaries and docs")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Drop the class's ``ClassVar`` annotations once Pydantic has read them.

        Pydantic evaluates every non-field annotation of every base again for each subclass
        (Layer's ~20 class variables: a third of creating a layer class). It keeps their names in
        ``__class_vars__``, which is all a subclass's ``family = "conv"`` needs; type checkers
        read the source."""
        super().__pydantic_init_subclass__(**kwargs)
        annotations = cls.__annotations__  # the class's own (Python 3.10+ never returns a base's)
        for name in cls.__class_vars__.intersection(annotations):
            del annotations[name]


class Layer(NodeFields):
    """Base class of every layer type. Subclasses declare ``type: Literal["Name"]``."""

    family: ClassVar[str] = "other"
    """Groups layers for diagrams (colours) and docs: conv, pool, norm, activation, linear, ..."""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    inferred_fields: ClassVar[tuple[str, ...]] = ()
    """Arguments (like ``in_channels``) filled from the incoming shape when omitted."""
    torch_name: ClassVar[str | None] = None
    """The ``torch.nn`` class to construct; defaults to the layer type name."""
    torch_module: ClassVar[str] = "torch.nn"
    """The module that holds that class, imported only when a model is built (``torchvision.ops``)."""
    functional: ClassVar[bool] = False
    """True for operations (add, concat) that the backend emits as code, not as a module."""
    fresh_output: ClassVar[bool] = False
    """True when the torch module returns a new tensor that its backward does not need (conv, linear,
    norms): generated code may then accumulate a residual ``add`` into it in place."""
    in_place_sum: ClassVar[bool] = False
    """True for ``add``: generated code may write ``a += b`` into a ``fresh_output`` operand."""
    accepts: ClassVar[tuple[str, ...]] = ("float",)
    """The dtype kinds (``float``, ``int``, ``bool``) or exact dtypes (``int64``) the layer takes:
    torch's modules compute in float; lookups take int32 or int64 ids only."""
    accepts_by_role: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Where an input named by role takes other dtypes than :attr:`accepts` (a mask: bool or float)."""
    batch_free: ClassVar[bool] = False
    """True when the layer also takes tensors without a batch dim (learned tensors, buffers):
    elementwise and broadcasting operations."""
    stored: ClassVar[bool] = False
    """True for learned tensors and buffers: the node is a tensor the module holds, not a call."""
    input_roles: ClassVar[tuple[str, ...]] = ()
    """The names of the forward's tensor arguments, in order (``MultiheadAttention``: query, key,
    value, key_padding_mask, attn_mask). A node may then name its inputs by role,
    ``inputs: {query: x, attn_mask: causal}``; a list gives the first ones in order."""
    _roles: tuple[str, ...] = PrivateAttr(default=())
    last_dim_only: ClassVar[bool] = False
    """True when the layer acts on the last dimension only (``Linear``): the lint pass warns when
    its input still has a feature map's layout, the usual sign of a forgotten ``Flatten``."""

    keeps: ClassVar[Keeps] = "input"
    """What the default :meth:`saved` keeps for backward: the first input (a conv, GELU), the
    output (ReLU, softmax, sigmoid), or nothing (padding, add, concat)."""
    aliases_input: ClassVar[bool] = False
    """True when the output shares the first input's storage (views: flatten, permute, identity)."""
    autocast: ClassVar[Autocast] = "keep"
    """What ``torch.autocast`` does to the call: cast float inputs (and weights) to its lower
    precision (convolutions, matrix products, attention), to float32 (CUDA's list: norms, softmax),
    or nothing (the inputs' dtypes promote as usual)."""
    keeps_layout: ClassVar[bool] = False
    """True for elementwise layers (TensorIterator): the output takes its inputs' layout, so an
    activation of a permuted tensor is permuted too (:func:`~archspec.layers.layout.follow`)."""

    def saved(self, call: Saving) -> list[Saved]:
        """The tensors this call keeps for backward in a training forward, as
        ``torch.autograd.graph.saved_tensors_hooks`` sees them (derivatives.yaml's formulas).
        Parameters and buffers a call saves are the module's memory, not listed here.
        Default: :attr:`keeps`, once autograd records the call."""
        if self.keeps == "nothing" or not call.recorded:
            return []
        return [Saved("output")] if self.keeps == "output" else [Saved("input", 0)]

    def view_strides(
        self, shapes: list[tuple[int, ...]], strides: "list[Strides]", outputs: list[tuple[int, ...]]
    ) -> "list[Strides] | None":
        """For an output that shares its input's storage (:meth:`output_alias`): each output's
        strides, from the inputs' shapes and strides (batch dims included); None where torch copies
        instead. Default: ``reshape``'s rule (flatten, unflatten, squeeze; an identity or an
        in-place op keeps the layout), which copies where no view can express the new shape."""
        if shapes[0] == outputs[0]:
            return [strides[0]]
        found = view(shapes[0], strides[0], outputs[0])
        return None if found is None else [found]

    def output_alias(self, inputs: list[TensorType], *, training: bool) -> int | None:
        """The input whose storage the output shares, or None for a fresh tensor: a view
        (:attr:`aliases_input`) or torch's ``inplace=True``."""
        return 0 if self.aliases_input or getattr(self, "inplace", False) is True else None

    @classmethod
    def type_name(cls) -> str:
        return get_args(cls.model_fields["type"].annotation)[0]

    def infer(self, inputs: list[Shape]) -> LayerResult:
        """Output shape, parameters, mult-adds and FLOPs for these input shapes; raise LayerError if torch would."""
        raise NotImplementedError

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        """The module's ``state_dict()`` entries for these input shapes, in torch's order, without
        building it (``archspec compat`` and ``diff --weights-only`` compare them with a file's).
        Default: none, right for every layer without parameters or persistent buffers;
        :meth:`CompiledSpec.state_entries` checks that the parameters add up to :meth:`infer`'s count."""
        return {}

    def index_bound(self) -> int | None:
        """For layers that index with their input (``Embedding``): ids must lie below this."""
        return None

    def result_dtype(self, dtypes: list[str]) -> str:
        """The output dtype for these input dtypes (checked against :attr:`accepts`): torch's promotion."""
        return promote(dtypes) if dtypes else DEFAULT_DTYPE

    def output_dtype(self, types: "list[TensorType]") -> str:
        """The output dtype for these inputs: :meth:`result_dtype` of their dtypes. Elementwise
        operations override it, since torch weighs a 0-d tensor's dtype less (:func:`result_type`)."""
        return self.result_dtype([t.dtype for t in types])

    def args(self) -> dict[str, Any]:
        """The torch constructor arguments the spec wrote (node fields excluded)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in NODE_FIELDS}

    def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
        """Arguments filled from the incoming shape, e.g. ``{"in_channels": 3}``."""
        return {}

    def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
        """Keyword arguments for the torch constructor: inferred first, then what the spec wrote."""
        kwargs = {**self.inferred(inputs), **self.args()}
        return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}

    def construction(self, inputs: list[Shape]) -> "Op | None":
        """Where the module is not ``torch_name(**torch_kwargs)``: its constructor call as an
        :class:`Op` (``nn.TransformerEncoder(nn.TransformerEncoderLayer(...), num_layers=6)``), which
        the builder runs and codegen writes. None: the plain call."""
        return None

    def build(self, inputs: list[Shape]) -> "nn.Module":
        """Construct the torch module (imports torch, or ``torch_module``, lazily)."""
        if self.functional:
            raise TypeError(f"'{self.type_name()}' is a function in the generated forward, not a module")
        import importlib

        construction = self.construction(inputs)
        if construction is not None:
            from archspec.backends.torch_backend import run_op

            return run_op(construction, [])
        module = importlib.import_module(self.torch_module)
        return getattr(module, self.torch_name or self.type_name())(**self.torch_kwargs(inputs))

    @property
    def roles(self) -> tuple[str, ...]:
        """The role of each input, in order (from :attr:`input_roles`), once :meth:`with_roles` bound them."""
        # not self._roles: Pydantic's __getattr__ raises and catches an AttributeError on each such read
        private = self.__pydantic_private__
        return private["_roles"] if private is not None else ()

    def with_roles(self, roles: tuple[str, ...]) -> "Layer":
        """This layer reading its inputs as ``roles`` (a copy: one spec node may make many nodes)."""
        bound = self.model_copy()
        bound._roles = roles
        return bound

    def export_limit(self, fmt: str) -> str | None:
        """Why torch's ``fmt`` export (``"torchscript"``, ``"onnx"``) of this layer would compute something
        other than the module (``Embedding``'s ``max_norm`` is dropped by ``torch.jit.script``), or None.
        TorchScript export then traces instead of scripting; ONNX export refuses, naming the node."""
        return None

    def forward_call(self, inputs: list[Shape]) -> "Op | None":
        """How the generated forward calls this layer's module, where ``module(*inputs)`` is not it:
        an :class:`Op` over the inputs whose innermost call targets :data:`CALL_MODULE`, e.g.
        ``self.attn(x, x, x, need_weights=False)[0]``. None: the plain call."""
        return None

    def part(self, index: int) -> "Op | None":
        """For a module returning several outputs (``LayerResult.parts``): how output ``index`` is read
        from the call's result ``Arg(0)`` (an LSTM's ``result[1][0]``). None: ``result[index]``."""
        return None

    def call(self, inputs: list[Shape]) -> "Op":
        """A functional layer's operation on inputs of these shapes, described once for every backend
        (the module builder, codegen, exports and diagrams all read it)."""
        raise NotImplementedError(f"functional layer '{self.type_name()}' describes no operation")

    def label(self) -> str:
        """A few key arguments for diagrams, e.g. ``3x3 /2 p1``."""
        return ""

    def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
        """The summary's and diagram's args column: ``label()``, or more where the shapes say
        it (a conv's ``64->128``); ``inputs``/``output`` are None where inference failed."""
        return self.label()

    def receptive(self) -> Receptive:
        """How one output position sees this layer's input, for receptive-field columns in summaries.

        ``(kernel, stride)`` per spatial axis for sliding windows, the kernel being the
        effective extent ``dilation * (kernel - 1) + 1`` (a stride may be a
        :class:`~fractions.Fraction` below 1 for upsampling); ``"global"`` when every output
        sees the whole input; ``None`` when positions map one to one (elementwise layers,
        norms, padding): the receptive field passes through. Default: ``"global"`` for the
        ``linear`` family, ``None`` otherwise.
        """
        return "global" if self.family == "linear" else None


FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: torch's ``c10::overflows<float>`` refuses a double above it."""


def check_scalar(value: float, field: str, *, float32: bool = True) -> None:
    """torch passes scalar arguments as Scalars converted to the input's dtype (float32).

    A float beyond float32's range overflows that conversion (``float32``); an int must fit
    int64 or uint64 (pybind's conversion of a Python int). Both raise at the first forward.
    """
    if isinstance(value, int):
        fits, target, limit = -(2**63) <= value < 2**64, "int64 or uint64", "between -2**63 and 2**64 - 1"
    else:
        fits, target = not float32 or abs(value) <= FLOAT32_MAX, "float32"
        limit = f"at most {FLOAT32_MAX:.8g} in magnitude"
    if not fits:
        raise LayerError(
            f"{field} (={value}) overflows the {target} scalar torch converts it to: it must be {limit}",
            hint=f"use a smaller {field}",
            field=field,
        )


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


def expect_rank(shape: Shape, ranks: tuple[int, ...], layout: str) -> None:
    """Raise unless the per-sample shape has one of the allowed ranks."""
    if len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise LayerError(
            f"expects a per-sample input of rank {wanted} ({layout}), got shape {list(shape)} (rank {len(shape)})",
            hint="add a Flatten, pooling or reshaping layer before this one so the shapes line up",
        )


def check_inferred(name: str, written: int | None, actual: int) -> None:
    """A written ``in_channels``-style argument must match the incoming shape."""
    if written is not None and written != actual:
        raise LayerError(
            f"{name} is {written} but the incoming tensor has {actual}",
            hint=f"remove '{name}' (archspec infers it) or set it to {actual}",
            field=name,
        )


def weight_macs(params: int, spatial: Shape = ()) -> int:
    """torchinfo's mult-add convention: each weight and bias element once per output position.

    torchinfo (``LayerInfo.calculate_macs``) multiplies conv parameters by the output's
    spatial size, and every other layer's parameters by the batch only; per sample that is
    ``params * prod(spatial)`` for convs and ``params`` otherwise.
    """
    return params * math.prod(spatial)


def type_alias(
    base: type[Layer],
    name: str,
    doc: str,
    *,
    class_name: str | None = None,
    fields: dict[str, tuple[Any, Any]] | None = None,
) -> type[Layer]:
    """``base`` registered under another ``type`` (``Literal[name]``), with ``fields`` added or narrowed."""
    from pydantic import create_model

    typed: dict[str, Any] = {"type": (Literal[name], ...), **(fields or {})}
    cls = create_model(class_name or name, __base__=base, __module__=base.__module__, **typed)
    cls.__doc__ = doc
    return cls


def nd_variant(base: type[Layer], name: str, ndim: int, **sized: tuple[Any, Any]) -> type[Layer]:
    """A thin N-d alias of ``base`` (Equinox-style): ``type: Literal[name]`` plus per-N field types.

    ``sized`` maps field names to ``(annotation, default)`` so that list lengths in the
    JSON Schema match N (``kernel_size: [3, 3]`` for 2-d), with ``...`` for required fields.
    """
    cls = type_alias(base, name, f"torch.nn.{name}. " + (base.__doc__ or ""), fields=sized)
    cls.ndim = ndim  # type: ignore[attr-defined]
    return cls
