"""The one reader of ``.pt`` artefacts: exports, trainer checkpoints and state-dict files.

Every file is read with ``torch.load(weights_only=True)``, so no file can run code, and every
failure is an archspec error naming the file: a missing file or a folder (ReadError), a
TorchScript archive, a pickle of Python objects, a truncated or foreign file (UsageError with
the caller's diagnostic code). ``mmap=True`` maps a zip-format file instead of reading it: the
tensors' bytes are only touched when used, so ``archspec compat`` reads the shapes of a
500 MB file without loading it. A file read whole is first checked against this machine's memory.
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from archspec.backends.limits import format_bytes, memory_bytes
from archspec.errors import Diagnostic, ReadError, UsageError


def read_pt(path: str | Path, *, code: str, what: str = "a torch file", mmap: bool = False) -> Any:
    """The object in ``path``, loaded weights-only onto the CPU (memory-mapped where asked and possible)."""
    name = str(path)
    if not os.path.exists(path):
        raise ReadError([Diagnostic("io", f"'{name}' does not exist", name)])
    if os.path.isdir(path):
        raise ReadError([Diagnostic("io", f"'{name}' is a folder, not {what}", name)])
    try:
        with open(path, "rb"):  # an OS-level failure (permissions) is an I/O error; torch's own are about content
            pass
        mapped = mmap and zipfile.is_zipfile(path)  # the legacy (non-zip) format cannot be mapped
    except OSError as exc:
        raise ReadError([Diagnostic("io", f"cannot read '{name}': {exc.strerror or exc}", name)]) from None
    if not mapped:
        check_unpacked_size(path, code)
    try:
        with warnings.catch_warnings():  # "looks like a TorchScript archive", "pickle protocol": refused below
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mapped)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, OSError, EOFError... for bad content
        raise _refusal(exc, name, code, what) from None


def check_unpacked_size(path: str | Path, code: str) -> None:
    """A zip (a ``.pt``, a ``.npz``) whose members unpack to more than this machine's memory is refused unread.

    A few kilobytes of compressed zeros can claim gigabytes; numpy and torch would allocate them
    before finding out. The sizes come from the zip's directory, which bounds what they read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip (a legacy .pt, a damaged file): the reader says what is wrong
    memory = memory_bytes()
    if memory and unpacked > memory:
        raise pt_error(
            code,
            f"'{path}' unpacks to {format_bytes(unpacked)}, more than this machine's memory ({format_bytes(memory)})",
            str(path),
            "split it into smaller files, or use a machine with more memory",
        )


def _refusal(exc: Exception, name: str, code: str, what: str) -> UsageError:
    text = str(exc)
    if "TorchScript" in text:
        return pt_error(
            code,
            f"'{name}' is a TorchScript archive (a compiled program), not {what}",
            name,
            "save its weights instead: torch.save(torch.jit.load(file).state_dict(), 'weights.pt')",
        )
    if "Weights only load failed" in text and "Unsupported global" in text:
        reason = "it holds Python objects, not just tensors and plain data (refused unread: weights_only=True)"
    else:
        reason = f"it is corrupt, truncated or not a torch file ({first_line(exc)})"
    return pt_error(code, f"cannot read '{name}' as {what}: {reason}", name)


def first_line(exc: BaseException) -> str:
    """The gist of torch's message: its first line, or the unpickler's own complaint under its preamble."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    detail = re.search(r"WeightsUnpickler error:\s*(.+)", text)
    if detail:
        return detail.group(1).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def pt_error(code: str, message: str, file: str, hint: str | None = None) -> UsageError:
    return UsageError([Diagnostic(code, message, file, hint=hint)])


def is_state_dict(value: Any) -> bool:
    """A non-empty mapping of names to tensors (what ``module.state_dict()`` returns)."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())
    )


def state_dict_of(payload: dict[str, Any], name: str, code: str = "export") -> dict[str, torch.Tensor]:
    """The weights in an export (``state_dict``), a trainer checkpoint (``model``), or a plain state dict."""
    for key in ("state_dict", "model"):
        if is_state_dict(payload.get(key)):
            return payload[key]
    if is_state_dict(payload):
        return payload
    raise pt_error(
        code,
        f"'{name}' holds no state dict (a mapping of names to tensors)",
        name,
        "expected torch.save(model.state_dict()), an archspec export or checkpoint, or a dict with 'state_dict'",
    )


__all__ = ["check_unpacked_size", "first_line", "is_state_dict", "pt_error", "read_pt", "state_dict_of"]
