"""Attention as a function: ``torch.nn.functional.scaled_dot_product_attention``.

``softmax(q @ k.T * scale + mask) @ v`` over query ``(..., L, E)``, key ``(..., S, E)`` and
value ``(..., S, Ev)``: the result is ``(..., L, Ev)``, the leading dims broadcast (with
``enable_gqa``, key and value heads at dim -3 are repeated to the query's). The rules are
torch's (``validate_sdpa_input``, ``pre_process_group_query_attention_input`` and the
math kernel, ATen's ``transformers/attention.cpp``), except where archspec is stricter on
purpose (each case in docs/tensor-ops.md): query, key and value carry the batch and have
one rank of at least 2 per sample, and the mask broadcasts *to* the attention weights
``(batch, ..., L, S)`` (torch's documented rule) without enlarging them.

FLOPs are what ``FlopCounterMode`` counts on CPU: torch runs its fused flash kernel where
``sdp_utils_cpp``'s ``use_flash_attention_cpp`` allows (:func:`_fused`), and FlopCounterMode
counts nothing for it; otherwise the math kernel's two matrix products, ``2 * L * S * (E + Ev)``
per head.
"""

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    Arg,
    Autocast,
    Expr,
    InTraining,
    Layer,
    LayerResult,
    Number,
    Op,
    Probability,
    Receptive,
    Saved,
    Saving,
    Shape,
    StrictBool,
    TensorType,
    Unbatched,
)
from archspec.layers.merge import broadcast
from archspec.layers.registry import module_class, register_class

ROLES = ("query", "key", "value", "attn_mask")
MASK_DTYPES_HINT = "use a bool mask (True: attend), or a float mask of the query's dtype or float32"


def _heads(query: Shape, key: Shape, value: Shape, gqa: bool) -> tuple[Shape, Shape]:
    """Key and value with their heads (dim -3) repeated to the query's, as ``enable_gqa`` does."""
    if not gqa or len(query) < 3 or query[-3] == key[-3] == value[-3]:
        return key, value
    heads = (query[-3], key[-3], value[-3])
    if heads[0] % heads[1] or heads[0] % heads[2]:
        raise LayerError(
            f"with enable_gqa the key's ({heads[1]}) and value's ({heads[2]}) head counts (dim -3) must divide the "
            f"query's ({heads[0]})",
            hint="use key/value head counts that divide the query's, e.g. 8 query heads with 2 key/value heads",
            field="enable_gqa",
        )
    return (*key[:-3], heads[0], *key[-2:]), (*value[:-3], heads[0], *value[-2:])


def _fused(query: Shape, key: Shape, value: Shape, mask: Shape | None, gqa: bool) -> bool:
    """Whether torch's CPU flash kernel runs (``use_flash_attention_cpp``): FlopCounterMode counts it 0.

    It takes 4-d inputs (3-d ones, and a 3-d mask with them, get a leading batch of 1: the
    batch is then the heads), one head size, key and value with one head count that equals
    the query's, is 1, or groups it (``enable_gqa``), and a 2-d or 4-d mask of sizes 1 or
    (L, S), 1 or the query's heads at dim 1. Strides and autograd are not in a spec: this
    assumes last dims of stride 1 (not so after a permute that moves the last dim) and a
    mask that does not require grad (one computed from learned tensors does); torch then
    takes the math kernel."""
    if len(query) not in (2, 3) or query[-1] != key[-1] or query[-1] != value[-1]:
        return False
    if len(query) == 3:
        heads = (query[0], key[0], value[0])
        if heads[1] != heads[2]:
            return False
        if heads[0] != heads[1] and heads[1] != 1 and not (gqa and heads[1] and heads[0] % heads[1] == 0):
            return False
    if mask is None:
        return True
    rank = len(mask) + (0 if isinstance(mask, Unbatched) else 1)
    if rank not in (2, len(query) + 1) or mask[-2] not in (1, query[-2]) or mask[-1] not in (1, key[-2]):
        return False
    return rank == 2 or len(query) == 2 or mask[-3] in (1, query[0])


def _check_operands(query: Shape, key: Shape, value: Shape) -> None:
    """Query, key and value carry the batch and have one rank >= 2 per sample; key and value one length."""
    for role, shape in zip(ROLES, (query, key, value), strict=False):
        if isinstance(shape, Unbatched):
            raise LayerError(
                f"the {role} is a tensor without a batch dim (shape {list(shape)})",
                hint="query, key and value come from the batch; only the attn_mask may be a buffer",
            )
    if len({len(query), len(key), len(value)}) > 1 or len(query) < 2:
        raise LayerError(
            f"query {list(query)}, key {list(key)} and value {list(value)} need one rank of at least 2 per "
            "sample (..., length, features), so that the batch stays dim 0",
            hint="reshape them to (heads, length, head size) or (length, features)",
        )
    if key[-2] != value[-2]:
        raise LayerError(
            f"key {list(key)} and value {list(value)} have different lengths (dim -2): {key[-2]} and {value[-2]}",
            hint="key and value need one sequence length S",
        )
    if 0 in (*query, *key, *value):
        raise LayerError(
            f"query {list(query)}, key {list(key)} or value {list(value)} has an empty dim: torch's kernels "
            "special-case empty attention each their own way (the result's shape depends on the kernel)",
            hint="give every dim of query, key and value a size >= 1",
        )


def _check_mask(mask: Shape, weights: Shape) -> None:
    """The mask broadcasts to the attention weights ``(batch, *weights)`` without enlarging them."""
    batched = not isinstance(mask, Unbatched)
    if len(mask) + batched < 2:
        raise LayerError(
            f"attn_mask {list(mask)} has fewer than 2 dims: torch reads its last two as (L, S)",
            hint=f"give it shape [L, S] = {list(weights[-2:])}, or [1, S] for a key mask",
        )
    full = ((-1,) if batched else ()) + tuple(mask)
    target = (-1, *weights)  # -1: the batch
    if len(full) > len(target) or any(m not in (1, t) for m, t in zip(full[::-1], target[::-1], strict=False)):
        raise LayerError(
            f"attn_mask {list(mask)}{'' if batched else ' (no batch dim)'} does not broadcast to the attention "
            f"weights (batch, {', '.join(map(str, weights))})",
            hint="each mask dim must be 1 or the weights' size, counted from the last; a mask without a batch "
            "dim has at most as many dims as the weights with their batch, the first of size 1",
        )


@register_class("scaled_dot_product_attention")
def _scaled_dot_product_attention_class() -> type[Layer]:
    class ScaledDotProductAttention(Layer):
        """``torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask, ...)``.

        Inputs: query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)``, and optionally
        ``attn_mask``: bool (True: attend) or float (added to the scores), broadcasting to
        ``(..., L, S)``; a mask may be a buffer without a batch dim (``{type: Buffer, fill: tril}``).
        ``dropout_p`` applies in training mode only (``dropout_p if self.training else 0.0``, as
        nanoGPT and ``nn.MultiheadAttention`` write it); torch's function alone would also drop in eval.
        """

        autocast: ClassVar[Autocast] = "lower"

        type: Literal["scaled_dot_product_attention"]
        family: ClassVar[str] = "attention"
        functional: ClassVar[bool] = True
        batch_free: ClassVar[bool] = True  # the mask only: query, key and value need the batch
        accepts: ClassVar[tuple[str, ...]] = ("float", "bool")
        min_inputs: ClassVar[int] = 3
        max_inputs: ClassVar[int | None] = 4
        input_roles: ClassVar[tuple[str, ...]] = ROLES
        keeps_layout: ClassVar[bool] = True  # CPU's flash kernel lays its output out as the query

        dropout_p: Probability | Expr = Field(default=0.0, description="attention dropout, in training mode only")
        is_causal: StrictBool | Expr = Field(
            default=False, description="mask out later keys (top-left aligned lower triangle); no attn_mask with it"
        )
        scale: Number | Expr | None = Field(default=None, description="the scores' factor; default 1/sqrt(E)")
        enable_gqa: StrictBool | Expr = Field(
            default=False, description="grouped-query attention: key/value heads (dim -3) repeated to the query's"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            query, key, value = inputs[:3]
            mask = self._mask(inputs)
            _check_operands(query, key, value)
            if mask is not None and not isinstance(mask, Unbatched) and len(mask) != len(query):
                raise LayerError(
                    f"a batched attn_mask {list(mask)} must have the query's rank {len(query)} per sample, so that the "
                    "batch meets the batch",
                    hint=f"reshape or unsqueeze the mask to rank {len(query)} (sizes 1 broadcast)",
                )
            if mask is not None and self.is_causal:
                raise LayerError(
                    "is_causal and an attn_mask together: torch refuses an explicit mask with is_causal",
                    hint="drop is_causal, or drop the mask (a tril mask and is_causal mean the same)",
                    field="is_causal",
                )
            if query[-1] != key[-1]:
                raise LayerError(
                    f"query {list(query)} and key {list(key)} have different head sizes (last dim): {query[-1]} and "
                    f"{key[-1]}",
                    hint="query and key need one size E in their last dim",
                )
            key_heads, value_heads = _heads(query, key, value, bool(self.enable_gqa))
            scores = broadcast([query[:-2], key_heads[:-2]])
            lead = broadcast([scores, value_heads[:-2]])
            if mask is not None:
                _check_mask(mask, (*lead, query[-2], key[-2]))
            flops = 2 * query[-2] * key[-2] * (math.prod(scores) * query[-1] + math.prod(lead) * value[-1])
            fused = _fused(query, key, value, mask, bool(self.enable_gqa))
            return LayerResult((*lead, query[-2], value[-1]), flops=0 if fused else flops)

        def _mask(self, inputs: list[Any]) -> Any:
            """The ``attn_mask`` input, or None: by role where the node named its inputs (the roles
            of a list are the first ones of :data:`ROLES`, so a fourth listed input is the mask)."""
            roles = self.roles or ROLES[: len(inputs)]
            return inputs[roles.index("attn_mask")] if "attn_mask" in roles else None

        def output_dtype(self, types: list[TensorType]) -> str:
            query, key, value = (t.dtype for t in types[:3])
            if len({query, key, value}) > 1 or types[0].kind != "float":
                raise LayerError(
                    f"query, key and value need one floating dtype, got {query}, {key} and {value}",
                    hint="convert them with {type: to, dtype: float32}",
                )
            mask = self._mask(types)
            if mask is not None and mask.dtype not in ("bool", "float32", query):
                raise LayerError(
                    f"the attn_mask is {mask.dtype}; torch takes a bool mask, or a float32 mask or one of the "
                    f"query's dtype ({query})",
                    hint=MASK_DTYPES_HINT,
                )
            return query

        def call(self, inputs: list[Shape]) -> Op:
            kwargs: dict[str, object] = {
                "dropout_p": InTraining(self.dropout_p) if self.dropout_p else None,
                "is_causal": True if self.is_causal else None,
                "scale": self.scale,
                "enable_gqa": True if self.enable_gqa else None,
            }
            mask = self._mask(list(range(len(inputs))))
            kwargs = {"attn_mask": None if mask is None else Arg(mask), **kwargs}
            written = tuple((k, v) for k, v in kwargs.items() if v is not None)
            return Op("torch.nn.functional.scaled_dot_product_attention", (Arg(0), Arg(1), Arg(2)), written)

        def saved(self, call: Saving) -> list[Saved]:
            """CPU's flash kernel (no dropout) keeps query, key, value, the output and a float32 (float64 for float64)
            log-sum-exp per query row (a bool mask becomes a new float mask, kept too); the math kernel
            keeps the scaled query and key (new tensors), the attention weights (with dropout, its noise
            and result too) and the value."""
            if not call.recorded:
                return []
            shapes = [t.layer_shape() for t in call.inputs]
            query, key, value = shapes[:3]
            mask = self._mask(shapes)
            lead, rows = call.output.shape[:-2], query[-2]
            index = self._mask(list(range(len(shapes))))
            mask_grad = index is not None and call.grads[index]  # a learned mask: the math kernel
            flash = call.device == "cpu" and not self.dropout_p and not mask_grad
            if flash and _fused(query, key, value, mask, bool(self.enable_gqa)):
                kept = [Saved("input", 0), Saved("input", 1), Saved("input", 2), Saved("output")]
                accumulate = "float64" if call.inputs[0].dtype == "float64" else "float32"
                kept.append(Saved("new", 0, math.prod(lead) * rows, accumulate))
                if index is not None:
                    held = call.inputs[index]
                    converted = Saved("new", 0, math.prod(held.shape), call.inputs[0].dtype, held.batched)
                    kept.append(converted if held.dtype == "bool" else Saved("input", index))
                return kept
            paired = broadcast([query[:-2], key[:-2]])  # the scores' leading dims; the value may broadcast further
            weights = Saved("new", 0, math.prod(paired) * rows * key[-2])
            expanded = Saved("new", 0, math.prod(lead) * rows * key[-2])  # bmm's copy of weights broadcast to the value
            scores, dropout = call.grads[0] or call.grads[1] or mask_grad, bool(self.dropout_p)
            kept = [call.like(1)] * call.grads[0] + [call.like(0)] * call.grads[1]  # scaled key; scaled query
            kept += [weights] * (scores * (1 + dropout))  # softmax's output; dropout's noise
            if call.grads[2]:  # the weights the last product keeps
                kept += [expanded] if tuple(paired) != tuple(lead) else [weights] * (dropout or not scores)
            if scores:
                kept.append(Saved("input", 2) if tuple(value[:-2]) == tuple(lead) else call.like(2))
            return kept

        def receptive(self) -> Receptive:
            return "global"  # every query position sees every key

        def label(self) -> str:
            flags = ["causal" if self.is_causal else "", "gqa" if self.enable_gqa else ""]
            return " ".join(f for f in flags if f)

    return ScaledDotProductAttention


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
