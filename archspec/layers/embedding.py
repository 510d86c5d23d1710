"""Embeddings: integer ids in, vectors out.

``nn.Embedding`` looks up one row of a ``(num_embeddings, embedding_dim)`` table per id:
per sample, ids of shape ``(*)`` give ``(*, embedding_dim)``. The input must be an
integer tensor; where the spec declares the ids' range (``input: {dtype: int64,
range: [0, 50257]}``), it must fit the table. torchinfo counts the table once per sample
as mult-adds; FlopCounterMode counts a lookup as 0 FLOPs.
"""

from typing import ClassVar, Literal

from pydantic import Field

from archspec.errors import LayerError
from archspec.layers.base import (
    DEFAULT_DTYPE,
    AnyInt,
    Expr,
    Layer,
    LayerResult,
    PositiveInt,
    Shape,
    StrictBool,
    Unbatched,
    bounded_number,
    weight_macs,
)
from archspec.layers.registry import register


@register
class Embedding(Layer):
    """torch.nn.Embedding: a learned vector per id (token, position, class)."""

    family: ClassVar[str] = "linear"
    accepts: ClassVar[tuple[str, ...]] = ("int",)
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

    def infer(self, inputs: list[Shape]) -> LayerResult:
        count, dim = int(self.num_embeddings), int(self.embedding_dim)
        if self.padding_idx is not None and not -count <= int(self.padding_idx) < count:
            raise LayerError(
                f"padding_idx {self.padding_idx} must be within [{-count}, {count - 1}] (num_embeddings {count})",
                hint="use an id of the table, or leave padding_idx out",
                field="padding_idx",
            )
        params = count * dim
        out = (*inputs[0], dim)
        # torchinfo counts the table once per row of the output's dim 0: the batch, or for ids
        # without a batch dim (a buffer of positions) their first dim, whatever the batch size
        rows = out[0] if isinstance(inputs[0], Unbatched) else 1
        return LayerResult(out, params, weight_macs(params) * rows)

    def result_dtype(self, dtypes: list[str]) -> str:
        return DEFAULT_DTYPE  # the table's dtype, whatever the ids' integer type

    def label(self) -> str:
        return f"{self.num_embeddings}x{self.embedding_dim}"
