"""A whole ``archspec train`` run and a whole ``archspec evaluate``, as the commands call them."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import torch

from archspec.backends.limits import DEFAULT_MAX_ACTIVATION_BYTES, check_activation_memory, memory_bytes
from archspec.backends.records import SpecRecord
from archspec.compiler.ir import CompiledSpec
from archspec.errors import UsageError
from archspec.fileio import check_output_dir, check_outputs, make_dir, write_bytes_atomic, write_text_atomic
from archspec.frontend.models import TrainConfig
from archspec.train import checkpoint
from archspec.train.config import ENVIRONMENT_SETTINGS, check_resume_settings, resolve, usage
from archspec.train.data import Data, DataError, make_loader, open_data
from archspec.train.distributed import Dist, choose_device, setup
from archspec.train.lock import run_lock
from archspec.train.loop import Trainer, autocast_dtype, evaluate, perplexity
from archspec.train.progress import Reporter
from archspec.train.scope import check_sparse_gradients, check_trainable


def activation_limit(limit: int | Literal["auto"] | None, device: torch.device) -> int | None:
    """``auto``: the device's memory (CUDA's, else the machine's RAM), and never below the 4 GiB default."""
    if limit != "auto":
        return limit
    cuda = device.type == "cuda"
    memory = torch.cuda.get_device_properties(device).total_memory if cuda else memory_bytes()
    return max(DEFAULT_MAX_ACTIVATION_BYTES, memory)


def default_out(name: str) -> Path:
    return Path("runs") / name / time.strftime("%Y%m%d-%H%M%S")


def latest_run(name: str) -> Path | None:
    runs = sorted(Path("runs", name).glob("*/last.pt"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent if runs else None


def train(
    compiled: CompiledSpec,
    flags: dict[str, Any],
    *,
    out: str | None = None,
    resume: bool = False,
    bar: bool | None = None,
    max_activation_bytes: int | Literal["auto"] | None = "auto",
    weights: str | Path | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Train ``compiled``; ``flags`` are the command-line settings (None: not given). Returns the summary.

    ``weights``: a file of initial weights (a state dict, export or checkpoint), loaded after the
    model is built with the seed's initialisation: every entry must fit (``strict``), or what fits
    is loaded and the rest listed. A run resumed from its checkpoint ignores it (the checkpoint
    holds the trained weights).

    A training step whose activations (:func:`~archspec.backends.limits.activation_bytes` for one
    batch) would exceed ``max_activation_bytes`` is refused before any data is loaded.
    """
    settings = resolve(compiled.spec.train, flags)
    check_trainable(compiled, task=settings.task)
    if settings.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise usage("missing-package", "--tensorboard needs the 'tensorboard' package", hint="pip install tensorboard")
    dist, device = setup(settings.device)
    try:
        limit = activation_limit(max_activation_bytes, device)
        out_dir = _out_dir(compiled.name, out, resume, dist, compiled.source.file)
        with run_lock(out_dir, enabled=dist.is_main):
            try:
                start = (weights, strict) if weights is not None else None
                return _train_locked(
                    compiled,
                    settings,
                    flags,
                    dist,
                    device,
                    out_dir=out_dir,
                    resume=resume,
                    bar=bar,
                    limit=limit,
                    weights=start,
                )
            except KeyboardInterrupt:
                raise Interrupted(out_dir, _saved_epoch(out_dir / "last.pt")) from None
    except DataError as exc:
        raise _data_usage(exc) from None
    finally:
        dist.close()


def _data_usage(exc: DataError) -> UsageError:
    """A bad sample found while loading; a DataLoader worker re-raises it inside a traceback text."""
    message = str(exc).strip().splitlines()
    reason = next((line for line in reversed(message) if line.startswith(("DataError", "archspec"))), message[0])
    return usage("data", reason.removeprefix("archspec.train.data.DataError: "), file="<data>")


def _plan_weights(compiled: CompiledSpec, weights: tuple[str | Path, bool]) -> Any:
    """Read ``--weights`` and check it against the spec before any data is loaded."""
    from archspec.backends.weights import plan, read_weights

    read = read_weights(weights[0])
    return read, plan(compiled, read, strict=weights[1])


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: where its last checkpoint is (``epoch`` None: none was written)."""

    def __init__(self, out: Path, epoch: int | None) -> None:
        where = f"last checkpoint {out / 'last.pt'} (epoch {epoch})" if epoch is not None else "no checkpoint yet"
        super().__init__(f"interrupted; {where}")
        self.out = out
        self.epoch = epoch


def _saved_epoch(last: Path) -> int | None:
    """The epoch in ``last.pt`` as it is on disk (writes are atomic: it is whole or absent)."""
    try:
        return int(checkpoint.load(last)["epoch"])
    except Exception:  # missing or unreadable: report no checkpoint rather than fail while stopping
        return None


def _train_locked(
    compiled: CompiledSpec,
    settings: TrainConfig,
    flags: dict[str, Any],
    dist: Dist,
    device: torch.device,
    *,
    out_dir: Path,
    resume: bool,
    bar: bool | None,
    limit: int | None,
    weights: tuple[str | Path, bool] | None = None,
) -> dict[str, Any]:
    last = out_dir / "last.pt"
    payload: dict[str, Any] | None = None
    if resume and last.exists():
        payload = checkpoint.load(last)
        checkpoint.check_spec(payload, compiled, last)
        settings = check_resume_settings(TrainConfig.model_validate(payload["settings"]), flags)
    restart = False
    if payload is None and last.exists():
        _check_restart(last, compiled, settings, out_dir)
        restart = True
    check_activation_memory(compiled, limit, batch=settings.batch_size, what="a training step")
    check_sparse_gradients(compiled, settings.optimizer, settings.weight_decay or 0.0)
    initial = _plan_weights(compiled, weights) if weights is not None and payload is None else None
    data = open_data(settings, compiled, is_main=dist.is_main, barrier=dist.barrier if dist.enabled else None)
    if payload is not None:
        _check_same_data(payload, data, last)
    if dist.is_main:
        make_dir(out_dir)
        if restart:  # the same run again from scratch: its old files go first, last.pt first of all
            for name in RUN_FILES:
                (out_dir / name).unlink(missing_ok=True)
    torch.manual_seed(settings.seed)  # the initial weights depend on the seed alone
    from archspec.api import build

    model = build(compiled, max_activation_bytes=None)  # checked above for the whole batch
    reporter = Reporter(enabled=dist.is_main, log_file=out_dir / "train.log" if dist.is_main else None, bar=bar)
    if initial is not None:
        from archspec.backends.weights import load_into

        for line in load_into(model, *initial):
            reporter.info(line)
    elif weights is not None:
        reporter.info(f"resuming from {last}: --weights {weights[0]} is not loaded (the checkpoint holds the weights)")
    trainer = Trainer(
        model=model,
        data=data,
        settings=settings,
        device=device,
        out=out_dir,
        meta=SpecRecord.of(compiled).model_dump(),
        dist=dist,
        reporter=reporter,
    )
    _header(trainer, compiled.name, out_dir)
    if restart:
        reporter.info(f"  {out_dir} held a run of the same spec and settings: starting it again from epoch 1")
    if payload is not None:
        trainer.restore(payload, last)
        if dist.is_main:
            # last.pt is the truth: bring metrics.jsonl, curves.png and best.pt in line with it
            if trainer.best["epoch"] == trainer.epoch and trainer.epoch > 0:
                write_bytes_atomic(out_dir / "best.pt", last.read_bytes())
            trainer.write_metrics()
        reporter.info(f"resumed from {last} after epoch {trainer.epoch}/{settings.epochs}")
    elif resume:
        reporter.info(f"no checkpoint in {out_dir} yet: starting at epoch 1")
    if dist.is_main:
        _write_run_json(out_dir / "run.json", trainer, compiled)
    summary = trainer.fit()
    if summary.get("best_val_ppl") is not None:
        reporter.info(
            f"best validation perplexity: {summary['best_val_ppl']:.3f} at epoch {summary['best_epoch']} "
            f"(val loss {summary['best_val_loss']:.4f}, next-token accuracy {summary['best_val_acc']:.2%}); "
            f"checkpoints in {out_dir}"
        )
    elif summary["best_val_acc"] is not None:
        reporter.info(
            f"best validation accuracy: {summary['best_val_acc']:.2%} at epoch {summary['best_epoch']} "
            f"(val loss {summary['best_val_loss']:.4f}); checkpoints in {out_dir}"
        )
    return summary


RUN_FILES = ("last.pt", "best.pt", "metrics.jsonl", "curves.png", "train.log", "run.json")
"""What a run writes in ``--out``."""


def _out_dir(name: str, out: str | None, resume: bool, dist: Dist, spec_file: str | None = None) -> Path:
    if out:
        path = Path(out)
    elif resume:
        found = latest_run(name)
        if found is None:
            raise usage(
                "usage",
                f"--resume: no run of '{name}' under runs/{name}/",
                hint="pass --out DIR, the folder of the run to continue",
            )
        path = found
    else:
        path = default_out(name)
    if dist.enabled:  # every rank uses rank 0's folder (the timestamp could differ)
        shared = [str(path)]
        torch.distributed.broadcast_object_list(shared, src=0)
        path = Path(shared[0])
    check_output_dir(path, "--out")
    check_outputs([path / name for name in RUN_FILES], inputs=[spec_file] if spec_file else [])
    return path


def _check_restart(last: Path, compiled: CompiledSpec, settings: TrainConfig, out_dir: Path) -> None:
    """A fresh run may replace a run in ``--out`` only if it is the same run (same spec, same settings)."""
    hint = "pass --resume to continue it, or choose another --out"
    try:
        payload = checkpoint.load(last)
        checkpoint.check_spec(payload, compiled, last)
    except UsageError:
        payload = None
    if payload is None:
        message = f"'{out_dir}' already holds another run (last.pt)"
    else:
        changed = _changed(payload["settings"], settings.model_dump(), ENVIRONMENT_SETTINGS)
        if not changed:
            return
        message = f"'{out_dir}' already holds a run with other settings ({', '.join(changed)})"
    raise usage("out-exists", message, hint=hint)


def _check_same_data(payload: dict[str, Any], data: Data, path: Path) -> None:
    changed = _changed(payload["data"], data.describe(), ("root", "split"))  # (paths may be spelt otherwise)
    if changed:
        raise usage(
            "resume-mismatch",
            f"the data differs from the run in {path} ({', '.join(changed)})",
            file=str(path),
            hint="resume with the same data, or start a new run in another --out",
        )


def _changed(saved: dict[str, Any], now: dict[str, Any], ignore: Collection[str]) -> list[str]:
    return sorted(k for k in saved.keys() | now.keys() if k not in ignore and saved.get(k) != now.get(k))


def _header(run: Trainer, name: str, out_dir: Path) -> None:
    settings, data, dist, device = run.settings, run.data, run.dist, run.device
    params = sum(p.numel() for p in run.model.parameters())
    targets = f"vocabulary {data.num_classes:,}" if data.vocab is not None else f"{data.num_classes} classes"
    run.reporter.info(
        f"archspec train: {name} ({params:,} params) on {data.name}: "
        f"{len(data.train):,} train / {len(data.val):,} validation {data.unit}, {targets}"  # type: ignore[arg-type]
        + (" (--task lm: next-token prediction)" if settings.task == "lm" else "")
    )
    run.reporter.info(f"  data: {data.split}")
    run.reporter.info(f"  preprocessing: {data.pre.text()}")
    parts = [
        f"{settings.optimizer} lr {settings.lr:g}",
        f"weight decay {settings.weight_decay:g}" if settings.weight_decay else "",
        f"batch {settings.batch_size}" + (" per process" if dist.enabled else ""),
        f"{settings.epochs} epochs",
        f"scheduler {settings.scheduler}",
        f"seed {settings.seed}",
        f"device {device}",
        f"amp {autocast_dtype(device, True)}".replace("torch.", "") if settings.amp else "",
        f"{dist.world} processes ({dist.backend})" if dist.enabled else "",
    ]
    run.reporter.info("  " + ", ".join(p for p in parts if p))
    run.reporter.info(f"  output: {out_dir}")


def _write_run_json(path: Path, run: Trainer, compiled: CompiledSpec) -> None:
    info = {
        "spec": {"name": compiled.name, "file": compiled.source.file, "params": compiled.params},
        "settings": run.settings.model_dump(),
        "data": run.data.describe(),
        "device": str(run.device),
        "world_size": run.dist.world,
        "torch_version": str(torch.__version__),
    }
    write_text_atomic(path, json.dumps(info, indent=2) + "\n")


# ----------------------------------------------------------------------------- evaluate


def evaluate_checkpoint(
    spec: str | Path,
    checkpoint_path: str | Path,
    *,
    overrides: dict[str, Any],
    data_name: str | None = None,
    data_root: str | None = None,
    split: str = "val",
    batch_size: int | None = None,
    device_name: str = "auto",
    workers: int = 0,
    download: bool = False,
    max_activation_bytes: int | Literal["auto"] | None = "auto",
) -> dict[str, Any]:
    """Loss, accuracy and the confusion matrix of a checkpoint, with its own recorded preprocessing.

    The checkpoint's stored parameters are literal values, passed as overrides under ``overrides``.
    """
    from archspec.api import build, load

    payload = checkpoint.load(checkpoint_path)
    probe = load(Path(spec), **overrides)
    params = {k: v for k, v in (payload["spec"].get("params") or {}).items() if k in probe.params} | overrides
    compiled = load(Path(spec), **params) if params != overrides else probe
    saved = TrainConfig.model_validate(payload["settings"])
    check_trainable(compiled, "evaluate", saved.task)
    checkpoint.check_spec(payload, compiled, checkpoint_path, exact=False)
    recorded = payload["data"].get("preprocess") or {}
    changes = {
        "data": data_name or saved.data,
        "normalize": recorded.get("normalize") or "none",  # exactly what training used, even on other data
        "download": download,
    } | {k: v for k, v in {"data_root": data_root, "batch_size": batch_size}.items() if v is not None}
    settings = TrainConfig.model_validate({**saved.model_dump(), **changes})
    device = choose_device(device_name)
    limit = activation_limit(max_activation_bytes, device)
    check_activation_memory(compiled, limit, batch=settings.batch_size, what="an evaluation batch")
    data = open_data(settings, compiled)
    model = build(compiled, max_activation_bytes=None)  # checked above for the whole batch
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        raise checkpoint.error(
            f"'{checkpoint_path}' does not fit the model built from {spec}: {str(exc).splitlines()[0]}",
            str(checkpoint_path),
        ) from None
    model.to(device)
    dataset = data.val if split == "val" else data.train
    loader = make_loader(
        dataset, settings.batch_size, batched=data.batched, workers=workers, pin_memory=device.type == "cuda"
    )
    lm = settings.task == "lm"
    try:
        totals, confusion = evaluate(model, loader, device, num_classes=None if lm else data.num_classes)
    except DataError as exc:
        raise _data_usage(exc) from None
    loss_sum, correct, count = totals.tolist()
    unit = "tokens" if lm else data.unit  # what was counted: images, sequences, or predicted tokens
    result = {
        "spec": compiled.name,
        "checkpoint": str(checkpoint_path),
        "epoch": payload["epoch"],
        "data": data.name,
        "task": settings.task,
        "split": "validation" if split == "val" else "train",
        "unit": unit,
        unit: int(count),
        "loss": loss_sum / max(count, 1),
        "accuracy": correct / max(count, 1),
        "correct": int(correct),
        "classes": data.classes,
        "confusion_matrix": confusion.tolist() if confusion is not None else None,
        "preprocess": data.pre.model_dump(),
    }
    if lm:
        result["perplexity"] = perplexity(result["loss"])
    return result
