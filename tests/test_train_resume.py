"""Kill -9 a real ``archspec train`` process mid-epoch, ``--resume``, and get exactly the uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from train_helpers import metrics, run_archspec, subprocess_env, tiny_spec, without_time  # noqa: E402


def kill_when(args: list[str], cwd: Path, marker: str, delay: float = 0.0, timeout: float = 240) -> str:
    """Start ``archspec ARGS``, SIGKILL it ``delay`` seconds after a stdout line containing ``marker``."""
    env = subprocess_env()
    env["ARCHSPEC_LOG_INTERVAL"] = "0.05"  # plain progress lines every 50 ms: they show where the epoch is
    process = subprocess.Popen(
        [sys.executable, "-m", "archspec", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(delay)
                os.kill(process.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "".join(seen)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path)
    # mnist5k, 250 steps an epoch; Dropout, BatchNorm, AdamW and a per-batch OneCycle schedule all carry state
    args = [
        "train",
        str(spec),
        "--epochs",
        "3",
        "--batch-size",
        "16",
        "--seed",
        "7",
        "--optimizer",
        "adamw",
        "--scheduler",
        "onecycle",
        "--device",
        "cpu",
    ]
    reference = run_archspec(*args, "--out", tmp_path / "reference", cwd=tmp_path)
    assert reference.returncode == 0, reference.stdout + reference.stderr

    out = str(tmp_path / "killed")
    # 1: in the middle of epoch 1, before any checkpoint exists
    kill_when([*args, "--out", out], tmp_path, "epoch 1/3 [")
    assert not (tmp_path / "killed" / "last.pt").exists()
    # 2: in the middle of epoch 2 (epoch 1 checkpointed)
    log = kill_when([*args, "--out", out, "--resume"], tmp_path, "epoch 2/3 [")
    assert "no checkpoint in" in log
    assert len(metrics(tmp_path / "killed")) == 1
    # 3: at a random moment of the rest (mid-epoch, or while checkpointing, or after)
    delay = random.Random().uniform(0.0, 2.0)
    log = kill_when([*args, "--out", out, "--resume"], tmp_path, "resumed from", delay=delay)
    # finish
    final = run_archspec(*args, "--out", out, "--resume", cwd=tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "best validation accuracy" in final.stdout

    a = torch.load(tmp_path / "reference" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for key, state in a["optimizer"]["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["optimizer"]["state"][key][name])), name
    assert a["scheduler"] == b["scheduler"]
    assert a["history"] == b["history"] or without_time(a["history"]) == without_time(b["history"])
    assert without_time(metrics(tmp_path / "reference")) == without_time(metrics(tmp_path / "killed"))
    best_a = torch.load(tmp_path / "reference" / "best.pt", weights_only=True)
    best_b = torch.load(tmp_path / "killed" / "best.pt", weights_only=True)
    assert best_a["epoch"] == best_b["epoch"]
    assert all(torch.equal(best_a["model"][k], best_b["model"][k]) for k in best_a["model"])


@pytest.mark.slow
def test_sigkill_then_resume_of_a_language_model_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    """--task lm on a token file: killed mid-epoch twice, resumed, bit-identical to a run never stopped."""
    import numpy as np
    from train_helpers import token_spec, token_stream

    spec = token_spec(tmp_path, lm=True)
    np.savez(tmp_path / "stream.npz", tokens=token_stream(8 * 800 + 1))
    args = ["train", str(spec), "--task", "lm", "--data", f"tokens:{tmp_path / 'stream.npz'}", "--epochs", "3"]
    args += ["--batch-size", "4", "--seed", "11", "--optimizer", "adamw", "--scheduler", "onecycle", "--device", "cpu"]
    reference = run_archspec(*args, "--out", tmp_path / "reference", cwd=tmp_path)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    out = str(tmp_path / "killed")
    kill_when([*args, "--out", out], tmp_path, "epoch 2/3 [")
    assert len(metrics(tmp_path / "killed")) == 1
    kill_when([*args, "--out", out, "--resume"], tmp_path, "resumed from", delay=random.Random().uniform(0.0, 0.3))
    final = run_archspec(*args, "--out", out, "--resume", cwd=tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "best validation perplexity" in final.stdout
    a = torch.load(tmp_path / "reference" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["scheduler"] == b["scheduler"] and a["best"] == b["best"]
    assert without_time(metrics(tmp_path / "reference")) == without_time(metrics(tmp_path / "killed"))
