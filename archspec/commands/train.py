"""``archspec train SPEC``: train a classifier spec; metrics, curves and checkpoints go to ``--out``.

Torch is imported when the command runs, never when the parser is built.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archspec.commands import add_max_activation_bytes_option, add_set_option, max_activation_bytes, parse_overrides
from archspec.train.config import DEVICES, OPTIMIZERS, SCHEDULERS, parse_normalize, parse_resize

SETTING_FLAGS = (
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


positive_int = _bounded(int, allow_zero=False, what="a positive integer")
non_negative_int = _bounded(int, allow_zero=True, what="an integer >= 0")
positive_float = _bounded(float, allow_zero=False, what="a positive number")
non_negative_float = _bounded(float, allow_zero=True, what="a number >= 0")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="NAME",
        help="mnist5k (default: embedded, offline), mnist, fashion-mnist, cifar10, imagefolder:PATH, fake[:N]",
    )
    parser.add_argument("--data-root", metavar="DIR", help="where torchvision's data sets live (default: data)")
    parser.add_argument(
        "--download", action="store_true", default=None, help="let torchvision download mnist/fashion-mnist/cifar10"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train a classifier spec: metrics, curves and checkpoints in --out",
        description="Train a spec. Settings: defaults < the spec's 'train:' section < these flags. "
        "Under torchrun (WORLD_SIZE > 1) trains with DistributedDataParallel.",
    )
    parser.add_argument("spec", metavar="SPEC")
    add_data_options(parser)
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="default 10")
    parser.add_argument("--batch-size", type=positive_int, metavar="B", help="per process; default 64")
    parser.add_argument("--lr", type=positive_float, metavar="LR", help="default 1e-3 (adam, adamw), 1e-2 (sgd)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help="default adam")
    parser.add_argument("--weight-decay", type=non_negative_float, metavar="WD", help="default 0 (adamw: 0.01)")
    parser.add_argument("--scheduler", choices=SCHEDULERS, help="default none")
    parser.add_argument("--seed", type=int, metavar="S", help="default 0")
    parser.add_argument("--device", choices=DEVICES, help="default auto: cuda, else mps, else cpu")
    parser.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision: float16 on CUDA (with a grad scaler), bfloat16 on CPU",
    )
    parser.add_argument("--workers", type=non_negative_int, metavar="W", help="DataLoader worker processes (default 0)")
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
    add_max_activation_bytes_option(parser, default="auto")
    add_set_option(parser)
    parser.set_defaults(run=run)


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in SETTING_FLAGS}


def run(args: argparse.Namespace) -> int:
    from archspec.compiler.pipeline import compile_spec
    from archspec.train.runner import train

    limit = max_activation_bytes(args.max_activation_bytes, auto=True)
    compiled = compile_spec(Path(args.spec), overrides=parse_overrides(args.overrides))
    train(compiled, flags_of(args), out=args.out, resume=args.resume, max_activation_bytes=limit)
    return 0
