"""The Python API: load and check a spec, build it into a torch module, reload an exported model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.backends.limits import DEFAULT_MAX_ACTIVATION_BYTES, DEFAULT_MAX_PARAM_BYTES
from archspec.compiler.ir import INPUT, CompiledSpec
from archspec.compiler.pipeline import compile_spec

if TYPE_CHECKING:
    from torch import nn

    from archspec.backends.memory import MemoryReport


def load(
    spec: str | Path,
    /,
    *,
    input: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    **overrides: Any,
) -> CompiledSpec:
    """Compile a spec (a path or YAML text), overriding its ``params``; raises SpecError with every diagnostic.

    ``input`` evaluates the spec at another per-sample input shape without editing it:
    ``load(path, input=(3, 299, 299))``, or by name for a spec with several inputs
    (``input={"tokens": (64,)}``). A spec parameter that is itself called ``input`` is set
    through :func:`archspec.load_spec`: ``load_spec(path).compile(overrides={"input": ...})``.
    """
    shapes = None if input is None else dict(input) if isinstance(input, Mapping) else {INPUT: tuple(input)}
    return compile_spec(spec, overrides=overrides, input_shapes=shapes)


def build(
    spec: CompiledSpec | str | Path,
    /,
    *,
    max_param_bytes: int | None = DEFAULT_MAX_PARAM_BYTES,
    max_activation_bytes: int | None = DEFAULT_MAX_ACTIVATION_BYTES,
    **overrides: Any,
) -> nn.Module:
    """Build a ``torch.nn.Module`` from a spec (imports torch).

    Chains become ``nn.Sequential`` named by the spec's ids; other modules get a
    generated ``forward``. Before allocating, the parameter memory is estimated from
    the static counts: more than ``max_param_bytes`` (default 4 GiB; ``None`` to
    disable) raises :class:`~archspec.errors.UsageError` naming the biggest layers.
    So is the activation memory of a one-sample forward pass (float32 input and every
    node's output): more than ``max_activation_bytes`` (default 4 GiB; ``None`` to
    disable) raises UsageError naming the largest output.
    """
    from archspec.backends.torch_backend import build_module

    if isinstance(spec, CompiledSpec):
        if overrides:
            raise TypeError("parameter overrides apply to a spec path or text, not to an already compiled spec")
        compiled = spec
    else:
        compiled = load(spec, **overrides)
    return build_module(compiled, max_param_bytes=max_param_bytes, max_activation_bytes=max_activation_bytes)


def load_model(
    path: str | Path,
    /,
    *,
    max_param_bytes: int | None = DEFAULT_MAX_PARAM_BYTES,
    max_activation_bytes: int | None = DEFAULT_MAX_ACTIVATION_BYTES,
) -> nn.Module:
    """Rebuild a model from an ``archspec export --format pt`` file: spec, parameters and weights.

    The file is read with ``torch.load(weights_only=True)``, so it cannot run code, and its
    metadata is checked before use (a bad file raises UsageError naming it and the field);
    the stored parameters are literal values. The limits are :func:`build`'s.
    The model is returned in training mode, like :func:`build`; call ``.eval()`` for inference.
    """
    from archspec.backends.export import load_pt

    return load_pt(path, max_param_bytes=max_param_bytes, max_activation_bytes=max_activation_bytes)


def memory(
    spec: CompiledSpec | str | Path,
    /,
    *,
    batch_size: int = 1,
    dtype: str = "float32",
    amp: bool = False,
    optimizer: str = "adam",
    device: str = "cuda",
    **overrides: Any,
) -> MemoryReport:
    """Training and inference memory of a spec, statically (no torch): per node and in total, the
    parameters, gradients, optimizer state and activations saved for backward, and the peaks of one
    training step and one inference forward (``archspec summary --memory``; docs/analysis.md).

    ``dtype`` is the model's (``float32``, ``bfloat16``, ``float16``, or ``fp32``/``bf16``/``fp16``);
    with ``amp`` it is autocast's and the parameters stay float32. ``optimizer`` is a key of
    :data:`archspec.backends.memory.OPTIMIZERS`; ``device`` (``cuda`` or ``cpu``) picks the kernels
    where they keep different tensors.
    """
    from archspec.backends.memory import memory_report

    if isinstance(spec, CompiledSpec):
        if overrides:
            raise TypeError("parameter overrides apply to a spec path or text, not to an already compiled spec")
        compiled = spec
    else:
        compiled = load(spec, **overrides)
    if compiled.diagnostics:
        from archspec.errors import SpecError

        raise SpecError(compiled.diagnostics)
    return memory_report(compiled, batch_size=batch_size, dtype=dtype, amp=amp, optimizer=optimizer, device=device)
