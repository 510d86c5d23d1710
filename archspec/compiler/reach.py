"""The reachability pass: which nodes the model's output depends on.

A node nothing downstream reads (GoogLeNet's auxiliary classifiers in eval mode) still
owns parameters, but running the model does not cost its mult-adds: totals count what the
output depends on and report the rest apart, as a profiler running the model would.
"""

from __future__ import annotations

from archspec.compiler.ir import INPUT, CompiledSpec


def unreachable_nodes(compiled: CompiledSpec) -> frozenset[str]:
    """Paths of the nodes the output does not depend on."""
    by_path = compiled.by_path
    seen: set[str] = set()
    stack = list(compiled.root.result_values or [compiled.root.output_value])
    while stack:
        value = stack.pop()
        value = part[0] if (part := compiled.part_of(value)) else value
        if value in seen or value in ("", INPUT):
            continue
        seen.add(value)
        node = by_path.get(value)
        if node is not None:
            stack += node.sources
    return frozenset(path for path in by_path if path not in seen)
