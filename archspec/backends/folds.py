"""Which repeated blocks a diagram folds into one box (``layer1: BasicBlock x2``).

A *run* is two or more consecutive sibling copies made by one ``repeat: N`` of a block
(they share the spec node they come from), each reading the previous one's output and
nothing else reading it: ResNet's ``layer1``, ViT's twelve encoder layers, MobileNet's
inverted residuals. Blocks written out one by one (a U-Net's ``down1``..``down3``, an
MBConv's expand and depthwise convs) are different layers and stay open.
When the run is all of a group (``layer1`` holds just ``layer1.0`` and ``layer1.1``), the
group itself is the folded box; otherwise the box takes the first copy's path and is
labelled with the range (``features.1-11: InvertedResidual x11``). A run holding a failed
node stays open, so that ``--allow-errors`` shows the failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from archspec.compiler.ir import INPUT, Node, Subgraph, producer


@dataclass(frozen=True)
class Fold:
    """One folded run: the box that draws it and the block instances it stands for."""

    box: str
    """The box id: the enclosing group's path, or the first copy's."""
    members: tuple[Subgraph, ...]
    group: Subgraph | None
    """The group the run fills entirely, drawn as the box; None when the run is part of its parent."""

    @property
    def title(self) -> str:
        first, last = self.members[0], self.members[-1]
        where = self.box if self.group is not None else f"{first.path}-{last.name}"
        return f"{where}: {first.block} x{len(self.members)}"

    @property
    def first(self) -> Subgraph:
        """The module whose input is the fold's input."""
        return self.group or self.members[0]

    @property
    def last(self) -> Subgraph:
        """The module whose output is the fold's output."""
        return self.group or self.members[-1]


def find_folds(root: Subgraph) -> dict[str, Fold]:
    """Module path -> its fold, for every folded group and every member of a partial run."""
    folds: dict[str, Fold] = {}
    _search(root, folds)
    return folds


def _search(module: Subgraph, folds: dict[str, Fold]) -> None:
    for run in _runs(module.children, _readers(module)):
        if any(leaf.result is None for member in run for leaf in member.leaves()):
            continue  # an invalid spec shows where it fails: a run with a failed node stays open
        whole = module.kind == "group" and len(run) == len(module.children) and _fills(module, run)
        fold = Fold(module.path if whole else run[0].path, tuple(run), module if whole else None)
        if whole:
            folds[module.path] = fold
            return
        for member in run:
            folds[member.path] = fold
    for child in module.children:
        if isinstance(child, Subgraph) and child.path not in folds:
            _search(child, folds)


def _readers(module: Subgraph) -> dict[str, int]:
    """How many times each child's output is read inside ``module`` (its own output counts once)."""
    counts: dict[str, int] = {}
    for name in [value for child in module.children for value in child.inputs] + module.outputs:
        counts[producer(name)] = counts.get(producer(name), 0) + 1
    return counts


def _runs(children: list[Node | Subgraph], readers: dict[str, int]) -> Iterator[list[Subgraph]]:
    """Maximal runs (two or more) of chained sibling instances of one block, read only by the next copy."""
    run: list[Subgraph] = []
    for child in children:
        if (
            isinstance(child, Subgraph)
            and child.kind == "block"
            and run
            and _continues(run[-1], child)
            and readers.get(run[-1].name) == 1
        ):
            run.append(child)
            continue
        if len(run) > 1:
            yield run
        run = [child] if isinstance(child, Subgraph) and child.kind == "block" else []
    if len(run) > 1:
        yield run


def _continues(previous: Subgraph, module: Subgraph) -> bool:
    same_node = module.source_path == previous.source_path
    return same_node and module.block == previous.block and module.inputs == [previous.name]


def _fills(group: Subgraph, run: list[Subgraph]) -> bool:
    """True when the group's input enters the first copy and its output is the last copy's."""
    return group.input_names == [INPUT] and run[0].inputs == [INPUT] and group.output == run[-1].name
