"""Checkpoints: one dict of tensors and plain data, written atomically, read with ``weights_only=True``.

Layout (``FORMAT``/``VERSION`` identify it)::

    format, version, archspec_version, torch_version
    spec:      {name, file, text, sha256, params}
    settings:  TrainSettings.to_dict()
    data:      Data.describe() (the preprocessing included)
    epoch:     completed epochs
    model, optimizer, scheduler (or None), scaler (or None): state dicts
    rng:       archspec.train.rng.capture() (tensors)
    history:   the metrics.jsonl objects, one per completed epoch
    best:      {epoch, val_acc}
    world_size

``last.pt`` is the source of truth of a run; ``best.pt`` is a copy of ``last.pt`` as it was
after the best epoch.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import Any

import torch

from archspec.errors import UsageError
from archspec.fileio import write_bytes_atomic
from archspec.train.config import usage

FORMAT = "archspec-checkpoint"
VERSION = 1
REQUIRED = {
    "spec": dict,
    "settings": dict,
    "data": dict,
    "epoch": int,
    "model": dict,
    "optimizer": dict,
    "rng": dict,
    "history": list,
    "best": dict,
}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4" from a foreign pickle: refused below anyway
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Weights only load failed" in str(exc):
            reason = "it holds Python objects, not just tensors and plain data"
        raise error(
            f"cannot read '{name}' as an archspec checkpoint: it is corrupt, truncated or not a checkpoint ({reason})",
            name,
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        what = "a plain state dict or another tool's file" if isinstance(payload, dict) else type(payload).__name__
        raise error(f"'{name}' is not an archspec checkpoint ({what})", name)
    if payload.get("version") != VERSION:
        raise error(
            f"'{name}' is an archspec checkpoint of format version {payload.get('version')!r}; "
            f"this archspec reads version {VERSION}",
            name,
        )
    for key, kind in REQUIRED.items():
        if not isinstance(payload.get(key), kind):
            raise error(f"'{name}' is a damaged archspec checkpoint: '{key}' is missing or not a {kind.__name__}", name)
    return payload


def check_spec(payload: dict[str, Any], compiled: Any, path: str | Path, *, exact: bool = True) -> None:
    """Refuse a checkpoint of another spec (or, with ``exact``, of other text or parameters)."""
    spec = payload["spec"]
    if spec.get("name") != compiled.name:
        raise error(
            f"'{path}' holds a checkpoint of spec '{spec.get('name')}', not '{compiled.name}'",
            str(path),
            hint="pass the spec it was trained from",
        )
    if exact and (spec.get("sha256") != text_hash(compiled.source.text) or spec.get("params") != compiled.params):
        changed = "parameters" if spec.get("sha256") == text_hash(compiled.source.text) else "text"
        raise error(
            f"'{path}' was saved by a run of '{compiled.name}' with different spec {changed}",
            str(path),
            hint="resume with the spec and --set values the run started with, or start a new run in another --out",
        )


def error(message: str, file: str, hint: str | None = None) -> UsageError:
    """A checkpoint that cannot be used: exit 2, naming the file."""
    return usage("checkpoint", message, file=file, hint=hint)
