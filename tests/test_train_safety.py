"""``archspec train``: one run per --out (a lock), bad --out folders, and Ctrl-C (issue 10)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from train_helpers import cli, metrics, subprocess_env, tiny_spec  # noqa: E402

from archspec.train.lock import LOCK_NAME, run_lock  # noqa: E402

FAST = ("--data", "fake:16", "--batch-size", "8", "--device", "cpu")


def test_a_second_run_in_a_locked_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "run"
    with run_lock(out):  # flock locks belong to an open file: this process's own second open conflicts too
        assert (out / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        assert cli("train", spec, *FAST, "--epochs", "1", "--out", out) == 2
        err = capsys.readouterr().err
        assert f"--out '{out}' is in use by another archspec train (process {os.getpid()} holds" in err
        assert not (out / "last.pt").exists()
    assert not out.exists()  # the lock created the folder and removes it again, empty


def test_a_stale_lock_is_taken_over_with_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (out / LOCK_NAME).write_text(f"{pid}\n")  # written by a run that was killed: nobody holds the flock
    assert cli("train", spec, *FAST, "--epochs", "1", "--out", out) == 0
    err = capsys.readouterr().err
    assert f"'{out}' was locked by process {pid}, which is no longer running; taking the lock over" in err
    assert (out / "last.pt").exists() and not (out / LOCK_NAME).exists()


@pytest.mark.parametrize("kind", ["file", "under a file"])
def test_out_that_cannot_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    spec = tiny_spec(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    out = blocker if kind == "file" else blocker / "run"
    assert cli("train", spec, *FAST, "--epochs", "1", "--out", out) == 2
    err = capsys.readouterr().err
    expected = f"--out '{out}' is a file, not a folder" if kind == "file" else f"its parent '{blocker}' is a file"
    assert expected in err and "internal error" not in err
    assert blocker.read_text() == "x"


def test_out_on_a_read_only_file_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    spec = tiny_spec(tmp_path)
    out = tmp_path / "ro" / "run"
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if str(self).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, "Read-only file system")
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert cli("train", spec, *FAST, "--epochs", "1", "--out", out) == 2
    assert f"cannot create --out '{out}': Read-only file system" in capsys.readouterr().err


def test_sigint_exits_130_naming_the_checkpoint_and_the_resume_command(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "archspec", "train", str(spec), *FAST, "--epochs", "1000", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=tmp_path, env=subprocess_env(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a guard, not a timing assertion
        while not (out / "metrics.jsonl").exists():  # written after last.pt, at the end of epoch 1
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended or never checkpointed"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"archspec train: interrupted; last checkpoint {out / 'last.pt'} (epoch ")
    assert "Traceback" not in err
    assert not (out / LOCK_NAME).exists()
    resume = shlex.split(line.partition("resume with: ")[2])
    assert resume == ["archspec", "train", str(spec), "--out", str(out), "--resume"]
    epoch = int(line.partition("(epoch ")[2].partition(")")[0])
    assert cli(*resume[1:], "--epochs", epoch + 1) == 0  # the printed command resumes (one more epoch)
    assert [row["epoch"] for row in metrics(out)] == list(range(1, epoch + 2))


def test_interrupted_line_before_any_checkpoint(tmp_path: Path) -> None:
    from archspec.cli import parser
    from archspec.commands.train import interrupted_line

    args = parser("train").parse_args(["train", "s p.yaml", "--set", "a=1 2"])
    assert interrupted_line(args, tmp_path, None).endswith(f"nothing to resume in {tmp_path}")
    line = interrupted_line(args, tmp_path, 3)
    assert line.endswith(f"resume with: archspec train 's p.yaml' --out {tmp_path} --resume --set 'a=1 2'")


def test_lock_file_on_a_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from archspec.errors import WriteError
    from archspec.train import lock

    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(lock.os, "open", read_only)
    with pytest.raises(WriteError, match=r"cannot lock --out '.*': Read-only file system"), run_lock(tmp_path):
        pass
