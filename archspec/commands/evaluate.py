"""``archspec evaluate SPEC --checkpoint FILE``: loss and accuracy (and, as JSON, the confusion matrix)."""

from __future__ import annotations

import argparse
from pathlib import Path

from archspec.commands import add_max_activation_bytes_option, add_set_option, max_activation_bytes, parse_overrides
from archspec.commands.train import add_setting_flags
from archspec.jsontext import dumps


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="loss and accuracy of a checkpoint (confusion matrix with --format json)",
        description="Evaluate a checkpoint written by 'archspec train', with the preprocessing it recorded. "
        "Its spec parameters are used unless --set overrides them.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="best.pt or last.pt of a run")
    add_setting_flags(parser, ("data", "data_root", "download"))
    parser.add_argument("--split", choices=("val", "train"), default="val", help="default val (held-out)")
    add_setting_flags(parser, ("batch_size", "device", "workers"))
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
        device_name=args.device or "auto",
        workers=args.workers or 0,
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
