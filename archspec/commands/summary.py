"""``archspec summary SPEC``: the layer-by-layer table and totals; ``--memory``: training memory."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.backends.summary import summary_data, summary_markdown, summary_text
from archspec.commands import (
    add_budget_options,
    add_input_option,
    add_set_option,
    budget_from,
    parse_input_shapes,
    parse_overrides,
)
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.pipeline import compile_spec
from archspec.errors import Diagnostic, UsageError
from archspec.jsontext import dumps


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("summary", help="layer-by-layer shapes, params and mult-adds")
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    add_set_option(parser)
    add_input_option(parser)
    add_budget_options(parser)
    add_memory_options(parser)
    parser.set_defaults(run=run)


def add_memory_options(parser: argparse.ArgumentParser) -> None:
    from archspec.backends.memory import OPTIMIZERS

    group = parser.add_argument_group("memory (--memory)")
    group.add_argument(
        "--memory", action="store_true", help="per node and in total: parameters, gradients, optimizer state, "
        "activations saved for backward, and the peaks of a training step and of inference",
    )  # fmt: skip
    group.add_argument("--batch-size", default="1", metavar="N", help="samples per step (default 1)")
    group.add_argument(
        "--dtype", choices=("fp32", "bf16", "fp16"), default=None,
        help="the model's dtype (default fp32); with --amp, autocast's (default fp16 on cuda, bf16 on cpu)",
    )  # fmt: skip
    group.add_argument("--amp", action="store_true", help="autocast (mixed precision): float32 parameters")
    group.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam", help="(default adam)")
    group.add_argument(
        "--device", choices=("cuda", "cpu"), default="cuda",
        help="whose kernels decide what is saved where they differ (default cuda)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    compiled = compile_spec(
        Path(args.spec),
        overrides=parse_overrides(args.overrides),
        budget=budget_from(args),
        input_shapes=parse_input_shapes(args.input_shapes),
    )
    if args.memory:
        return _memory(compiled, args)
    if args.format == "json":
        print(dumps(summary_data(compiled)))
    elif args.format == "markdown":
        print(summary_markdown(compiled), end="")
    else:
        print(summary_text(compiled), end="")
    return 0


def _memory(compiled: CompiledSpec, args: argparse.Namespace) -> int:
    from archspec.backends.memory import memory_data, memory_markdown, memory_report, memory_text

    text = args.batch_size
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        message = f"--batch-size {text}: expected a whole number from 1 to 999,999,999"
        raise UsageError([Diagnostic("usage", message, file="<command line>")])
    dtype = args.dtype or (("fp16" if args.device == "cuda" else "bf16") if args.amp else "fp32")
    if args.amp and dtype == "fp32":
        message = "--amp with --dtype fp32: autocast computes in fp16 or bf16"
        raise UsageError([Diagnostic("usage", message, file="<command line>", hint="use --dtype bf16 or fp16")])
    report = memory_report(
        compiled, batch_size=int(text), dtype=dtype, amp=args.amp, optimizer=args.optimizer, device=args.device
    )
    if args.format == "json":
        print(dumps(memory_data(compiled, report)))
    elif args.format == "markdown":
        print(memory_markdown(compiled, report), end="")
    else:
        print(memory_text(compiled, report), end="")
    return 0
