"""``archspec train SPEC``: train a classifier (or, ``--task lm``, a next-token model); outputs go to ``--out``.

Torch is imported when the command runs, never when the parser is built.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from archspec.commands import (
    add_max_activation_bytes_option,
    add_set_option,
    add_weights_options,
    max_activation_bytes,
    parse_overrides,
)
from archspec.compiler.pipeline import load_spec
from archspec.frontend.models import TrainConfig
from archspec.train.config import LIMITS, parse_normalize, parse_resize

TEXT_FORMS: dict[str, tuple[Callable[[str], Any], str]] = {
    "resize": (parse_resize, "H,W"),
    "normalize": (parse_normalize, "dataset|none|MEAN/STD"),
}
"""The flags' text for the settings that are not one scalar: a size (``32``, ``32,48``) and ``MEAN/STD``."""


def add_setting_flags(parser: argparse.ArgumentParser, names: Iterable[str] = tuple(TrainConfig.model_fields)) -> None:
    """One flag per :class:`TrainConfig` field: its name, its description as help, its type, range and choices.

    Every default is None (not given), so that the spec's ``train:`` and a resumed run's settings show through.
    """
    for name in names:
        field = TrainConfig.model_fields[name]
        help_text = field.description or ""
        if field.default is not None and not isinstance(field.default, bool):
            help_text += f"{'; ' if help_text else ''}default {field.default}"
        options: dict[str, Any] = {"default": None, "help": help_text}
        choices = _choices(field.annotation)
        if name in TEXT_FORMS:
            options.update(type=TEXT_FORMS[name][0], metavar=TEXT_FORMS[name][1])
        elif field.annotation is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif choices:
            options.update(choices=choices, type=type(choices[0]))
        elif field.annotation is int:
            options.update(type=ranged_int(name), metavar=name.upper())
        elif field.annotation is str:
            options["metavar"] = name.upper()
        else:  # a finite number with a bound
            options.update(type=number(field.rebuild_annotation()), metavar=name.upper())
        parser.add_argument(f"--{name.replace('_', '-')}", **options)


def _choices(annotation: Any) -> tuple[Any, ...]:
    """The values of a ``Literal`` inside ``annotation`` (through ``Annotated`` and ``| None``), else ()."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return next((c for a in get_args(annotation) if (c := _choices(a))), ())


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


def number(annotation: Any) -> Callable[[str], float]:
    """An argparse type: a float that the setting's own annotation accepts (finite, and within its bound)."""
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(annotation)

    def parse(text: str) -> float:
        try:
            return float(adapter.validate_python(float(text)))
        except (ValueError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "Input should be a number"
            raise argparse.ArgumentTypeError(f"{reason[0].lower()}{reason[1:]}, got '{text}'") from None

    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train a classifier or language-model spec: metrics, curves and checkpoints in --out",
        description="Train a spec. Settings: defaults < the spec's 'train:' section < these flags. "
        "Under torchrun (WORLD_SIZE > 1) trains with DistributedDataParallel.",
    )
    parser.add_argument("spec", metavar="SPEC")
    add_setting_flags(parser)
    parser.add_argument("--out", metavar="DIR", help="output folder (default runs/<spec name>/<timestamp>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    add_weights_options(parser, "initial weights (a state dict, export or checkpoint), e.g. pretrained ones")
    add_max_activation_bytes_option(parser, default="auto")
    add_set_option(parser)
    parser.set_defaults(run=run)


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in TrainConfig.model_fields}


def run(args: argparse.Namespace) -> int:
    from archspec.train.runner import Interrupted, train

    limit = max_activation_bytes(args.max_activation_bytes, auto=True)
    compiled = load_spec(Path(args.spec)).compile(overrides=parse_overrides(args.overrides))  # any name, even 'input'

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
