"""The torch backend: a compiled spec becomes nested ``nn.Module`` objects.

* A module whose children form a chain is an ``nn.Sequential`` with the spec's
  ids as child names (a block, or the root, gets its own ``nn.Sequential``
  subclass so that ``print(model)`` shows ``BasicBlock(...)``, ``Resnet18(...)``).
* Any other module (residual adds, concats) becomes a generated class: its
  ``forward`` is straight-line Python written from the graph
  (:mod:`archspec.backends.pysource`) and compiled once per distinct structure,
  so there is no per-call interpretation, and it scripts, traces, exports and
  compiles like hand-written code. Residual adds accumulate in place where that
  is unobservable, and dead values are ``del``-eted at once, as hand-written code
  that reassigns ``out`` frees them.

Leaf modules come from each layer's ``build`` (the ``torch.nn`` class with the
layer's ``torch_kwargs``); learned tensors and buffers become the module's own
parameters and buffers. Functional layers (add, concat, permute...) are
expressions in the generated ``forward``, written from each layer's
backend-neutral :class:`~archspec.layers.base.Op`.
"""

from __future__ import annotations

import functools
import hashlib
import linecache
import operator
from collections import OrderedDict
from typing import Any, NamedTuple

import torch
from torch import nn

from archspec.backends import pysource
from archspec.backends.limits import (
    DEFAULT_MAX_ACTIVATION_BYTES,
    DEFAULT_MAX_PARAM_BYTES,
    check_activation_memory,
    check_param_memory,
)
from archspec.compiler.ir import CompiledSpec, Subgraph
from archspec.errors import SpecError
from archspec.layers.base import CALL_MODULE, OPERATORS, Arg, InTraining, Op, SizeOf, Slice, Symbol

GENERATED_MODULE = "archspec.generated"
"""``__module__`` of generated classes. They are not importable; they pickle by value (:func:`_restore`)."""

_classes: dict[tuple[str, str, str], type[nn.Module]] = {}


def build_module(
    compiled: CompiledSpec,
    *,
    max_param_bytes: int | None = DEFAULT_MAX_PARAM_BYTES,
    max_activation_bytes: int | None = DEFAULT_MAX_ACTIVATION_BYTES,
) -> nn.Module:
    """Build the torch module tree for a compiled, error-free spec (float32, torch's default init).

    Refused before allocating when the parameters, or the activations of a one-sample forward
    pass, would need more than the limits (``None``: no limit).
    """
    if compiled.diagnostics:
        raise SpecError(compiled.diagnostics)
    check_param_memory(compiled, max_param_bytes)
    check_activation_memory(compiled, max_activation_bytes, batch=1, what="a forward pass")
    return _build(compiled.root, pysource.class_name(compiled.name))


def module_class_name(module: Subgraph, root_name: str) -> str:
    """The class name a module gets: the root's from the spec name, a block's its block name."""
    if module.kind == "root":
        return root_name
    if module.kind == "block" and module.block:
        return pysource.class_name(module.block, "Block")
    return pysource.class_name(module.name, "Group")


def _build(module: Subgraph, class_name: str) -> nn.Module:
    children: OrderedDict[str, nn.Module] = OrderedDict()
    for child in module.children:
        if isinstance(child, Subgraph):
            children[child.name] = _build(child, module_class_name(child, class_name))
        elif child.layer.stored:
            children[child.name] = _stored_tensor(child.layer)
        elif not child.layer.functional:
            children[child.name] = child.layer.build(child.input_shapes or [])
    if module.is_chain and len(children) == len(module.children):
        if module.kind == "group":
            return nn.Sequential(children)
        return _sequential_class(class_name)(children)
    source = "\n".join(pysource.forward_lines(pysource.forward(module), indent=1, release=True)) + "\n"
    return _graph_class(class_name, source)(children)


def _restore(kind: str, name: str, source: str) -> nn.Module:
    """Unpickling: recreate the generated class (from its name and source), then an empty instance."""
    cls = _sequential_class(name) if kind == "sequential" else _graph_class(name, source)
    return cls.__new__(cls)


class _Picklable:
    """Generated classes are not importable; pickle them as (kind, name, forward source) instead."""

    _archspec_kind: str = ""
    _archspec_source: str = ""

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        cls = type(self)
        return _restore, (cls._archspec_kind, cls.__name__, cls._archspec_source), self.__dict__.copy()


class GeneratedModule(_Picklable, nn.Module):
    """Base of generated graph modules: children given at construction, ``forward`` generated."""

    def __init__(self, children: OrderedDict[str, Any]) -> None:
        super().__init__()
        for name, child in children.items():
            if isinstance(child, nn.Parameter):
                self.register_parameter(name, child)
            elif isinstance(child, StoredBuffer):
                self.register_buffer(name, child.tensor, persistent=child.persistent)
            else:
                self.add_module(name, child)


class NamedSequential(_Picklable, nn.Sequential):
    """Base of the ``nn.Sequential`` subclasses that give the root and chain blocks their names."""


def _sequential_class(name: str) -> type[nn.Module]:
    key = ("sequential", name, "")
    if key not in _classes:
        namespace = {"__module__": GENERATED_MODULE, "__doc__": None, "_archspec_kind": "sequential"}
        _classes[key] = type(name, (NamedSequential,), namespace)
    return _classes[key]


def _graph_class(name: str, source: str) -> type[nn.Module]:
    """One class per (name, forward source): instances with the same structure share it."""
    key = ("graph", name, source)
    if key not in _classes:
        digest = hashlib.sha1(f"{name}\n{source}".encode()).hexdigest()[:12]
        filename = f"<archspec-generated {name} {digest}>"
        # inspect.getsource (TorchScript, tracebacks) reads generated code from linecache.
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        namespace: dict[str, Any] = {"torch": torch, "operator": operator}
        exec(compile(source, filename, "exec"), namespace)  # our own generated source
        forward = namespace["forward"]
        forward.__qualname__ = f"{name}.forward"
        attributes = {
            "__module__": GENERATED_MODULE,
            "__doc__": None,
            "forward": forward,
            "_archspec_kind": "graph",
            "_archspec_source": source,
        }
        _classes[key] = type(name, (GeneratedModule,), attributes)
    return _classes[key]


def run_op(op: Op, args: list[Any], module: Any = None, *, training: bool = False) -> Any:
    """Evaluate an :class:`~archspec.layers.base.Op` with torch (the generated code does the same);
    ``module`` is what :data:`~archspec.layers.base.CALL_MODULE` calls; eval mode unless ``training``."""

    def value(item: Any) -> Any:
        if isinstance(item, Arg):
            return args[item.index]
        if isinstance(item, SizeOf):
            return args[item.arg.index].shape[item.dim]
        if isinstance(item, Symbol):
            return _torch_attribute(item.text)
        if isinstance(item, InTraining):
            return item.value if training else item.otherwise
        if isinstance(item, Op):
            return run_op(item, args, module, training=training)
        if isinstance(item, Slice):
            return slice(item.start, item.end, item.step)
        if isinstance(item, list | tuple):
            return type(item)(value(i) for i in item)
        return item

    positional = [value(a) for a in op.args]
    named = {k: value(v) for k, v in op.kwargs}
    if op.target in OPERATORS:
        return functools.reduce(getattr(operator, OPERATORS[op.target]), positional)
    if op.target == "[]":
        index = positional[1]  # x[1] is x[(1,)] for a tensor, not for the tuple a module may return
        return positional[0][index[0] if len(index) == 1 else index]
    if op.target == CALL_MODULE:
        return module(*positional, **named)
    if op.target.startswith("Tensor."):
        return getattr(positional[0], op.target.removeprefix("Tensor."))(*positional[1:], **named)
    return _torch_attribute(op.target)(*positional, **named)


def _torch_attribute(path: str) -> Any:
    head, *rest = path.split(".")
    if head != "torch":
        raise ValueError(f"'{path}' is not in the torch namespace")
    return functools.reduce(getattr, rest, torch)


def _stored_tensor(layer: Any) -> Any:
    """A learned tensor becomes an ``nn.Parameter``, a buffer a :class:`StoredBuffer`."""
    tensor = run_op(layer.creation(), [])
    if layer.learned:
        return nn.Parameter(tensor, requires_grad=bool(layer.requires_grad))
    return StoredBuffer(tensor, bool(layer.persistent))


class StoredBuffer(NamedTuple):
    """What a buffer node builds: the tensor, and whether the state_dict saves it."""

    tensor: torch.Tensor
    persistent: bool


__all__ = ["GeneratedModule", "NamedSequential", "build_module", "module_class_name"]
