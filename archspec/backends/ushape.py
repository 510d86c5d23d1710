"""The U layout of an encoder-decoder with skips across (a U-Net): down one side, up the other.

Drawn as one column, a U-Net is a 5,000-pixel strip whose skips loop far around the side.
Drawn as a U, each skip is a short horizontal edge between the two halves at one resolution,
as in the paper's figure. Graphviz has no U layout, so it is made from two of its tools:

* every edge inside the decoder is written reversed (``head -> tail`` with ``dir=back``),
  so ``dot`` ranks the decoder upwards while the arrows still point the way data flows;
* each skip's two ends, and the bottom with the first decoder box, are put on one rank
  (``rank=same``), which ties every decoder level to its encoder level.

The layout applies only when the drawing has a U: a *bottom* (the last box at the smallest
spatial size), a decoder after it that grows the size again, and at least one edge from an
encoder box larger than the bottom into the decoder (a skip across). ResNets, transformers
and other single-path or residual networks are left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from archspec.layers.base import Shape


@dataclass
class ULayout:
    """Which boxes are the decoder, and which pairs share a rank."""

    decoder: set[str] = field(default_factory=set)
    same_rank: list[tuple[str, str]] = field(default_factory=list)

    def reversed(self, tail: str, head: str) -> bool:
        """True when the edge ``tail -> head`` runs up the decoder side."""
        return tail in self.decoder and head in self.decoder


def spatial_size(shape: Shape | None) -> int | None:
    """Positions per channel of a ``(C, H, W, ...)`` tensor; None for vectors and sequences."""
    if shape is None or len(shape) < 3:
        return None
    return math.prod(shape[1:])


def u_layout(order: list[str], sizes: dict[str, int | None], edges: list[tuple[str, str]]) -> ULayout | None:
    """The U of boxes in topological ``order`` with their spatial ``sizes``, or None when there is none.

    Only boxes with a (C, H, W)-like output (rank 3 or more) count as spatial: a sequence
    ``(tokens, features)`` has no resolution to go down and up.
    """
    known = [(i, size) for i, box in enumerate(order) if (size := sizes.get(box)) is not None]
    if not known:
        return None
    smallest = min(size for _, size in known)
    bottom_index = max(i for i, size in known if size == smallest)
    bottom = order[bottom_index]
    encoder, decoder = set(order[: bottom_index + 1]), set(order[bottom_index + 1 :])
    if not any((sizes.get(box) or 0) > smallest for box in decoder):
        return None
    skips = [
        (tail, head)
        for tail, head in edges
        if tail in encoder and head in decoder and tail != bottom and (sizes.get(tail) or 0) > smallest
    ]
    if not skips:
        return None
    layout = ULayout(decoder=decoder)
    first = next((head for tail, head in edges if tail == bottom and head in decoder), None)
    if first is not None:
        layout.same_rank.append((bottom, first))
    taken = {first}
    for tail, head in skips:
        if head not in taken:  # one skip ties one decoder box; a second would pull two levels together
            layout.same_rank.append((tail, head))
            taken.add(head)
    return layout
