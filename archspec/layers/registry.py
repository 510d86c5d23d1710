"""The open registry of layer types.

Built-in families register their types on import, and each class is made when a spec
first uses it (``@register_class``, ``register_variant``); ``@register`` takes a class made
already. Third-party packages register through the ``archspec.layers`` entry-point group
(each entry point is a module to import, or a callable to call, that registers its layers).
A duplicate name is an error, never a silent override.

Entry points are scanned only when a name is not built in, or when every name is
needed (iteration: did-you-mean, the JSON Schema): reading every installed
package's metadata costs more than validating a small spec.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from functools import cache, partial
from typing import Any, TypeVar

from archspec.layers.base import Layer, nd_variant

ENTRY_POINT_GROUP = "archspec.layers"
BUILTIN_MODULES = (
    "archspec.layers.conv",
    "archspec.layers.pool",
    "archspec.layers.norm",
    "archspec.layers.activation",
    "archspec.layers.linear",
    "archspec.layers.embedding",
    "archspec.layers.recurrent",
    "archspec.layers.attention",
    "archspec.layers.dropout",
    "archspec.layers.shape",
    "archspec.layers.rearrange",
    "archspec.layers.merge",
    "archspec.layers.tensor",
    "archspec.layers.stored",
    "archspec.layers.transformer",
    "archspec.layers.attention_ops",
)


class _Registry(Mapping[str, type[Layer]]):
    """Layer classes by name; a class registered lazily is made on first lookup.

    Names, membership and iteration never make a class, so did-you-mean hints and the
    validation of a spec that uses a few types pay only for those (a Pydantic class costs
    about a millisecond to create).
    """

    def __init__(self) -> None:
        self.classes: dict[str, type[Layer]] = {}
        self.pending: dict[str, Callable[[], type[Layer]]] = {}
        self.names: list[str] = []

    def __getitem__(self, name: str) -> type[Layer]:
        if name not in self.classes:
            if name not in self.pending and _load_plugins():
                return self[name]
            make = self.pending.pop(name)  # KeyError for an unknown name, as a dict
            cls = make()
            if cls.type_name() != name:
                raise ValueError(f"lazily registered layer '{name}' made a class for '{cls.type_name()}'")
            self.classes[name] = cls
        return self.classes[name]

    def __contains__(self, name: object) -> bool:
        if name in self.classes or name in self.pending:
            return True
        return _load_plugins() and name in self

    def __iter__(self) -> Iterator[str]:
        _load_plugins()
        return iter(self.names)

    def __len__(self) -> int:
        _load_plugins()
        return len(self.names)

    def known(self, name: str) -> bool:
        """Registered so far, without scanning plug-ins (for checks while registering)."""
        return name in self.classes or name in self.pending

    def add(self, name: str, cls: type[Layer] | None, make: Callable[[], type[Layer]] | None = None) -> None:
        if self.known(name):
            owner = self.classes[name].__module__ if name in self.classes else "a lazy registration"
            raise ValueError(f"layer type '{name}' is already registered by {owner}")
        self.names.append(name)
        if cls is not None:
            self.classes[name] = cls
        else:
            self.pending[name] = make  # type: ignore[assignment]


_layers = _Registry()
_plugins: set[str] = set()
"""Names registered by classes outside the built-in families."""
_by_module: dict[str, list[str]] = {}
"""Names registered with :func:`register_class`, by the module that defines them."""
_loaded = False
_plugins_loaded = False
_version = 0

L = TypeVar("L", bound=type[Layer])


def register(cls: L) -> L:
    """Class decorator: make ``cls`` available as ``type: <its name>`` in specs."""
    global _version
    layer_types()  # built-ins first, so a plug-in can never shadow one silently
    name = cls.type_name()
    if _layers.classes.get(name) is not cls:
        _layers.add(name, cls)
        _version += 1
        if cls.__module__ not in BUILTIN_MODULES:
            _plugins.add(name)
    return cls


def register_lazy(name: str, make: Callable[[], type[Layer]]) -> None:
    """Register layer type ``name``, whose class ``make()`` creates when a spec first uses it
    (the built-in families' N-d variants and aliases)."""
    global _version
    layer_types()
    _layers.add(name, None, make)
    _version += 1


def register_class(name: str) -> Callable[[Callable[[], L]], Callable[[], L]]:
    """Decorator for a function whose body is the class statement of layer type ``name``: registered
    now, run when a spec first uses the type.

    Creating a Pydantic class costs about a millisecond, the built-in families define ~85 and a
    spec uses a few. The class looks as if defined at module level (:func:`as_module_level`)."""

    def decorate(make: Callable[[], L]) -> Callable[[], L]:
        register_lazy(name, lambda: as_module_level(make()))
        _by_module.setdefault(make.__module__, []).append(name)
        if make.__module__ not in BUILTIN_MODULES:
            _plugins.add(name)
        return make

    return decorate


def lazy_base(make: Callable[[], L]) -> Callable[[], L]:
    """Decorator for a function whose body is the class statement of a base class that only classes
    made on first use derive from (``register_variant``'s, aliases'): made once, with the first of them."""
    return cache(lambda: as_module_level(make()))


def as_module_level(cls: L) -> L:
    """A class made in a function, looking as if defined at module level: its ``__qualname__`` is its
    name (the family module's ``__getattr__``, :func:`module_class`, finds it for ``import`` and
    pickle) and its docstring has the module level's indentation (LSP hovers show it as written)."""
    cls.__qualname__ = cls.__name__
    if cls.__doc__:
        cls.__doc__ = cls.__doc__.replace("\n        ", "\n    ")
    return cls


def module_class(module: str, attribute: str) -> type[Layer]:
    """A family module's ``__getattr__``: its layer class named ``attribute`` (made now if need be).

    Other names (``__path__``, which ``from module import x`` asks for) make nothing."""
    for name in () if attribute.startswith("_") else _by_module.get(module, ()):
        cls = _layers[name]
        if cls.__name__ == attribute:
            return cls
    raise AttributeError(f"module '{module}' has no attribute '{attribute}'")


def register_variant(
    base: type[Layer] | Callable[[], type[Layer]], name: str, ndim: int, **sized: tuple[Any, Any]
) -> None:
    """Register the N-d variant ``name`` of ``base`` (:func:`~archspec.layers.base.nd_variant`), made on
    first use; ``base`` may be the :func:`lazy_base` function that makes it."""
    register_lazy(name, partial(_variant, base, name, ndim, sized))


def _variant(
    base: type[Layer] | Callable[[], type[Layer]], name: str, ndim: int, sized: dict[str, tuple[Any, Any]]
) -> type[Layer]:
    return nd_variant(base if isinstance(base, type) else base(), name, ndim, **sized)


def layer_types() -> Mapping[str, type[Layer]]:
    """All registered layer types by name, loading built-ins once (plug-ins on first need)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
    return _layers


def _load_plugins() -> bool:
    """Load the entry-point plug-ins once; True when this call loaded them (a caller may retry)."""
    global _plugins_loaded
    if _plugins_loaded:
        return False
    _plugins_loaded = True
    layer_types()
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        loaded = entry.load()
        if isinstance(loaded, type) and issubclass(loaded, Layer):
            register(loaded)
        elif callable(loaded):
            loaded()
    return True


def registry_version() -> int:
    """Changes whenever a layer registers, so cached schemas know to rebuild."""
    _load_plugins()
    return _version


def only_builtin_layers() -> bool:
    """True when no plug-in registered a layer, so the packaged JSON Schema is exact."""
    _load_plugins()
    return not _plugins
