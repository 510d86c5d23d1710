"""The one check of static state_dict entries against a real module, shared by the contract tests."""

from __future__ import annotations

from typing import Any

from archspec.layers.base import Layer, Shape, StateEntry


def torch_state(module: Any) -> list[tuple[str, StateEntry]]:
    """``module.state_dict()`` as ``(key, (shape, dtype, kind))`` pairs, in its order."""
    parameters = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    return [
        (key, StateEntry(tuple(value.shape), str(value.dtype).removeprefix("torch."), _kind(key, parameters)))
        for key, value in module.state_dict(keep_vars=True).items()
    ]


def _kind(key: str, parameters: set[str]) -> Any:
    return "parameter" if key in parameters else "buffer"


def assert_state_matches(layer: Layer, inputs: list[Shape], module: Any, case: str) -> None:
    """The layer's static entries are the module's state_dict: names, shapes, dtypes, kinds and order."""
    static = list(layer.state_entries(inputs).items())
    real = torch_state(module)
    assert static == real, f"{case}: static state_dict entries\n  {static}\ndiffer from torch's\n  {real}"
