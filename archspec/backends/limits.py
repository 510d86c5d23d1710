"""Guard rails before allocating: parameter and activation memory estimated from the static shapes.

No torch import: the checks run before torch is loaded, in well under a second, whatever the sizes.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction

from archspec.backends.values import input_bytes, node_activation_bytes, value_bytes
from archspec.compiler.ir import CompiledSpec
from archspec.errors import Diagnostic, UsageError

DEFAULT_MAX_PARAM_BYTES = 4 * 2**30
"""4 GiB of float32 parameters: a billion of them."""

BYTES_PER_PARAM = 4
"""Parameters are float32 when built."""

DEFAULT_MAX_ACTIVATION_BYTES = 4 * 2**30
"""4 GiB of activations (at their dtypes) for the batch of a forward pass."""

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


MAX_BYTES = 2**63 - 1
"""The largest limit (8 EiB): it must fit the 64-bit sizes every allocator uses."""

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]*)\s*")


def parse_bytes(text: str) -> int:
    """``"4GiB"``, ``"512MB"``, ``"1e9"`` or ``"1000"`` -> a byte count; ``"0"`` and ``"none"`` -> 0 (no limit).

    Exact (no float rounding), a whole number of bytes, at most :data:`MAX_BYTES`: ``0.5`` is
    refused rather than rounded down to 0, which would mean "no limit".
    """
    if text.strip().lower() == "none":
        return 0
    match = _SIZE.fullmatch(text)
    unit = match.group(3).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"'{text}' is not a size; use bytes or a unit: 500MB, 4GiB, 1e9 (0 or none: no limit)")
    too_big = ValueError(f"'{text}' is out of range: at most {MAX_BYTES:,} bytes (8 EiB); 0 or none: no limit")
    mantissa, exponent = Fraction(match.group(1)), match.group(2) or "0"
    if not mantissa:
        return 0
    if len(exponent.lstrip("+-0")) > 3:  # 1e999999999 must not compute 10**999999999
        raise too_big if not exponent.startswith("-") else ValueError(f"'{text}' is not a whole number of bytes")
    value = mantissa * Fraction(10) ** int(exponent) * _UNITS[unit]
    if value.denominator != 1:
        raise ValueError(f"'{text}' is not a whole number of bytes; use 0 or none for no limit")
    if value > MAX_BYTES:
        raise too_big
    return int(value)


def memory_bytes() -> int:
    """This machine's RAM (0 when unknown: then nothing is refused)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError  # unreachable


def param_bytes(compiled: CompiledSpec) -> int:
    return compiled.params_total * BYTES_PER_PARAM


def check_param_memory(compiled: CompiledSpec, max_param_bytes: int | None = DEFAULT_MAX_PARAM_BYTES) -> None:
    """Raise UsageError, naming the biggest layers, if the parameters would exceed ``max_param_bytes``.

    ``None`` disables the check.
    """
    needed = param_bytes(compiled)
    if max_param_bytes is None or needed <= max_param_bytes:
        return
    biggest = sorted((n for n in compiled.nodes if n.result and n.result.params), key=lambda n: -n.result.params)[:3]  # type: ignore[union-attr]
    layers = ", ".join(
        f"'{n.path}' ({n.type}, {n.result.params:,} params, {format_bytes(n.result.params * BYTES_PER_PARAM)})"  # type: ignore[union-attr]
        for n in biggest
    )
    message = (
        f"the model needs {format_bytes(needed)} for {compiled.params_total:,} float32 parameters, "
        f"more than the limit of {format_bytes(max_param_bytes)}; the biggest layers: {layers}"
    )
    hint = (
        "shrink those layers (or override the params that size them), "
        "or raise the limit with --max-param-bytes / max_param_bytes="
    )
    if biggest:
        diagnostic = compiled.source.diagnostic(
            "too-large", message, biggest[0].source_path, hint=hint, node=biggest[0].path
        )
    else:
        diagnostic = Diagnostic("too-large", message, compiled.source.file, hint=hint)
    raise UsageError([diagnostic])


def activation_bytes(compiled: CompiledSpec, batch: int = 1) -> int:
    """Bytes of the inputs and of every node's outputs, each at its dtype, for ``batch`` samples.

    This is what a training step keeps for the backward pass; an inference forward frees values
    as it goes and needs less, so the estimate is an upper bound for it. Held tensors (parameters,
    buffers) are allocated once, not per sample: the parameter check counts them.
    """
    return batch * (input_bytes(compiled) + sum(node_activation_bytes(compiled, n) for n in compiled.nodes))


def check_activation_memory(
    compiled: CompiledSpec,
    max_activation_bytes: int | None = DEFAULT_MAX_ACTIVATION_BYTES,
    *,
    batch: int = 1,
    what: str = "a forward pass",
) -> None:
    """Raise UsageError, naming the largest output, if ``batch`` samples' activations exceed the limit.

    ``None`` disables the check. Counted as :func:`activation_bytes` counts, from the static
    shapes, so a spec whose one activation would take 80 GB is refused without allocating.
    """
    needed = activation_bytes(compiled, batch)
    if max_activation_bytes is None or needed <= max_activation_bytes:
        return
    largest = max(compiled.nodes, key=lambda n: node_activation_bytes(compiled, n), default=None)
    samples = f"{batch:,} sample{'s' if batch != 1 else ''}"
    message = (
        f"{what} of {samples} needs {format_bytes(needed)} of activations (the inputs and every "
        f"node's output), more than the limit of {format_bytes(max_activation_bytes)}"
    )
    hint = (
        "shrink the input size or the layers that make large outputs (or override the params that size them), "
        "or raise the limit with --max-activation-bytes / max_activation_bytes="
    )
    name, value = max(compiled.inputs.items(), key=lambda item: value_bytes(item[1]))
    if largest is None or value_bytes(value) >= node_activation_bytes(compiled, largest):
        what_input = "the input" if len(compiled.inputs) == 1 else f"the input '{name}'"
        message += f"; the largest is {what_input} {list(value.shape)}"
        where = ("input",) if len(compiled.inputs) == 1 else ("inputs", name)
        raise UsageError([compiled.source.diagnostic("too-large", message, where, hint=hint)])
    size = node_activation_bytes(compiled, largest) * batch
    message += (
        f"; the largest output: '{largest.path}' ({largest.type}, {list(largest.shape or ())}, {format_bytes(size)})"
    )
    raise UsageError(
        [compiled.source.diagnostic("too-large", message, largest.source_path, hint=hint, node=largest.path)]
    )
