"""The body of one generated class: ``__init__`` and ``forward`` written while its instances are traced.

See :mod:`archspec.backends.blockgen` for what is written and when a class cannot be; this
module walks one class's nodes, instance by instance, and writes each node once, checked
against all of them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from archspec.backends import pysource
from archspec.backends.pyexpr import Untranslatable, evaluates_to, names, python, replace_names, written
from archspec.backends.pysource import INDENT, Call, Index, Mapping, Name, Seq
from archspec.backends.symbolic import UNKNOWN, Sym, SymFloat, bounded, expression, is_symbolic, symbolic
from archspec.compiler.ir import INPUT, Node, Subgraph
from archspec.compiler.params import Declared
from archspec.frontend.expressions import has_expression
from archspec.frontend.models import BlockUse, DeferredLayer, Group
from archspec.layers.base import Layer, Op, Repeat, Symbol

IMPLICIT = ("in_channels", "in_shape", "in_shapes")
CONTROL = frozenset({"id", "inputs", "repeat", "when", "doc", "type", "inline", "use"})


TRACE_ERRORS = (
    Untranslatable,
    NotImplementedError,
    TypeError,
    ValueError,
    LookupError,
    ArithmeticError,
    AttributeError,
    RecursionError,
)
"""What a layer's own rule may raise on traced sizes (a rule that expects a plain value): that class is
then written per instance."""


class Unwritable(Exception):
    """This class cannot be written over its parameters; the message says why (for its comment)."""


@dataclass
class GenericClass:
    """A written class: its name, signature, body, and its output shape over its parameters."""

    name: str
    base: str
    doc: str | None
    body: list[str]
    implicit: list[str]
    params: list[Declared]
    output: list[ast.expr] | None
    uses_any: bool = False


@dataclass
class Instance:
    """One instance being traced: its IR module, the values of the names in scope, the traced shapes."""

    module: Subgraph
    vars: dict[str, Any]
    shapes: dict[str, Any] = field(default_factory=dict)
    last: str = INPUT


def check(expr: ast.expr, scope: set[str], insts: list[tuple[dict[str, Any], Any]], what: str) -> ast.expr:
    """``expr`` reads only names in scope and gives each instance's value, or the class is unwritable."""
    free = names(expr)
    if UNKNOWN in free:
        raise Unwritable(f"{what} depends on a size that could not be followed")
    if outside := sorted(free - scope):
        raise Unwritable(f"{what} reads {', '.join(outside)}, which the class does not take")
    for variables, expected in insts:
        if not evaluates_to(expr, variables, expected):
            raise Unwritable(f"{what} cannot be written as an expression that holds for every instance")
    return expr


def subscript(value: ast.expr, index: int) -> ast.expr:
    return ast.Subscript(value, ast.Constant(index), ast.Load())


def _equal(a: ast.expr, b: ast.expr) -> bool:
    return ast.dump(a) == ast.dump(b)


def is_plain_default(decl: Declared) -> bool:
    """A default that can stand in a signature: a scalar literal (lists and expressions are set in the body)."""
    return not decl.required and not has_expression(decl.default) and not isinstance(decl.default, list | dict)


class ClassBody:
    """The ``__init__`` and ``forward`` of one class, written while its instances are traced."""

    def __init__(self, writer: Any, scope: set[str], insts: list[Instance], inputs: list[str]) -> None:
        self.writer = writer
        self.scope = set(scope)
        self.insts = insts
        self.inputs = inputs
        self.init: list[str] = []
        self.forward: list[str] = []
        self.used: set[str] = set()
        self.uses_any = False
        self.namer = pysource.Namer(reserved=pysource.RESERVED - {"x"} if inputs != [INPUT] else pysource.RESERVED)
        self.vars: dict[str, Any] = {}
        for name in inputs:
            self.vars[name] = Name("x") if inputs == [INPUT] else Name(self.namer(name))
        self.vars[INPUT] = self.vars[inputs[0]]
        self.params = [self.vars[n].text for n in inputs]
        """The tensors ``forward`` takes: ``x``, or a multi-input block's input names."""
        self.children: list[tuple[str, Any, bool]] = []  # (attribute, constructor or None, conditional)
        self.chain = inputs == [INPUT]
        self.unnamed = True
        self.output: list[ast.expr] | None = None
        self.results: Any = None
        self.returns = "torch.Tensor"
        self.modules: dict[str, Layer] = {}
        self.when_names: set[str] = set()

    # -- expressions -------------------------------------------------------------------------
    def emit(self, expr: ast.expr) -> str:
        self.used |= names(expr)
        return python(expr)

    def checked(self, expr: ast.expr, values: list[tuple[dict[str, Any], Any]], what: str) -> ast.expr:
        return check(expr, self.scope, values, what)

    def defaults(self, declared: list[Declared]) -> list[str]:
        """``if depths is None: depths = [2, 2, 2, 2]`` for defaults that are lists or expressions."""
        lines: list[str] = []
        for decl in declared:
            if decl.required or is_plain_default(decl):
                continue
            expr = written(decl.default)
            self.checked(expr, [(i.vars, i.vars.get(decl.name)) for i in self.insts], f"the default of '{decl.name}'")
            lines += [f"{INDENT * 2}if {decl.name} is None:"]
            lines += pysource.statement_lines(f"{decl.name} = ", Name(self.emit(expr)), 3)
        return lines

    # -- nodes -------------------------------------------------------------------------------
    def sequence(self, nodes: list[Any], path: tuple[Any, ...]) -> None:
        for index, node in enumerate(nodes):
            self.node(node, (*path, index))
        self.output = self._shape_expr([i.shapes.get(i.last) for i in self.insts])

    def _shape_expr(self, shapes: list[Any]) -> list[ast.expr] | None:
        """Each output size over the class's parameters; unknown where instances disagree (a pool in some)."""
        if any(not isinstance(s, list) for s in shapes) or len({len(s) for s in shapes}) != 1:
            return None
        dims = []
        for k in range(len(shapes[0])):
            exprs = {ast.dump(expression(s[k])): expression(s[k]) for s in shapes}
            dims.append(next(iter(exprs.values())) if len(exprs) == 1 else ast.Name(UNKNOWN))
        return dims

    def node(self, node: Any, path: tuple[Any, ...]) -> None:
        if not isinstance(node, Layer | Group | BlockUse) or isinstance(node, DeferredLayer):
            raise Unwritable(f"its node at {_where(path)} has a layer type given by an expression")
        if getattr(node, "inline", False) is not False:
            raise Unwritable(f"its node at {_where(path)} is inline (spliced nodes are numbered by position)")
        if node.id is not None and (not isinstance(node.id, str | int) or has_expression(node.id)):
            raise Unwritable(f"the id of its node at {_where(path)} is an expression")
        inputs = node.inputs
        if inputs is not None and (not isinstance(inputs, list) or has_expression(inputs)):
            raise Unwritable(f"the inputs of its node at {_where(path)} are not a plain list of ids")
        found = [_child_at(i.module, path) for i in self.insts]
        present = [(i, c) for i, c in zip(self.insts, found, strict=True) if c is not None]
        if not present:
            raise Unwritable(
                f"its node at {_where(path)} is built in no instance ('when' is false), so it is unchecked"
            )
        if node.when is None and len(present) != len(self.insts):
            raise Unwritable(f"its node at {_where(path)} is missing from an instance")
        name = present[0][1].name
        if any(c.name != name for _, c in present):
            raise Unwritable(f"its node at {_where(path)} has different names in different instances")
        if node.id is None and not name.isdigit():
            raise Unwritable(f"its node at {_where(path)} is named inconsistently")
        self.unnamed &= name.isdigit()
        sources = [str(s) for s in inputs] if inputs is not None else None
        self._node(node, path, name, sources, found)

    def _inputs_of(self, inst: Instance, sources: list[str] | None) -> list[Any]:
        return [_read_shape(inst.shapes, s) for s in (sources or [inst.last])]

    def _node(self, node: Any, path: tuple[Any, ...], name: str, sources: list[str] | None, found: list[Any]) -> None:
        conditional = node.when is not None
        condition = ""
        if conditional:
            expr = written(node.when)
            values = [(i.vars, c is not None) for i, c in zip(self.insts, found, strict=True)]
            condition = self.emit(self.checked(expr, values, f"the 'when' of '{name}'"))
        first_child = next(c for c in found if c is not None)
        layer = first_child.layer if isinstance(first_child, Node) else None
        if layer is not None and (layer.functional or layer.stored) and conditional:
            raise Unwritable(f"'{name}' is a functional or stored node with 'when'")
        if sources is not None or (layer is not None and (layer.functional or layer.stored)):
            self.chain = False
        if layer is not None and layer.forward_call(first_child.input_shapes or []) is not None:
            self.chain = False
        ctors: list[Any] = []
        setup: list[list[str]] = []
        for inst, child in zip(self.insts, found, strict=True):
            in_shapes = self._inputs_of(inst, sources)
            if child is None:
                inst.shapes[name] = in_shapes[0]
                inst.last = name
                continue
            lines, ctor, out = self.construct(node, child, inst.vars, in_shapes, path, name)
            ctors.append(ctor)
            setup.append(lines)
            inst.shapes[name] = out
            if not (layer is not None and layer.stored and node.id is not None):
                inst.last = name
        if len({pysource.flat(c) if c is not None else "" for c in ctors}) != 1 or len({tuple(s) for s in setup}) != 1:
            raise Unwritable(f"the construction of '{name}' differs between instances")
        self._write(node, name, layer, ctors[0], setup[0], condition, sources, found)

    def _write(
        self,
        node: Any,
        name: str,
        layer: Layer | None,
        ctor: Any,
        setup: list[str],
        condition: str,
        sources: list[str] | None,
        found: list[Any],
    ) -> None:
        attribute = pysource.attribute(name)
        if layer is None or not layer.functional:
            if condition:
                self.init.append(f"{INDENT * 2}{attribute} = None" if pysource.is_attribute_name(name) else "")
                if not pysource.is_attribute_name(name):
                    raise Unwritable(f"'{name}' has 'when' but is not an attribute name")
                self.init.append(f"{INDENT * 2}if {condition}:")
                self.init += [INDENT + line for line in setup]
                if ctor is not None:
                    self.init += pysource.statement_lines(f"{attribute} = ", ctor, 3)
            else:
                self.init += setup
                if ctor is not None and pysource.is_attribute_name(name):
                    self.init += pysource.statement_lines(f"{attribute} = ", ctor, 2)
                elif ctor is not None:
                    self.init += pysource.statement_lines("self.add_module", Call("", (name, ctor)), 2)
            self.children.append((name, ctor, bool(condition)))
        if layer is not None and not layer.functional and not layer.stored:
            self.modules[name] = layer
        self._forward(node, name, layer, condition, sources, found)

    # -- forward -----------------------------------------------------------------------------
    def _read(self, source: str) -> Any:
        base, _, part = source.partition(".")
        if not part:
            return self.vars[source]
        reader = self.modules[base].part(int(part)) if base in self.modules else None
        value = self.vars[base]
        return Index(value, int(part)) if reader is None else pysource.op_expression(reader, [value])

    def _forward(
        self, node: Any, name: str, layer: Layer | None, condition: str, sources: list[str] | None, found: list[Any]
    ) -> None:
        live = any(
            any(c is child for c in pysource.live_children(i.module))
            for i, child in zip(self.insts, found, strict=True)
        )
        source_names = sources or [self.last_name]
        if layer is not None and layer.stored:
            self.vars[name] = Name(pysource.attribute(name))
            if node.id is None:
                self.last_name = name
            return
        self.last_name = name
        if not live:
            self.vars[name] = Name("None")
            return
        args = [self._read(s) for s in source_names]
        child = next(c for c in found if c is not None)
        if layer is not None and layer.functional:
            index = self._in_place(found, source_names)
            if index is not None:
                target = self.vars[source_names[index]]
                for position, arg in enumerate(args):
                    if position != index:
                        self.forward += pysource.statement_lines(f"{target.text} += ", arg, 2)
                self.vars[name] = target
                return
            value = pysource.functional_expression(child, args)
        elif layer is not None and (call := layer.forward_call(child.input_shapes or [])) is not None:
            value = pysource.op_expression(call, args, pysource.attribute(name))
        else:
            value = Call(pysource.attribute(name), tuple(args))
        var = self.namer(name)
        self.vars[name] = Name(var)
        if condition:
            self.when_names.add(var)
            self.forward += pysource.statement_lines(f"{var} = ", args[0], 2)
            self.forward.append(f"{INDENT * 2}if {pysource.attribute(name)} is not None:")
            self.forward += pysource.statement_lines(f"{var} = ", value, 3)
        else:
            self.forward += pysource.statement_lines(f"{var} = ", value, 2)

    @property
    def last_name(self) -> str:
        return getattr(self, "_last", self.inputs[0])

    @last_name.setter
    def last_name(self, value: str) -> None:
        self._last = value

    def _in_place(self, found: list[Any], sources: list[str]) -> int | None:
        """The operand an ``add`` accumulates into, when every instance agrees and it is no ``when`` alias."""
        indexes = set()
        for inst, child in zip(self.insts, found, strict=True):
            uses = pysource.value_uses(inst.module, pysource.live_children(inst.module))
            indexes.add(pysource.in_place_operand(inst.module, child, uses))
        if len(indexes) != 1:
            return None
        index = indexes.pop()
        if index is None or "." in sources[index] or sources[index] not in self.vars:
            return None
        target = self.vars[sources[index]]
        if not isinstance(target, Name) or target.text in self.when_names or target.text in self.params:
            return None
        return index

    def result(self, output: Any) -> None:
        """The root's returned value(s), from the spec's ``output``."""
        if output is None:
            return
        if isinstance(output, str):
            self.results = self._read(output)
        elif isinstance(output, list):
            self.results = Seq(tuple(self._read(o) for o in output), "()")
            self.returns = f"tuple[{', '.join(['torch.Tensor'] * len(output))}]"
        else:
            self.results = Mapping(tuple((k, self._read(v)) for k, v in output.items()))
            self.returns = "dict[str, torch.Tensor]"

    def finish(self, signature: list[str], prologue: list[str]) -> tuple[str, list[str]]:
        """The class's base and body; a line too long for one expression is unwritable (ruff would split
        the expression, which the layout here does not do)."""
        base, lines = self._finish(signature, prologue)
        if any(len(line) > pysource.WIDTH for line in lines):
            raise Unwritable("an expression is too long to write on one line")
        return base, lines

    def _finish(self, signature: list[str], prologue: list[str]) -> tuple[str, list[str]]:
        """The class's base and body: an ``nn.Sequential`` subclass for a chain of unnamed modules."""
        result = self.results if self.results is not None else self._read(self.last_name)
        ctors = [c for _, c, _ in self.children]
        conditional = any(c for _, _, c in self.children)
        forward = pysource.signature_lines(self.params, 1, self.returns)
        plain = ctors and not conditional and all(c is not None for c in ctors)
        if self.chain and self.unnamed and self.results is None and plain:
            call = pysource.statement_lines("super().__init__", Call("", tuple(ctors)), 2)
            return "nn.Sequential", [*signature, *prologue, *call]
        init = [*signature, *prologue, f"{INDENT * 2}super().__init__()", *self.init]
        if self.chain and self.results is None and all(pysource.is_attribute_name(n) for n, _, _ in self.children):
            steps = []
            for child_name, _, condition in self.children:
                if condition:
                    steps.append(f"{INDENT * 2}if self.{child_name} is not None:")
                    steps.append(f"{INDENT * 3}x = self.{child_name}(x)")
                else:
                    steps.append(f"{INDENT * 2}x = self.{child_name}(x)")
            return "nn.Module", [*init, "", *forward, *steps, f"{INDENT * 2}return x"]
        return "nn.Module", [*init, "", *forward, *self.forward, *pysource.statement_lines("return ", result, 2)]

    # -- constructions -----------------------------------------------------------------------
    def construct(
        self, node: Any, child: Any, variables: dict[str, Any], in_shapes: list[Any], path: tuple[Any, ...], name: str
    ) -> tuple[list[str], Any, Any]:
        """(setup lines, the constructor expression or None, the output shape) of one instance's node."""
        if node.repeat is not None:
            return self.repeat(node, child, variables, in_shapes, path, name)
        ctor, out = self.single(node, child, variables, in_shapes, path)
        return [], ctor, out

    def single(
        self, node: Any, child: Any, variables: dict[str, Any], in_shapes: list[Any], path: tuple[Any, ...]
    ) -> tuple[Any, Any]:
        if isinstance(node, BlockUse):
            return self.block_call(node, child, variables, in_shapes, path)
        if isinstance(node, Group):
            return self.group(node, child, variables, in_shapes, path)
        return self.layer(node, child, variables, in_shapes, path)

    def layer(
        self, typed: Layer, child: Node, variables: dict[str, Any], in_shapes: list[Any], path: tuple[Any, ...]
    ) -> tuple[Any, Any]:
        resolved = child.layer
        written_fields = {k: getattr(typed, k) for k in typed.model_fields_set if k not in CONTROL}
        written_fields.update({k: v for k, v in (typed.model_extra or {}).items() if k not in CONTROL})
        exprs = {k: written(v) for k, v in written_fields.items()}
        updates = {}
        for key, expr in exprs.items():
            value = getattr(resolved, key, None)
            updates[key] = symbolic(value, expr) if not isinstance(expr, ast.Constant) else value
        traced = resolved.model_copy(update=updates)
        if resolved.stored:
            self.storedcheck(traced, exprs, variables, path)
        concrete_shapes = child.input_shapes or []
        if len(concrete_shapes) > len(in_shapes) or any(s is None for s in in_shapes[: len(concrete_shapes)]):
            raise Unwritable(f"the inputs of '{child.name}' could not be followed")
        in_shapes = [_like(s, c) for s, c in zip(in_shapes, concrete_shapes, strict=False)]
        result = traced.infer(in_shapes)
        out = list(result.shape) if result.parts is None else tuple(list(p) for p in result.parts)
        if resolved.functional:
            op = traced.call(in_shapes)
            if _op_symbolic(op):
                raise Unwritable(f"the forward of '{child.name}' depends on a parameter")
            return None, out
        if resolved.stored:
            return self._stored(traced, child), out
        if resolved.construction(child.input_shapes or []) is not None:
            if any(not isinstance(e, ast.Constant) for e in exprs.values()) or _op_symbolic(
                traced.construction(in_shapes)
            ):
                raise Unwritable(f"'{child.name}' is built by a custom construction that depends on a parameter")
            return self.writer.owner.layer_call(child, None), out
        if resolved.forward_call(child.input_shapes or []) is not None and _op_symbolic(traced.forward_call(in_shapes)):
            raise Unwritable(f"the forward of '{child.name}' depends on a parameter")
        concrete = resolved.torch_kwargs(child.input_shapes or [])
        inferred = {**traced.inferred(in_shapes), **_traced_kwargs(traced, in_shapes, exprs)}
        values: dict[str, Any] = {}
        for key, value in concrete.items():
            if key in exprs:
                expr = exprs[key]
            elif key in inferred:
                expr = expression(inferred[key])
            else:
                raise Unwritable(f"'{child.name}' gets its argument '{key}' from a rule codegen cannot follow")
            self.checked(expr, [(variables, value)], f"'{key}' of '{child.name}'")
            if isinstance(expr, ast.Constant | ast.List) and not names(expr):
                continue  # a literal: written as the compiler resolved it (``p=1.0`` where a float is due)
            values[key] = Name(_as_tuple(self.emit(expr), value))
        return self.writer.owner.layer_call(child, values), out

    def storedcheck(self, traced: Any, exprs: dict[str, ast.expr], variables: dict[str, Any], path: Any) -> None:
        for key, expr in exprs.items():
            if not isinstance(expr, ast.Constant):
                self.checked(expr, [(variables, getattr(traced, key))], f"'{key}' at {_where(path)}")

    def _stored(self, traced: Any, child: Node) -> Any:
        creation = _named_op(traced.creation(), self)
        tensor = pysource.op_expression(creation, [])
        if not traced.learned:
            raise Unwritable(f"'{child.name}' is a buffer (registered by a call, not an expression)")
        grad = () if traced.requires_grad else (("requires_grad", False),)
        return Call("nn.Parameter", (tensor,), grad)

    def group(
        self,
        node: Group,
        child: Subgraph,
        variables: dict[str, Any],
        in_shapes: list[Any],
        path: tuple[Any, ...],
    ) -> tuple[Any, Any]:
        """A group inside a generic class: an inline ``nn.Sequential`` of its (unconditional) nodes."""
        if not child.is_chain:
            raise Unwritable(f"its group '{child.name}' is not a chain")
        items = []
        shape = in_shapes[0]
        unnamed = True
        for index, inner in enumerate(node.layers):
            inner_path = (*path, "layers", index)
            if not isinstance(inner, Layer | Group | BlockUse) or isinstance(inner, DeferredLayer):
                raise Unwritable(f"its node at {_where(inner_path)} has a layer type given by an expression")
            if inner.when is not None or inner.inputs is not None or getattr(inner, "inline", False) is not False:
                raise Unwritable(f"its group '{child.name}' holds a node with 'when', 'inputs' or 'inline'")
            if inner.id is not None and has_expression(inner.id):
                raise Unwritable(f"the id of its node at {_where(inner_path)} is an expression")
            found = _child_at(child, inner_path)
            if found is None:
                raise Unwritable(f"its node at {_where(inner_path)} is missing")
            if isinstance(found, Node) and (found.layer.functional or found.layer.stored):
                raise Unwritable(f"its group '{child.name}' holds a functional node")
            if inner.repeat is not None:
                raise Unwritable(f"its group '{child.name}' holds a repeat")
            ctor, shape = self.single(inner, found, variables, [shape], inner_path)
            unnamed &= found.name == str(index)
            items.append((found.name, ctor))
        if unnamed:
            return Call("nn.Sequential", tuple(c for _, c in items)), shape
        if not all(pysource.is_attribute_name(n) for n, _ in items):
            raise Unwritable(f"its group '{child.name}' has ids that are not attribute names")
        self.writer.owner.uses_ordered_dict = True
        return Call("nn.Sequential", (Call("OrderedDict", (), tuple(items)),)), shape

    def block_call(
        self, use: BlockUse, child: Subgraph, variables: dict[str, Any], in_shapes: list[Any], path: tuple[Any, ...]
    ) -> tuple[Any, Any]:
        cls = self.writer.block_class(use.use)
        if not isinstance(cls, GenericClass):
            raise Unwritable(f"it uses block '{use.use}', which is written per instance")
        given = {k: v for k, v in (use.model_extra or {}).items()}
        bindings: dict[str, ast.expr] = {}
        arguments: list[Any] = []
        keywords: list[tuple[str, Any]] = []
        implicit_values = {
            "in_channels": expression(in_shapes[0][0]),
            "in_shape": expression(list(in_shapes[0])),
            "in_shapes": expression([list(s) for s in in_shapes]),
        }
        concrete_implicit = {
            "in_channels": in_shapes[0][0],
            "in_shape": list(in_shapes[0]),
            "in_shapes": [list(s) for s in in_shapes],
        }
        for key in IMPLICIT:
            bindings[key] = implicit_values[key]
        for key in cls.implicit:
            expr = self.checked(
                implicit_values[key], [(variables, concrete_implicit[key])], f"'{key}' of '{child.name}'"
            )
            arguments.append(Name(self.emit(expr)))
        for decl in cls.params:
            if decl.name in given:
                expr = written(given[decl.name])
                self.checked(expr, [(variables, child.block_args.get(decl.name))], f"'{decl.name}' of '{child.name}'")
                bindings[decl.name] = expr
                text = Name(self.emit(expr))
                if decl.required:
                    arguments.append(text)
                else:
                    keywords.append((decl.name, text))
            else:
                bindings[decl.name] = replace_names(written(decl.default), bindings)
        out_value = self.writer.types.get(child.path)
        out: Any = None
        if out_value is not None:
            shape = list(out_value.shape)
            if cls.output is not None and len(cls.output) == len(shape):
                exprs = [replace_names(e, bindings) for e in cls.output]
                out = [
                    Sym(d, _tidy(e, d)) if evaluates_to(e, variables, d) else Sym(d, ast.Name(UNKNOWN))
                    for d, e in zip(shape, exprs, strict=True)
                ]
            else:
                out = [Sym(d, ast.Name(UNKNOWN)) for d in shape]
        return Call(cls.name, tuple(arguments), tuple(keywords)), out

    def repeat(
        self, node: Any, child: Any, variables: dict[str, Any], in_shapes: list[Any], path: tuple[Any, ...], name: str
    ) -> tuple[list[str], Any, Any]:
        """A grouped ``repeat``: ``self.layer1 = nn.Sequential()`` and a loop that appends each copy."""
        if node.id is None or not isinstance(child, Subgraph) or child.kind != "group":
            raise Unwritable(f"its repeat at {_where(path)} has no id (copies are spliced and numbered)")
        repeat = node.repeat
        count_written, index = (repeat.count, repeat.index) if isinstance(repeat, Repeat) else (repeat, "i")
        count_expr = written(count_written)
        copies = child.children
        self.checked(count_expr, [(variables, len(copies))], f"the repeat count of '{name}'")
        if index in self.scope:
            raise Unwritable(f"its repeat index '{index}' shadows a name of the class")
        self.scope.add(index)
        first_ctor, first_out = self.single(node, copies[0], {**variables, index: 0}, [in_shapes[0]], path)
        del first_ctor
        starts = [expression(s) for s in in_shapes[0]]
        if not isinstance(first_out, list):
            raise Unwritable(f"the copies of '{name}' have several outputs")
        nexts = [replace_names(expression(s), {index: _minus_one(index)}) for s in first_out]
        combined = [
            a if _equal(a, b) else bounded(ast.IfExp(_is_first(index), a, b))
            for a, b in zip(starts, nexts, strict=True)
        ]
        shape: Any = list(in_shapes[0])
        ctors, last_ctor = set(), None
        for k, copy in enumerate(copies):
            inner = {**variables, index: k}
            current = [Sym(int(d), e) for d, e in zip(shape, combined, strict=True)]
            last_ctor, shape = self.single(node, copy, inner, [current], path)
            ctors.add(pysource.flat(last_ctor))
            if not isinstance(shape, list):
                raise Unwritable(f"the copies of '{name}' have several outputs")
        if len(ctors) != 1:
            raise Unwritable(f"the copies of '{name}' differ in a way a loop cannot write")
        self.scope.discard(index)
        attribute = pysource.attribute(name)
        loop_index = index if index in self.used else "_"
        self.used.discard(index)
        lines = [
            f"{INDENT * 2}{attribute} = nn.Sequential()",
            f"{INDENT * 2}for {loop_index} in range({self.emit(count_expr)}):",
        ]
        lines += pysource.statement_lines(f"{attribute}.append", Call("", (last_ctor,)), 3)
        last = ast.BinOp(count_expr, ast.Sub(), ast.Constant(1))
        final = [Sym(int(s), _tidy(replace_names(expression(s), {index: last}), int(s))) for s in shape]
        return lines, None, final


def _tidy(expr: ast.expr, value: int) -> ast.expr:
    """A constant where the expression reads no name; the unknown marker where it is too large."""
    if not names(expr):
        return ast.Constant(value)
    return bounded(expr)


def _minus_one(index: str) -> ast.expr:
    return ast.BinOp(ast.Name(index), ast.Sub(), ast.Constant(1))


def _is_first(index: str) -> ast.expr:
    return ast.Compare(ast.Name(index), [ast.Eq()], [ast.Constant(0)])


def _as_tuple(text: str, value: Any) -> str:
    """torch_kwargs passes lists as tuples: ``(3, 3)`` for a display, ``tuple(x)`` for an expression."""
    if not isinstance(value, tuple):
        return text
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.parse(text, mode="eval").body
        except SyntaxError:
            parsed = None
        if isinstance(parsed, ast.List):
            inner = text[1:-1]
            return f"({inner},)" if len(parsed.elts) == 1 else f"({inner})"
    return f"tuple({text})"


def _traced_kwargs(traced: Layer, in_shapes: list[Any], exprs: dict[str, ast.expr]) -> dict[str, Any]:
    """The layer's own constructor arguments on traced sizes, for those the spec did not write
    (an LSTM's ``batch_first=True``); a layer whose rule cannot run on them gives none."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kwargs = traced.torch_kwargs(in_shapes)
    except (TypeError, ValueError, LookupError, ArithmeticError):
        return {}
    return {k: v for k, v in kwargs.items() if k not in exprs}


def _op_symbolic(op: Any) -> bool:
    if isinstance(op, Op):
        return any(_op_symbolic(a) for a in op.args) or any(_op_symbolic(v) for _, v in op.kwargs)
    if isinstance(op, list | tuple):
        return any(_op_symbolic(a) for a in op)
    return is_symbolic(op)


def _named_op(op: Any, body: ClassBody) -> Any:
    """An :class:`Op` with its parameter-dependent values written as the expressions that compute them."""
    if isinstance(op, Op):
        return Op(
            op.target,
            tuple(_named_op(a, body) for a in op.args),
            tuple((k, _named_op(v, body)) for k, v in op.kwargs),
        )
    if isinstance(op, list | tuple) and not isinstance(op, Sym):
        return type(op)(_named_op(a, body) for a in op)
    if isinstance(op, Sym | SymFloat) and not isinstance(op.expr, ast.Constant):
        return Symbol(body.emit(op.expr))
    return op


def _like(traced: list[Any], concrete: tuple[int, ...]) -> tuple[int, ...]:
    """Traced sizes in the shape type the layer expects (a tuple, or an ``Unbatched`` one)."""
    if len(traced) != len(concrete) or [int(t) for t in traced] != [int(c) for c in concrete]:
        raise Unwritable("a traced shape does not match the compiled one")
    return concrete if type(concrete) is tuple and not traced else type(concrete)(tuple(traced))


def _read_shape(shapes: dict[str, Any], source: str) -> Any:
    base, _, part = source.partition(".")
    value = shapes.get(base)
    if part:
        return value[int(part)] if isinstance(value, tuple) else None
    return value


def _child_at(module: Subgraph, path: tuple[Any, ...]) -> Any:
    for child in module.children:
        if tuple(child.source_path) == tuple(path):
            return child
    return None


def _where(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


__all__ = [
    "CONTROL",
    "IMPLICIT",
    "TRACE_ERRORS",
    "ClassBody",
    "GenericClass",
    "Instance",
    "Unwritable",
    "check",
    "is_plain_default",
    "subscript",
]
