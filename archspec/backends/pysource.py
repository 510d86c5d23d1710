"""Python source for generated modules, shared by ``build`` (executed) and ``codegen`` (written).

Both backends turn an IR module that is not a plain chain into a class whose
``forward`` is straight-line code over the graph: one statement per child, in
the spec's (topological) order, named after the spec's ids::

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        ...
        bn2 += downsample
        relu_out = self.relu_out(bn2)
        return relu_out

Expressions are a tiny tree (:class:`Call`, :class:`Seq`, :class:`BinOp`, names and
literals) so that :func:`statement` can lay them out the way ``ruff format`` does
(flat when it fits, else one item per line with a magic trailing comma, which
ruff keeps at any line length). Nothing here imports torch.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any

from archspec.compiler.ir import INPUT, Node, Subgraph, producer
from archspec.layers.base import CALL_MODULE, OPERATORS, Arg, InTraining, Op, SizeOf, Slice, Symbol

WIDTH = 88
"""Line length of generated source (ruff's default; also clean under the project's 120)."""

INDENT = "    "

RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "torch", "nn", "x", "OrderedDict"}
"""Names a local variable in a generated ``forward`` must not take."""


@dataclass(frozen=True)
class Name:
    """An expression written as is: a variable, ``self.conv1``, ``torch.cat``."""

    text: str


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Seq:
    """A list (``[a, b]``) or tuple (``(a, b)``) display."""

    items: tuple[Any, ...]
    brackets: str = "[]"


@dataclass(frozen=True)
class BinOp:
    """``a + b + c``: one operator between two or more operands."""

    op: str
    operands: tuple[Any, ...]


@dataclass(frozen=True)
class Method:
    """``receiver.name(args, kwargs)``: a tensor method call."""

    receiver: Any
    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Index:
    """``value[index]``: one output of a node with several, or ``x.shape[0]``."""

    value: Any
    index: int | str
    """An int, or a subscript's source text (``":, 0::2"``)."""
    attribute: str = ""
    """``"shape"`` for ``value.shape[index]``."""


@dataclass(frozen=True)
class Mapping:
    """A dict display with string keys: ``{"logits": head, "aux": aux}``."""

    items: tuple[tuple[str, Any], ...]


@dataclass
class Statement:
    """``target = value`` (or ``return value`` when ``target`` is None); ``op`` may be ``+=``."""

    target: str | None
    value: Any
    op: str = "="


@dataclass
class Forward:
    """The body of a generated ``forward``: statements, then the returned variable."""

    statements: list[Statement] = field(default_factory=list)
    result: Any = Name("x")
    """The returned expression: a variable, or a tuple or dict of them."""
    returns: str = "torch.Tensor"
    """The return annotation (TorchScript reads it)."""
    params: list[str] = field(default_factory=lambda: ["x"])
    """The tensors ``forward`` takes: ``x``, or a multi-input block's input names."""


# -- names -----------------------------------------------------------------------------------


def is_attribute_name(name: str) -> bool:
    """True when ``self.<name>`` is valid Python (ids like ``3`` or ``lambda`` are not)."""
    return name.isidentifier() and not keyword.iskeyword(name)


def attribute(name: str) -> str:
    """Source that reads child ``name`` of ``self``."""
    return f"self.{name}" if is_attribute_name(name) else f"getattr(self, {literal(name)})"


def class_name(name: str, default: str = "Model") -> str:
    """``resnet18`` -> ``Resnet18``, ``mnist_cnn`` -> ``MnistCnn``; block names are kept as written."""
    if name.isidentifier() and name[:1].isupper() and not keyword.iskeyword(name):
        return name
    parts = re.split(r"[^0-9A-Za-z]+", name)
    cleaned = "".join(part[:1].upper() + part[1:] for part in parts)
    return cleaned if cleaned.isidentifier() and not keyword.iskeyword(cleaned) else default


class Namer:
    """Unique, valid local names: the spec's id where possible, else ``id_``, ``id_2``, ..."""

    def __init__(self, taken: set[str] | None = None, reserved: frozenset[str] = RESERVED) -> None:
        self.taken = set(taken or ())
        self.reserved = reserved

    def __call__(self, wanted: str) -> str:
        base = wanted if is_attribute_name(wanted) else re.sub(r"\W", "_", wanted)
        if not base.isidentifier():
            base = f"x{base}" if base[:1].isdigit() else "value"
        candidate = base
        if candidate in self.reserved or candidate in self.taken:
            candidate = f"{base}_"
        index = 2
        while candidate in self.reserved or candidate in self.taken:
            candidate, index = f"{base}_{index}", index + 1
        self.taken.add(candidate)
        return candidate


# -- forward ---------------------------------------------------------------------------------


def live_children(module: Subgraph) -> list[Node | Subgraph]:
    """Children that the output depends on, in order (dead branches are not computed)."""
    needed = {producer(name) for name in module.outputs}
    live: list[Node | Subgraph] = []
    for child in reversed(module.children):
        if child.name in needed:
            live.append(child)
            needed.update(producer(name) for name in child.inputs)
    return live[::-1]


def functional_expression(node: Node, args: list[Any]) -> Any:
    """The expression of a functional layer, from its backend-neutral :class:`~archspec.layers.base.Op`."""
    return op_expression(node.layer.call(node.input_shapes or []), args)


def _subscript(item: Any) -> str:
    if item is ...:
        return "..."
    if not isinstance(item, Slice):
        return literal(item)
    text = f"{'' if item.start is None else item.start}:{'' if item.end is None else item.end}"
    return text + ("" if item.step is None else f":{item.step}")


def op_expression(op: Op, args: list[Any], module: str = "") -> Any:
    """An :class:`~archspec.layers.base.Op` as an expression over ``args`` (the inputs' expressions);
    ``module`` is the source of the node's own module (``self.attn``), for ``CALL_MODULE``."""

    def value(item: Any) -> Any:
        if isinstance(item, Arg):
            return args[item.index]
        if isinstance(item, SizeOf):
            return Index(args[item.arg.index], item.dim, "shape")
        if isinstance(item, Symbol):
            return Name(item.text)
        if isinstance(item, InTraining):
            return Name(f"{literal(item.value)} if self.training else {literal(item.otherwise)}")
        if isinstance(item, Op):
            return op_expression(item, args, module)
        if isinstance(item, list | tuple) and any(isinstance(i, Arg | SizeOf | Symbol | Op) for i in item):
            return Seq(tuple(value(i) for i in item), "[]" if isinstance(item, list) else "()")
        return item

    positional = tuple(value(a) for a in op.args)
    named = tuple((k, value(v)) for k, v in op.kwargs)
    if op.target in OPERATORS:
        return BinOp(op.target, positional)
    if op.target == "[]":
        return Index(positional[0], ", ".join(_subscript(item) for item in op.args[1]))
    if op.target.startswith("Tensor."):
        return Method(positional[0], op.target.removeprefix("Tensor."), positional[1:], named)
    return Call(module if op.target == CALL_MODULE else op.target, positional, named)


def forward(module: Subgraph) -> Forward:
    """Straight-line code for a module's graph.

    Subgraph children (and functional layers without a known expression, which the
    build emits as small modules) are calls of ``self.<name>``; known functional
    layers are Python expressions. An ``add`` accumulates in place into an operand
    when that is safe (:func:`in_place_operand`), like ``out += identity`` in
    hand-written models: it saves an allocation and a pass over memory.
    """
    if module.input_names == [INPUT]:
        namer, names = Namer(), {INPUT: "x"}
    else:  # a multi-input block: forward(self, x, skip) with the block's own input names
        namer = Namer(reserved=RESERVED - {"x"})
        names = {name: namer(name) for name in module.input_names}
    body = Forward(params=list(names.values()))
    children = live_children(module)
    uses = value_uses(module, children)

    def read(value: str) -> Any:
        base, _, part = value.partition(".")
        if not part:
            return Name(names[value])
        reader = modules[base].part(int(part)) if base in modules else None
        return Index(Name(names[base]), int(part)) if reader is None else op_expression(reader, [Name(names[base])])

    modules = {c.name: c.layer for c in module.children if isinstance(c, Node) and not c.layer.functional}

    for child in children:
        args = [read(i) for i in child.inputs]
        if isinstance(child, Node) and child.layer.stored:
            names[child.name] = attribute(child.name)  # a learned tensor or buffer: read, never called
            continue
        if isinstance(child, Node) and child.layer.functional:
            index = in_place_operand(module, child, uses)
            if index is not None:
                target = names[child.inputs[index]]
                for position, arg in enumerate(args):
                    if position != index:
                        body.statements.append(Statement(target, arg, "+="))
                names[child.name] = target
                continue
            value = functional_expression(child, args)
        elif isinstance(child, Node):
            call = child.layer.forward_call(child.input_shapes or [])
            value = None if call is None else op_expression(call, args, attribute(child.name))
        else:
            value = None
        if value is None:
            value = Call(attribute(child.name), tuple(args))
        names[child.name] = namer(child.name)
        body.statements.append(Statement(names[child.name], value))
    values = [read(name) for name in module.outputs]
    if module.result_names:
        body.result = Mapping(tuple(zip(module.result_names, values, strict=True)))
        body.returns = "dict[str, torch.Tensor]"
    elif len(values) > 1:
        body.result = Seq(tuple(values), "()")
        body.returns = f"tuple[{', '.join(['torch.Tensor'] * len(values))}]"
    else:
        body.result = values[0]
    return body


def value_uses(module: Subgraph, children: list[Node | Subgraph]) -> dict[str, int]:
    uses: dict[str, int] = {}
    for name in [*module.outputs, *(i for child in children for i in child.inputs)]:
        uses[producer(name)] = uses.get(producer(name), 0) + 1
    return uses


def in_place_operand(module: Subgraph, node: Node, uses: dict[str, int]) -> int | None:
    """Which operand of an ``add`` may take the sum in place, or None.

    The operand must be one of the first two (so the summation order, and the
    rounding, stay those of ``a + b + c``), already have the output's shape and dtype, be used
    by this add alone, and come from a layer whose ``fresh_output`` is true, built as
    the plain ``torch.nn`` class: a fresh tensor, not a view or the module's input,
    and not saved for backward (unlike a ReLU's output).
    """
    from archspec.layers.base import Layer

    if not node.layer.in_place_sum or node.input_shapes is None or node.shape is None:
        return None
    for index, name in enumerate(node.inputs[:2]):
        if name in (INPUT, *module.input_names) or "." in name or node.inputs.count(name) != 1 or uses.get(name) != 1:
            continue
        if tuple(node.input_shapes[index]) != tuple(node.shape):
            continue
        producer = module.child(name)
        if not isinstance(producer, Node) or producer.layer.functional:
            continue
        if type(producer.layer).build is not Layer.build or not producer.layer.fresh_output:
            continue
        if producer.dtype is None or producer.dtype != node.dtype:
            continue  # a += b keeps a's dtype, where a + b promotes
        return index
    return None


def chain_forward(module: Subgraph) -> Forward:
    """``x = self.a(x)`` per child: how a hand-written model runs a sequence."""
    body = Forward()
    for child in module.children:
        body.statements.append(Statement("x", Call(attribute(child.name), (Name("x"),))))
    return body


def forward_lines(body: Forward, indent: int = 2, *, release: bool = False) -> list[str]:
    """The ``forward`` method's source.

    ``release`` adds ``del a, b`` once values are no longer needed, so that their
    memory returns to the allocator at once (as when hand-written code reassigns
    ``out``) instead of at the return: ~2% of a CPU ResNet forward. The build uses it;
    codegen, written for reading, does not.
    """
    lines = signature_lines(body.params, indent - 1, body.returns)
    last_use: dict[str, int] = {}
    for index, statement in enumerate(body.statements):
        for name in names_in(statement.value):
            if "." not in name:  # a variable, not self.weight or torch.float32
                last_use[name] = index
        if statement.op != "=" and statement.target:
            last_use[statement.target] = index
    for index, statement in enumerate(body.statements):
        lines += statement_source(statement, indent)
        kept = (*names_in(body.result), *body.params)
        dead = [n for n, last in last_use.items() if last == index and n not in kept]
        if release and dead:
            lines += statement_lines("del " + ", ".join(dead), None, indent)
    lines += statement_lines("return ", body.result, indent)
    return lines


def signature_lines(params: list[str], indent: int, returns: str = "torch.Tensor") -> list[str]:
    """``def forward(self, x: torch.Tensor) -> torch.Tensor:``, or one argument per line when too long.

    The trailing comma of the split form is ``ruff format``'s magic comma: stable at any line length.
    """
    pad = INDENT * indent
    arguments = ["self", *(f"{name}: torch.Tensor" for name in params)]
    one_line = f"{pad}def forward({', '.join(arguments)}) -> {returns}:"
    if len(one_line) <= WIDTH:
        return [one_line]
    return [f"{pad}def forward(", *(f"{pad}{INDENT}{argument}," for argument in arguments), f"{pad}) -> {returns}:"]


def names_in(expr: Any) -> list[str]:
    """Variables an expression reads, in order."""
    if isinstance(expr, Name):
        return [expr.text]
    if isinstance(expr, Call | Method):
        head = names_in(expr.receiver) if isinstance(expr, Method) else []
        return head + [n for item in [*expr.args, *(v for _, v in expr.kwargs)] for n in names_in(item)]
    if isinstance(expr, Index):
        return names_in(expr.value)
    if isinstance(expr, Mapping):
        return [n for _, value in expr.items for n in names_in(value)]
    if isinstance(expr, Seq | BinOp):
        items = expr.items if isinstance(expr, Seq) else expr.operands
        return [n for item in items for n in names_in(item)]
    return []


def statement_source(statement: Statement, indent: int) -> list[str]:
    prefix = f"{statement.target} {statement.op} " if statement.target else "return "
    return statement_lines(prefix, statement.value, indent)


# -- layout ----------------------------------------------------------------------------------


def literal(value: Any) -> str:
    """A Python literal as ``ruff format`` writes it (double quotes, ``(1,)``)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in escaped)
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        items = ", ".join(literal(v) for v in value)
        if isinstance(value, list):
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    raise TypeError(f"no Python literal for {value!r}")


def flat(expr: Any) -> str:
    if isinstance(expr, Name):
        return expr.text
    if isinstance(expr, Call | Method):
        parts = [flat(a) for a in expr.args] + [f"{k}={flat(v)}" for k, v in expr.kwargs]
        return f"{_head(expr)}({', '.join(parts)})"
    if isinstance(expr, Index):
        attribute = f".{expr.attribute}" if expr.attribute else ""
        return f"{_operand(expr.value)}{attribute}[{expr.index}]"
    if isinstance(expr, Seq):
        inner = ", ".join(flat(i) for i in expr.items)
        if expr.brackets == "()" and len(expr.items) == 1:
            inner += ","
        return f"{expr.brackets[0]}{inner}{expr.brackets[1]}"
    if isinstance(expr, Mapping):
        return "{" + ", ".join(f"{literal(k)}: {flat(v)}" for k, v in expr.items) + "}"
    if isinstance(expr, BinOp):
        return f" {expr.op} ".join(_operand(o) if isinstance(o, BinOp) else flat(o) for o in expr.operands)
    return literal(expr)


def _operand(expr: Any) -> str:
    """``expr`` as a receiver or operand: parenthesized when it is an operation or a negative number."""
    text = flat(expr)
    return f"({text})" if isinstance(expr, BinOp) or text.startswith("-") else text


def _head(expr: Call | Method) -> str:
    return f"{_operand(expr.receiver)}.{expr.name}" if isinstance(expr, Method) else expr.func


def statement_lines(prefix: str, expr: Any, indent: int, suffix: str = "", width: int = WIDTH) -> list[str]:
    """Lay out ``prefix + expr + suffix`` at ``indent`` levels, splitting brackets like ruff."""
    pad = INDENT * indent
    text = prefix if expr is None else prefix + flat(expr)
    if expr is None or len(pad) + len(text) + len(suffix) <= width:
        return [pad + text + suffix]
    items: list[tuple[str | None, Any]]  # (keyword or None, value): a tuple argument is no keyword pair
    if isinstance(expr, Call | Method):
        opening, items, closing = f"{_head(expr)}(", [(None, a) for a in expr.args] + list(expr.kwargs), ")"
    elif isinstance(expr, Seq):
        opening, items, closing = expr.brackets[0], [(None, i) for i in expr.items], expr.brackets[1]
    elif isinstance(expr, Mapping):
        lines = [pad + prefix + "{"]
        for key, value in expr.items:
            lines += statement_lines(f"{literal(key)}: ", value, indent + 1, ",", width)
        return [*lines, pad + "}" + suffix]
    elif isinstance(expr, BinOp):
        lines = [pad + prefix + "("]
        for index, operand in enumerate(expr.operands):
            lines += statement_lines("" if index == 0 else f"{expr.op} ", operand, indent + 1, width=width)
        return [*lines, pad + ")" + suffix]
    else:
        return [pad + text + suffix]
    if len(pad) + len(prefix) + len(opening) > width and prefix.endswith(" = "):
        # even the head does not fit: ruff parenthesizes the right-hand side
        inner = statement_lines("", expr, indent + 1, width=width)
        return [pad + prefix + "(", *inner, pad + ")" + suffix]
    lines = [pad + prefix + opening]
    for name, item in items:
        lines += statement_lines("" if name is None else f"{name}=", item, indent + 1, ",", width)
    return [*lines, pad + closing + suffix]
