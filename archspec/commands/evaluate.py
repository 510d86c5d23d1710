"""``archspec evaluate SPEC --checkpoint FILE``: loss and accuracy (and, as JSON, the confusion matrix)."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.commands import add_max_activation_bytes_option, add_set_option, max_activation_bytes, parse_overrides
from archspec.commands.train import add_data_options, ranged_int
from archspec.jsontext import dumps
from archspec.train.config import DEVICES


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="loss and accuracy of a checkpoint (confusion matrix with --format json)",
        description="Evaluate a checkpoint written by 'archspec train', with the preprocessing it recorded. "
        "Its spec parameters are used unless --set overrides them.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="best.pt or last.pt of a run")
    add_data_options(parser)
    parser.add_argument("--split", choices=("val", "train"), default="val", help="default val (held-out)")
    parser.add_argument("--batch-size", type=ranged_int("batch_size"), metavar="B")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--workers", type=ranged_int("workers"), default=0, metavar="W")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_max_activation_bytes_option(parser, default="auto")
    add_set_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archspec.train.runner import evaluate_checkpoint

    limit = max_activation_bytes(args.max_activation_bytes, auto=True)
    result = evaluate_checkpoint(
        Path(args.spec),
        args.checkpoint,
        overrides=parse_overrides(args.overrides),
        data_name=args.data,
        data_root=args.data_root,
        split=args.split,
        batch_size=args.batch_size,
        device_name=args.device,
        workers=args.workers,
        download=bool(args.download),
        max_activation_bytes=limit,
    )
    if args.format == "json":
        print(dumps(result))
        return 0
    unit = result["unit"]
    print(
        f"{result['spec']} (epoch {result['epoch']}, {result['checkpoint']}) on {result['data']} "
        f"{result['split']}: {result[unit]:,} {unit}"
    )
    ppl = f"  perplexity {result['perplexity']:.3f}" if "perplexity" in result else ""
    print(f"loss {result['loss']:.4f}{ppl}  accuracy {result['accuracy']:.2%} ({result['correct']:,}/{result[unit]:,})")
    return 0
