"""Checkpoints: weights-only, atomic, complete; corrupt and foreign files refused; RNG states round-trip."""

from __future__ import annotations

import io
import pickle
import random
from collections import OrderedDict
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from train_helpers import cli, metrics, tiny_spec, without_time  # noqa: E402

from archspec.errors import UsageError  # noqa: E402
from archspec.train import checkpoint, rng  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    torch.set_num_threads(1)
    spec = tiny_spec(folder)
    out = folder / "out"
    assert cli("train", spec, "--data", "fake:64", "--epochs", "2", "--out", out, "--scheduler", "cosine") == 0
    return spec, out


def test_checkpoint_holds_everything_and_loads_weights_only(trained: tuple[Path, Path]) -> None:
    spec, out = trained
    payload = torch.load(out / "last.pt", weights_only=True)
    assert payload["format"] == "archspec-checkpoint" and payload["version"] == 1
    assert payload["spec"]["text"] == spec.read_text()
    assert payload["spec"]["params"] == {"num_classes": 10, "channels": 1, "size": 28}
    assert payload["epoch"] == 2 and len(payload["history"]) == 2
    assert set(payload["rng"]) >= {"torch", "python", "numpy"}  # the data order is a function of (seed, epoch)
    assert payload["scheduler"]["T_max"] == 2
    assert payload["optimizer"]["state"]  # Adam moments
    assert payload["settings"]["seed"] == 0 and payload["settings"]["lr"] == 0.001
    assert payload["data"]["preprocess"]["normalize"] == {"mean": [0.5], "std": [0.5]}
    assert without_time(payload["history"]) == without_time(metrics(out))
    best = torch.load(out / "best.pt", weights_only=True)
    assert best["epoch"] == payload["best"]["epoch"]


def test_metrics_and_curves_written(trained: tuple[Path, Path]) -> None:
    _, out = trained
    rows = metrics(out)
    assert [set(r) for r in rows] == [{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}] * 2
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.tmp"))  # no temp files left behind


def _corrupt(path: Path, kind: str) -> None:
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(b"\x00not a checkpoint" * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "state_dict":
        buffer = io.BytesIO()
        torch.save(OrderedDict(w=torch.zeros(2)), buffer)
        path.write_bytes(buffer.getvalue())
    elif kind == "pickle":  # arbitrary Python objects: never unpickled
        path.write_bytes(pickle.dumps({"format": "archspec-checkpoint", "x": Path("/")}))
    elif kind == "object":
        buffer = io.BytesIO()
        torch.save({"format": "archspec-checkpoint", "version": 1, "bad": Path("/")}, buffer)
        path.write_bytes(buffer.getvalue())
    elif kind == "future":
        payload = torch.load(path, weights_only=True)
        payload["version"] = 99
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "state_dict", "pickle", "object", "future"])
def test_corrupt_or_foreign_checkpoint_is_refused(
    trained: tuple[Path, Path], tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, out = trained
    bad = tmp_path / "out"
    bad.mkdir()
    (bad / "last.pt").write_bytes((out / "last.pt").read_bytes())
    _corrupt(bad / "last.pt", kind)
    assert cli("train", spec, "--data", "fake:64", "--epochs", "3", "--out", bad, "--resume") == 2
    err = capsys.readouterr().err
    assert "error[checkpoint]" in err and "Traceback" not in err
    assert cli("evaluate", spec, "--checkpoint", bad / "last.pt") == 2
    assert "error[checkpoint]" in capsys.readouterr().err


def test_resume_refuses_another_spec(trained: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    _, out = trained
    copy = tmp_path / "out"
    copy.mkdir()
    (copy / "last.pt").write_bytes((out / "last.pt").read_bytes())
    other = tiny_spec(tmp_path, extra="description: changed\n")
    assert cli("train", other, "--data", "fake:64", "--epochs", "3", "--out", copy, "--resume") == 2
    assert "different spec text" in capsys.readouterr().err
    same = tiny_spec(tmp_path, name="same.yaml")
    assert cli("train", same, "--set", "num_classes=10", "--data", "fake:64", "--out", copy, "--resume") == 0
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(same.read_text().replace("name: tiny", "name: other"))
    assert cli("train", renamed, "--data", "fake:64", "--out", copy, "--resume") == 2
    assert "not 'other'" in capsys.readouterr().err


def test_resume_refuses_changed_settings(trained: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    spec, out = trained
    copy = tmp_path / "out"
    copy.mkdir()
    (copy / "last.pt").write_bytes((out / "last.pt").read_bytes())
    assert cli("train", spec, "--data", "fake:64", "--out", copy, "--resume", "--lr", "0.1") == 2
    assert "--lr 0.1 differs from the run being resumed (0.001)" in capsys.readouterr().err
    assert cli("train", spec, "--data", "fake:64", "--out", copy, "--resume", "--epochs", "4") == 2
    assert "cosine schedule was built for 2 epochs" in capsys.readouterr().err
    assert cli("train", spec, "--data", "fake:32", "--out", copy, "--resume") == 2
    assert "--data fake:32 differs" in capsys.readouterr().err


def test_fresh_run_will_not_overwrite_another_run(trained: tuple[Path, Path], capsys) -> None:
    spec, out = trained
    assert cli("train", spec, "--data", "fake:64", "--epochs", "2", "--out", out) == 2
    err = capsys.readouterr().err
    assert "already holds a run with other settings (scheduler)" in err and "--resume" in err


def test_the_same_run_again_starts_over(tmp_path: Path, capsys) -> None:
    """``make demo`` twice: the second run replaces the first (same spec and settings), it is not refused."""
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    args = ["train", spec, "--data", "fake:32", "--epochs", "1", "--out", out, "--device", "cpu"]
    assert cli(*args) == 0
    first = torch.load(out / "last.pt", weights_only=True)
    capsys.readouterr()
    assert cli(*args) == 0
    assert "starting it again from epoch 1" in capsys.readouterr().out
    second = torch.load(out / "last.pt", weights_only=True)
    assert all(torch.equal(first["model"][k], second["model"][k]) for k in first["model"])
    assert len(metrics(out)) == 1 and (out / "train.log").read_text().count("archspec train:") == 1


def test_load_messages(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.pt")
    with pytest.raises(UsageError, match="not a file"):
        checkpoint.load(tmp_path)


def test_a_checkpoint_that_unpacks_beyond_memory_is_refused_before_reading(
    trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec.backends import ptfile

    last = trained[1] / "last.pt"
    monkeypatch.setattr(ptfile, "memory_bytes", lambda: 1000)  # the same guard as for a .npz token file
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read before the size check"))
    with pytest.raises(UsageError, match=r"unpacks to .* KiB, more than this machine's memory \(1000 B\)") as info:
        checkpoint.load(last)
    assert str(last) in str(info.value)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.pt"
    checkpoint.save(path, {"a": torch.ones(1)})
    import archspec.fileio as fileio

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", fail)
    with pytest.raises(OSError):
        checkpoint.save(path, {"a": torch.zeros(1)})
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(1))
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_rng_states_round_trip_through_a_weights_only_file() -> None:
    rng.seed_epoch(5, 2)
    buffer = io.BytesIO()
    torch.save(rng.capture(), buffer)
    expected = (random.random(), np.random.rand(), torch.rand(2).tolist())
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    buffer.seek(0)
    rng.restore(torch.load(buffer, weights_only=True))
    got = (random.random(), np.random.rand(), torch.rand(2).tolist())
    assert got == expected


def test_derived_seeds_are_stable_and_distinct() -> None:
    assert rng.derive(0, "order", 1) == rng.derive(0, "order", 1)
    seeds = {rng.derive(s, k, e) for s in range(3) for k in ("order", "epoch") for e in range(5)}
    assert len(seeds) == 30 and all(0 <= s < 2**63 for s in seeds)
