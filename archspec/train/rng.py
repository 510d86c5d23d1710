"""Randomness as a function of (seed, epoch): what makes a killed-and-resumed run bit-identical.

Every epoch reseeds torch (dropout), Python's ``random`` and NumPy's global generator
from ``derive(seed, "epoch", epoch, rank)``, and the data order is the DistributedSampler's
for seed ``derive(seed, "order")`` and the epoch. Nothing random carries over
from one epoch to the next except through the checkpointed model and optimizer, so a
run resumed at an epoch boundary continues exactly as if it had never stopped. The
states are still checkpointed (as tensors, so ``torch.load(weights_only=True)`` reads
them) and restored, for anything that draws outside the per-epoch streams.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import numpy as np
import torch


def derive(seed: int, *parts: object) -> int:
    """A 63-bit seed from ``seed`` and labels: independent streams, stable across platforms and runs."""
    text = ":".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def seed_epoch(seed: int, epoch: int, rank: int = 0) -> None:
    """Seed torch (CPU and CUDA), ``random`` and NumPy for one epoch."""
    value = derive(seed, "epoch", epoch, rank)
    torch.manual_seed(value)
    random.seed(value)
    np.random.seed(value % 2**32)


def capture() -> dict[str, Any]:
    """Every RNG state, as tensors and plain numbers."""
    version, state, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": {"version": version, "state": torch.tensor(state, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "cuda": list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else [],
    }
    return states


def restore(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    py = states["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = states["numpy"]
    np.random.set_state(
        (npy["name"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["cached_gaussian"])
    )
    cuda = states.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
