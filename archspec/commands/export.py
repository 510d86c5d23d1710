"""``archspec export SPEC -o FILE``: the built model as ``pt`` (weights + spec), TorchScript or ONNX."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.commands import (
    add_max_activation_bytes_option,
    add_max_param_bytes_option,
    add_set_option,
    max_activation_bytes,
    max_param_bytes,
    parse_overrides,
)
from archspec.commands.train import ranged_int

FORMATS = ("pt", "torchscript", "onnx")
EXAMPLE_BATCH = 2
"""Samples in the example inputs of TorchScript tracing and ONNX export (``export.example_inputs``)."""
SUFFIXES = {".onnx": "onnx", ".ts": "torchscript", ".torchscript": "torchscript", ".jit": "torchscript"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write the built model: pt (weights + spec), torchscript or onnx",
        description="Build the spec and write it to FILE. 'pt' keeps the spec text, its parameters and the "
        "weights in one dict (archspec.load_model rebuilds the model from it); 'torchscript' loads with "
        "torch.jit.load and 'onnx' with any ONNX runtime, neither needing archspec. TorchScript and ONNX are "
        "exported in eval mode with a symbolic batch dim (ONNX).",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="default: onnx for *.onnx, torchscript for *.ts/*.torchscript/*.jit, else pt",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="load these weights first: an archspec export, a training checkpoint or a plain state dict",
    )
    parser.add_argument(
        "--seed", type=ranged_int("seed"), metavar="N", help="seed torch's RNG before building (initial weights)"
    )
    add_max_param_bytes_option(parser)
    add_max_activation_bytes_option(parser)
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.backends.limits import check_activation_memory, check_param_memory, format_bytes
    from archspec.compiler.pipeline import compile_spec
    from archspec.fileio import check_outputs
    from archspec.safetext import escape_controls

    check_outputs([args.output], inputs=[args.spec, *([args.weights] if args.weights else [])])
    fmt = args.format or SUFFIXES.get(Path(args.output).suffix.lower(), "pt")
    limit = max_param_bytes(args.max_param_bytes)
    activation_limit = max_activation_bytes(args.max_activation_bytes)
    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides))
    check_param_memory(compiled, limit)  # before importing torch and allocating
    if fmt != "pt":  # tracing and ONNX run the model on an example batch
        check_activation_memory(compiled, activation_limit, batch=EXAMPLE_BATCH, what=f"the {fmt} export's example")

    import torch

    from archspec.backends.export import export_model, load_weights, read_payload, state_dict_of
    from archspec.backends.torch_backend import build_module

    if args.seed is not None:
        torch.manual_seed(args.seed)
    model = build_module(compiled, max_param_bytes=None, max_activation_bytes=None)  # checked above
    if args.weights:
        load_weights(model, state_dict_of(read_payload(args.weights), args.weights), args.weights)
    info = export_model(model, compiled, args.output, fmt)
    how = f" ({info['how']})" if "how" in info else ""
    print(
        f"wrote {escape_controls(args.output)}: {fmt}{how}, {compiled.params_total:,} params, "
        f"{format_bytes(info['bytes'])}"
    )
    return 0
