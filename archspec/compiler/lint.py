"""The lint pass: legal specs that are probably mistakes, reported as warnings (never errors).

* ``unused``: a node whose output nothing reads (a dead branch costs compute and parameters);
* ``inplace-hazard``: an in-place layer (``inplace: true``) whose input another node also
  reads: that reader would see the overwritten values;
* ``branch-input``: a merge (``add``, ``mul``, ``concat``) joins a node and the node right
  after it that took it as its implicit input -- in an Inception block, the second branch
  forgot ``inputs: [input]`` and silently became a continuation of the first (merging the
  scope's own input with the node that reads it is a residual, never warned);
* ``no-flatten``: a layer that acts on the last dimension only (``Linear``) reads a feature
  map (the output of convolutions or pooling, or the image input), with no ``Flatten``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator

from archspec.compiler.ir import INPUT, CompiledSpec, Node, Subgraph, producer
from archspec.errors import Diagnostic
from archspec.frontend.source import KeyPath

LAYOUT_KEEPING = frozenset({"activation", "norm", "dropout", "merge"})
"""Families whose output keeps their (first) input's layout."""
FEATURE_MAPS = frozenset({"conv", "pool"})


def lint(compiled: CompiledSpec) -> list[Diagnostic]:
    unique: dict[tuple[str, int, int], Diagnostic] = {}
    for module in compiled.root.modules():
        for warning in _module_warnings(compiled, module):
            unique.setdefault((warning.code, warning.line, warning.column), warning)  # once per block definition
    for warning in _layout_warnings(compiled):
        unique.setdefault((warning.code, warning.line, warning.column), warning)
    return sorted(unique.values(), key=lambda d: (d.line, d.column))


def _module_warnings(compiled: CompiledSpec, module: Subgraph) -> Iterator[Diagnostic]:
    readers: dict[str, list[str]] = defaultdict(list)
    for child in module.children:
        for name in child.inputs:
            readers[producer(name)].append(child.name)  # ``chunk.1`` reads ``chunk``
    for name in module.outputs:  # every output of a model with several
        readers[producer(name)].append("<output>")
    children = {child.name: child for child in module.children}
    for child in module.children:
        where = child.source_path
        if not readers.get(child.name):
            message = f"the output of '{child.path}' is never used"
            yield _warning(compiled, "unused", message, where, "remove the node, or list it in a later node's 'inputs'")
        # the field's value; getattr would raise and catch an AttributeError for every other layer
        if isinstance(child, Node) and child.layer.__dict__.get("inplace", False):
            source = producer(child.inputs[0])
            others = [r for r in readers[source] if r != child.name]
            if others:
                message = f"in-place {child.type} '{child.path}' overwrites '{source}', which '{others[0]}' also reads"
                yield _warning(compiled, "inplace-hazard", message, where, "set 'inplace: false' on this node")
        if isinstance(child, Node) and len(child.inputs) > 1:
            yield from _branch_warnings(compiled, child, children)


def _branch_warnings(compiled: CompiledSpec, merge: Node, children: dict[str, Node | Subgraph]) -> Iterator[Diagnostic]:
    merged = set(merge.inputs)
    for name in merge.inputs:
        branch = children.get(name)
        if branch is None or not branch.implicit_input or not branch.inputs or branch.inputs[0] not in merged - {name}:
            continue
        if branch.inputs[0] == INPUT:
            continue  # add: [f(x), input] is a residual (concat: a dense connection), not a forgotten branch input
        previous = branch.inputs[0]
        message = (
            f"'{branch.path}' takes its input from '{previous}' (the node before it), and '{merge.path}' "
            f"merges both: '{name}' is a continuation of '{previous}', not a parallel branch"
        )
        hint = "parallel branches usually say 'inputs: [input]' (or the node they share)"
        yield _warning(compiled, "branch-input", message, branch.source_path, hint)


def _layout_warnings(compiled: CompiledSpec) -> Iterator[Diagnostic]:
    for node in compiled.nodes:
        if not node.layer.last_dim_only or not node.input_shapes or not node.result:
            continue
        shape = node.input_shapes[0]
        if len(shape) >= 2 and _is_feature_map(compiled, node.sources[0]):
            message = (
                f"{node.type} acts on the last dimension only: input {list(shape)} gives output "
                f"{list(node.result.shape)}"
            )
            hint = "add a Flatten (or global pooling and a Flatten) before it, so it sees every feature"
            yield _warning(compiled, "no-flatten", message, node.source_path, hint)


def _is_feature_map(compiled: CompiledSpec, value: str) -> bool:
    """Whether a value still has the (channels, *spatial) layout of convolutions and pooling, or
    of an image input (``{channels, size}``; a sequence's ``{shape: [L, E]}`` has no such layout)."""
    while value != INPUT:
        node = compiled.by_path.get(value)
        if node is None:
            return False
        if node.layer.family in FEATURE_MAPS:
            return True
        if node.layer.family not in LAYOUT_KEEPING or not node.sources:
            return False
        value = node.sources[0]
    declared = getattr(compiled.spec, "input", None)
    return declared is not None and declared.channels is not None and len(compiled.input_shape) >= 2


def _warning(compiled: CompiledSpec, code: str, message: str, where: KeyPath, hint: str) -> Diagnostic:
    diagnostic = compiled.source.diagnostic(code, message, where, hint=hint)
    return dataclasses.replace(diagnostic, severity="warning")
