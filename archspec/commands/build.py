"""``archspec build SPEC``: build the torch module and print it (a smoke test of the torch backend)."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.commands import (
    add_max_activation_bytes_option,
    add_max_param_bytes_option,
    add_set_option,
    add_weights_options,
    max_activation_bytes,
    max_param_bytes,
    parse_overrides,
    read_and_plan,
)

FORWARD_BATCH = 2
"""Samples in the random batch of the check (2: batch norm needs more than one in training mode)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "build",
        help="build the torch module, print it and run one forward pass",
        description="Build the spec with torch, print the module tree, and run one random batch through it "
        "to confirm the output shape equals the statically inferred one.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--no-forward", action="store_true", help="only build and print; skip the forward pass")
    add_weights_options(parser, "load these weights into the built model (a state dict, export or checkpoint)")
    add_max_param_bytes_option(parser)
    add_max_activation_bytes_option(parser)
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.backends.limits import check_activation_memory, check_param_memory
    from archspec.compiler.pipeline import compile_spec

    limit = max_param_bytes(args.max_param_bytes)
    activation_limit = max_activation_bytes(args.max_activation_bytes)
    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides))
    check_param_memory(compiled, limit)
    if not args.no_forward:
        check_activation_memory(compiled, activation_limit, batch=FORWARD_BATCH, what="build's forward pass")

    import torch

    from archspec.backends.torch_backend import build_module

    plan = read_and_plan(compiled, args)  # before allocating the model: a file that does not fit stops here
    # checked above, before importing torch
    model = build_module(compiled, max_param_bytes=None, max_activation_bytes=None)
    print(model)
    if plan is not None:
        from archspec.backends.weights import load_into

        print("\n".join(load_into(model, *plan)))
    params = sum(p.numel() for p in model.parameters())
    line = f"{type(model).__name__}: {params:,} parameters"
    if not args.no_forward:
        from archspec.backends.export import example_inputs
        from archspec.backends.values import io_line

        with torch.no_grad():
            out = model.eval()(*example_inputs(compiled, FORWARD_BATCH))
        values = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, tuple) else [out]
        found = [(tuple(v.shape[1:]), str(v.dtype).removeprefix("torch.")) for v in values]
        static = [(t.shape, t.dtype) if t else None for t in compiled.outputs.values()]
        assert found == static, f"static and runtime outputs differ: {static} vs {found}"
        if len(compiled.inputs) == 1 and list(compiled.outputs) == ["output"]:
            line += f", output {list(found[0][0])} for input {list(compiled.input_shape)} (batch excluded)"
        else:
            line += f"; {io_line(compiled)} (batch excluded)"
    print(line)
    return 0
