"""Exports of a built model: ``pt`` (weights + spec), TorchScript and ONNX; and reloading ``pt`` files.

A ``pt`` export is one plain dict, read back with ``torch.load(weights_only=True)``::

    format: "archspec-model", version: 1, archspec_version, torch_version
    spec:   {name, file, text, sha256, params}   # the spec text and bound parameters
    state_dict: {key: tensor}

so :func:`load_pt` rebuilds the model from that file alone. It also reads the
trainer's checkpoints (``format: "archspec-checkpoint"``, weights under ``model``),
which share the ``spec`` entry. Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from archspec import __version__
from archspec.backends.limits import DEFAULT_MAX_ACTIVATION_BYTES, DEFAULT_MAX_PARAM_BYTES
from archspec.backends.ptfile import first_line, is_state_dict, read_pt, state_dict_of
from archspec.backends.records import SpecRecord, short, validated
from archspec.backends.torch_backend import build_module
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.pipeline import compile_spec
from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.fileio import write_bytes_atomic
from archspec.layers.base import TensorType

FORMAT = "archspec-model"
VERSION = 1
CHECKPOINT_FORMAT = "archspec-checkpoint"
FORMATS = ("pt", "torchscript", "onnx")
ONNX_MAX_BYTES = 2**31 - 2**24
"""Protobuf's 2 GiB limit, with room for the graph: bigger models would need ONNX external data."""


def example_input(compiled: CompiledSpec) -> torch.Tensor:
    """A random batch of the spec's (first) input (batch 2, so export keeps the batch dim symbolic)."""
    return example_inputs(compiled)[0]


def example_inputs(compiled: CompiledSpec, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """One random batch per model input, in ``forward``'s order, each with its dtype: normal floats,
    integers in the declared range ``[low, high)`` (else ``[0, 2)``: valid for any index), random bools."""
    generator = torch.Generator().manual_seed(seed)
    return tuple(_example(value, batch, generator) for value in compiled.inputs.values())


def _example(value: TensorType, batch: int, generator: torch.Generator) -> torch.Tensor:
    shape = (batch, *value.shape)
    dtype = getattr(torch, value.dtype)
    if value.kind == "float":
        return torch.randn(shape, generator=generator).to(dtype)
    if value.kind == "bool":
        return torch.randint(0, 2, shape, generator=generator).bool()
    low, high = (value.low, value.high) if value.low is not None and value.high is not None else (0, 2)
    return torch.randint(low, high, shape, generator=generator, dtype=dtype)


# -- pt -------------------------------------------------------------------------------------


def pt_payload(model: nn.Module, compiled: CompiledSpec) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "archspec_version": __version__,
        "torch_version": str(torch.__version__),
        "spec": SpecRecord.of(compiled).model_dump(),
        "state_dict": {key: value.detach().cpu() for key, value in model.state_dict().items()},
    }


def pt_bytes(model: nn.Module, compiled: CompiledSpec) -> bytes:
    buffer = io.BytesIO()
    torch.save(pt_payload(model, compiled), buffer)
    return buffer.getvalue()


def load_pt(
    path: str | Path,
    *,
    max_param_bytes: int | None = DEFAULT_MAX_PARAM_BYTES,
    max_activation_bytes: int | None = DEFAULT_MAX_ACTIVATION_BYTES,
) -> nn.Module:
    """Rebuild the model saved by ``archspec export --format pt`` (or a trainer checkpoint).

    The ``spec`` entry is checked by :class:`SpecRecord` (the model that wrote it); its
    parameters are literal values, passed to the compiler as overrides.
    """
    payload = read_payload(path)
    name = str(path)
    if payload.get("format") not in (FORMAT, CHECKPOINT_FORMAT) or "spec" not in payload:
        what = "a plain state dict" if is_state_dict(payload) else "another tool's file"
        raise _usage(
            f"'{name}' is not an archspec model export ({what})",
            name,
            "a state dict has no spec: archspec.build(spec).load_state_dict(torch.load(file, weights_only=True))",
        )
    if payload.get("format") == FORMAT and payload.get("version") != VERSION:
        raise _usage(
            f"'{name}' is an archspec export of format version {short(payload.get('version'))}; "
            f"this archspec reads version {VERSION}",
            name,
        )
    spec = validated(SpecRecord, payload["spec"], name, what="model export", code="export", entry="spec")
    compiled = _compile_stored(spec, name)
    model = build_module(compiled, max_param_bytes=max_param_bytes, max_activation_bytes=max_activation_bytes)
    load_weights(model, state_dict_of(payload, name), name)
    return model


def _compile_stored(spec: SpecRecord, name: str) -> CompiledSpec:
    """The stored text with its stored parameters; a spec that no longer compiles names the file too."""
    try:
        return compile_spec(spec.text, overrides=dict(spec.params))
    except (SpecError, UsageError) as exc:  # a bad override is a UsageError, the spec's own errors SpecErrors
        message = f"the spec stored in '{name}' does not compile with its stored parameters"
        raise UsageError([Diagnostic("export", message, name), *exc.diagnostics]) from None


def read_payload(path: str | Path, *, mmap: bool = False) -> dict[str, Any]:
    """The dict in an export, checkpoint or state-dict file (:func:`~archspec.backends.ptfile.read_pt`)."""
    name = str(path)
    payload = read_pt(path, code="export", what="an archspec model or weights file", mmap=mmap)
    if not isinstance(payload, dict):
        raise _usage(f"'{name}' holds a {type(payload).__name__}, not a dict of weights", name)
    return payload


def load_weights(model: nn.Module, state_dict: dict[str, torch.Tensor], name: str) -> None:
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:4])
        raise _usage(
            f"the weights in '{name}' do not fit the spec's model: {detail}",
            name,
            "export with the same spec and --set values the weights were trained with",
        ) from None


# -- TorchScript and ONNX -------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence torch's deprecation and exporter chatter (the CLI prints its own one line)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def torchscript_bytes(
    model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...], *, trace: bool = False
) -> tuple[bytes, str]:
    """A TorchScript archive (``torch.jit.load`` reads it without archspec); scripted, else (or with
    ``trace``: where scripting would compute something else) traced (``strict=False``: a dict of
    outputs traces too)."""
    model = model.eval()
    examples = example if isinstance(example, tuple) else (example,)
    with _quiet():
        try:
            if trace:
                raise NotImplementedError("trace instead")
            scripted = torch.jit.script(model)
            how = "scripted"
        except Exception:
            try:
                scripted = torch.jit.trace(model, examples, strict=False)
            except Exception as exc:
                raise _usage(f"TorchScript cannot compile or trace this model: {first_line(exc)}", "<export>") from None
            how = "traced"
        buffer = io.BytesIO()
        torch.jit.save(scripted, buffer)
    return buffer.getvalue(), how


def onnx_bytes(
    model: nn.Module,
    example: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
) -> bytes:
    """ONNX through torch's exporter (``torch.export`` based), the batch dim symbolic (shared by
    every input). Inputs and outputs keep the spec's names (a dict's keys; ``output_0``... for a tuple)."""
    examples = example if isinstance(example, tuple) else (example,)
    model = model.eval()
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    if size > ONNX_MAX_BYTES:
        raise _usage(
            f"the model's {size:,} bytes of weights exceed ONNX's 2 GiB protobuf limit",
            "<export>",
            "export --format pt or torchscript instead",
        )
    batch = torch.export.Dim("batch")
    dynamic = tuple({0: batch} for _ in examples)
    with _quiet():
        try:
            program = torch.onnx.export(
                model,
                examples,
                dynamo=True,
                dynamic_shapes=dynamic,
                input_names=input_names or ["input"],
                output_names=output_names or ["output"],
                verbose=False,
            )
        except Exception as exc:
            raise _usage(f"torch's ONNX exporter failed: {first_line(exc)}", "<export>") from None
    if program is None:  # pragma: no cover - only the legacy exporter returns None
        raise _usage("torch's ONNX exporter returned nothing", "<export>")
    return program.model_proto.SerializeToString()


# -- one entry point ------------------------------------------------------------------------


def export_model(model: nn.Module, compiled: CompiledSpec, path: str | Path, fmt: str = "pt") -> dict[str, Any]:
    """Write ``model`` to ``path`` in ``fmt`` (atomically); return facts for the CLI's message."""
    if fmt not in FORMATS:
        raise _usage(f"unknown export format '{fmt}'", str(path), f"choose one of: {', '.join(FORMATS)}")
    info: dict[str, Any] = {"format": fmt}
    if fmt == "pt":
        data = pt_bytes(model, compiled)
    elif fmt == "torchscript":
        data, info["how"] = torchscript_bytes(model, example_inputs(compiled), trace=bool(export_limits(compiled, fmt)))
    else:
        limits = export_limits(compiled, fmt)
        if limits:
            raise _usage(f"cannot export to ONNX: {limits[0]}", "<export>", "export --format pt or torchscript instead")
        data = onnx_bytes(model, example_inputs(compiled), **io_names(compiled))
    write_bytes_atomic(path, data)
    info["bytes"] = len(data)
    return info


def export_limits(compiled: CompiledSpec, fmt: str) -> list[str]:
    """``node: why`` for each node whose layer torch's ``fmt`` export would get wrong (``Layer.export_limit``)."""
    return [
        f"node '{node.path}' ({node.type}): {why}" for node in compiled.nodes if (why := node.layer.export_limit(fmt))
    ]


def io_names(compiled: CompiledSpec) -> dict[str, list[str]]:
    """ONNX's input and output names: the spec's (``input``/``output`` for one of each)."""
    outputs = list(compiled.outputs)
    if compiled.root.result_names is None and len(outputs) > 1:
        outputs = [f"output_{name}" for name in outputs]
    return {"input_names": list(compiled.inputs), "output_names": outputs}


def _usage(message: str, file: str, hint: str | None = None) -> UsageError:
    return UsageError([Diagnostic("export", message, file, hint=hint)])


__all__ = ["FORMATS", "example_inputs", "export_model", "load_pt", "onnx_bytes", "pt_payload", "torchscript_bytes"]
