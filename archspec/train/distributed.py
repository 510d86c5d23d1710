"""``torchrun``: one process per device, DistributedDataParallel, metrics summed across ranks.

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
when ``WORLD_SIZE`` > 1 the trainer joins the process group (nccl on CUDA, gloo on CPU),
wraps the model in DDP, shards the training set with a DistributedSampler and lets rank 0
alone log and write files. ``--batch-size`` is per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from archspec.train.config import usage

DEVICE_NAMES = {"cuda": "CUDA", "mps": "Apple's MPS"}


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
        return tensor

    def broadcast_buffers(self, model: torch.nn.Module) -> None:
        """Rank 0's buffers (BatchNorm statistics) everywhere; DDP syncs them before a forward, not after."""
        if self.enabled:
            for buffer in model.buffers():
                torch.distributed.broadcast(buffer, src=0)

    def close(self) -> None:
        if self.enabled and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def choose_device(preference: str, local_rank: int = 0, distributed: bool = False) -> torch.device:
    """``auto``: CUDA, else MPS, else CPU; an unavailable device is a usage error."""
    mps = torch.backends.mps.is_available()
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": mps and not distributed}
    if preference == "auto":
        preference = next(kind for kind in ("cuda", "mps", "cpu") if available[kind])
    if not available[preference]:
        what = f"{DEVICE_NAMES[preference]} is not available here"
        if preference == "mps" and mps:
            what = "distributed training does not support MPS"
        raise usage("device", f"--device {preference}: {what}", hint="use --device auto or cpu")
    if preference == "cuda" and distributed:
        if local_rank >= torch.cuda.device_count():
            raise usage(
                "device",
                f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible)",
                hint="run torchrun with --nproc_per_node at most the number of GPUs",
            )
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device(preference)


def setup(preference: str) -> tuple[Dist, torch.device]:
    """Join the process group when launched by torchrun with several processes."""
    rank, world, local_rank = (int(os.environ.get(name, "0")) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    if world <= 1:
        return Dist(), choose_device(preference)
    device = choose_device(preference, local_rank, distributed=True)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend, rank=rank, world_size=world)
    return Dist(rank=rank, world=world, local_rank=local_rank, backend=backend), device
