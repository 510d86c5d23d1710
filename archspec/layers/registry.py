"""The open registry of layer types.

Built-in families register on import with ``@register``; third-party packages
register through the ``archspec.layers`` entry-point group (each entry point is
a module to import, or a callable to call, that registers its layers). A
duplicate name is an error, never a silent override.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TypeVar

from archspec.layers.base import Layer

ENTRY_POINT_GROUP = "archspec.layers"
BUILTIN_MODULES = (
    "archspec.layers.conv",
    "archspec.layers.pool",
    "archspec.layers.norm",
    "archspec.layers.activation",
    "archspec.layers.linear",
    "archspec.layers.dropout",
    "archspec.layers.shape",
    "archspec.layers.rearrange",
    "archspec.layers.merge",
    "archspec.layers.tensor",
    "archspec.layers.stored",
)

_layers: dict[str, type[Layer]] = {}
_loaded = False
_version = 0

L = TypeVar("L", bound=type[Layer])


def register(cls: L) -> L:
    """Class decorator: make ``cls`` available as ``type: <its name>`` in specs."""
    global _version
    layer_types()  # built-ins first, so a plug-in can never shadow one silently
    name = cls.type_name()
    if name in _layers and _layers[name] is not cls:
        raise ValueError(f"layer type '{name}' is already registered by {_layers[name].__module__}")
    _layers[name] = cls
    _version += 1
    return cls


def layer_types() -> dict[str, type[Layer]]:
    """All registered layer types by name, loading built-ins and entry points once."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            loaded = entry.load()
            if isinstance(loaded, type) and issubclass(loaded, Layer):
                register(loaded)
            elif callable(loaded):
                loaded()
    return _layers


def registry_version() -> int:
    """Changes whenever a layer registers, so cached schemas know to rebuild."""
    layer_types()
    return _version


def only_builtin_layers() -> bool:
    """True when no plug-in registered a layer, so the packaged JSON Schema is exact."""
    return all(cls.__module__ in BUILTIN_MODULES for cls in layer_types().values())
