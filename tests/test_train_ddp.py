"""``torchrun --nproc_per_node=2 -m archspec train``: DDP over gloo on CPU, rank 0 logging, reduced metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from train_helpers import cli, metrics, subprocess_env, tiny_spec  # noqa: E402


@pytest.mark.slow
def test_two_process_gloo_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch built without gloo")
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "archspec",
        "train",
        str(spec),
        "--data",
        "fake:90",  # 90 = 2 x 45: no padding, so every image counts once
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    result = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    stdout = result.stdout
    assert "batch 16 per process" in stdout and "2 processes (gloo)" in stdout
    assert stdout.count("epoch 1/2  train") == 1 and stdout.count("best validation accuracy") == 1  # rank 0 only
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2]
    payload = torch.load(out / "last.pt", weights_only=True)
    assert payload["world_size"] == 2 and not any(k.startswith("module.") for k in payload["model"])
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    for row in rows:  # sums over both ranks: 90 training and 22 validation images
        assert abs(row["train_acc"] * 90 - round(row["train_acc"] * 90)) < 1e-9
        assert abs(row["val_acc"] * 22 - round(row["val_acc"] * 22)) < 1e-9
    # the reduced validation metrics equal a single-process evaluation of the saved weights
    capsys.readouterr()
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--format", "json", "--device", "cpu") == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["images"] == 22
    assert evaluation["accuracy"] == pytest.approx(rows[-1]["val_acc"], abs=1e-12)
    assert evaluation["loss"] == pytest.approx(rows[-1]["val_loss"], rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["lm", "classify"])
def test_two_process_gloo_run_on_a_token_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str) -> None:
    """Token data under torchrun, both tasks: metrics summed over both ranks equal one process's evaluation."""
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch built without gloo")
    import numpy as np
    from train_helpers import token_classes, token_spec, token_stream

    if task == "lm":  # 50 windows of 8 positions: 40 train (2 x 20), 10 validate
        spec = token_spec(tmp_path, lm=True)
        np.savez(tmp_path / "data.npz", tokens=token_stream(8 * 50 + 1))
        train_count, val_count, unit, best = 40 * 8, 10 * 8, "tokens", "best validation perplexity"
    else:  # 60 sequences of 3 classes, split 80/20 per class: 48 train (2 x 24), 12 validate
        spec = token_spec(tmp_path)
        np.savez(tmp_path / "data.npz", **token_classes(60))
        train_count, val_count, unit, best = 48, 12, "sequences", "best validation accuracy"
    out = tmp_path / "out"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "archspec"]
    command += ["train", str(spec), "--task", task, "--data", f"tokens:{tmp_path / 'data.npz'}", "--epochs", "2"]
    command += ["--batch-size", "8", "--lr", "0.05", "--device", "cpu", "--out", str(out)]
    result = subprocess.run(command, cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 processes (gloo)" in result.stdout and result.stdout.count(best) == 1
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2]
    for row in rows:  # every training and validation sample (or position) counted once over both ranks
        assert abs(row["train_acc"] * train_count - round(row["train_acc"] * train_count)) < 1e-9
        assert abs(row["val_acc"] * val_count - round(row["val_acc"] * val_count)) < 1e-9
    payload = torch.load(out / "last.pt", weights_only=True)
    assert payload["world_size"] == 2 and not any(k.startswith("module.") for k in payload["model"])
    capsys.readouterr()
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--format", "json", "--device", "cpu") == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation[unit] == val_count
    assert evaluation["accuracy"] == pytest.approx(rows[-1]["val_acc"], abs=1e-12)
    assert evaluation["loss"] == pytest.approx(rows[-1]["val_loss"], rel=1e-6)
    if task == "lm":
        assert evaluation["perplexity"] == pytest.approx(rows[-1]["val_ppl"], rel=1e-6)
