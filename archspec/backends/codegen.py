"""``archspec codegen``: readable, self-contained PyTorch source for a compiled spec.

The source is written from the IR, never by printing modules: each leaf is
``nn.<Class>(...)`` (or ``torchvision.ops.<Class>(...)``, after the layer's ``torch_module``)
from the layer's ``torch_kwargs`` (the sizes positional, then
what the spec wrote, as keywords). Each block definition is one class over its
parameters, and the model class takes the spec's ``params``
(:mod:`archspec.backends.blockgen`, checked against every instance and against variants of
the spec, :mod:`archspec.backends.variants`). Where that cannot be written, a block (and
each group that is not a chain) is a class per instance, deduplicated by structure, with
a comment saying why; chains of a group are an inline ``nn.Sequential``, and ``forward``
is the same straight-line code that ``archspec.build`` compiles
(:mod:`archspec.backends.pysource`), without its ``del`` lines. The model built from the
file has the same ``state_dict`` keys and outputs as ``archspec.build``.

The layout is what ``ruff format`` produces (line length 88; magic trailing commas
keep it stable at 120 too), and the file passes ``ruff check``.
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

from archspec import __version__
from archspec.backends import pysource
from archspec.backends.blockgen import ClassWriter, GenericClass, comment_lines
from archspec.backends.pysource import INDENT, WIDTH, Call, Seq
from archspec.backends.values import dtype_suffix
from archspec.compiler.ir import INPUT, CompiledSpec, Node, Subgraph
from archspec.errors import SpecError, UsageError
from archspec.layers.base import Layer, TensorType
from archspec.safetext import escape_controls

_SKIPPED_ARGUMENTS = frozenset({"self", "device", "dtype"})


@dataclass
class _Class:
    name: str
    base: str
    doc: str | None
    body: list[str]
    comment: list[str] = field(default_factory=list)
    """Why the class is written per instance, where a generic class could not be written."""


@dataclass
class _Writer:
    RESERVED_CLASS_NAMES: ClassVar[frozenset[str]] = frozenset({"OrderedDict", "torch", "nn", "torchvision"})

    compiled: CompiledSpec
    classes: list[_Class] = field(default_factory=list)
    by_body: dict[tuple[str, str], str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=lambda: set(_Writer.RESERVED_CLASS_NAMES))
    uses_ordered_dict: bool = False
    imports: set[str] = field(default_factory=set)
    """Modules besides torch that leaf classes come from (``torchvision.ops``), imported by name."""
    generic: ClassWriter | None = None
    uses_any: bool = False

    # -- classes -----------------------------------------------------------------------------
    def add_generic(self, cls: GenericClass) -> None:
        """A class written over its parameters (:mod:`archspec.backends.blockgen`)."""
        cls.name = self.unique(cls.name)
        self.uses_any |= cls.uses_any
        self.classes.append(_Class(cls.name, cls.base, cls.doc, cls.body))

    def module_class(
        self, module: Subgraph, wanted: str, doc: str | None, *, exact: bool = False, why: str | None = None
    ) -> str:
        """Write (or reuse, when the structure is identical) the class for ``module``; return its name."""
        functional = any(isinstance(c, Node) and c.layer.functional for c in module.children)
        if module.is_chain and not functional and module.children:
            if all(c.name == str(i) for i, c in enumerate(module.children)):
                base, body = "nn.Sequential", self.sequential_init(module)
            else:
                base, body = "nn.Module", [*self.attributes_init(module), "", *self.forward(module, chain=True)]
        else:
            base, body = "nn.Module", [*self.attributes_init(module), "", *self.forward(module, chain=False)]
        key = (wanted, "\n".join([base, *body]))
        if exact or key not in self.by_body:
            name = wanted if exact else self.unique(wanted)
            self.by_body[key] = name
            self.classes.append(_Class(name, base, doc, body, comment_lines(why) if why else []))
        return self.by_body[key]

    def unique(self, wanted: str) -> str:
        name, index = wanted, 2
        separator = "_" if wanted[-1:].isdigit() else ""
        while name in self.taken:
            name, index = f"{wanted}{separator}{index}", index + 1
        self.taken.add(name)
        return name

    def attributes_init(self, module: Subgraph) -> list[str]:
        lines = [f"{INDENT}def __init__(self) -> None:", f"{INDENT * 2}super().__init__()"]
        for child in module.children:
            if isinstance(child, Node) and child.layer.stored:
                lines += self.stored_init(child)
                continue
            expr = self.child_expression(child)
            if expr is None:
                continue
            if pysource.is_attribute_name(child.name):
                lines += pysource.statement_lines(f"self.{child.name} = ", expr, 2)
            else:
                lines += pysource.statement_lines("self.add_module", Call("", (child.name, expr)), 2)
        return lines

    def stored_init(self, node: Node) -> list[str]:
        """``self.class_token = nn.Parameter(torch.zeros(1, 1, 768))``, or ``self.register_buffer(...)``."""
        layer: Any = node.layer
        tensor = pysource.op_expression(layer.creation(), [])
        if not layer.learned:
            persistent = () if layer.persistent else (("persistent", False),)
            return pysource.statement_lines("self.register_buffer", Call("", (node.name, tensor), persistent), 2)
        grad = () if layer.requires_grad else (("requires_grad", False),)
        parameter = Call("nn.Parameter", (tensor,), grad)
        if pysource.is_attribute_name(node.name):
            return pysource.statement_lines(f"self.{node.name} = ", parameter, 2)
        return pysource.statement_lines("self.register_parameter", Call("", (node.name, parameter)), 2)

    def sequential_init(self, module: Subgraph) -> list[str]:
        call = self.sequential(module)
        return [
            f"{INDENT}def __init__(self) -> None:",
            *pysource.statement_lines("super().__init__", Call("", call.args), 2),
        ]

    def forward(self, module: Subgraph, *, chain: bool) -> list[str]:
        body = pysource.chain_forward(module) if chain else pysource.forward(module)
        return pysource.forward_lines(body)

    # -- expressions -------------------------------------------------------------------------
    def child_expression(self, child: Node | Subgraph) -> Any | None:
        """The constructor expression of a child module, or None for functional layers."""
        if isinstance(child, Node):
            return None if child.layer.functional else self.layer_call(child)
        if child.kind == "block" and child.block and self.generic is not None:
            cls = self.generic.block_class(child.block)
            if isinstance(cls, GenericClass):
                return self.generic_call(child, cls)
        if (
            child.kind == "group"
            and child.is_chain
            and not any(isinstance(c, Node) and c.layer.functional for c in child.children)
        ):
            return self.sequential(child)
        return Call(self.child_class(child))

    def child_class(self, module: Subgraph) -> str:
        from archspec.backends.torch_backend import module_class_name

        wanted = module_class_name(module, "Model")
        why = None
        if module.kind == "block" and module.block and self.generic is not None:
            reason = self.generic.block_class(module.block)
            why = reason if isinstance(reason, str) else None
        return self.module_class(module, wanted, self.block_doc(module), why=why)

    def generic_call(self, module: Subgraph, cls: GenericClass) -> Call:
        """``BasicBlock(64, 128, stride=2)``: a generic class called with one instance's values."""
        assert self.generic is not None
        shapes = self.generic.input_types[id(module)]
        implicit = {"in_channels": shapes[0][0], "in_shape": list(shapes[0]), "in_shapes": [list(s) for s in shapes]}
        use = spec_node(self.compiled.spec, module.source_path)
        given = set((getattr(use, "model_extra", None) or {}).keys())
        args: list[Any] = [implicit[name] for name in cls.implicit]
        keywords: list[tuple[str, Any]] = []
        for decl in cls.params:
            if decl.name not in given and not decl.required:
                continue
            value = module.block_args[decl.name]
            if decl.required:
                args.append(value)
            else:
                keywords.append((decl.name, value))
        return Call(cls.name, tuple(args), tuple(keywords))

    def sequential(self, module: Subgraph) -> Call:
        items = [(child.name, self.child_expression(child)) for child in module.children]
        if all(name == str(index) for index, (name, _) in enumerate(items)):
            return Call("nn.Sequential", tuple(expr for _, expr in items))
        self.uses_ordered_dict = True
        if all(pysource.is_attribute_name(name) for name, _ in items):
            return Call("nn.Sequential", (Call("OrderedDict", (), tuple(items)),))
        pairs = tuple(Seq((name, expr), "()") for name, expr in items)
        return Call("nn.Sequential", (Call("OrderedDict", (Seq(pairs),)),))

    def layer_call(self, node: Node, values: dict[str, Any] | None = None) -> Call:
        layer = node.layer
        torch_name = layer.torch_name or layer.type_name()
        construction = layer.construction(node.input_shapes or [])
        if construction is not None:
            return _nn_names(pysource.op_expression(construction, []))
        if type(layer).build is not Layer.build:
            self.unsupported(node, "builds a custom module (its layer type overrides build())")
        # torch.nn classes read as nn.Conv2d, as in hand-written models; others by their module path
        qualified = f"nn.{torch_name}" if layer.torch_module == "torch.nn" else f"{layer.torch_module}.{torch_name}"
        cls = getattr(importlib.import_module(layer.torch_module), torch_name, None)
        if not isinstance(cls, type):
            self.unsupported(node, f"has no class '{qualified}'")
        if layer.torch_module != "torch.nn":
            self.imports.add(layer.torch_module)
        kwargs = layer.torch_kwargs(node.input_shapes or [])
        if values is not None:
            kwargs = {key: values.get(key, value) for key, value in kwargs.items()}
        try:
            parameters = [p for p in inspect.signature(cls).parameters.values() if p.name not in _SKIPPED_ARGUMENTS]
        except (TypeError, ValueError):
            parameters = []
        args: list[Any] = []
        named: list[tuple[str, Any]] = []
        for parameter in parameters:
            if parameter.name not in kwargs:
                continue
            value = kwargs.pop(parameter.name)
            if not named and _is_positional(parameter):
                args.append(value)
            else:
                named.append((parameter.name, value))
        named += list(kwargs.items())
        return Call(qualified, tuple(args), tuple(named))

    def unsupported(self, node: Node, why: str) -> NoReturn:
        raise UsageError(
            [
                self.compiled.source.diagnostic(
                    "codegen",
                    f"cannot write source for '{node.path}': layer type '{node.type}' {why}",
                    node.source_path,
                    hint="use archspec.build() for this spec; codegen writes torch.nn and torchvision.ops layers "
                    "and add/mul/concat",
                    node=node.path,
                )
            ]
        )

    # -- docs --------------------------------------------------------------------------------
    def block_doc(self, module: Subgraph) -> str | None:
        if module.kind != "block" or not module.block:
            return None
        args = ", ".join(f"{k}={v!r}" for k, v in module.block_args.items())
        definition = getattr(self.compiled.spec, "blocks", None) or {}
        block = definition.get(module.block) if isinstance(definition, dict) else None
        doc = getattr(block, "doc", None)
        head = f"{module.block}({args})."
        return f"{head}\n\n{doc}" if doc else head


def spec_node(spec: Any, path: tuple[Any, ...]) -> Any:
    """The typed spec node at a source path (``("layers", 4)``, ``("blocks", "Up", "layers", 0)``)."""
    node = spec
    for key in path:
        node = node[key] if isinstance(node, dict | list) else getattr(node, key, None)
    return node


def _nn_names(call: Any) -> Any:
    """``torch.nn.X(...)`` calls written ``nn.X(...)``, as in hand-written models."""
    if not isinstance(call, Call):
        return call
    func = "nn." + call.func.removeprefix("torch.nn.") if call.func.startswith("torch.nn.") else call.func
    return Call(func, tuple(_nn_names(a) for a in call.args), tuple((k, _nn_names(v)) for k, v in call.kwargs))


def _is_positional(parameter: inspect.Parameter) -> bool:
    """Sizes lead positionally, as in hand-written models: ``nn.Conv2d(64, 128, kernel_size=3)``."""
    return (
        parameter.default is inspect.Parameter.empty
        and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        and (parameter.name.startswith(("in_", "out_", "num_")) or parameter.name == "normalized_shape")
    )


def model_class_name(compiled: CompiledSpec) -> str:
    """The generated model class: the spec's name in CamelCase (``resnet18`` -> ``Resnet18``)."""
    name = pysource.class_name(compiled.name)
    return f"{name}Model" if name in _Writer.RESERVED_CLASS_NAMES else name


def generate_source(compiled: CompiledSpec, *, origin: str | None = None) -> str:
    """The PyTorch source of a compiled, error-free spec, as one module's text."""
    if compiled.diagnostics:
        raise SpecError(compiled.diagnostics)
    forced = _checked_against_variants(compiled)
    writer = _Writer(compiled)
    writer.generic = ClassWriter(compiled, writer, writer.add_generic, forced)
    root = model_class_name(compiled)
    writer.taken.add(root)
    generic = writer.generic.root_class(root, _root_doc(compiled))
    if isinstance(generic, GenericClass):
        writer.classes.append(_Class(root, generic.base, generic.doc, generic.body))
        writer.uses_any |= generic.uses_any
    else:
        writer.module_class(compiled.root, root, _root_doc(compiled), exact=True, why=generic)
    classes = writer.classes

    lines = _docstring(_module_doc(compiled, origin), 0)
    lines.append("")
    if writer.uses_ordered_dict:
        lines += ["from collections import OrderedDict", ""]
    if writer.uses_any:
        lines += ["from typing import Any", ""]
    lines += ["import torch", *(f"import {name}" for name in sorted(writer.imports)), "from torch import nn", ""]
    lines.append(f"__all__ = [{pysource.literal(root)}]")
    for cls in classes:
        lines += ["", "", f"class {cls.name}({cls.base}):"]
        if cls.doc:
            lines += [*_docstring(cls.doc, 1), ""]
        if cls.comment:
            lines += [*cls.comment, ""]
        lines += cls.body
    source = "\n".join(lines) + "\n"
    compile(source, f"<archspec codegen of {compiled.name}>", "exec")  # a bug here is exit 3, never a broken file
    return source


def _generic_texts(compiled: CompiledSpec, forced: dict[str, str]) -> dict[str, str]:
    """The body of each class written over its parameters, by block name (``""``: the root)."""
    writer = _Writer(compiled)
    classes = ClassWriter(compiled, writer, lambda cls: None, forced, spec_defaults=True)
    texts = {}
    for block in getattr(compiled.spec, "blocks", None) or {}:
        cls = classes.block_class(block)
        if isinstance(cls, GenericClass):
            texts[block] = "\n".join(cls.body)
    root = classes.root_class(model_class_name(compiled), None)
    if isinstance(root, GenericClass):
        texts[""] = "\n".join(root.body)
    return texts


def _checked_against_variants(compiled: CompiledSpec) -> dict[str, str]:
    """Classes whose text changes when one parameter changes: written per instance, and why.

    See :mod:`archspec.backends.variants`; repeated until no class changes (a class that uses
    a class written per instance is written per instance too).
    """
    from archspec.backends.variants import variants

    forced: dict[str, str] = {}
    others = list(variants(compiled))
    for _ in range(len(getattr(compiled.spec, "blocks", None) or {}) + 2):
        texts = _generic_texts(compiled, forced)
        before = len(forced)
        for name, variant in others:
            for key, text in _generic_texts(variant, forced).items():
                if key in texts and text != texts[key] and key not in forced:
                    forced[key] = f"a size depends on the parameter '{name}' through a step codegen cannot follow"
        if len(forced) == before:
            break
    return forced


def _root_doc(compiled: CompiledSpec) -> str:
    """``Input (N, 3, 32, 32) -> output (N, 10)``; several inputs and outputs each by name, with dtypes."""
    inputs, outputs = compiled.inputs, compiled.outputs
    if list(inputs) == [INPUT] and list(outputs) == ["output"]:
        io = f"Input {_batch_text(inputs[INPUT])} -> output {_batch_text(outputs['output'])}"
    else:
        kind = "a dict" if compiled.root.result_names else "a tuple" if len(outputs) > 1 else "one tensor"
        ins = ", ".join(f"{name} {_batch_text(value)}" for name, value in inputs.items())
        outs = ", ".join(f"{name} {_batch_text(value)}" for name, value in outputs.items())
        io = f"Inputs (in forward's order): {ins}. Outputs ({kind}): {outs}"
    io += f"; {compiled.params_total:,} parameters."
    return f"{compiled.description}\n\n{io}" if compiled.description else io


def _batch_text(value: TensorType | None) -> str:
    """``(N, 5) int64 in [0, 10)``: the shape with its batch dim, and the dtype when not float32."""
    if value is None:
        return "(N, ?)"
    text = "(" + ", ".join(["N", *map(str, value.shape)]) + ("," if not value.shape else "") + ")"
    text += dtype_suffix(value.dtype)
    return text + (f" in [{value.low}, {value.high})" if value.low is not None else "")


def _module_doc(compiled: CompiledSpec, origin: str | None) -> str:
    lines = [f"{pysource.class_name(compiled.name)}: PyTorch source written by archspec {__version__}.", ""]
    if origin:
        lines.append(f"Spec: {origin}.")
    if compiled.params:
        lines.append("Parameters: " + ", ".join(f"{k}={v!r}" for k, v in compiled.params.items()) + ".")
    return "\n".join(lines)


def _docstring(text: str, indent: int) -> list[str]:
    """A docstring wrapped to the line length (ruff leaves docstrings alone; E501 does not)."""
    pad = INDENT * indent
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    text = escape_controls(text, keep="\n\t")  # a NUL cannot appear in source; an ESC would garble it
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()] or [""]
    if len(paragraphs) == 1 and len(pad) + len(paragraphs[0]) + 6 <= WIDTH and not paragraphs[0].endswith('"'):
        return [f'{pad}"""{paragraphs[0]}"""']
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            lines.append("")
        lines += textwrap.wrap(
            paragraph,
            width=WIDTH - len(pad),
            initial_indent='"""' if index == 0 else "",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return [pad + line if line else "" for line in [*lines, '"""']]


__all__ = ["generate_source", "model_class_name"]
