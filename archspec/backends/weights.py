"""Weights files against a spec: ``archspec compat``, and ``--weights`` on ``build`` and ``train``.

A weights file is ``torch.save(model.state_dict())`` (torchvision's weights files are such),
an ``archspec export --format pt``, a trainer checkpoint, or any dict holding a state dict
under ``state_dict`` or ``model``. It is read weights-only and memory-mapped
(:func:`~archspec.backends.ptfile.read_pt`): comparing its shapes with the spec's static
entries (:meth:`~archspec.compiler.ir.CompiledSpec.state_entries`) touches no tensor data
and builds no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archspec.backends.ptfile import pt_error, read_pt, state_dict_of
from archspec.backends.statecompare import COMPAT_LABELS, Comparison, compare, report_text, verdict
from archspec.compiler.ir import CompiledSpec
from archspec.layers.base import StateEntry

KINDS = {"archspec-model": "an archspec export", "archspec-checkpoint": "an archspec training checkpoint"}
REFUSED = "does not load: "
SHOWN_PROBLEMS = 12
"""Keys listed in a refusal of ``--weights --strict`` (the full list: ``archspec compat``)."""


@dataclass
class Weights:
    """The state dict in a weights file, and what the file is."""

    name: str
    kind: str
    tensors: dict[str, torch.Tensor]
    versions: dict[str, Any] | None
    """``state_dict._metadata`` (module prefix -> ``{"version": n}``), which torch's loading reads."""

    def entries(self) -> dict[str, StateEntry]:
        return {
            key: StateEntry(tuple(value.shape), str(value.dtype).removeprefix("torch."))
            for key, value in self.tensors.items()
        }

    def describe(self) -> str:
        return f"{self.kind}, {len(self.tensors):,} tensors"


def read_weights(path: str | Path) -> Weights:
    """Read a weights file (memory-mapped, weights-only); refuse anything that holds no state dict."""
    name = str(path)
    payload = read_pt(path, code="weights", what="a weights file", mmap=True)
    if not isinstance(payload, dict):
        raise pt_error("weights", f"'{name}' holds a {type(payload).__name__}, not a state dict", name)
    tensors = state_dict_of(payload, name, code="weights")
    kind = KINDS.get(str(payload.get("format")), "a state dict" if tensors is payload else "a checkpoint")
    metadata = getattr(tensors, "_metadata", None)
    return Weights(name, kind, dict(tensors), metadata if isinstance(metadata, dict) else None)


def check(compiled: CompiledSpec, weights: Weights) -> Comparison:
    """What a strict ``load_state_dict`` of the file into the spec's model would do, key by key."""
    return compare(compiled.state_entries(), weights.entries(), versions=weights.versions)


def plan(compiled: CompiledSpec, weights: Weights, *, strict: bool) -> Comparison:
    """Check the file before the model is built: with ``strict``, every key must load, else a
    UsageError lists the problems (the full list: ``archspec compat``)."""
    comparison = check(compiled, weights)
    if strict and not comparison.strict_ok:
        lines = report_text(comparison, labels=COMPAT_LABELS)
        more = len(lines) - SHOWN_PROBLEMS
        shown = lines[:SHOWN_PROBLEMS] + ([f"  ... and {more} more"] if more > 0 else [])
        hint = comparison.prefix_hint or "pass --no-strict to load what fits, or see every key with archspec compat"
        raise pt_error(
            "weights",
            f"the weights in '{weights.name}' do not fit the spec: {verdict(comparison).removeprefix(REFUSED)}\n"
            + "\n".join(shown),
            weights.name,
            hint,
        )
    return comparison


def load_into(model: nn.Module, weights: Weights, comparison: Comparison) -> list[str]:
    """Load the keys that fit (a strict plan: all of them); return lines saying what was loaded and skipped.

    Shape mismatches, missing and unexpected keys are skipped: torch's own ``strict=False``
    would still raise on a shape mismatch.
    """
    fitting = {k.key: weights.tensors[k.key] for k in comparison.where("loads")}
    model.load_state_dict(fitting, strict=False)
    return _skipped(comparison, weights)


def _skipped(comparison: Comparison, weights: Weights) -> list[str]:
    lines = [
        f"loaded {comparison.loadable:,} of {comparison.expected_count:,} entries from '{weights.name}' "
        f"({weights.describe()})"
    ]
    problems = report_text(comparison, only=("shape", "missing", "unexpected"))
    if problems:
        lines.append("skipped (kept their initial values, or ignored):")
        lines += problems
    return lines


__all__ = ["Weights", "check", "load_into", "plan", "read_weights"]
