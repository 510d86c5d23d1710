"""The typed result of compiling a spec: a module tree whose leaves are layer nodes.

Two views of the same graph, both filled by the elaboration pass:

* the tree (``Subgraph`` with ``children``), where every child names its inputs by
  sibling name or ``"input"`` -- what a backend needs to emit nested modules;
* the flat, topologically ordered ``CompiledSpec.nodes``, where every node names
  its sources by global value path -- what summaries and diagrams need.

Backends only read this; nothing here is learned by running a model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from archspec.errors import Diagnostic, UsageError
from archspec.frontend.source import KeyPath, Source
from archspec.layers.base import Layer, LayerResult, Shape, StateEntries, TensorType, prefixed

if TYPE_CHECKING:
    from archspec.frontend.models import Spec

INPUT = "input"
"""The name of a scope's input, and the value path of the model's input."""


def producer(local: str) -> str:
    """The sibling that makes value ``local``: ``chunk`` for ``chunk.1``, one output of several
    (ids never hold a ``.``, so the first one starts the output's number)."""
    return local.partition(".")[0]


@dataclass(eq=False)
class Node:
    """One layer instance."""

    name: str
    path: str
    layer: Layer
    inputs: list[str]
    """Sibling names (or ``"input"``) within the enclosing module."""
    sources: list[str]
    """Global value paths of the inputs (leaf node paths, or ``"input"``)."""
    input_shapes: list[Shape] | None
    result: LayerResult | None
    source_path: KeyPath
    blocks: tuple[str, ...] = ()
    """Names of the enclosing block instances' module paths, outermost first."""
    error: Diagnostic | None = None
    implicit_input: bool = False
    """True when the spec wrote no ``inputs``: the node reads the previous one."""
    dtype: str | None = None
    """The output's dtype (of every output, for a node with several); None where inference failed."""

    @property
    def type(self) -> str:
        return self.layer.type_name()

    @property
    def shape(self) -> Shape | None:
        return self.result.shape if self.result else None


@dataclass(eq=False)
class Subgraph:
    """The root, a group or a block instance: a subgraph of named children, built as one ``nn.Module``."""

    name: str
    path: str
    kind: str
    """``root``, ``group`` or ``block``."""
    children: list[Node | Subgraph] = field(default_factory=list)
    inputs: list[str] = field(default_factory=lambda: [INPUT])
    """The inputs, named within the enclosing module (the root's is ``"input"``)."""
    input_names: list[str] = field(default_factory=lambda: [INPUT])
    """The same inputs as children name them: ``["input"]``, or a block's declared ``inputs``."""
    output: str = INPUT
    """The child (or ``"input"``) whose output is this module's output."""
    output_value: str = INPUT
    """Global value path of the output."""
    results: list[str] | None = None
    """The root's outputs when the spec names several (``output: [a, b]``); None: just ``output``."""
    result_values: list[str] | None = None
    """Their global value paths."""
    result_names: list[str] | None = None
    """Their names when the spec returns a dict (``output: {logits: head}``)."""
    block: str | None = None
    block_args: dict[str, Any] = field(default_factory=dict)
    source_path: KeyPath = ()
    implicit_input: bool = False

    @property
    def outputs(self) -> list[str]:
        """The children (or ``"input"``) whose values the module returns."""
        return self.results or [self.output]

    def child(self, name: str) -> Node | Subgraph:
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def leaves(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Subgraph):
                yield from child.leaves()
            else:
                yield child

    def modules(self) -> Iterator[Subgraph]:
        yield self
        for child in self.children:
            if isinstance(child, Subgraph):
                yield from child.modules()

    @property
    def is_chain(self) -> bool:
        """True when every child takes the previous one's output: an ``nn.Sequential``."""
        if self.input_names != [INPUT]:
            return False
        if self.results is not None:
            return False
        previous = INPUT
        for child in self.children:
            if child.inputs != [previous]:
                return False
            if isinstance(child, Node) and child.layer.forward_call(child.input_shapes or []) is not None:
                return False  # called with more than its input (``self.attn(x, x, x)``)
            previous = child.name
        return self.output == previous


@dataclass(eq=False)
class CompiledSpec:
    """A spec after every pass: parameters bound, blocks expanded, shapes inferred."""

    name: str
    description: str | None
    source: Source
    params: dict[str, Any]
    input_shape: Shape
    """The first input's per-sample shape."""
    inputs: dict[str, TensorType]
    """Every input by name (``input`` for a spec with one)."""
    root: Subgraph
    nodes: list[Node]
    spec: Spec
    """The validated :class:`archspec.frontend.models.Spec`."""
    types: dict[str, TensorType] = field(default_factory=dict)
    """Shape, dtype and batch dim of every value path that inference reached."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    """Legal but suspicious (unused outputs, in-place hazards): reported, never fatal."""
    unreachable: frozenset[str] = frozenset()
    """Paths of nodes the output does not depend on (GoogLeNet's auxiliary heads in eval mode)."""
    loaded: Any = field(default=None, repr=False)
    """The :class:`~archspec.compiler.pipeline.LoadedSpec` this came from: compiles it again at other input sizes."""

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    @cached_property
    def values(self) -> dict[str, Shape]:
        """Output shape of every value path that inference reached."""
        return {path: value.shape for path, value in self.types.items()}

    @property
    def output_shape(self) -> Shape | None:
        return self.values.get(self.root.output_value)

    @property
    def outputs(self) -> dict[str, TensorType | None]:
        """Every output by name: ``output``, or the positions of a tuple, or a dict's keys."""
        values = self.root.result_values or [self.root.output_value]
        names = self.root.result_names or ([str(i) for i in range(len(values))] if len(values) > 1 else ["output"])
        return {name: self.types.get(value) for name, value in zip(names, values, strict=True)}

    @property
    def params_total(self) -> int:
        return sum(n.result.params for n in self.nodes if n.result)

    @property
    def trainable_params(self) -> int:
        return sum(n.result.trainable for n in self.nodes if n.result)

    @property
    def macs(self) -> int:
        """Mult-adds of the nodes the output depends on (what running the model costs)."""
        return sum(n.result.macs for n in self.nodes if n.result and n.path not in self.unreachable)

    @property
    def unreachable_macs(self) -> int:
        """Mult-adds of nodes whose outputs the model's output never reads, reported apart."""
        return sum(n.result.macs for n in self.nodes if n.result and n.path in self.unreachable)

    @property
    def flops(self) -> int:
        """FLOPs (FlopCounterMode's count) of the nodes the output depends on."""
        return sum(n.result.flops for n in self.nodes if n.result and n.path not in self.unreachable)

    @property
    def unreachable_flops(self) -> int:
        """FLOPs of nodes whose outputs the model's output never reads, reported apart."""
        return sum(n.result.flops for n in self.nodes if n.result and n.path in self.unreachable)

    @cached_property
    def by_path(self) -> dict[str, Node]:
        """Every layer node by its path (the node list is complete once elaboration returns)."""
        return {node.path: node for node in self.nodes}

    def part_of(self, value: str) -> tuple[str, int] | None:
        """``(node path, k)`` when global value path ``value`` is output ``k`` of a node with several."""
        base, _, part = value.rpartition(".")
        if part.isdigit() and value not in self.by_path and base in self.by_path:
            return base, int(part)
        return None

    def node(self, path: str) -> Node:
        return self.by_path[path]

    def state_entries(self) -> StateEntries:
        """The built model's ``state_dict()``: every key with its shape, dtype and kind, in torch's
        order, without torch (a module's own held tensors, parameters before buffers, then its
        children in order). For an error-free spec; :meth:`Layer.state_entries` gives each node's."""
        entries: StateEntries = {}
        try:
            _module_state(self.root, entries)
        except ValueError as exc:  # a plug-in layer that does not describe its parameters
            file = self.source.file
            raise UsageError(
                [Diagnostic("state", str(exc), file, hint="give the layer type a state_entries()")]
            ) from None
        return entries


def node_state(node: Node) -> StateEntries:
    """A node's entries under its path, checked against its parameter count: a layer type that
    has parameters but does not describe them (a plug-in without ``state_entries``) is an error."""
    local = node.layer.state_entries(node.input_shapes or [])
    counted = sum(math.prod(e.shape) for e in local.values() if e.kind == "parameter")
    if node.result is not None and counted != node.result.params:
        raise ValueError(
            f"layer type '{node.type}' at '{node.path}' has {node.result.params:,} parameters but its "
            f"state_entries() describe {counted:,}: it must list its state_dict entries"
        )
    return prefixed(node.path, local)


def _module_state(module: Subgraph, entries: StateEntries) -> None:
    held = [node_state(c) for c in module.children if isinstance(c, Node) and c.layer.stored]
    for kind in ("parameter", "buffer"):  # torch saves a module's own parameters, then its buffers
        for local in held:
            entries.update((key, e) for key, e in local.items() if e.kind == kind)
    for child in module.children:
        if isinstance(child, Subgraph):
            _module_state(child, entries)
        elif not child.layer.stored and not child.layer.functional:
            entries.update(node_state(child))
