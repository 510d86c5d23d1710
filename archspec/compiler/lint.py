"""The lint pass: legal specs that are probably mistakes, reported as warnings.

* a node whose output nothing reads (a dead branch costs compute and parameters);
* an in-place layer (``inplace: true``) whose input is also read by another node:
  the other reader would see the overwritten values.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from archspec.compiler.ir import CompiledSpec, Module, Node
from archspec.errors import Diagnostic
from archspec.spec.source import Path_


def lint(compiled: CompiledSpec) -> list[Diagnostic]:
    unique: dict[tuple[str, int, int], Diagnostic] = {}
    for module in compiled.root.modules():
        for warning in _module_warnings(compiled, module):
            unique.setdefault((warning.code, warning.line, warning.column), warning)  # once per block definition
    return sorted(unique.values(), key=lambda d: (d.line, d.column))


def _module_warnings(compiled: CompiledSpec, module: Module) -> list[Diagnostic]:
    readers: dict[str, list[str]] = defaultdict(list)
    for child in module.children:
        for name in child.inputs:
            readers[name].append(child.name)
    readers[module.output].append("<output>")
    warnings = []
    for child in module.children:
        where = child.source_path
        if not readers.get(child.name):
            message = f"the output of '{child.path}' is never used"
            hint = "remove the node, or list it in a later node's 'inputs'"
            warnings.append(_warning(compiled, "unused", message, where, hint))
        if isinstance(child, Node) and getattr(child.layer, "inplace", False):
            source = child.inputs[0]
            others = [r for r in readers[source] if r != child.name]
            if others:
                message = f"in-place {child.type} '{child.path}' overwrites '{source}', which '{others[0]}' also reads"
                warnings.append(
                    _warning(compiled, "inplace-hazard", message, where, "set 'inplace: false' on this node")
                )
    return warnings


def _warning(compiled: CompiledSpec, code: str, message: str, where: Path_, hint: str) -> Diagnostic:
    diagnostic = compiled.source.diagnostic(code, message, where, hint=hint)
    return dataclasses.replace(diagnostic, severity="warning")
