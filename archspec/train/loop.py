"""The training loop: one epoch of training, evaluation, and the epoch loop with its checkpoints.

Determinism (CPU): each epoch reseeds every RNG from (seed, epoch) and draws its data
order from (seed, epoch), and checkpoints are written only at epoch ends, so a run
killed at any moment and resumed from ``last.pt`` recomputes exactly what it lost.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archspec import __version__
from archspec.fileio import write_bytes_atomic, write_text_atomic
from archspec.frontend.models import TrainConfig
from archspec.train import checkpoint, rng
from archspec.train.config import SGD_MOMENTUM
from archspec.train.data import Data, make_loader, shard, train_sampler
from archspec.train.distributed import Dist
from archspec.train.plot import Board, write_curves
from archspec.train.progress import Reporter


def autocast_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    """float16 on CUDA and MPS, bfloat16 on CPU; None without ``--amp``."""
    if not amp:
        return None
    return torch.bfloat16 if device.type == "cpu" else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def train_one_epoch(
    model: nn.Module,
    loader: Any,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    *,
    loss_fn: nn.Module | None = None,
    batch_scheduler: Any = None,
    scaler: Any = None,
    amp_dtype: torch.dtype | None = None,
    reporter: Reporter | None = None,
) -> torch.Tensor:
    """Train for one pass over ``loader``; returns ``[sum of losses, correct, count]`` (float64, on ``device``).

    ``count`` is the number of predictions: one per sample for a classifier, one per position
    for a next-token model (outputs ``[B, L, V]``, targets ``[B, L]``: the loss is the mean over
    every position). Nothing here synchronises with the device per batch: the per-batch statistics stay
    tensors until the epoch ends (or until the progress display asks for them).
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.train()
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    non_blocking = device.type == "cuda"

    def running() -> tuple[float, float]:
        loss_sum, correct, count = totals.tolist()
        return (loss_sum / count, correct / count) if count else (math.nan, math.nan)

    if reporter is not None:
        reporter.track(running)
    for inputs, targets in loader:
        inputs = inputs.to(device, non_blocking=non_blocking)
        targets = targets.to(device, non_blocking=non_blocking)
        optimizer.zero_grad(set_to_none=True)
        targets = targets.flatten()  # [B] or, for a next-token model, [B * L]
        with _autocast(device, amp_dtype):
            outputs = model(inputs).flatten(0, -2)  # [B, classes] or [B * L, vocabulary]
            loss = loss_fn(outputs, targets)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
        count = targets.shape[0]
        totals[0] += loss.detach().double() * count
        totals[1] += (outputs.detach().argmax(1) == targets).sum()
        totals[2] += count
        if reporter is not None:
            reporter.step(count)
    return totals


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Any,
    device: torch.device,
    *,
    num_classes: int | None = None,
    amp_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``([sum of losses, correct, count], confusion)``; a confusion matrix (rows: truth) with ``num_classes``.

    Like :func:`train_one_epoch`, a next-token model counts one prediction per position."""
    model.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device) if num_classes else None
    non_blocking = device.type == "cuda"
    for inputs, targets in loader:
        inputs = inputs.to(device, non_blocking=non_blocking)
        targets = targets.to(device, non_blocking=non_blocking).flatten()
        with _autocast(device, amp_dtype):
            outputs = model(inputs)
        outputs = outputs.float().flatten(0, -2)
        predictions = outputs.argmax(1)
        totals[0] += F.cross_entropy(outputs, targets, reduction="sum").double()
        totals[1] += (predictions == targets).sum()
        totals[2] += targets.shape[0]
        if confusion is not None and num_classes:
            confusion += torch.bincount(targets * num_classes + predictions, minlength=num_classes * num_classes)
    matrix = confusion.view(num_classes, num_classes) if confusion is not None and num_classes else None
    return totals, matrix


def make_optimizer(settings: TrainConfig, parameters: Any) -> torch.optim.Optimizer:
    assert settings.lr is not None  # resolve() made it concrete
    options: dict[str, Any] = {"lr": settings.lr, "weight_decay": settings.weight_decay or 0.0}
    if settings.optimizer == "sgd":
        return torch.optim.SGD(parameters, momentum=SGD_MOMENTUM, **options)
    return (torch.optim.AdamW if settings.optimizer == "adamw" else torch.optim.Adam)(parameters, **options)


def make_scheduler(settings: TrainConfig, optimizer: torch.optim.Optimizer, steps: int) -> tuple[Any, bool]:
    """``(scheduler or None, steps per batch?)``: cosine and step per epoch, onecycle per batch."""
    sched = torch.optim.lr_scheduler
    if settings.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=settings.epochs), False
    if settings.scheduler == "step":
        return sched.StepLR(optimizer, step_size=max(1, settings.epochs // 3), gamma=0.1), False
    if settings.scheduler == "onecycle":
        total = max(1, settings.epochs * max(1, steps))
        return sched.OneCycleLR(optimizer, max_lr=float(optimizer.param_groups[0]["lr"]), total_steps=total), True
    return None, False


def metrics_text(history: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in history)


@dataclass
class Trainer:
    """The epoch loop of one run; rank 0 writes ``out``."""

    model: nn.Module
    data: Data
    settings: TrainConfig
    device: torch.device
    out: Path | None
    meta: dict[str, Any]
    """The checkpoint's ``spec`` entry (name, file, text, sha256, params)."""
    dist: Dist = field(default_factory=Dist)
    reporter: Reporter = field(default_factory=Reporter)
    history: list[dict[str, Any]] = field(default_factory=list)
    epoch: int = 0
    best: dict[str, Any] = field(default_factory=lambda: {"epoch": 0, "val_acc": -1.0, "val_loss": math.inf})

    def __post_init__(self) -> None:
        settings, dist, data = self.settings, self.dist, self.data
        self.model.to(self.device)
        self.net: nn.Module = self.model
        if dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.lm = settings.task == "lm"
        self.reporter.unit = data.rate_unit
        pin, workers = self.device.type == "cuda", settings.workers
        self.sampler = train_sampler(data.train, settings.seed, rank=dist.rank, world=dist.world)
        self.train_loader = make_loader(
            data.train, settings.batch_size, batched=data.batched, sampler=self.sampler, workers=workers, pin_memory=pin
        )
        val = shard(data.val, dist.rank, dist.world)
        self.val_loader = make_loader(val, settings.batch_size, batched=data.batched, workers=workers, pin_memory=pin)
        self.optimizer = make_optimizer(settings, self.model.parameters())
        self.scheduler, self.per_batch = make_scheduler(settings, self.optimizer, len(self.train_loader))
        self.amp_dtype = autocast_dtype(self.device, settings.amp)
        self.scaler = (
            torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 and self.device.type == "cuda" else None
        )
        self.board = Board(self.out / "tensorboard") if settings.tensorboard and dist.is_main and self.out else None

    # --- checkpoints ---

    def state(self) -> dict[str, Any]:
        return {
            "format": checkpoint.FORMAT,
            "version": checkpoint.VERSION,
            "archspec_version": __version__,
            "torch_version": str(torch.__version__),
            "spec": self.meta,
            "settings": self.settings.model_dump(),
            "data": self.data.describe(),
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": rng.capture(),
            "history": [dict(row) for row in self.history],
            "best": dict(self.best),
            "world_size": self.dist.world,
        }

    def restore(self, payload: dict[str, Any], path: str | Path | None = None) -> None:
        """Continue from a checkpoint's ``payload`` (read from ``path``, which errors name)."""
        try:
            self.model.load_state_dict(payload["model"])
            self.optimizer.load_state_dict(payload["optimizer"])
            if self.scheduler is not None and payload.get("scheduler") is not None:
                _check_like(payload["scheduler"], self.scheduler.state_dict(), "scheduler")
                self.scheduler.load_state_dict(payload["scheduler"])
            if self.scaler is not None and payload.get("scaler") is not None:
                self.scaler.load_state_dict(payload["scaler"])
            rng.restore(payload["rng"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            # the record checked the types; torch checks the shapes and the optimizer's structure
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            name = str(path) if path is not None else "the checkpoint"
            raise checkpoint.error(f"'{name}' does not fit this model and run: {reason}", str(path or "")) from None
        self.epoch = int(payload["epoch"])
        self.history = [dict(row) for row in payload["history"]]
        self.best = dict(payload["best"])

    def write_outputs(self, *, best: bool = False) -> None:
        """``last.pt`` (and ``best.pt``), then ``metrics.jsonl`` and ``curves.png``; rank 0 only."""
        if not self.dist.is_main or self.out is None:
            return
        data = checkpoint.to_bytes(self.state())  # serialised once for both files
        write_bytes_atomic(self.out / "last.pt", data)
        if best:
            write_bytes_atomic(self.out / "best.pt", data)
        self.write_metrics()

    def write_metrics(self) -> None:
        assert self.out is not None  # write_outputs and the runner call it on rank 0 with an --out
        write_text_atomic(self.out / "metrics.jsonl", metrics_text(self.history))
        if self.board is not None:
            self.board.write(self.history)
        if self.history:
            write_curves(
                self.out / "curves.png", self.history, title=f"{self.meta.get('name', '')} on {self.data.name}"
            )

    # --- the loop ---

    def fit(self) -> dict[str, Any]:
        try:
            for epoch in range(self.epoch + 1, self.settings.epochs + 1):
                self._epoch(epoch)
        finally:
            if self.board is not None:
                self.board.close()
        return self.summary()

    def _epoch(self, epoch: int) -> None:
        settings, dist = self.settings, self.dist
        rng.seed_epoch(settings.seed, epoch, dist.rank)
        self.sampler.set_epoch(epoch)
        for loader in (self.train_loader, self.val_loader):
            loader.generator.manual_seed(rng.derive(settings.seed, "workers", epoch, dist.rank))
        lr = float(self.optimizer.param_groups[0]["lr"])
        label = f"epoch {epoch}/{settings.epochs}"
        start = time.perf_counter()
        self.reporter.start_epoch(label, len(self.train_loader))
        try:
            train = train_one_epoch(
                self.net,
                self.train_loader,
                self.optimizer,
                self.device,
                batch_scheduler=self.scheduler if self.per_batch else None,
                scaler=self.scaler,
                amp_dtype=self.amp_dtype,
                reporter=self.reporter if self.reporter.enabled else None,
            )
        finally:
            self.reporter.end_epoch()
        dist.broadcast_buffers(self.model)  # every rank evaluates rank 0's model: the one saved
        val, _ = evaluate(self.model, self.val_loader, self.device, amp_dtype=self.amp_dtype)
        totals = dist.all_reduce_sum(torch.cat([train, val]))
        seconds = time.perf_counter() - start
        if self.scheduler is not None and not self.per_batch:
            self.scheduler.step()
        t_loss, t_correct, t_n, v_loss, v_correct, v_n = totals.tolist()
        row: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": t_loss / max(t_n, 1),
            "train_acc": t_correct / max(t_n, 1),
            "val_loss": v_loss / max(v_n, 1),
            "val_acc": v_correct / max(v_n, 1),
        }
        if self.lm:
            row.update(train_ppl=perplexity(row["train_loss"]), val_ppl=perplexity(row["val_loss"]))
        row.update(lr=lr, seconds=round(seconds, 3))
        self.history.append(row)
        self.epoch = epoch
        # a language model's best epoch has the lowest validation loss (perplexity), a classifier's the best
        # accuracy
        is_best = row["val_loss"] < self.best["val_loss"] if self.lm else row["val_acc"] > self.best["val_acc"]
        if is_best:
            self.best = {"epoch": epoch, "val_acc": row["val_acc"], "val_loss": row["val_loss"]}
        self.write_outputs(best=is_best)
        self.reporter.info(self._epoch_line(label, row, t_n / max(seconds, 1e-9)))
        dist.barrier()

    def _epoch_line(self, label: str, row: dict[str, Any], rate: float) -> str:
        ppl = {part: f" ppl {row[f'{part}_ppl']:.2f}" if self.lm else "" for part in ("train", "val")}
        return (
            f"{label}  train loss {row['train_loss']:.4f}{ppl['train']} acc {row['train_acc']:.2%}  "
            f"val loss {row['val_loss']:.4f}{ppl['val']} acc {row['val_acc']:.2%}  lr {row['lr']:.3g}  "
            f"{row['seconds']:.1f}s ({rate:,.0f} {self.reporter.unit}/s)"
        )

    def summary(self) -> dict[str, Any]:
        found = bool(self.best["epoch"])
        summary = {
            "epochs": self.epoch,
            "best_epoch": self.best["epoch"],
            "best_val_acc": self.best["val_acc"] if found else None,
            "best_val_loss": self.best.get("val_loss") if found else None,
            "last": self.history[-1] if self.history else None,
            "out": str(self.out) if self.out else None,
        }
        if self.lm:
            summary["best_val_ppl"] = perplexity(self.best["val_loss"]) if found else None
        return summary


def perplexity(loss: float) -> float:
    """``exp(mean cross-entropy per token)``; infinite when that overflows a float (a diverged run)."""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


def _check_like(saved: dict[str, Any], fresh: dict[str, Any], what: str) -> None:
    """A scheduler's ``load_state_dict`` copies every key onto the object: only its own keys, of its own types."""
    if set(saved) != set(fresh):
        raise ValueError(f"the {what} state has keys {sorted(saved)[:10]}, not {sorted(fresh)}")
    for key, value in fresh.items():
        kinds = (int, float) if isinstance(value, int | float) and not isinstance(value, bool) else (type(value),)
        if value is not None and saved[key] is not None and not isinstance(saved[key], kinds):
            raise ValueError(
                f"the {what} state's '{key}' is a {type(saved[key]).__name__}, not a {type(value).__name__}"
            )
