"""Kill -9 a real ``archspec train`` process mid-epoch, ``--resume``, and get exactly the uninterrupted run.

The killed runs and the ``--resume`` that finishes them are processes of their own, each starting fresh as a
user's would (a resume in this process could inherit state from an earlier run here and hide a bug that
only a fresh process shows). The uninterrupted reference trains in this process, on one thread as the
processes do, so the comparison stays bit for bit: a result that depended on what this process did before would
make the test fail, never pass.
"""

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

from train_helpers import cli, metrics, run_archspec, subprocess_env, tiny_spec, without_time  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def kill_when(args: list[str], cwd: Path, marker: str, delay: float = 0.0, timeout: float = 240) -> str:
    """Start ``archspec ARGS``, SIGKILL it ``delay`` seconds after the stdout line that starts with ``marker``."""
    env = subprocess_env()
    env["ARCHSPEC_LOG_INTERVAL"] = "0"  # a plain progress line after every batch: they say where the epoch is
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
            if line.startswith(marker):
                time.sleep(delay)
                os.kill(process.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "".join(seen)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, f"killed at {marker!r} + {delay:.3f}s?\n" + "".join(seen)
    return "".join(seen)


def step_line(epoch: int, step: int, epochs: int = 3) -> str:
    """The start of the progress line after batch ``step`` of ``epoch``."""
    return f"epoch {epoch}/{epochs} [{step}/"


def early(steps: int, chance: random.Random) -> int:
    """A batch in the first third of an epoch: the process is killed well before the epoch's checkpoint."""
    return chance.randint(1, steps // 3)


def any_moment(steps: int, chance: random.Random) -> tuple[str, float]:
    """A kill point anywhere from epoch 2's first batch to the middle of epoch 3 (epochs of ``steps`` batches):
    mid-batch, or after epoch 2's last batch while it validates and writes its checkpoint."""
    moments = [(2, step) for step in range(1, steps + 1)] + [(3, step) for step in range(1, steps // 2 + 1)]
    epoch, step = chance.choice(moments)
    return step_line(epoch, step), chance.uniform(0.0, 0.1)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tiny_spec(tmp_path)
    # mnist5k: 4,000 training digits, 63 batches an epoch; Dropout, BatchNorm, AdamW and a per-batch OneCycle
    # schedule all carry state
    steps = 63
    args = ["train", str(spec), "--epochs", "3", "--batch-size", "64", "--seed", "7"]
    args += ["--optimizer", "adamw", "--scheduler", "onecycle", "--device", "cpu"]
    assert cli(*args, "--out", tmp_path / "reference") == 0
    capsys.readouterr()
    chance = random.Random()

    out = str(tmp_path / "killed")
    # 1: in the first third of epoch 1, before any checkpoint exists
    kill_when([*args, "--out", out], tmp_path, step_line(1, early(steps, chance)))
    assert not (tmp_path / "killed" / "last.pt").exists()
    # 2: in the first third of epoch 2 (epoch 1 checkpointed)
    log = kill_when([*args, "--out", out, "--resume"], tmp_path, step_line(2, early(steps, chance)))
    assert "no checkpoint in" in log
    assert len(metrics(tmp_path / "killed")) == 1
    # 3: at a random moment of the rest (mid-epoch, or while validating and checkpointing, or after)
    marker, delay = any_moment(steps, chance)
    log = kill_when([*args, "--out", out, "--resume"], tmp_path, marker, delay=delay)
    assert f"resumed from {out}{os.sep}last.pt after epoch 1/3" in log
    # finish
    final = run_archspec(*args, "--out", out, "--resume", cwd=tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "resumed from" in final.stdout and "best validation accuracy" in final.stdout

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
def test_sigkill_then_resume_of_a_language_model_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--task lm on a token file: killed mid-epoch twice, resumed, bit-identical to a run never stopped."""
    import numpy as np
    from train_helpers import token_spec, token_stream

    spec = token_spec(tmp_path, lm=True)
    np.savez(tmp_path / "stream.npz", tokens=token_stream(8 * 800 + 1))  # 640 training windows, 80 batches
    steps = 80
    args = ["train", str(spec), "--task", "lm", "--data", f"tokens:{tmp_path / 'stream.npz'}", "--epochs", "3"]
    args += ["--batch-size", "8", "--seed", "11", "--optimizer", "adamw", "--scheduler", "onecycle", "--device", "cpu"]
    assert cli(*args, "--out", tmp_path / "reference") == 0
    capsys.readouterr()
    chance = random.Random()
    out = str(tmp_path / "killed")
    kill_when([*args, "--out", out], tmp_path, step_line(2, early(steps, chance)))
    assert len(metrics(tmp_path / "killed")) == 1
    marker, delay = any_moment(steps, chance)
    kill_when([*args, "--out", out, "--resume"], tmp_path, marker, delay=delay)
    final = run_archspec(*args, "--out", out, "--resume", cwd=tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "best validation perplexity" in final.stdout
    a = torch.load(tmp_path / "reference" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["scheduler"] == b["scheduler"] and a["best"] == b["best"]
    assert without_time(metrics(tmp_path / "reference")) == without_time(metrics(tmp_path / "killed"))
