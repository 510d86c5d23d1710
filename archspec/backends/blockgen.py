"""One generated class per block definition, over the block's parameters, as a person writes it.

``BasicBlock(in_channels, channels, stride=1)`` is written once from its definition: each
``${...}`` becomes a Python expression over the parameters (:mod:`archspec.backends.pyexpr`),
sizes the compiler infers (a conv's ``in_channels``, a norm's ``num_features``) become the
expressions that compute them (:mod:`archspec.backends.symbolic` runs each layer's own shape
rule on sizes that remember their expression), ``when:`` becomes ``if`` (and ``if
self.x is not None`` in ``forward``), and a grouped ``repeat:`` a loop that appends to an
``nn.Sequential``. The root class does the same over the spec's ``params``.

Every expression written is checked against every instance the compiled spec holds:
evaluated with that instance's values, it must give what the compiler gave. Where a block
cannot be written this way, :class:`Unwritable` says why and codegen writes that block per
instance, as before (values baked in):

* a node that is built in no instance (a ``when`` that is false everywhere): nothing to check;
* ``inline: true`` groups and blocks, a ``repeat`` without an ``id`` (spliced copies are
  numbered by position), ids or ``inputs`` given by expressions, ``type: "${...}"``;
* a ``when`` on a functional or stored node, or on a node inside a chain group;
* forward code that depends on a parameter (a reshape to ``n_head`` heads, a scale factor);
* a block that reads a spec parameter (the class would need it as an argument), or a
  parameter whose name Python reserves;
* a layer whose arguments the compiler transforms in a way not checked here (the check fails).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from typing import Any

from archspec.backends import pysource
from archspec.backends.classbody import (
    IMPLICIT,
    TRACE_ERRORS,
    ClassBody,
    GenericClass,
    Instance,
    Unwritable,
    is_plain_default,
    subscript,
)
from archspec.backends.pyexpr import names, written
from archspec.backends.pysource import INDENT
from archspec.backends.symbolic import Sym
from archspec.compiler.ir import INPUT, CompiledSpec, Subgraph
from archspec.compiler.params import Declared, declare
from archspec.frontend.models import BlockDef

_HINTS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "mapping": "dict[str, Any]", "any": "Any"}


def _value_hint(values: list[Any]) -> str | None:
    """The type hint that the values an untyped parameter takes in every instance share."""
    kinds = {type(v) for v in values}
    if len(kinds) != 1 or not values:
        return None
    kind = kinds.pop()
    if kind is list:
        if all(isinstance(i, int) and not isinstance(i, bool) for v in values for i in v):
            return "list[int]"
        return "list[Any]"
    return {int: "int", float: "float", bool: "bool", str: "str", dict: "dict[str, Any]"}.get(kind)


def _hints(declared: list[Declared], instances: list[dict[str, Any]]) -> dict[str, str]:
    """Each parameter's type hint: from its declared type, or (untyped) from the values it takes."""
    hints = {}
    for decl in declared:
        seen = _value_hint([v[decl.name] for v in instances if decl.name in v]) if decl.type == "any" else None
        hints[decl.name] = seen or _hint(decl)
    return hints


def _hint(decl: Declared) -> str:
    if decl.type == "list":
        default = decl.default if isinstance(decl.default, list) else []
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            return "list[int]"
        return "list[Any]"
    return _HINTS[decl.type]


class ClassWriter:
    """Writes the generic classes of one compiled spec; ``block_class`` and ``root_class`` are the entry points."""

    def __init__(
        self,
        compiled: CompiledSpec,
        owner: Any,
        on_class: Callable[[GenericClass], None],
        forced: dict[str, str] | None = None,
        *,
        spec_defaults: bool = False,
    ) -> None:
        self.compiled = compiled
        self.spec_defaults = spec_defaults
        """The root's defaults as the spec writes them, not the values it was compiled with (to compare variants)."""
        self.forced = forced or {}
        """Block name (``""``: the root) -> why it is written per instance, found by checking variants."""
        self.spec = compiled.spec
        self.owner = owner
        """The source writer: its ``layer_call`` writes a layer's constructor; it collects imports."""
        self.on_class = on_class
        self.classes: dict[str, GenericClass | str] = {}
        """Block name -> its class, or why it is written per instance."""
        self.instances: dict[str, list[Subgraph]] = {}
        self.types = compiled.types
        for module in compiled.root.modules():
            if module.kind == "block" and module.block:
                self.instances.setdefault(module.block, []).append(module)
        self.input_types = self._input_types()

    # -- inputs of each module -------------------------------------------------------------
    def _input_types(self) -> dict[int, list[tuple[int, ...]]]:
        """The input shapes of every module, by ``id()``."""
        found: dict[int, list[tuple[int, ...]]] = {}

        def walk(module: Subgraph, scope: dict[str, tuple[int, ...]]) -> None:
            found[id(module)] = [scope[name] for name in module.input_names]
            for child in module.children:
                path = child.path
                if isinstance(child, Subgraph):
                    inner = [scope.get(i) for i in child.inputs]
                    if all(s is not None for s in inner):
                        local = dict(zip(child.input_names, inner, strict=True))
                        walk(child, {INPUT: local[child.input_names[0]], **local})  # type: ignore[dict-item]
                if path in self.types:
                    scope[child.name] = tuple(self.types[path].shape)
                for k in range(16):
                    if f"{path}.{k}" in self.types:
                        scope[f"{child.name}.{k}"] = tuple(self.types[f"{path}.{k}"].shape)

        inputs = {name: tuple(t.shape) for name, t in self.compiled.inputs.items()}
        first = next(iter(inputs.values()))
        walk(self.compiled.root, {INPUT: first, **inputs})
        return found

    # -- entry points ------------------------------------------------------------------------
    def block_class(self, block: str) -> GenericClass | str:
        """The generic class of ``block`` (written once), or why it is written per instance."""
        if block not in self.classes:
            self.classes[block] = "being written"  # a block cannot use itself; the compiler refused that
            try:
                if block in self.forced:
                    raise Unwritable(self.forced[block])
                self.classes[block] = self._block(block)
            except Unwritable as exc:
                self.classes[block] = str(exc)
            except TRACE_ERRORS as exc:
                self.classes[block] = f"a size could not be followed symbolically ({type(exc).__name__})"
            result = self.classes[block]
            if isinstance(result, GenericClass):
                self.on_class(result)
        return self.classes[block]

    def root_class(self, name: str, doc: str | None) -> GenericClass | str:
        if "" in self.forced:
            return self.forced[""]
        try:
            return self._root(name, doc)
        except Unwritable as exc:
            return str(exc)
        except TRACE_ERRORS as exc:
            return f"a size could not be followed symbolically ({type(exc).__name__})"

    # -- blocks ------------------------------------------------------------------------------
    def _block(self, block: str) -> GenericClass:
        definition: BlockDef = self.spec.blocks[block]
        declared = [declare(k, v) for k, v in definition.params.items()]
        for decl in declared:
            if decl.name in IMPLICIT or decl.name in pysource.RESERVED:
                raise Unwritable(f"its parameter '{decl.name}' is a name Python or the class needs")
        instances = self.instances.get(block, [])
        if not instances:
            raise Unwritable("it is not used")
        insts = []
        input_names = definition.inputs or [INPUT]
        for module in instances:
            shapes = self.input_types[id(module)]
            values = {
                **module.block_args,
                "in_channels": shapes[0][0],
                "in_shape": list(shapes[0]),
                "in_shapes": [list(s) for s in shapes],
            }
            inst = Instance(module, values)
            for k, (input_name, shape) in enumerate(zip(input_names, shapes, strict=True)):
                inst.shapes[input_name] = self._input_symbols(shape, k)
            inst.shapes[INPUT] = inst.shapes[input_names[0]]
            inst.last = input_names[0]
            insts.append(inst)
        scope = {d.name for d in declared} | set(IMPLICIT)
        body = ClassBody(self, scope, insts, list(input_names) if definition.inputs else [INPUT])
        prologue = body.defaults(declared)
        body.sequence(definition.layers, ("blocks", block, "layers"))
        used = body.used
        implicit = [n for n in IMPLICIT if n in used or any(n in names(written(d.default)) for d in declared)]
        name = pysource.class_name(block, "Block")
        hints = _hints(declared, [i.vars for i in insts])
        body.uses_any = any("Any" in h for h in hints.values())
        signature = self._signature(implicit, declared, hints, keyword_only=False)
        base, lines = body.finish(signature, prologue)
        return GenericClass(name, base, definition.doc, lines, implicit, declared, body.output, body.uses_any)

    def _input_symbols(self, shape: tuple[int, ...], index: int) -> list[Any]:
        if index == 0:
            return [
                Sym(d, ast.Name("in_channels") if k == 0 else subscript(ast.Name("in_shape"), k))
                for k, d in enumerate(shape)
            ]
        return [Sym(d, subscript(subscript(ast.Name("in_shapes"), index), k)) for k, d in enumerate(shape)]

    def _signature(
        self, implicit: list[str], declared: list[Declared], types: dict[str, str], *, keyword_only: bool
    ) -> list[str]:
        hints = {"in_channels": "int", "in_shape": "list[int]", "in_shapes": "list[list[int]]"}
        arguments = ["self", *(f"{n}: {hints[n]}" for n in implicit)]
        required = [d for d in declared if d.required]
        optional = [d for d in declared if not d.required]
        if keyword_only and (required or optional):
            arguments.append("*")
        arguments += [f"{d.name}: {types[d.name]}" for d in required]
        for decl in optional:
            if is_plain_default(decl):
                arguments.append(f"{decl.name}: {types[decl.name]} = {pysource.literal(decl.default)}")
            else:
                hint = types[decl.name]
                arguments.append(f"{decl.name}: {hint} | None = None" if hint != "Any" else f"{decl.name}: Any = None")
        pad = INDENT
        one_line = f"{pad}def __init__({', '.join(arguments)}) -> None:"
        if len(one_line) <= pysource.WIDTH:
            return [one_line]
        return [f"{pad}def __init__(", *(f"{pad}{INDENT}{a}," for a in arguments), f"{pad}) -> None:"]

    # -- the root ----------------------------------------------------------------------------
    def _root(self, name: str, doc: str | None) -> GenericClass:
        from archspec.backends.variants import overridden

        changed = {} if self.spec_defaults else overridden(self.compiled)  # compiled with --set: those are the defaults
        declared = [
            declare(k, v)._replace(default=changed[k], required=False) if k in changed else declare(k, v)
            for k, v in self.spec.params.items()
        ]
        for decl in declared:
            if decl.name in pysource.RESERVED:
                raise Unwritable(f"the parameter '{decl.name}' is a name Python or the class needs")
        root = self.compiled.root
        inst = Instance(root, dict(self.compiled.params))
        inputs = self.spec.inputs if self.spec.inputs is not None else {INPUT: self.spec.input}
        for input_name, written_input in inputs.items():
            shape = tuple(self.compiled.inputs[input_name].shape)
            inst.shapes[input_name] = self._root_input(written_input, shape)
        first = next(iter(inputs))
        inst.shapes[INPUT] = inst.shapes[first]
        inst.last = first
        scope = {d.name for d in declared}
        forward_inputs = list(inputs) if self.spec.inputs is not None else [INPUT]
        body = ClassBody(self, scope, [inst], forward_inputs)
        prologue = body.defaults(declared)
        body.sequence(self.spec.layers, ("layers",))
        body.result(self.spec.output)
        hints = _hints(declared, [inst.vars])
        body.uses_any = any("Any" in h for h in hints.values())
        signature = self._signature([], declared, hints, keyword_only=True)
        base, lines = body.finish(signature, prologue)
        return GenericClass(name, base, doc, lines, [], declared, body.output, body.uses_any)

    def _root_input(self, written_input: Any, shape: tuple[int, ...]) -> list[Any]:
        if written_input.channels is not None:
            size = written_input.size if written_input.size is not None else []
            parts = written(size)
            dims = [written(written_input.channels)]
            if isinstance(parts, ast.List):
                dims += parts.elts
            else:
                dims += (
                    [parts, parts]
                    if not isinstance(size, list) and isinstance(shape, tuple) and len(shape) == 3
                    else [subscript(parts, k) for k in range(len(shape) - 1)]
                )
        else:
            whole = written(written_input.shape)
            dims = whole.elts if isinstance(whole, ast.List) else [subscript(whole, k) for k in range(len(shape))]
        return [Sym(d, e) for d, e in zip(shape, dims, strict=True)]


def comment_lines(reason: str, indent: int = 1) -> list[str]:
    """``# Written per instance: <reason>.`` wrapped to the line length."""
    text = f"Written per instance (values baked in): {reason}."
    pad = INDENT * indent + "# "
    return [pad + line for line in textwrap.wrap(text, pysource.WIDTH - len(pad))]


__all__ = ["ClassWriter", "GenericClass", "Unwritable", "comment_lines"]
