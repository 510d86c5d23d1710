"""Training settings: one model, :class:`archspec.frontend.models.TrainConfig`, for the spec's ``train:``, the flags
(generated from its fields by :mod:`archspec.commands.train`), checkpoints and ``run.json``.

Built-in defaults < the spec's ``train:`` < flags. Torch-free: the CLI imports this to build its parser.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from archspec.backends.records import describe_error
from archspec.errors import Diagnostic, UsageError
from archspec.frontend.models import Normalize, TrainConfig

DATA_KINDS = ("mnist5k", "mnist", "fashion-mnist", "cifar10", "imagefolder:PATH", "tokens:PATH", "fake", "fake:N")
MAX_WORKERS = 4 * (os.cpu_count() or 1)
"""More DataLoader workers than this only wait for each other (and 100000 of them hang the machine)."""
LIMITS: dict[str, tuple[int, int]] = {
    name: (
        next(m.ge for m in field.metadata if hasattr(m, "ge")),
        next(m.le for m in field.metadata if hasattr(m, "le")),
    )
    for name, field in TrainConfig.model_fields.items()
    if field.annotation is int
} | {"workers": (0, MAX_WORKERS)}
"""The integer settings' allowed ranges (inclusive), from the model; workers also bounded by this machine."""
MAX_FAKE_SIZE = 10**9
"""``--data fake:N`` accepts N up to this (a billion random images is already a load test)."""
DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "sgd": 1e-2}
DEFAULT_WEIGHT_DECAY = {"adam": 0.0, "adamw": 1e-2, "sgd": 0.0}
SGD_MOMENTUM = 0.9
ENVIRONMENT_SETTINGS = frozenset({"device", "workers", "data_root", "download", "tensorboard"})
"""Settings that change where and how a run computes, not what: a fresh run in the same --out may differ in them."""
RESUMABLE_CHANGES = ENVIRONMENT_SETTINGS | {"epochs"}
"""... and a resumed run may also ask for more epochs."""


def resolve(spec_train: TrainConfig | None, flags: Mapping[str, Any]) -> TrainConfig:
    """Defaults < the spec's ``train:`` < flags that are not None; ``lr`` and ``weight_decay`` made concrete."""
    values = spec_train.model_dump(exclude_unset=True) if spec_train is not None else {}
    settings = validate({**values, **{k: v for k, v in flags.items() if v is not None}})
    low, high = LIMITS["workers"]
    if settings.workers > high:
        raise usage(
            "usage",
            f"workers: expected an integer from {low:,} to {high:,}, got {settings.workers}",
            hint="set it with --workers or in the spec's train: section",
        )
    lr = settings.lr if settings.lr is not None else DEFAULT_LR[settings.optimizer]
    decay = settings.weight_decay if settings.weight_decay is not None else DEFAULT_WEIGHT_DECAY[settings.optimizer]
    return settings.model_copy(update={"lr": float(lr), "weight_decay": float(decay)})


def validate(values: Mapping[str, Any]) -> TrainConfig:
    """The model of ``values`` (flags or a caller's dict); a ValidationError becomes a usage error naming the flag."""
    try:
        return TrainConfig.model_validate(values)
    except ValidationError as exc:
        field, reason, _ = describe_error(exc)
        name = field.partition(".")[0]
        raise usage("usage", f"--{name.replace('_', '-')} {values.get(name)}: {field}: {reason}") from None


def check_resume_settings(saved: TrainConfig, flags: Mapping[str, Any]) -> TrainConfig:
    """The settings of a resumed run: the checkpoint's, with only harmless flags taking effect."""
    given = {k: v for k, v in flags.items() if v is not None}
    asked = validate({**saved.model_dump(), **given})
    for name, value in given.items():
        if name not in RESUMABLE_CHANGES and getattr(asked, name) != getattr(saved, name):
            raise usage(
                "resume-mismatch",
                f"--{name.replace('_', '-')} {value} differs from the run being resumed ({getattr(saved, name)})",
                hint="resume with the run's own settings (drop the flag), or start a new run in another --out",
            )
    if asked.epochs != saved.epochs and saved.scheduler in ("cosine", "onecycle"):
        raise usage(
            "resume-mismatch",
            f"the run's {saved.scheduler} schedule was built for {saved.epochs} epochs; it cannot be extended",
            hint=f"resume with --epochs {saved.epochs}, or start a new run",
        )
    return asked


# --- the flags' text forms of the two settings that are not one scalar (argparse ``type=``) ---


def parse_resize(text: str) -> tuple[int, int]:
    """``32`` or ``32,32`` or ``32x48`` -> (H, W)."""
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes, default=0) < 1:
        raise argparse.ArgumentTypeError(f"--resize expects SIZE or H,W (positive integers), got '{text}'")
    return (sizes[0], sizes[-1])


def parse_normalize(text: str) -> str | Normalize:
    """``dataset``, ``none``, or ``MEAN/STD`` with comma-separated per-channel values (``0.5/0.25``)."""
    if text in ("dataset", "none"):
        return text
    mean_text, sep, std_text = text.partition("/")
    try:
        mean = [float(v) for v in mean_text.split(",")]
        std = [float(v) for v in std_text.split(",")]
    except ValueError:
        sep = ""
    if not sep or not all(math.isfinite(v) for v in mean + std) or not all(v > 0 for v in std):
        raise argparse.ArgumentTypeError(
            f"--normalize expects dataset, none or MEAN/STD (e.g. 0.5/0.25 or 0.5,0.5,0.5/0.2,0.2,0.2): "
            f"finite means and positive, finite stds; got '{text}'"
        )
    return Normalize(mean=mean, std=std)


def usage(code: str, message: str, *, file: str = "<command line>", hint: str | None = None) -> UsageError:
    """A usage error (exit code 2) about the command line, the data or a checkpoint."""
    return UsageError([Diagnostic(code, message, file=file, hint=hint)])
