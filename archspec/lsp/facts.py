"""What the compile knows about one spec node, for hovers and inlay hints: its instances' shapes and counts.

A spec node may stand for many instances (a node of a block used 16 times, the copies of a
``repeat``); features show each instance, or the distinct values when they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from archspec.backends.values import node_text, type_text
from archspec.compiler.ir import INPUT, CompiledSpec, Node, Subgraph, producer
from archspec.frontend.source import KeyPath
from archspec.lsp.analysis import Analysis, Instance


@dataclass(frozen=True)
class Facts:
    """One instance of a spec node, as text and numbers."""

    path: str
    kind: str
    """The layer type, or ``block Name`` / ``group``."""
    inputs: str
    output: str
    params: int
    macs: int
    flops: int
    args: str = ""
    """A block instance's parameters after substitution: ``width=64, stride=2``."""


def spec_node(analysis: Analysis, path: KeyPath) -> tuple[KeyPath, list[Instance]] | None:
    """The innermost spec node enclosing the data path ``path``, with its instances."""
    for end in range(len(path), 0, -1):
        found = analysis.instances.get(path[:end])
        if found:
            return path[:end], found
    return None


def outermost(instances: list[Instance]) -> list[Instance]:
    """Drop instances inside another of the same spec node: a repeat's copies inside its group ``layer1``."""
    groups = [i.path + "." for i in instances if isinstance(i, Subgraph)]
    return [i for i in instances if not any(i.path.startswith(g) for g in groups)]


def facts(compiled: CompiledSpec, instance: Instance) -> Facts:
    if isinstance(instance, Node):
        shapes = instance.input_shapes
        inputs = ", ".join(type_text(compiled.types.get(s)) for s in instance.sources) if shapes is not None else "?"
        result = instance.result
        return Facts(
            instance.path or "(root)",
            instance.type,
            inputs,
            node_text(compiled, instance),
            result.params if result else 0,
            result.macs if result else 0,
            result.flops if result else 0,
        )
    leaves = [leaf.result for leaf in instance.leaves() if leaf.result]
    args = ", ".join(f"{k}={v!r}" for k, v in instance.block_args.items())
    sources = module_inputs(compiled, instance)
    output = instance.output_value
    if output == INPUT and sources[:1] != [INPUT]:
        output = ""  # the body failed before the module's output was set (it keeps its default)
    return Facts(
        instance.path,
        f"block {instance.block}" if instance.block else "group",
        ", ".join(type_text(compiled.types.get(v)) for v in sources),
        type_text(compiled.types.get(output)) if output else "?",
        sum(r.params for r in leaves),
        sum(r.macs for r in leaves),
        sum(r.flops for r in leaves),
        args,
    )


def module_inputs(compiled: CompiledSpec, module: Subgraph) -> list[str]:
    """The global value paths a module instance reads (its ``inputs``, named in its parent)."""
    parents = _parents(compiled)
    return [_value(compiled, parents, parents.get(module.path), name) for name in module.inputs]


def _parents(compiled: CompiledSpec) -> dict[str, Subgraph]:
    return {child.path: module for module in compiled.root.modules() for child in module.children}


def _value(compiled: CompiledSpec, parents: dict[str, Subgraph], scope: Subgraph | None, local: str) -> str:
    """The global value path of name ``local`` as seen inside ``scope``."""
    if scope is None or scope.kind == "root":
        if local in compiled.inputs:
            return local
        if local == INPUT:
            return next(iter(compiled.inputs))
        base = local
    else:
        if local in scope.input_names or local == INPUT:
            index = scope.input_names.index(local) if local in scope.input_names else 0
            outer = scope.inputs[index] if index < len(scope.inputs) else INPUT
            return _value(compiled, parents, parents.get(scope.path), outer)
        base = local
    name, dot, part = base.partition(".")
    for child in scope.children if scope else compiled.root.children:
        if child.name == producer(name):
            value = child.path if isinstance(child, Node) else child.output_value
            return f"{value}.{part}" if dot else value
    return local


def distinct(values: Iterable[str], *, limit: int = 4) -> str:
    """``a | b | c``: the distinct values in order, at most ``limit`` then an ellipsis."""
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    shown = " | ".join(seen[:limit])
    return shown + (" | …" if len(seen) > limit else "")
