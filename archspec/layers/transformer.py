"""Transformers: ``nn.TransformerEncoderLayer``, ``TransformerDecoderLayer``, the stacks
``TransformerEncoder`` / ``TransformerDecoder``, and ``nn.Transformer``.

**Layout.** Always built with ``batch_first=True``: per sample, a sequence is ``(L, d_model)``
(the batch in front, as every archspec shape). ``batch_first`` is therefore no spec argument
(writing ``batch_first: false`` is refused by the schema).

**Inputs by role** (torch's forward argument names, in torch's order; a list gives the first ones):

* encoder layer: ``src, src_mask, src_key_padding_mask``; encoder stack: ``src, mask, src_key_padding_mask``;
* decoder layer and stack: ``tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask``;
* ``Transformer``: ``src, tgt, src_mask, tgt_mask, memory_mask, src_key_padding_mask,
  tgt_key_padding_mask, memory_key_padding_mask``.

An attention mask (``src_mask``, ``mask``, ``tgt_mask``, ``memory_mask``) is ``(L, S)`` (target
by source length): a held tensor without a batch dim (a ``Buffer``, e.g. ``fill: triu``), or,
with ``nhead: 1`` only, a batched input of per-sample shape ``(L, S)`` (torch reads a 3-d mask
as ``(batch * nhead, L, S)``, which per-sample shapes cannot say for ``nhead > 1``). A key
padding mask is a batched ``(S,)``. Masks are ``bool`` (True: masked out) or float (added to
the scores) of the sequence's own dtype. The forward flags ``is_causal`` (encoder layer,
encoder stack), ``tgt_is_causal``/``memory_is_causal`` (decoder) and
``src_is_causal``/``tgt_is_causal``/``memory_is_causal`` (``Transformer``) are fields of the node,
passed at the call; as in torch, a true flag needs its mask (torch raises "Need attn_mask if
specifying the is_causal hint"), and the stacks' default ``None`` lets torch detect a causal mask.

**Stacks.** torch's ``TransformerEncoder(encoder_layer, num_layers, norm)`` takes a layer
instance; the spec writes the layer's arguments flat, with ``num_layers`` and ``norm: true``
for the final ``LayerNorm(d_model, eps=layer_norm_eps, bias=bias)`` (what ``nn.Transformer``
builds). The builder makes the layer, then the stack: state_dict keys are torch's
(``layers.0.self_attn.in_proj_weight``, ``norm.weight``).

**Counts.** Parameters exact. ``macs`` follow torchinfo: only leaf modules count, each
parameter once per sample; ``nn.MultiheadAttention`` is no leaf (it holds ``out_proj``, which
its forward never calls as a module), so the attention counts nothing and the linears and
layer norms count their parameters. ``flops`` are what ``FlopCounterMode`` counts on CPU in
eval mode with autograd on (``tests/test_flops.py``): the four attention projections and the
two feed-forward linears, ``2 * rows * in * out`` each. The attention product itself
(``softmax(QK^T)V``) runs in ``scaled_dot_product_attention``'s fused CPU kernel, which
FlopCounterMode does not count (on CUDA it counts the fused kernels); under ``torch.no_grad``
the encoder layer takes torch's fast path (``torch._transformer_encoder_layer_fwd``), which
counts nothing at all.
"""

import math
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.attention import attention_flops, attention_params, attention_state
from archspec.layers.base import (
    CALL_MODULE,
    Arg,
    Expr,
    Layer,
    LayerResult,
    Op,
    PositiveInt,
    Receptive,
    Shape,
    StateEntries,
    StrictBool,
    TensorType,
    Unbatched,
    bounded_number,
    check_inferred,
    prefixed,
    weight_and_bias,
)
from archspec.layers.registry import module_class, register_class

if TYPE_CHECKING:
    from torch import nn

    Eps = float
    DropProbability = float
else:
    Eps = bounded_number("the layer norms' eps; must be > 0", gt=0)
    DropProbability = bounded_number("dropout probability, in [0, 1]", ge=0, le=1)

ATTENTION_MASKS = frozenset({"src_mask", "mask", "tgt_mask", "memory_mask"})
"""Roles holding an ``(L, S)`` attention mask; the other ``*_mask`` roles are key padding masks."""


# -- counts ---------------------------------------------------------------------------------


def _norm_params(embed: int, bias: bool) -> int:
    return 2 * embed if bias else embed


def _feedforward_params(embed: int, hidden: int, bias: bool) -> int:
    return 2 * embed * hidden + (hidden + embed if bias else 0)


def _norm_state(name: str, embed: int, bias: bool) -> StateEntries:
    return prefixed(name, weight_and_bias((embed,), embed if bias else None))


def _layer_state(width: int, hidden: int, bias: bool, attentions: tuple[str, ...], norms: int) -> StateEntries:
    """A transformer layer's state_dict, in its ``__init__``'s order: the attentions, ``linear1``,
    ``linear2``, then ``norm1``... (every one with or without biases alike)."""
    entries: StateEntries = {}
    for name in attentions:
        entries.update(prefixed(name, attention_state(width, width, width, bias=bias)))
    entries.update(prefixed("linear1", weight_and_bias((hidden, width), hidden if bias else None)))
    entries.update(prefixed("linear2", weight_and_bias((width, hidden), width if bias else None)))
    for index in range(1, norms + 1):
        entries.update(_norm_state(f"norm{index}", width, bias))
    return entries


def _encoder_layer_state(width: int, hidden: int, bias: bool) -> StateEntries:
    return _layer_state(width, hidden, bias, ("self_attn",), 2)


def _decoder_layer_state(width: int, hidden: int, bias: bool) -> StateEntries:
    return _layer_state(width, hidden, bias, ("self_attn", "multihead_attn"), 3)


def _stack_state(layer: StateEntries, count: int, norm: StateEntries) -> StateEntries:
    """``TransformerEncoder``/``Decoder``: ``layers.0.*`` ... (deep copies of one layer), then ``norm.*``."""
    entries: StateEntries = {}
    for index in range(count):
        entries.update(prefixed(f"layers.{index}", layer))
    return {**entries, **norm}


# -- the shared arguments --------------------------------------------------------------------


class _TransformerArgs(Layer):
    """The arguments every transformer layer shares (torch's names and defaults)."""

    family: ClassVar[str] = "attention"
    accepts: ClassVar[tuple[str, ...]] = ("float", "bool", "int")  # each role's dtype is checked in output_dtype
    batch_free: ClassVar[bool] = True  # an attention mask may be a held (L, S) tensor; sequences are checked
    inferred_fields: ClassVar[tuple[str, ...]] = ("d_model",)
    forward_flags: ClassVar[dict[str, str]] = {}
    """Forward-time boolean fields and the mask each needs when true (``is_causal``: the attention mask)."""
    sequences: ClassVar[tuple[str, ...]] = ()
    """The roles holding ``(L, d_model)`` sequences."""

    d_model: PositiveInt | Expr | None = Field(
        default=None, description="the model width; inferred from the input's last dim when omitted"
    )
    nhead: PositiveInt | Expr = Field(description="attention heads; must divide d_model")
    dim_feedforward: PositiveInt | Expr = Field(default=2048, description="the feed-forward block's hidden size")
    dropout: DropProbability | Expr = 0.1
    activation: Literal["relu", "gelu"] | Expr = Field(default="relu", description="the feed-forward activation")
    layer_norm_eps: Eps | Expr = 1e-5
    batch_first: Literal[True] = Field(
        default=True, description="always true: archspec's shapes are per sample, (L, d_model) with the batch in front"
    )
    norm_first: StrictBool | Expr = Field(default=False, description="pre-norm (True) or post-norm (False) blocks")
    bias: StrictBool | Expr = Field(default=True, description="biases in the linears and layer norms")

    # -- what the subclasses say ------------------------------------------------------------
    def stack_params(self, width: int) -> tuple[int, int]:
        """(parameters, torchinfo mult-adds) per sample."""
        raise NotImplementedError

    def stack_flops(self, lengths: dict[str, int], width: int) -> int:
        raise NotImplementedError

    def stack_state(self, width: int) -> StateEntries:
        """The state_dict entries for this width."""
        raise NotImplementedError

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        return self.stack_state(self.bound(inputs)[self.sequences[0]][-1])

    def output_role(self) -> str:
        return self.sequences[0]

    def constructor_args(self) -> set[str]:
        """The fields that are torch constructor arguments (the rest are forward flags)."""
        return set(_TransformerArgs.model_fields) - {"id", "inputs", "repeat", "when", "doc", "type"}

    # -- inference --------------------------------------------------------------------------
    def bound(self, inputs: list[Shape]) -> dict[str, Shape]:
        """The input shapes by role (a list of inputs fills the first roles)."""
        roles = self.roles or self.input_roles[: len(inputs)]
        return dict(zip(roles, inputs, strict=True))

    def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
        return {"d_model": inputs[0][-1]} if inputs and inputs[0] else {}

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shapes = self.bound(inputs)
        width = self._width(shapes)
        lengths = {role: shapes[role][0] for role in self.sequences if role in shapes}
        for role, shape in shapes.items():
            if role not in self.sequences:
                self._check_mask(role, shape, lengths)
        for flag, mask in self.forward_flags.items():
            if getattr(self, flag) is True and mask not in shapes:
                raise LayerError(
                    f"{flag} is true but no {mask} is given: torch needs the mask the hint describes",
                    hint=f"give the causal mask as input '{mask}' (a Buffer with fill: triu, diagonal: 1, dtype: bool)",
                    field=flag,
                )
        params, macs = self.stack_params(width)
        flops = self.stack_flops(lengths, width)
        return LayerResult(shapes[self.output_role()], params, macs, flops=flops)

    def _width(self, shapes: dict[str, Shape]) -> int:
        for role in self.sequences:
            if role in shapes:
                self._check_sequence(role, shapes[role])
        width = shapes[self.sequences[0]][-1]
        check_inferred("d_model", self.d_model, width)
        for role in self.sequences:
            if role in shapes and shapes[role][-1] != width:
                raise LayerError(
                    f"{role} has {shapes[role][-1]} features but d_model is {width}",
                    hint=f"give {role} the last dim {width}, e.g. with a Linear",
                )
        if width % int(self.nhead):
            raise LayerError(
                f"d_model (={width}) must be divisible by nhead (={self.nhead})",
                hint=f"use an nhead that divides {width}, e.g. {math.gcd(width, int(self.nhead))}",
                field="nhead",
            )
        return width

    @staticmethod
    def _check_sequence(role: str, shape: Shape) -> None:
        if isinstance(shape, Unbatched):
            raise LayerError(
                f"{role} is a held tensor of shape {list(shape)} without a batch dim",
                hint=f"give {role} the batch: {{type: expand, inputs: [tensor, x]}}, or add it to a batched x",
            )
        if len(shape) != 2:
            raise LayerError(
                f"{role} must be a sequence (L, d_model) per sample, got shape {list(shape)} (rank {len(shape)})",
                hint="reshape the features into (length, d_model), e.g. Flatten(2) and transpose for a feature map",
            )

    def _check_mask(self, role: str, shape: Shape, lengths: dict[str, int]) -> None:
        target, source = self.mask_lengths(role, lengths)
        if role not in ATTENTION_MASKS:
            if isinstance(shape, Unbatched) or tuple(shape) != (source,):
                raise LayerError(
                    f"{role} must be a batched (S,) = ({source},) per sample (one flag per key), got "
                    + ("a held tensor of shape " if isinstance(shape, Unbatched) else "shape ")
                    + f"{list(shape)}",
                    hint=f"declare it as a model input {{shape: [{source}], dtype: bool}} (True: padding)",
                )
            return
        expected = (target, source)
        if isinstance(shape, Unbatched) and tuple(shape) == expected:
            return
        if not isinstance(shape, Unbatched) and tuple(shape) == expected and int(self.nhead) == 1:
            return  # (batch, L, S) is torch's (batch * nhead, L, S) for one head
        held = "held " if isinstance(shape, Unbatched) else "batched "
        raise LayerError(
            f"{role} must be ({target}, {source}) (target by source length) without a batch dim, got a {held}"
            f"tensor of shape {list(shape)}",
            hint=f"hold the mask as a Buffer of shape [{target}, {source}] (fill: triu, diagonal: 1, dtype: bool "
            "is causal); a batched mask works only with nhead: 1 (torch reads it as (batch * nhead, L, S))",
        )

    def mask_lengths(self, role: str, lengths: dict[str, int]) -> tuple[int, int]:
        """(target, source) lengths of the attention a mask role belongs to."""
        raise NotImplementedError

    def output_dtype(self, types: list[TensorType]) -> str:
        """The sequences' dtype; also where masks' dtypes are checked (``infer`` sees shapes only)."""
        roles = self.roles or self.input_roles[: len(types)]
        dtype = types[0].dtype
        for role, found in zip(roles, types, strict=True):
            if role in self.sequences and found.kind != "float":
                raise LayerError(
                    f"{role} must be a float tensor, got {found.dtype}",
                    hint="feed integer ids to an Embedding first",
                )
            if role in self.sequences and found.dtype != dtype:
                raise LayerError(
                    f"{role} is {found.dtype} but {roles[0]} is {dtype}",
                    hint="convert them to one dtype with {type: to}",
                )
            if role not in self.sequences and found.dtype not in ("bool", dtype):
                raise LayerError(
                    f"{role} must be bool (True: masked out) or {dtype} (the sequence's dtype, added to the "
                    f"scores), got {found.dtype}",
                    hint=f"convert it with {{type: to, dtype: bool}} or {{type: to, dtype: {dtype}}}",
                )
        return dtype

    # -- the torch side ---------------------------------------------------------------------
    def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
        written = {k: v for k, v in self.args().items() if k in self.constructor_args()}
        return {**self.inferred(inputs), **written, "batch_first": True}

    def forward_call(self, inputs: list[Shape]) -> Op:
        """``self.layer(src, src_mask=m, ..., is_causal=True)``: the first sequences positional, masks by name."""
        roles = self.roles or self.input_roles[: len(inputs)]
        positional = tuple(Arg(i) for i, role in enumerate(roles) if role in self.sequences)
        named = [(role, Arg(i)) for i, role in enumerate(roles) if role not in self.sequences]
        flags = [(flag, getattr(self, flag)) for flag in self.forward_flags if flag in self.model_fields_set]
        return Op(CALL_MODULE, positional, tuple(named + flags))

    def label(self) -> str:
        return f"h{self.nhead} ff{self.dim_feedforward}" + (" pre-norm" if self.norm_first is True else "")

    def receptive(self) -> Receptive:
        """Every position attends to the whole sequence."""
        return "global"


# -- the layers ------------------------------------------------------------------------------


def _encoder_layer_counts(width: int, hidden: int, bias: bool) -> tuple[int, int]:
    macs = _feedforward_params(width, hidden, bias) + 2 * _norm_params(width, bias)
    return attention_params(width, width, width, bias=bias) + macs, macs


def _decoder_layer_counts(width: int, hidden: int, bias: bool) -> tuple[int, int]:
    macs = _feedforward_params(width, hidden, bias) + 3 * _norm_params(width, bias)
    return 2 * attention_params(width, width, width, bias=bias) + macs, macs


def _encoder_layer_flops(length: int, width: int, hidden: int) -> int:
    return attention_flops(length, length, width, width, width) + 4 * length * width * hidden


def _decoder_layer_flops(target: int, source: int, width: int, hidden: int) -> int:
    attention = attention_flops(target, target, width, width, width) + attention_flops(
        target, source, width, width, width
    )
    return attention + 4 * target * width * hidden


class _Encoder(_TransformerArgs):
    sequences: ClassVar[tuple[str, ...]] = ("src",)
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 3

    def mask_lengths(self, role: str, lengths: dict[str, int]) -> tuple[int, int]:
        return lengths["src"], lengths["src"]

    def stack_params(self, width: int) -> tuple[int, int]:
        return _encoder_layer_counts(width, int(self.dim_feedforward), bool(self.bias))

    def stack_state(self, width: int) -> StateEntries:
        return _encoder_layer_state(width, int(self.dim_feedforward), bool(self.bias))

    def stack_flops(self, lengths: dict[str, int], width: int) -> int:
        return _encoder_layer_flops(lengths["src"], width, int(self.dim_feedforward))


class _Decoder(_TransformerArgs):
    input_roles: ClassVar[tuple[str, ...]] = (
        "tgt",
        "memory",
        "tgt_mask",
        "memory_mask",
        "tgt_key_padding_mask",
        "memory_key_padding_mask",
    )
    sequences: ClassVar[tuple[str, ...]] = ("tgt", "memory")
    min_inputs: ClassVar[int] = 2
    max_inputs: ClassVar[int | None] = 6

    def mask_lengths(self, role: str, lengths: dict[str, int]) -> tuple[int, int]:
        return lengths["tgt"], lengths["tgt" if role.startswith("tgt") else "memory"]

    def stack_params(self, width: int) -> tuple[int, int]:
        return _decoder_layer_counts(width, int(self.dim_feedforward), bool(self.bias))

    def stack_state(self, width: int) -> StateEntries:
        return _decoder_layer_state(width, int(self.dim_feedforward), bool(self.bias))

    def stack_flops(self, lengths: dict[str, int], width: int) -> int:
        return _decoder_layer_flops(lengths["tgt"], lengths["memory"], width, int(self.dim_feedforward))


@register_class("TransformerEncoderLayer")
def _transformer_encoder_layer_class() -> type[Layer]:
    class TransformerEncoderLayer(_Encoder):
        """torch.nn.TransformerEncoderLayer: self-attention then a feed-forward block, each with a residual."""

        input_roles: ClassVar[tuple[str, ...]] = ("src", "src_mask", "src_key_padding_mask")
        forward_flags: ClassVar[dict[str, str]] = {"is_causal": "src_mask"}

        type: Literal["TransformerEncoderLayer"]
        is_causal: StrictBool | Expr = Field(default=False, description="forward hint: src_mask is the causal mask")

    return TransformerEncoderLayer


@register_class("TransformerDecoderLayer")
def _transformer_decoder_layer_class() -> type[Layer]:
    class TransformerDecoderLayer(_Decoder):
        """torch.nn.TransformerDecoderLayer: self-attention, cross-attention to memory, a feed-forward block."""

        forward_flags: ClassVar[dict[str, str]] = {"tgt_is_causal": "tgt_mask", "memory_is_causal": "memory_mask"}

        type: Literal["TransformerDecoderLayer"]
        tgt_is_causal: StrictBool | Expr = Field(default=False, description="forward hint: tgt_mask is the causal mask")
        memory_is_causal: StrictBool | Expr = Field(
            default=False, description="forward hint: memory_mask is the causal mask"
        )

    return TransformerDecoderLayer


# -- the stacks ------------------------------------------------------------------------------


class _Stack(_TransformerArgs):
    """A stack of ``num_layers`` copies of one layer, and an optional final LayerNorm."""

    layer_class: ClassVar[str] = ""

    num_layers: PositiveInt | Expr = Field(description="how many layers (torch's num_layers)")
    norm: StrictBool | Expr = Field(
        default=False, description="a final LayerNorm(d_model, eps=layer_norm_eps, bias=bias) (torch's norm=)"
    )

    def stack_params(self, width: int) -> tuple[int, int]:
        params, macs = super().stack_params(width)
        final = _norm_params(width, bool(self.bias)) if self.norm is True else 0
        return int(self.num_layers) * params + final, int(self.num_layers) * macs + final

    def stack_flops(self, lengths: dict[str, int], width: int) -> int:
        return int(self.num_layers) * super().stack_flops(lengths, width)

    def stack_state(self, width: int) -> StateEntries:
        norm = _norm_state("norm", width, bool(self.bias)) if self.norm is True else {}
        return _stack_state(super().stack_state(width), int(self.num_layers), norm)

    def stack_kwargs(self) -> set[str]:
        return {"num_layers"}

    def label(self) -> str:
        return f"{self.num_layers}x {super().label()}"

    def construction(self, inputs: list[Shape]) -> Op:
        """The layer, then the stack of ``num_layers`` copies of it (torch deep-copies it)."""
        kwargs = self.torch_kwargs(inputs)
        layer = Op(f"torch.nn.{self.layer_class}", (), tuple(kwargs.items()))
        stack = tuple((k, v) for k, v in self.args().items() if k in self.stack_kwargs())
        if self.norm is True:
            options = (("eps", kwargs.get("layer_norm_eps", 1e-5)), ("bias", kwargs.get("bias", True)))
            stack += (("norm", Op("torch.nn.LayerNorm", (kwargs["d_model"],), options)),)
        return Op(f"torch.nn.{self.type_name()}", (layer,), stack)

    def build(self, inputs: list[Shape]) -> "nn.Module":
        with warnings.catch_warnings():
            # torch notes that a pre-norm stack never packs nested tensors (its default asks it to)
            warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
            return super().build(inputs)


@register_class("TransformerEncoder")
def _transformer_encoder_class() -> type[Layer]:
    class TransformerEncoder(_Stack, _Encoder):
        """torch.nn.TransformerEncoder: ``num_layers`` TransformerEncoderLayers (arguments written flat)."""

        layer_class: ClassVar[str] = "TransformerEncoderLayer"
        input_roles: ClassVar[tuple[str, ...]] = ("src", "mask", "src_key_padding_mask")
        forward_flags: ClassVar[dict[str, str]] = {"is_causal": "mask"}

        type: Literal["TransformerEncoder"]
        enable_nested_tensor: StrictBool | Expr = Field(
            default=True, description="inference fast path: pack padded sequences as nested tensors"
        )
        mask_check: StrictBool | Expr = Field(default=True, description="fast path: check the padding mask's layout")
        is_causal: StrictBool | Expr | None = Field(
            default=None, description="forward hint: mask is the causal mask (None: torch checks the mask's values)"
        )

        def stack_kwargs(self) -> set[str]:
            return {"num_layers", "enable_nested_tensor", "mask_check"}

    return TransformerEncoder


@register_class("TransformerDecoder")
def _transformer_decoder_class() -> type[Layer]:
    class TransformerDecoder(_Stack, _Decoder):
        """torch.nn.TransformerDecoder: ``num_layers`` TransformerDecoderLayers (arguments written flat)."""

        layer_class: ClassVar[str] = "TransformerDecoderLayer"
        forward_flags: ClassVar[dict[str, str]] = {"tgt_is_causal": "tgt_mask", "memory_is_causal": "memory_mask"}

        type: Literal["TransformerDecoder"]
        tgt_is_causal: StrictBool | Expr | None = Field(
            default=None, description="forward hint: tgt_mask is the causal mask (None: torch checks the mask's values)"
        )
        memory_is_causal: StrictBool | Expr = Field(
            default=False, description="forward hint: memory_mask is the causal mask"
        )

    return TransformerDecoder


# -- the whole model -------------------------------------------------------------------------


@register_class("Transformer")
def _transformer_class() -> type[Layer]:
    class Transformer(_TransformerArgs):
        """torch.nn.Transformer: an encoder stack over src and a decoder stack over tgt, each with a final LayerNorm."""

        input_roles: ClassVar[tuple[str, ...]] = (
            "src",
            "tgt",
            "src_mask",
            "tgt_mask",
            "memory_mask",
            "src_key_padding_mask",
            "tgt_key_padding_mask",
            "memory_key_padding_mask",
        )
        sequences: ClassVar[tuple[str, ...]] = ("src", "tgt")
        min_inputs: ClassVar[int] = 2
        max_inputs: ClassVar[int | None] = 8
        forward_flags: ClassVar[dict[str, str]] = {
            "src_is_causal": "src_mask",
            "tgt_is_causal": "tgt_mask",
            "memory_is_causal": "memory_mask",
        }

        type: Literal["Transformer"]
        nhead: PositiveInt | Expr = Field(default=8, description="attention heads; must divide d_model")
        num_encoder_layers: PositiveInt | Expr = 6
        num_decoder_layers: PositiveInt | Expr = 6
        src_is_causal: StrictBool | Expr | None = Field(default=None, description="forward hint: src_mask is causal")
        tgt_is_causal: StrictBool | Expr | None = Field(default=None, description="forward hint: tgt_mask is causal")
        memory_is_causal: StrictBool | Expr = Field(default=False, description="forward hint: memory_mask is causal")

        def output_role(self) -> str:
            return "tgt"

        def label(self) -> str:
            return f"{self.num_encoder_layers}+{self.num_decoder_layers} layers {super().label()}"

        def constructor_args(self) -> set[str]:
            return super().constructor_args() | {"num_encoder_layers", "num_decoder_layers"}

        def mask_lengths(self, role: str, lengths: dict[str, int]) -> tuple[int, int]:
            if role.startswith("src"):
                return lengths["src"], lengths["src"]
            return lengths["tgt"], lengths["tgt" if role.startswith("tgt") else "src"]

        def stack_params(self, width: int) -> tuple[int, int]:
            hidden, bias, norm = int(self.dim_feedforward), bool(self.bias), _norm_params(width, bool(self.bias))
            enc, enc_macs = _encoder_layer_counts(width, hidden, bias)
            dec, dec_macs = _decoder_layer_counts(width, hidden, bias)
            encoders, decoders = int(self.num_encoder_layers), int(self.num_decoder_layers)
            return encoders * enc + decoders * dec + 2 * norm, encoders * enc_macs + decoders * dec_macs + 2 * norm

        def stack_state(self, width: int) -> StateEntries:
            hidden, bias = int(self.dim_feedforward), bool(self.bias)
            norm = _norm_state("norm", width, bias)
            encoder = _stack_state(_encoder_layer_state(width, hidden, bias), int(self.num_encoder_layers), norm)
            decoder = _stack_state(_decoder_layer_state(width, hidden, bias), int(self.num_decoder_layers), norm)
            return {**prefixed("encoder", encoder), **prefixed("decoder", decoder)}

        def stack_flops(self, lengths: dict[str, int], width: int) -> int:
            hidden, src, tgt = int(self.dim_feedforward), lengths["src"], lengths["tgt"]
            encoder = int(self.num_encoder_layers) * _encoder_layer_flops(src, width, hidden)
            return encoder + int(self.num_decoder_layers) * _decoder_layer_flops(tgt, src, width, hidden)

    return Transformer


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
