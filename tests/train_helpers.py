"""Shared pieces of the trainer tests: tiny specs, tiny data sets in torchvision's layouts, CLI runners."""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).parent.parent

TINY = """\
archspec: 1
name: tiny
input: {{channels: "${{channels}}", size: ["${{size}}", "${{size}}"]}}
params: {{num_classes: {classes}, channels: {channels}, size: {size}}}
layers:
  - {{type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2}}
  - {{type: BatchNorm2d}}
  - {{type: ReLU}}
  - {{type: AdaptiveAvgPool2d, output_size: 4}}
  - {{type: Flatten}}
  - {{type: Dropout, p: 0.2}}
  - {{type: Linear, out_features: "${{num_classes}}"}}
{extra}"""


def tiny_spec(
    folder: Path, *, classes: int = 10, channels: int = 1, size: int = 28, extra: str = "", name: str = "tiny.yaml"
) -> Path:
    """A ~1k-parameter CNN with BatchNorm and Dropout (both RNG- and state-sensitive)."""
    path = folder / name
    path.write_text(TINY.format(classes=classes, channels=channels, size=size, extra=extra))
    return path


def cli(*args: Any) -> int:
    from archspec.cli import main

    return main([str(a) for a in args])


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("ARCHSPEC_DEBUG", None)
    return env


def run_archspec(*args: Any, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archspec", *map(str, args)],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def metrics(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def without_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


# --- data sets in the layouts torchvision reads ---


def images_and_labels(n: int, shape: tuple[int, ...], classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable toy images: the class sets the brightness of a band, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, *shape), dtype=np.uint8)
    height = shape[-2] if len(shape) == 3 else shape[0]
    band = max(1, height // classes)
    for i, label in enumerate(labels):
        rows = slice(label * band, (label + 1) * band)
        if len(shape) == 3 and shape[-1] in (1, 3):  # HWC
            images[i, rows] = 255
        else:
            images[i, ..., rows, :] = 255
    return images, labels.astype(np.uint8)


def write_idx(root: Path, folder: str, n_train: int = 60, n_test: int = 30, classes: int = 10) -> None:
    """``root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``, as torchvision's MNIST reads them."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = images_and_labels(n, (28, 28), classes, seed)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())


def write_cifar10(root: Path, per_batch: int = 10) -> None:
    """``root/cifar-10-batches-py/``: five training batches, a test batch and the meta file (pickles)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for index, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        images, labels = images_and_labels(per_batch, (3, 32, 32), 10, 10 + index)
        entry = {"data": images.reshape(per_batch, -1), "labels": labels.tolist(), "batch_label": name}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names, "num_vis": 3072}))


def write_imagefolder(root: Path, classes: int = 3, per_class: int = 8, size: int = 28, mode: str = "L") -> None:
    from PIL import Image

    for label in range(classes):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        images, _ = images_and_labels(per_class, (size, size), 1, label)
        for i, pixels in enumerate(images):
            pixels[label * 3 : label * 3 + 3, :] = 255
            Image.fromarray(pixels).convert(mode).save(folder / f"{i}.png")


# --- token-id data (archspec/train/tokens.py) ---

TOKEN_CLASSIFIER = """\
archspec: 1
name: tokcls
input: {{shape: ["${{length}}"], dtype: {dtype}, range: [0, {vocab}]}}
params: {{num_classes: {classes}, length: {length}}}
layers:
  - {{type: Embedding, num_embeddings: {vocab}, embedding_dim: 8}}
  - {{type: Dropout, p: 0.1}}
  - {{type: mean, dim: 1}}
  - {{type: Linear, out_features: "${{num_classes}}"}}
{extra}"""

TOKEN_LM = """\
archspec: 1
name: toklm
input: {{shape: ["${{length}}"], dtype: {dtype}, range: [0, "${{vocab_size}}"]}}
params: {{length: {length}, vocab_size: {vocab}}}
layers:
  - {{type: Embedding, num_embeddings: "${{vocab_size}}", embedding_dim: 16}}
  - {{type: Dropout, p: 0.1}}
  - {{type: Linear, out_features: "${{vocab_size}}"}}
{extra}"""


def token_spec(
    folder: Path,
    *,
    lm: bool = False,
    vocab: int = 24,
    length: int = 8,
    classes: int = 3,
    dtype: str = "int64",
    extra: str = "",
) -> Path:
    """A tiny sequence classifier (Embedding -> mean -> Linear) or, with ``lm``, a per-position next-token model."""
    path = folder / ("toklm.yaml" if lm else "tokcls.yaml")
    template = TOKEN_LM if lm else TOKEN_CLASSIFIER
    path.write_text(template.format(vocab=vocab, length=length, classes=classes, dtype=dtype, extra=extra))
    return path


def token_classes(n: int, length: int = 8, vocab: int = 24, classes: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Learnable sequences: class c draws most of its ids from its own slice of the vocabulary."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    width = vocab // classes
    tokens = rng.integers(0, vocab, size=(n, length))
    own = rng.random((n, length)) < 0.7
    tokens[own] = (labels[:, None] * width + rng.integers(0, width, size=(n, length)))[own]
    return {"tokens": tokens.astype(np.int64), "labels": labels.astype(np.int64)}


def token_stream(count: int, vocab: int = 24, seed: int = 0) -> np.ndarray:
    """A learnable stream: mostly ``id + 1 (mod vocab)`` after ``id``, sometimes a random id."""
    rng = np.random.default_rng(seed)
    ids = np.empty(count, dtype=np.int64)
    ids[0] = 0
    jumps = rng.random(count) < 0.1
    randoms = rng.integers(0, vocab, size=count)
    for i in range(1, count):
        ids[i] = randoms[i] if jumps[i] else (ids[i - 1] + 1) % vocab
    return ids
