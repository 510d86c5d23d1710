"""Token-id data for ``archspec train``: a file of ids (and labels), fake ids, and the data/spec check.

A spec whose input is integer token ids (``input: {shape: [L], dtype: int64, range: [0, V]}``) trains on
``--data fake[:N]`` or ``--data tokens:FILE``, a ``.npz`` (``numpy.load(allow_pickle=False)``) or a ``.pt``
dict of tensors (``torch.load(weights_only=True)``) whose keys (:data:`KEYS`) and layouts -- labelled
sequences for ``--task classify``, a stream or windows of ``L + 1`` ids for ``--task lm`` -- are described
in docs/training.md#token-data. Before the first step every id is checked against the spec's range, the
shapes against its input and the labels against its outputs; a mismatch is a usage error naming the file,
the value, where it is, and the fix. Nothing is converted but the cast of the ids to the input's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archspec.backends.ptfile import check_unpacked_size, first_line, read_pt
from archspec.compiler.ir import CompiledSpec
from archspec.errors import UsageError
from archspec.frontend.models import TrainConfig
from archspec.frontend.suggest import did_you_mean
from archspec.layers.base import TensorType
from archspec.train.config import usage
from archspec.train.data import (
    IMAGE_DATA,
    VAL_FRACTION,
    Data,
    InMemory,
    Seeded,
    TokenPrep,
    class_mismatch,
    class_param,
    dims_text,
    fake_size,
    param_of,
    stratified_split,
)
from archspec.train.scope import TOKEN_INPUT, output_node_path

KEYS = {
    "classify": ("tokens", "labels", "val_tokens", "val_labels", "classes"),
    "lm": ("tokens", "val_tokens"),
}
"""The keys a token file may hold, per task."""
SUFFIXES = (".npz", ".pt")
TOKEN_DOCS = "docs/training.md#token-data"


def token_set(ids: torch.Tensor, labels: torch.Tensor | None, dtype: torch.dtype) -> InMemory:
    """``[N, *shape]`` ids with labels, or lm windows ``[N, L+1]``: the first L ids in, each one's next id out.

    A batch of ids is cast to the spec's input dtype when fetched (lossless once their range is checked).
    """
    cast = partial(torch.Tensor.to, dtype=dtype)
    return InMemory(ids[:, :-1], ids[:, 1:], cast) if labels is None else InMemory(ids, labels, cast)


@dataclass(frozen=True)
class _RandomIds:
    """FakeData's recipe for token ids: ids in ``[low, high)`` and a random label (``classes`` None: the next ids)."""

    shape: tuple[int, ...]
    span: tuple[int, int]
    classes: int | None
    dtype: torch.dtype

    def __call__(self, generator: torch.Generator) -> tuple[torch.Tensor, Any]:
        low, high = self.span
        if self.classes is None:
            ids = torch.randint(low, high, (self.shape[0] + 1,), generator=generator)
            return ids[:-1].to(self.dtype), ids[1:]
        ids = torch.randint(low, high, self.shape, generator=generator)
        return ids.to(self.dtype), int(torch.randint(0, self.classes, (1,), generator=generator))


# ----------------------------------------------------------------------------- the entry point


def open_tokens(settings: TrainConfig, compiled: CompiledSpec, num_outputs: int | None) -> Data:
    """Token data for ``compiled`` (one integer input with a declared range), checked against it."""
    name, task = settings.data, settings.task
    value = next(iter(compiled.inputs.values()))

    def mismatch(gives: str, hint: str) -> UsageError:
        message = f"--data {name} gives {gives}"
        return UsageError([compiled.source.diagnostic("data-mismatch", message, _input_path(compiled), hint=hint)])

    if value.kind != "int":
        raise mismatch(
            f"token ids, but the spec's input is {value.dtype} {dims_text(value.shape)}",
            f"give the spec a token input ({TOKEN_INPUT}), or choose image data (--data mnist5k, ...)",
        )
    if name in IMAGE_DATA or name.startswith("imagefolder:"):
        raise mismatch(
            f"images, but the spec's input is token ids ({value.dtype} {dims_text(value.shape)} "
            f"in [{value.low}, {value.high}))",
            f"--data tokens:FILE (.npz or .pt, see {TOKEN_DOCS}) or --data fake",
        )
    if settings.resize or settings.channels or isinstance(settings.normalize, dict):
        raise usage(
            "usage",
            f"--data {name} gives token ids: --resize, --channels and --normalize apply to images",
            hint="drop them (token ids are only cast to the spec's input dtype)",
        )
    if name.startswith("tokens:"):
        return _from_file(Path(name.partition(":")[2]), settings, compiled, num_outputs)
    return _fake(name, task, compiled, num_outputs)


def _input_path(compiled: CompiledSpec) -> tuple[str, ...]:
    spec_inputs = getattr(compiled.spec, "inputs", None)
    return ("inputs", next(iter(compiled.inputs))) if spec_inputs else ("input",)


def _fake(name: str, task: str, compiled: CompiledSpec, num_outputs: int | None) -> Data:
    value = next(iter(compiled.inputs.values()))
    size = fake_size(name)
    val_size = max(1, size // 4)
    shape, span, dtype = tuple(value.shape), (int(value.low or 0), int(value.high or 0)), getattr(torch, value.dtype)
    classes = num_outputs if task == "classify" else None
    unit = "sequences" if task == "classify" else "windows"
    pre = _prep(value.dtype, value, target="label" if classes else "next token")
    draw = _RandomIds(shape, span, classes, dtype)
    return Data(
        name=name,
        train=Seeded(size, 0, draw),
        val=Seeded(val_size, size, draw),
        classes=[str(i) for i in range(classes)] if classes else [],
        pre=pre,
        split=f"random token ids in [{span[0]}, {span[1]}): {size} train / {val_size} validation {unit}",
        vocab=None if classes else _vocab(compiled),
        unit=unit,
    )


def _prep(source_dtype: str, value: TensorType, **record: Any) -> TokenPrep:
    shape, span = list(value.shape), [int(value.low or 0), int(value.high or 0)]
    return TokenPrep.model_validate(
        {"source_dtype": source_dtype, "dtype": value.dtype, "shape": shape, "range": span, **record}
    )


def _vocab(compiled: CompiledSpec) -> int:
    return int((compiled.output_shape or (0,))[-1])


# ----------------------------------------------------------------------------- reading a file


def read_arrays(path: Path, task: str) -> dict[str, Any]:
    """The named arrays of a ``.npz`` or ``.pt`` token file: non-empty integer arrays, ``classes`` a list of str."""
    where = str(path)
    if path.suffix not in SUFFIXES:
        raise usage(
            "data",
            f"--data tokens:{path}: a token file is .npz or .pt, not '{path.suffix or path.name}'",
            file=where,
            hint=f"save the ids with numpy.savez or torch.save (see {TOKEN_DOCS})",
        )
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise usage("data-not-found", f"--data tokens:{path}: '{path}' {what}", file=where)
    payload = _read_npz(path) if path.suffix == ".npz" else read_pt(path, code="data", what="a .pt token file")
    if not isinstance(payload, dict) or not all(isinstance(key, str) for key in payload):
        raise usage(
            "data",
            f"'{path}' holds a {type(payload).__name__}, not a dict of named tensors",
            file=where,
            hint="save with torch.save({'tokens': ..., 'labels': ...}, path)",
        )
    arrays = {key: _array(value, key, path) for key, value in payload.items()}
    allowed = KEYS[task]
    unknown = [key for key in arrays if key not in allowed]
    if unknown:
        suggestion = did_you_mean(unknown[0], list(allowed), what="key")
        suggestion = suggestion if suggestion and suggestion.startswith("did you mean") else None
        other = "--task classify" if task == "lm" else "--task lm"
        known_elsewhere = all(key in KEYS["classify"] + KEYS["lm"] for key in unknown)
        raise usage(
            "data",
            f"'{path}' holds {', '.join(repr(k) for k in unknown)}, which --task {task} does not read",
            file=where,
            hint=(suggestion + "; " if suggestion else "")
            + f"--task {task} reads {', '.join(allowed)}"
            + (f" (is it data for {other}?)" if known_elsewhere else ""),
        )
    needed = ("tokens", "labels") if task == "classify" else ("tokens",)
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise usage(
            "data",
            f"'{path}' has no {' or '.join(repr(k) for k in missing)} (it holds {', '.join(arrays) or 'nothing'})",
            file=where,
            hint=f"--task {task} reads {', '.join(allowed)} (see {TOKEN_DOCS})",
        )
    return arrays


def _read_npz(path: Path) -> dict[str, Any]:
    """``numpy.load(allow_pickle=False)`` after the zip's size check; a damaged file is a usage error naming it."""
    check_unpacked_size(path, "data")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                return {key: loaded[key] for key in loaded.files}
    except Exception as exc:  # numpy raises many kinds for a damaged file
        reason = first_line(exc)
        problem = f"it is corrupt, truncated or not one ({reason})"
        if "allow_pickle" in reason:
            problem = "it holds Python objects, not just arrays (refused unread: unpickling them could run code)"
        raise usage(
            "data",
            f"cannot read '{path}' as a .npz token file: {problem}",
            file=str(path),
            hint=f"save plain integer arrays with numpy.savez (see {TOKEN_DOCS})",
        ) from None
    raise usage(
        "data",
        f"'{path}' holds one unnamed array, not named arrays",
        file=str(path),
        hint="save with numpy.savez(path, tokens=..., labels=...)",
    )


def _array(value: Any, key: str, path: Path) -> Any:
    """``classes``: a list of names; any other key: a non-empty integer numpy array (ids or labels)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "U" and value.ndim == 1:
        value = value.tolist()
    strings = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    if key == "classes":
        if not strings:
            raise usage("data", f"'{path}': 'classes' must be a list of names (strings)", file=str(path))
        return [str(v) for v in value]
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        if value.layout != torch.strided:
            raise _not_ids(path, key, f"a {str(value.layout).removeprefix('torch.')} {dtype} tensor")
        if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise _not_ids(path, key, f"{dtype} values")
        value = value.numpy()
    if not isinstance(value, np.ndarray):
        raise _not_ids(path, key, "strings" if strings else f"a {type(value).__name__}")
    if value.dtype.kind not in "iu":
        raise _not_ids(path, key, f"{value.dtype} values")
    if value.size == 0:
        raise usage("data", f"'{path}': '{key}' is empty {dims_text(value.shape)}", file=str(path))
    return value


def _not_ids(path: Path, key: str, what: str) -> UsageError:
    return usage(
        "data",
        f"'{path}': '{key}' holds {what}, not integer {'labels' if 'labels' in key else 'token ids'}",
        file=str(path),
        hint="save token ids and labels as integer arrays (int64, int32, uint16, ...)",
    )


# ----------------------------------------------------------------------------- the checks


@dataclass
class _File:
    """A token file being checked against a spec."""

    path: Path
    compiled: CompiledSpec
    arrays: dict[str, Any]

    @property
    def value(self) -> Any:
        return next(iter(self.compiled.inputs.values()))

    def mismatch(self, message: str, path: tuple[str | int, ...], hint: str) -> UsageError:
        diagnostic = self.compiled.source.diagnostic(
            "data-mismatch", f"--data tokens:{self.path}: {message}", path, hint=hint
        )
        return UsageError([diagnostic])

    def check_range(self, key: str, ids: np.ndarray) -> None:
        """Every id in the spec's ``[low, high)``: the first one outside, by value and position."""
        low, high = int(self.value.low), int(self.value.high)
        top, bottom = int(ids.max()), int(ids.min())
        if bottom >= low and top < high:
            return
        bad = top if top >= high else bottom
        position = ", ".join(str(int(i)) for i in np.unravel_index(int(np.argmax(ids == bad)), ids.shape))
        raise self.mismatch(
            f"token id {bad} ({key}[{position}]) is outside the spec's input range [{low}, {high})",
            (*_input_path(self.compiled), "range"),
            hint=f"the ids must lie in [{low}, {high}): widen the input's range (and the Embedding's "
            "num_embeddings) to the vocabulary, or tokenise with a vocabulary that fits",
        )

    def length_hint(self, got: int) -> str:
        """``--set PARAM=got`` when the spec's sequence length is a parameter."""
        shape = getattr(getattr(self.compiled.spec, "input", None), "shape", None)
        param = param_of(shape[0]) if isinstance(shape, list) and shape else None
        change = f"--set {param}={got} changes the spec" if param else f"change the spec's input shape to [{got}]"
        return f"{change}, or cut the sequences to {self.value.shape[0]} ids"


def _from_file(path: Path, settings: TrainConfig, compiled: CompiledSpec, num_outputs: int | None) -> Data:
    file = _File(path, compiled, read_arrays(path, settings.task))
    if settings.task == "lm":
        return _lm(file, settings.data)
    assert num_outputs is not None  # open_data checked that a --task classify model is a classifier
    return _classify(file, settings.data, num_outputs)


def _sequences(file: _File, key: str) -> np.ndarray:
    """``key``'s ids as ``[N, *shape]`` of the spec's input, range-checked."""
    ids = file.arrays[key]
    expected = tuple(file.value.shape)
    if tuple(ids.shape[1:]) != expected:
        got = ids.shape[1:]
        hint = (
            file.length_hint(got[0])
            if len(got) == len(expected) == 1
            else f"give '{key}' the shape [N, {', '.join(map(str, expected))}]"
        )
        raise file.mismatch(
            f"'{key}' is {dims_text(ids.shape)}: samples of {dims_text(got)}, but the spec's input is "
            f"{dims_text(expected)}",
            (*_input_path(file.compiled), "shape"),
            hint=hint,
        )
    file.check_range(key, ids)
    return ids


def _labels(file: _File, key: str, count: int, classes: int, tokens_key: str) -> np.ndarray:
    labels = file.arrays[key]
    if labels.ndim != 1 or len(labels) != count:
        raise usage(
            "data",
            f"'{file.path}': '{key}' is {dims_text(labels.shape)}, but '{tokens_key}' holds {count} samples",
            file=str(file.path),
            hint=f"give one integer label per sample: '{key}' of shape [{count}]",
        )
    top, bottom = int(labels.max()), int(labels.min())
    if bottom < 0 or top >= classes:
        bad = top if top >= classes else bottom
        index = int(np.argmax(labels == bad))
        param = class_param(file.compiled, classes)
        fix = f"--set {param}={top + 1}" if param and bad >= classes else "labels are class numbers from 0"
        raise file.mismatch(
            f"label {bad} ({key}[{index}]) is outside the model's {classes} classes [0, {classes})",
            ("params", param) if param else output_node_path(file.compiled),
            hint=fix if bad < 0 else f"{fix}, or make the last layer's out_features {top + 1}",
        )
    return labels


def _labelled(file: _File, prefix: str, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``{prefix}tokens`` and ``{prefix}labels``, checked against the spec, as int64 tensors."""
    ids = _sequences(file, f"{prefix}tokens")
    labels = _labels(file, f"{prefix}labels", len(ids), classes, f"{prefix}tokens")
    return torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))


def _classify(file: _File, name: str, num_outputs: int) -> Data:
    arrays, path = file.arrays, file.path
    classes = arrays.get("classes")
    if classes is not None and len(classes) != num_outputs:
        raise UsageError([class_mismatch(file.compiled, name, len(classes), num_outputs)])
    has_val = [key for key in ("val_tokens", "val_labels") if key in arrays]
    if len(has_val) == 1:
        other = "val_labels" if has_val[0] == "val_tokens" else "val_tokens"
        raise usage(
            "data", f"'{path}' has '{has_val[0]}' but no '{other}'", file=str(path), hint="give both, or neither"
        )
    ids, labels = _labelled(file, "", num_outputs)
    if has_val:
        val_ids, val_labels = _labelled(file, "val_", num_outputs)
        split = f"{path}: tokens/labels, validation val_tokens/val_labels"
    else:
        hint = "add samples (3 or more per class), or give val_tokens and val_labels"
        train_idx, val_idx, split = stratified_split(labels, str(path), "sequence", hint)
        ids, labels, val_ids, val_labels = ids[train_idx], labels[train_idx], ids[val_idx], labels[val_idx]
        split = f"{path}: {split}"
    dtype = getattr(torch, file.value.dtype)
    return Data(
        name=name,
        train=token_set(ids, labels, dtype),
        val=token_set(val_ids, val_labels, dtype),
        classes=classes or [str(i) for i in range(num_outputs)],
        pre=_prep(str(arrays["tokens"].dtype), file.value, target="label"),
        split=split,
        root=str(path),
        unit="sequences",
    )


def _windows(file: _File, key: str) -> tuple[torch.Tensor, str]:
    """``key``'s ids as lm windows ``[N, L + 1]`` (a view of a stream, or the given windows), range-checked."""
    ids = file.arrays[key]
    length = file.value.shape[0]
    if ids.ndim == 2 and ids.shape[1] != length + 1:
        raise file.mismatch(
            f"'{key}' holds windows of {ids.shape[1]} ids {dims_text(ids.shape)}, but the spec's input [{length}] "
            f"takes windows of length + 1 = {length + 1} ids (the inputs, then the next token of the last one)",
            (*_input_path(file.compiled), "shape"),
            hint=file.length_hint(ids.shape[1] - 1).replace("cut the sequences to", "cut the windows to one more than")
            + f", or give '{key}' as a 1-d stream of ids",
        )
    if ids.ndim not in (1, 2):
        raise usage(
            "data",
            f"'{file.path}': '{key}' is {dims_text(ids.shape)}; --task lm reads a stream [T] or windows [N, L + 1]",
            file=str(file.path),
        )
    if ids.ndim == 1 and len(ids) < length + 1:
        raise usage(
            "data",
            f"'{file.path}': '{key}' holds {len(ids)} ids, fewer than one window of length + 1 = {length + 1}",
            file=str(file.path),
            hint="give a longer stream of ids",
        )
    file.check_range(key, ids)
    tensor = torch.from_numpy(ids.astype(np.int64))
    if ids.ndim == 1:
        return tensor.unfold(0, length + 1, length), "stream, stride length"
    return tensor, "given"


def _lm(file: _File, name: str) -> Data:
    path = file.path
    windows, how = _windows(file, "tokens")
    if "val_tokens" in file.arrays:
        val, _ = _windows(file, "val_tokens")
        train = windows
        split = f"{path}: tokens, validation val_tokens ({len(train):,}/{len(val):,} windows)"
    else:
        if len(windows) < 2:
            raise usage(
                "data",
                f"'{path}' holds {len(windows)} window(s) of {file.value.shape[0] + 1} ids, too few for a "
                "validation split",
                file=str(path),
                hint="give more ids, or a val_tokens stream",
            )
        n_val = max(1, round(len(windows) * VAL_FRACTION))
        train, val = windows[: len(windows) - n_val], windows[len(windows) - n_val :]
        split = f"{path}: the first {len(train):,} windows train, the last {len(val):,} validate"
    dtype = getattr(torch, file.value.dtype)
    return Data(
        name=name,
        train=token_set(train, None, dtype),
        val=token_set(val, None, dtype),
        classes=[],
        pre=_prep(str(file.arrays["tokens"].dtype), file.value, target="next token", windows=how),
        split=split,
        root=str(path),
        vocab=_vocab(file.compiled),
        unit="windows",
    )
