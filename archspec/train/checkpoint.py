"""Checkpoints: one dict of tensors and plain data (:class:`CheckpointRecord`; docs/training.md#checkpoints),
written atomically, read with ``weights_only=True`` and validated whole on load by the models that wrote its
entries, so that a damaged or hostile file is a usage error naming the file and the field.

``last.pt`` is the source of truth of a run; ``best.pt`` is a copy of ``last.pt`` as it was
after the best epoch.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, StrictFloat, StrictInt, StrictStr

from archspec.backends.ptfile import read_pt
from archspec.backends.records import SpecRecord, short, validated
from archspec.backends.records import text_hash as text_hash
from archspec.compiler.ir import CompiledSpec
from archspec.errors import UsageError
from archspec.fileio import write_bytes_atomic
from archspec.frontend.models import TrainConfig
from archspec.layers.base import NonNegativeInt, Number, PositiveInt
from archspec.train.config import usage
from archspec.train.data import DataRecord

FORMAT = "archspec-checkpoint"
VERSION = 1
MAX_EPOCHS_RECORDED = 1_000_000

Tensor = InstanceOf[torch.Tensor]
Loss = StrictFloat | StrictInt
"""A loss or accuracy as measured: a diverged run's NaN is a fact worth keeping, so not refused."""


class HistoryRow(BaseModel):
    """One line of ``metrics.jsonl``: an epoch's averages."""

    model_config = ConfigDict(extra="allow", frozen=True)

    epoch: PositiveInt
    train_loss: Loss
    train_acc: Loss
    val_loss: Loss
    val_acc: Loss
    lr: Annotated[Number, Field(ge=0)]
    seconds: Annotated[Number, Field(ge=0)]


class BestRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    epoch: NonNegativeInt
    val_acc: Loss
    val_loss: Loss | None = None


class CheckpointRecord(BaseModel):
    """A whole checkpoint: the module docstring's layout. Tensors are checked for type; torch checks their shapes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["archspec-checkpoint"]
    version: Literal[1]
    archspec_version: Annotated[StrictStr, Field(max_length=100)]
    torch_version: Annotated[StrictStr, Field(max_length=100)]
    spec: SpecRecord
    settings: TrainConfig
    data: DataRecord
    epoch: Annotated[StrictInt, Field(ge=0, le=MAX_EPOCHS_RECORDED)]
    model: dict[StrictStr, Tensor]
    optimizer: dict[StrictStr, Any]
    scheduler: dict[StrictStr, Any] | None = None
    scaler: dict[StrictStr, Any] | None = None
    rng: dict[StrictStr, Any]  # torch, random and NumPy check their own states on restore
    history: Annotated[list[HistoryRow], Field(max_length=MAX_EPOCHS_RECORDED)]
    best: BestRecord
    world_size: PositiveInt


def to_bytes(payload: dict[str, Any]) -> bytes:
    """Serialise in memory, so that the file is written in one atomic step."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def save(path: str | Path, payload: dict[str, Any]) -> None:
    """Serialise in memory, then temp file + fsync + ``os.replace``: a kill leaves the old file or the new one."""
    write_bytes_atomic(path, to_bytes(payload))


def load(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint; a missing, corrupt or foreign file is a UsageError that says which."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise error(f"checkpoint '{name}' does not exist" if not path.exists() else f"'{name}' is not a file", name)
    payload = read_pt(path, code="checkpoint", what="an archspec checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        what = "a plain state dict or another tool's file" if isinstance(payload, dict) else type(payload).__name__
        raise error(f"'{name}' is not an archspec checkpoint ({what})", name)
    if payload.get("version") != VERSION:
        raise error(
            f"'{name}' is an archspec checkpoint of format version {short(payload.get('version'))}; "
            f"this archspec reads version {VERSION}",
            name,
        )
    validated(CheckpointRecord, payload, name, what="archspec checkpoint", code="checkpoint")
    return payload


def check_spec(payload: dict[str, Any], compiled: CompiledSpec, path: str | Path, *, exact: bool = True) -> None:
    """Refuse a checkpoint of another spec (or, with ``exact``, of other text or parameters)."""
    spec = payload["spec"]  # validated by load(): name, sha256 and params are there
    if spec["name"] != compiled.name:
        raise error(
            f"'{path}' holds a checkpoint of spec '{spec['name']}', not '{compiled.name}'",
            str(path),
            hint="pass the spec it was trained from",
        )
    same_text = spec["sha256"] == text_hash(compiled.source.text)
    if exact and not (same_text and spec["params"] == compiled.params):
        changed = "parameters" if same_text else "text"
        raise error(
            f"'{path}' was saved by a run of '{compiled.name}' with different spec {changed}",
            str(path),
            hint="resume with the spec and --set values the run started with, or start a new run in another --out",
        )


def error(message: str, file: str, hint: str | None = None) -> UsageError:
    """A checkpoint that cannot be used: exit 2, naming the file."""
    return usage("checkpoint", message, file=file, hint=hint)
