"""Training settings: built-in defaults, overridden by the spec's ``train:`` section, overridden by flags.

Torch-free: the command modules import this at parser-build time.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict

from archspec.backends.records import describe_error
from archspec.errors import Diagnostic, UsageError
from archspec.layers.base import Number, PositiveInt, bounded_number

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "cosine", "onecycle", "step")
DEVICES = ("auto", "cpu", "cuda", "mps")
DATA_KINDS = ("mnist5k", "mnist", "fashion-mnist", "cifar10", "imagefolder:PATH", "tokens:PATH", "fake", "fake:N")
TASKS = ("classify", "lm")
"""``classify``: one label per sample; ``lm``: the next token at every position (a language model)."""

MAX_WORKERS = 4 * (os.cpu_count() or 1)
"""More DataLoader workers than this only wait for each other (and 100000 of them hang the machine)."""

LIMITS: dict[str, tuple[int, int]] = {
    "epochs": (1, 1_000_000),
    "batch_size": (1, 2**31 - 1),
    "seed": (-(2**63), 2**64 - 1),  # what torch.manual_seed accepts
    "workers": (0, MAX_WORKERS),
}
"""The integer settings' allowed ranges (inclusive), checked on flags and on the spec's ``train:``."""

MAX_FAKE_SIZE = 10**9
"""``--data fake:N`` accepts N up to this (a billion random images is already a load test)."""

DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "sgd": 1e-2}
DEFAULT_WEIGHT_DECAY = {"adam": 0.0, "adamw": 1e-2, "sgd": 0.0}
SGD_MOMENTUM = 0.9

if TYPE_CHECKING:
    Positive = float
    NonNegative = float
else:
    Positive = bounded_number(gt=0)
    NonNegative = bounded_number(ge=0)


class Normalize(TypedDict):
    """Explicit per-channel statistics: ``(x - mean) / std``, finite, std > 0, one value or one per channel."""

    mean: Annotated[list[Number], Field(min_length=1, max_length=4)]
    std: Annotated[list[Positive], Field(min_length=1, max_length=4)]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class TrainSettings:
    """Everything that decides what a run computes (plus where and how fast it runs).

    A Pydantic dataclass: the values a checkpoint stores are read back through it, so a file
    with ``lr: NaN`` or a string for ``epochs`` is refused (see :func:`settings_from`).
    """

    task: Literal["classify", "lm"] = "classify"
    data: Annotated[StrictStr, Field(max_length=4096)] = "mnist5k"
    data_root: Annotated[StrictStr, Field(max_length=4096)] = "data"
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 64
    lr: Positive | None = None
    """``None``: the optimizer's default (:data:`DEFAULT_LR`)."""
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    weight_decay: NonNegative | None = None
    scheduler: Literal["none", "cosine", "onecycle", "step"] = "none"
    seed: Annotated[StrictInt, Field(ge=-(2**63), lt=2**64)] = 0
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    amp: StrictBool = False
    workers: Annotated[StrictInt, Field(ge=0, le=1024)] = 0
    resize: tuple[PositiveInt, PositiveInt] | None = None
    channels: Literal[1, 3] | None = None
    normalize: Literal["dataset", "none"] | Normalize = "dataset"
    """``"dataset"``, ``"none"`` or ``{"mean": [...], "std": [...]}``."""
    download: StrictBool = False

    @property
    def learning_rate(self) -> float:
        return float(self.lr if self.lr is not None else DEFAULT_LR[self.optimizer])

    @property
    def decay(self) -> float:
        return float(self.weight_decay if self.weight_decay is not None else DEFAULT_WEIGHT_DECAY[self.optimizer])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (ints, floats, strings, lists, dicts): for checkpoints and ``run.json``."""
        data = dataclasses.asdict(self)
        data["resize"] = list(self.resize) if self.resize else None
        data["lr"] = self.learning_rate
        data["weight_decay"] = self.decay
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        """Validate plain data (a checkpoint's ``settings``): a ValidationError names the bad field."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("resize"), list):
            values["resize"] = tuple(values["resize"])
        return cls(**values)


# Settings that change where and how fast a run computes, not what: a fresh run in the same --out may differ in them.
ENVIRONMENT_SETTINGS = frozenset({"device", "workers", "data_root", "download"})
# ... and a resumed run may also ask for more epochs.
RESUMABLE_CHANGES = ENVIRONMENT_SETTINGS | {"epochs"}


def resolve(spec_train: Any, flags: dict[str, Any]) -> TrainSettings:
    """Defaults < the spec's ``train:`` (a TrainConfig or None) < flags that are not None."""
    values: dict[str, Any] = {}
    if spec_train is not None:
        for name, value in spec_train.model_dump(exclude_none=True).items():
            values[name] = value
    values.update({k: v for k, v in flags.items() if v is not None})
    if "resize" in values:
        values["resize"] = normalize_resize(values["resize"])
    if "normalize" in values:
        values["normalize"] = normalize_normalize(values["normalize"])
    check_limits(values)
    try:
        return TrainSettings.from_dict(values)
    except ValidationError as exc:
        field, reason, _ = describe_error(exc)
        name = field.partition(".")[0]
        raise usage("usage", f"--{name.replace('_', '-')} {_show(values.get(name))}: {field}: {reason}") from None


def out_of_range(name: str, value: object) -> str | None:
    """Why ``value`` is outside :data:`LIMITS` for setting ``name``, or None when it is inside."""
    low, high = LIMITS[name]
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return None
    return f"expected an integer from {low:,} to {high:,}, got {value!r}"


def check_limits(values: dict[str, Any]) -> None:
    """Refuse integer settings out of range (a spec's ``train:`` or a caller's dict; flags are checked by argparse)."""
    for name in LIMITS:
        if name in values and (reason := out_of_range(name, values[name])) is not None:
            raise usage(
                "usage",
                f"{name}: {reason}",
                hint=f"set it with --{name.replace('_', '-')} or in the spec's train: section",
            )


def normalize_resize(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value, value)
    height, width = value
    return (int(height), int(width))


def normalize_normalize(value: Any) -> str | dict[str, list[float]]:
    if isinstance(value, str):
        return value
    mean, std = list(value["mean"]), list(value["std"])
    return {"mean": [float(v) for v in mean], "std": [float(v) for v in std]}


# --- command-line value parsers (argparse ``type=``; errors become a usage message) ---


def parse_resize(text: str) -> tuple[int, int]:
    """``32`` or ``32,32`` or ``32x48`` -> (H, W)."""
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes, default=0) < 1:
        raise _arg_error(f"--resize expects SIZE or H,W (positive integers), got '{text}'")
    return (sizes[0], sizes[-1])


def parse_normalize(text: str) -> str | dict[str, list[float]]:
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
        raise _arg_error(
            f"--normalize expects dataset, none or MEAN/STD (e.g. 0.5/0.25 or 0.5,0.5,0.5/0.2,0.2,0.2): "
            f"finite means and positive, finite stds; got '{text}'"
        )
    return {"mean": mean, "std": std}


def _arg_error(message: str) -> Exception:
    import argparse

    return argparse.ArgumentTypeError(message)


def check_resume_settings(saved: TrainSettings, flags: dict[str, Any]) -> TrainSettings:
    """The settings of a resumed run: the checkpoint's, with only harmless flags taking effect."""
    current = saved.to_dict()
    changes: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None:
            continue
        if name in ("resize",):
            value = list(normalize_resize(value) or ())
        if name == "normalize":
            value = normalize_normalize(value)
        if name == "lr":
            value = float(value)
        if name in RESUMABLE_CHANGES:
            changes[name] = value
        elif current.get(name) != value:
            raise usage(
                "resume-mismatch",
                f"--{name.replace('_', '-')} {_show(value)} differs from the run being resumed "
                f"({_show(current.get(name))})",
                hint="resume with the run's own settings (drop the flag), or start a new run in another --out",
            )
    if "epochs" in changes and changes["epochs"] != saved.epochs and saved.scheduler in ("cosine", "onecycle"):
        raise usage(
            "resume-mismatch",
            f"the run's {saved.scheduler} schedule was built for {saved.epochs} epochs; it cannot be extended",
            hint=f"resume with --epochs {saved.epochs}, or start a new run",
        )
    return dataclasses.replace(saved, **changes)


def usage(code: str, message: str, *, file: str = "<command line>", hint: str | None = None) -> UsageError:
    """A usage error (exit code 2) about the command line, the data or a checkpoint."""
    return UsageError([Diagnostic(code, message, file=file, hint=hint)])


def _show(value: Any) -> str:
    return str(value) if not isinstance(value, str) else value
