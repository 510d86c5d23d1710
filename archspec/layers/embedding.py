"""Embeddings: integer ids in, vectors out.

``nn.Embedding`` looks up one row of a ``(num_embeddings, embedding_dim)`` table per id:
per sample, ids of shape ``(*)`` give ``(*, embedding_dim)``. ``nn.EmbeddingBag`` reduces a
bag of ids' rows (sum, mean or max) without making the ``(bag, dim)`` intermediate: per
sample, ids ``(N,)`` give ``(embedding_dim,)``. Ids must be int32 or int64, as torch's
lookups require; where the spec declares their range (``input: {dtype: int64, range: [0,
50257]}``), it must fit the table. torchinfo counts the table once per sample as
mult-adds; FlopCounterMode counts a lookup as 0 FLOPs.
"""

from typing import Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    CALL_MODULE,
    DEFAULT_DTYPE,
    AnyInt,
    Arg,
    Expr,
    Layer,
    LayerResult,
    Op,
    PositiveInt,
    Shape,
    StateEntries,
    StateEntry,
    StrictBool,
    Unbatched,
    bounded_number,
    weight_macs,
)
from archspec.layers.registry import module_class, register_class


@register_class("Embedding")
def _embedding_class() -> type[Layer]:
    class Embedding(Layer):
        """torch.nn.Embedding: a learned vector per id (token, position, class)."""

        family: ClassVar[str] = "linear"
        accepts: ClassVar[tuple[str, ...]] = ("int32", "int64")
        batch_free: ClassVar[bool] = True  # a lookup per id: a buffer of position ids works too (nanoGPT's wpe(pos))

        type: Literal["Embedding"]
        num_embeddings: PositiveInt | Expr = Field(description="how many ids (the vocabulary size)")
        embedding_dim: PositiveInt | Expr = Field(description="the size of each vector")
        padding_idx: AnyInt | Expr | None = Field(
            default=None, description="an id whose vector stays zero and gets no gradient (negative: from the end)"
        )
        max_norm: bounded_number(gt=0) | Expr | None = Field(  # type: ignore[valid-type]
            default=None, description="renormalise looked-up vectors to at most this norm"
        )
        norm_type: bounded_number(gt=0) | Expr = Field(default=2.0, description="the p of max_norm's p-norm")  # type: ignore[valid-type]
        scale_grad_by_freq: StrictBool | Expr = False
        sparse: StrictBool | Expr = Field(default=False, description="sparse gradients (needs an optimiser for them)")

        def index_bound(self) -> int:
            """Ids must lie in ``[0, num_embeddings)``."""
            return int(self.num_embeddings)

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            return {"weight": StateEntry((int(self.num_embeddings), int(self.embedding_dim)))}

        def infer(self, inputs: list[Shape]) -> LayerResult:
            params = _table(self)
            out = (*inputs[0], int(self.embedding_dim))
            # torchinfo counts the table once per row of the output's dim 0: the batch, or for ids
            # without a batch dim (a buffer of positions) their first dim, whatever the batch size
            rows = out[0] if isinstance(inputs[0], Unbatched) else 1
            return LayerResult(out, params, weight_macs(params) * rows)

        def result_dtype(self, dtypes: list[str]) -> str:
            return DEFAULT_DTYPE  # the table's dtype, whatever the ids' integer type

        def label(self) -> str:
            return f"{self.num_embeddings}x{self.embedding_dim}"

        def export_limit(self, fmt: str) -> str | None:
            return _renorm_limit(self, fmt)

    return Embedding


def _table(layer: Any) -> int:
    """An Embedding's or EmbeddingBag's table size, once its padding_idx is checked as torch checks it."""
    count = int(layer.num_embeddings)
    if layer.padding_idx is not None and not -count <= int(layer.padding_idx) < count:
        raise LayerError(
            f"padding_idx {layer.padding_idx} must be within [{-count}, {count - 1}] (num_embeddings {count})",
            hint="use an id of the table, or leave padding_idx out",
            field="padding_idx",
        )
    return count * int(layer.embedding_dim)


def _renorm_limit(layer: Any, fmt: str) -> str | None:  # an Embedding or EmbeddingBag
    """``torch.jit.script`` compiles ``F.embedding`` without its ``max_norm`` renormalisation (an
    ignored function): the scripted module looks the raw rows up. Tracing records it."""
    if fmt == "torchscript" and layer.max_norm is not None:
        return "torch.jit.script drops max_norm's renormalisation of the looked-up rows"
    return None


@register_class("EmbeddingBag")
def _embedding_bag_class() -> type[Layer]:
    class EmbeddingBag(Layer):
        """torch.nn.EmbeddingBag: the sum, mean or max of the vectors of a bag of ids (a bag-of-words encoder)."""

        family: ClassVar[str] = "linear"
        accepts: ClassVar[tuple[str, ...]] = ("int32", "int64")
        input_roles: ClassVar[tuple[str, ...]] = ("input", "per_sample_weights")
        accepts_by_role: ClassVar[dict[str, tuple[str, ...]]] = {"per_sample_weights": ("float32",)}
        max_inputs: ClassVar[int | None] = 2

        type: Literal["EmbeddingBag"]
        num_embeddings: PositiveInt | Expr = Field(description="how many ids (the vocabulary size)")
        embedding_dim: PositiveInt | Expr = Field(description="the size of each vector")
        max_norm: bounded_number(gt=0) | Expr | None = Field(  # type: ignore[valid-type]
            default=None, description="renormalise looked-up vectors to at most this norm"
        )
        norm_type: bounded_number(gt=0) | Expr = Field(default=2.0, description="the p of max_norm's p-norm")  # type: ignore[valid-type]
        scale_grad_by_freq: StrictBool | Expr = False
        mode: Literal["sum", "mean", "max"] | Expr = Field(default="mean", description="how a bag's vectors combine")
        sparse: StrictBool | Expr = Field(default=False, description="sparse gradients (needs an optimiser for them)")
        include_last_offset: StrictBool | Expr = Field(
            default=False, description="offsets' format; a batch of fixed-length bags has no offsets, so it is unused"
        )
        padding_idx: AnyInt | Expr | None = Field(
            default=None, description="an id left out of every bag (its vector stays zero; negative: from the end)"
        )

        def index_bound(self) -> int:
            """Ids must lie in ``[0, num_embeddings)``."""
            return int(self.num_embeddings)

        def state_entries(self, inputs: list[Shape]) -> StateEntries:
            return {"weight": StateEntry((int(self.num_embeddings), int(self.embedding_dim)))}

        def infer(self, inputs: list[Shape]) -> LayerResult:
            params = _table(self)
            if len(inputs[0]) != 1:
                raise LayerError(
                    f"takes one bag of ids per sample, a 1-D tensor (torch's 2-D (batch, N) input); "
                    f"got {list(inputs[0])}",
                    hint="flatten the ids of a sample into one bag, or use Embedding for a sequence of vectors",
                )
            if self.mode == "max" and (self.scale_grad_by_freq or self.sparse):
                which = "scale_grad_by_freq" if self.scale_grad_by_freq else "sparse"
                raise LayerError(f"mode 'max' does not support {which}", hint="use mode sum or mean", field=which)
            if "per_sample_weights" in self.roles:
                weights = inputs[self.roles.index("per_sample_weights")]
                if self.mode != "sum":
                    raise LayerError(
                        f"per_sample_weights need mode 'sum', not '{self.mode}'", hint="set mode: sum", field="mode"
                    )
                if tuple(weights) != tuple(inputs[0]):
                    raise LayerError(
                        f"per_sample_weights {list(weights)} must have the ids' shape {list(inputs[0])}",
                        hint="give one weight per id",
                    )
            return LayerResult((int(self.embedding_dim),), params, weight_macs(params))

        def forward_call(self, inputs: list[Shape]) -> Op | None:
            """``self.bag(ids, per_sample_weights=weights)``: torch's second argument is the offsets."""
            if "per_sample_weights" not in self.roles:
                return None
            return Op(CALL_MODULE, (Arg(0),), (("per_sample_weights", Arg(1)),))

        def result_dtype(self, dtypes: list[str]) -> str:
            return DEFAULT_DTYPE

        def label(self) -> str:
            return f"{self.num_embeddings}x{self.embedding_dim} {self.mode}"

        def export_limit(self, fmt: str) -> str | None:
            return _renorm_limit(self, fmt)

    return EmbeddingBag


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
