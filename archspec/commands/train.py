"""``archspec train SPEC``: train a classifier (or, ``--task lm``, a next-token model); outputs go to ``--out``.

Torch is imported when the command runs, never when the parser is built.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archspec.commands import (
    add_max_activation_bytes_option,
    add_set_option,
    add_weights_options,
    max_activation_bytes,
    parse_overrides,
)
from archspec.train.config import DEVICES, LIMITS, OPTIMIZERS, SCHEDULERS, TASKS, parse_normalize, parse_resize

SETTING_FLAGS = (
    "task",
    "data",
    "data_root",
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "weight_decay",
    "scheduler",
    "seed",
    "device",
    "amp",
    "workers",
    "resize",
    "channels",
    "normalize",
    "download",
)


def _bounded(cast: Callable[[str], float], *, allow_zero: bool, what: str) -> Callable[[str], Any]:
    """An argparse type: ``cast`` the text, refusing non-finite values and values below the bound."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            value = math.nan
        if not (value >= 0 if allow_zero else value > 0) or math.isinf(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got '{text}'")
        return value

    return parse


def ranged_int(name: str) -> Callable[[str], int]:
    """An argparse type for the integer setting ``name``: inside its range in ``LIMITS``, or a usage error."""
    low, high = LIMITS[name]

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low:,} to {high:,}, got '{text}'")
        return value

    return parse


positive_float = _bounded(float, allow_zero=False, what="a positive number")
non_negative_float = _bounded(float, allow_zero=True, what="a number >= 0")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="NAME",
        help="mnist5k (default: embedded, offline), mnist, fashion-mnist, cifar10, imagefolder:PATH, "
        "tokens:FILE (.npz or .pt token ids), fake[:N]",
    )
    parser.add_argument("--data-root", metavar="DIR", help="where torchvision's data sets live (default: data)")
    parser.add_argument(
        "--download", action="store_true", default=None, help="let torchvision download mnist/fashion-mnist/cifar10"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train a classifier or language-model spec: metrics, curves and checkpoints in --out",
        description="Train a spec. Settings: defaults < the spec's 'train:' section < these flags. "
        "Under torchrun (WORLD_SIZE > 1) trains with DistributedDataParallel.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument(
        "--task",
        choices=TASKS,
        help="classify (default: one label per sample) or lm (token ids in, the next token at every position out)",
    )
    add_data_options(parser)
    parser.add_argument("--epochs", type=ranged_int("epochs"), metavar="N", help="default 10 (at most 1,000,000)")
    parser.add_argument("--batch-size", type=ranged_int("batch_size"), metavar="B", help="per process; default 64")
    parser.add_argument("--lr", type=positive_float, metavar="LR", help="default 1e-3 (adam, adamw), 1e-2 (sgd)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help="default adam")
    parser.add_argument("--weight-decay", type=non_negative_float, metavar="WD", help="default 0 (adamw: 0.01)")
    parser.add_argument("--scheduler", choices=SCHEDULERS, help="default none")
    parser.add_argument("--seed", type=ranged_int("seed"), metavar="S", help="default 0 (-2**63 to 2**64-1)")
    parser.add_argument("--device", choices=DEVICES, help="default auto: cuda, else mps, else cpu")
    parser.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision: float16 on CUDA (with a grad scaler), bfloat16 on CPU",
    )
    parser.add_argument(
        "--workers",
        type=ranged_int("workers"),
        metavar="W",
        help="DataLoader worker processes (default 0; at most 4 per CPU core)",
    )
    parser.add_argument("--resize", type=parse_resize, metavar="H,W", help="resize images (bilinear, antialiased)")
    parser.add_argument(
        "--channels", type=int, choices=(1, 3), help="convert images to 1 (greyscale) or 3 (RGB) channels"
    )
    parser.add_argument(
        "--normalize",
        type=parse_normalize,
        metavar="dataset|none|MEAN/STD",
        help="default dataset (its published mean/std); MEAN/STD like 0.5/0.25 or 0.5,0.5,0.5/0.2,0.2,0.2",
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default runs/<spec name>/<timestamp>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    add_weights_options(parser, "initial weights (a state dict, export or checkpoint), e.g. pretrained ones")
    add_max_activation_bytes_option(parser, default="auto")
    add_set_option(parser)
    parser.set_defaults(run=run)


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in SETTING_FLAGS}


def run(args: argparse.Namespace) -> int:
    from archspec.compiler.pipeline import compile_spec
    from archspec.train.runner import Interrupted, train

    limit = max_activation_bytes(args.max_activation_bytes, auto=True)
    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides))
    try:
        train(
            compiled,
            flags_of(args),
            out=args.out,
            resume=args.resume,
            max_activation_bytes=limit,
            weights=args.weights,
            strict=args.strict,
        )
    except Interrupted as stop:
        print(interrupted_line(args, stop.out, stop.epoch), file=sys.stderr)
        return 130  # the shell's code for SIGINT
    return 0


def interrupted_line(args: argparse.Namespace, out: Path, epoch: int | None) -> str:
    """One line for Ctrl-C: where the last checkpoint is and the command that resumes from it."""
    if epoch is None:
        return f"archspec train: interrupted before the first checkpoint; nothing to resume in {out}"
    sets = "".join(f" --set {shlex.quote(item)}" for item in args.overrides)
    command = f"archspec train {shlex.quote(args.spec)} --out {shlex.quote(str(out))} --resume{sets}"
    return f"archspec train: interrupted; last checkpoint {out / 'last.pt'} (epoch {epoch}); resume with: {command}"
