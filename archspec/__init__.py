"""archspec: declarative architecture specs for PyTorch, checked statically.

The public API is listed here; everything else is private. Importing archspec
never imports torch: only :func:`build`, :func:`load_model` (and the trainer) do, when called.
"""

from archspec.api import build, load, load_model, memory
from archspec.compiler.ir import CompiledSpec, Node, Subgraph
from archspec.compiler.pipeline import LoadedSpec, load_spec
from archspec.errors import ArchspecError, Diagnostic, ReadError, SpecError, UsageError, WriteError
from archspec.layers.base import Layer, LayerResult
from archspec.layers.registry import layer_types, register

__all__ = [
    "ArchspecError",
    "CompiledSpec",
    "Diagnostic",
    "Layer",
    "LayerResult",
    "LoadedSpec",
    "Node",
    "ReadError",
    "SpecError",
    "Subgraph",
    "UsageError",
    "WriteError",
    "build",
    "layer_types",
    "load",
    "load_model",
    "load_spec",
    "memory",
    "register",
]
__version__ = "0.2.0"
