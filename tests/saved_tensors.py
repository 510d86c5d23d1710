"""What autograd really keeps for backward: the truth ``archspec.backends.memory`` is checked against.

A forward pass in train mode under ``torch.autograd.graph.saved_tensors_hooks`` sees every tensor an
operation saves for its backward. Tensors saved twice (a conv's output saved by a following ReLU and
by the next conv, a view of it saved by a third) share one storage: each storage counts once, with its
whole size (``untyped_storage().nbytes()``), since that is what stays allocated. Storages of the
model's parameters and buffers are counted apart: saving them costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class SavedBytes:
    activations: int = 0
    """Bytes of distinct storages saved that are neither parameters nor buffers (the input included)."""
    params: int = 0
    """Bytes of distinct parameter and buffer storages saved (no memory of their own)."""
    tensors: list[tuple[tuple[int, ...], str, int]] = field(default_factory=list)
    """Every distinct activation storage: (shape of the first tensor saved on it, dtype, bytes)."""


def _key(tensor: torch.Tensor) -> int:
    storage = tensor.untyped_storage()
    return storage.data_ptr() if storage.nbytes() else id(storage)


def measure(model: torch.nn.Module, *inputs: Any, autocast: torch.dtype | None = None) -> SavedBytes:
    """Run ``model(*inputs)`` once in train mode and sum the storages its backward would keep."""
    model.train()
    state = {_key(t) for t in [*model.parameters(), *model.buffers()]}
    seen: dict[int, tuple[torch.Tensor, int]] = {}
    result = SavedBytes()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key = _key(tensor)
        if key not in seen:
            seen[key] = (tensor, tensor.untyped_storage().nbytes())
            if key in state:
                result.params += seen[key][1]
            else:
                result.activations += seen[key][1]
                result.tensors.append((tuple(tensor.shape), str(tensor.dtype).removeprefix("torch."), seen[key][1]))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if autocast is None:
            output = model(*inputs)
        else:
            with torch.autocast("cpu", dtype=autocast):
                output = model(*inputs)
    del output  # ``seen`` held every saved storage until here, so no address was reused
    return result


def live_peak(model: torch.nn.Module, *inputs: Any) -> int:
    """The most bytes of tensor storages alive at once in ``model(*inputs)`` in eval mode under
    ``no_grad``, the inputs included and the parameters and buffers left out: every storage an
    operation returns counts from then until it is freed (a ``TorchDispatchMode`` and finalizers)."""
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    state = {_key(t) for t in [*model.parameters(), *model.buffers()]}
    counts = {"live": sum(x.untyped_storage().nbytes() for x in inputs), "peak": 0}
    counts["peak"] = counts["live"]
    alive: set[int] = set()

    def free(key: int, size: int) -> None:
        counts["live"] -= size
        alive.discard(key)

    class Live(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            for tensor in tree_flatten(out)[0]:
                if not isinstance(tensor, torch.Tensor):
                    continue
                storage = tensor.untyped_storage()
                key = storage.data_ptr()
                if key and key not in alive and key not in state:
                    alive.add(key)
                    counts["live"] += storage.nbytes()
                    counts["peak"] = max(counts["peak"], counts["live"])
                    weakref.finalize(storage, free, key, storage.nbytes())
            return out

    model.eval()
    with torch.no_grad(), Live():
        output = model(*inputs)
    del output
    return counts["peak"]
