"""``archspec train`` on integer token ids: sequence classifiers (``tokens:FILE``, fake ids) and
next-token models (``--task lm``): learning, windows, metrics, checkpoints, evaluate, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from train_helpers import cli, metrics, token_classes, token_spec, token_stream, without_time  # noqa: E402

import archspec  # noqa: E402
from archspec.train.config import resolve  # noqa: E402
from archspec.train.data import open_data  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

EPOCH_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}
LM_KEYS = EPOCH_KEYS | {"train_ppl", "val_ppl"}


def _data(spec: Path, **flags: object):  # type: ignore[no-untyped-def]
    compiled = archspec.load(spec)
    return open_data(resolve(None, flags), compiled)


# --- sequence classification ---


def test_sequence_classifier_learns_from_an_npz_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = token_spec(tmp_path)
    np.savez(tmp_path / "seq.npz", **token_classes(300))
    out = tmp_path / "out"
    args = ["--data", f"tokens:{tmp_path / 'seq.npz'}", "--epochs", "4", "--lr", "0.05", "--device", "cpu"]
    assert cli("train", spec, *args, "--out", out) == 0
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4] and all(set(r) == EPOCH_KEYS for r in rows)
    assert rows[-1]["val_acc"] > 0.8 and rows[-1]["train_loss"] < rows[0]["train_loss"]  # chance is 1/3
    stdout = capsys.readouterr().out
    assert "240 train / 60 validation sequences, 3 classes" in stdout  # stratified 80/20, as for images
    assert "token ids [8] in [0, 24), int64; target: one label per sequence" in stdout
    assert "seq/s" in stdout and "best validation accuracy" in stdout.splitlines()[-1]
    payload = torch.load(out / "last.pt", weights_only=True)
    assert payload["data"]["preprocess"]["kind"] == "token ids" and payload["settings"]["task"] == "classify"
    assert payload["data"]["train_size"] == 240 and payload["data"]["classes"] == ["0", "1", "2"]
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["preprocess"]["range"] == [0, 24] and run["settings"]["task"] == "classify"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # evaluate scores the checkpoint exactly as the last epoch's validation did
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--format", "json", "--device", "cpu") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unit"] == "sequences" and result["sequences"] == 60
    assert result["accuracy"] == rows[-1]["val_acc"]
    assert result["loss"] == pytest.approx(rows[-1]["val_loss"], rel=1e-9)
    assert sum(map(sum, result["confusion_matrix"])) == 60
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--device", "cpu") == 0
    assert "validation: 60 sequences" in capsys.readouterr().out


def test_a_pt_file_with_its_own_validation_split_and_class_names(tmp_path: Path) -> None:
    spec = token_spec(tmp_path, dtype="int32")
    train, val = token_classes(40, seed=1), token_classes(12, seed=2)
    payload = {
        "tokens": torch.from_numpy(train["tokens"]).to(torch.uint8),
        "labels": torch.from_numpy(train["labels"]),
        "val_tokens": torch.from_numpy(val["tokens"]),
        "val_labels": torch.from_numpy(val["labels"]).int(),
        "classes": ["red", "green", "blue"],
    }
    torch.save(payload, tmp_path / "seq.pt")
    data = _data(spec, data=f"tokens:{tmp_path / 'seq.pt'}")
    assert (len(data.train), len(data.val), data.classes) == (40, 12, ["red", "green", "blue"])
    x, y = data.train[[0, 1, 2]]
    assert x.dtype == torch.int32 and x.shape == (3, 8) and y.dtype == torch.int64  # the spec's dtype; long labels
    assert torch.equal(x.long(), torch.from_numpy(train["tokens"][:3]))
    assert data.describe()["preprocess"]["source_dtype"] == "uint8"
    assert "validation val_tokens/val_labels" in data.split


def test_fake_token_ids_fit_the_spec_and_are_deterministic(tmp_path: Path) -> None:
    spec = token_spec(tmp_path, vocab=7, length=5, dtype="int32")
    data = _data(spec, data="fake:20")
    assert (len(data.train), len(data.val)) == (20, 5) and not data.batched
    x, y = data.train[3]
    assert x.shape == (5,) and x.dtype == torch.int32 and int(x.min()) >= 0 and int(x.max()) < 7
    assert 0 <= y < 3
    again = _data(spec, data="fake:20")
    assert all(torch.equal(data.train[i][0], again.train[i][0]) for i in range(20))
    assert not torch.equal(data.train[0][0], data.val[0][0])  # validation ids come from other seeds
    lm = _data(token_spec(tmp_path, lm=True, vocab=7, length=5), data="fake", task="lm")
    x, y = lm.train[0]
    assert x.shape == y.shape == (5,) and torch.equal(x[1:].long(), y[:-1])  # targets: the next ids
    assert lm.num_classes == 7 and lm.classes == []


def test_fake_tokens_train_both_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = token_spec(tmp_path)
    assert cli("train", spec, "--data", "fake:48", "--epochs", "1", "--out", tmp_path / "a", "--device", "cpu") == 0
    lm = token_spec(tmp_path, lm=True)
    args = ["--task", "lm", "--data", "fake:48", "--epochs", "1", "--device", "cpu"]
    assert cli("train", lm, *args, "--out", tmp_path / "b") == 0
    assert set(metrics(tmp_path / "b")[0]) == LM_KEYS
    assert "48 train / 12 validation windows, vocabulary 24" in capsys.readouterr().out


# --- language modelling ---


def test_lm_on_a_stream_learns_and_reports_perplexity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = token_spec(tmp_path, lm=True)
    np.savez(tmp_path / "stream.npz", tokens=token_stream(1601).astype(np.uint16))  # 200 windows of 9 ids
    out = tmp_path / "out"
    args = ["--task", "lm", "--data", f"tokens:{tmp_path / 'stream.npz'}", "--epochs", "3", "--lr", "0.05"]
    assert cli("train", spec, *args, "--device", "cpu", "--out", out) == 0
    rows = metrics(out)
    assert all(set(r) == LM_KEYS for r in rows)
    for row in rows:
        assert row["val_ppl"] == pytest.approx(math.exp(row["val_loss"]), rel=1e-12)
        assert row["train_ppl"] == pytest.approx(math.exp(row["train_loss"]), rel=1e-12)
    assert rows[-1]["val_ppl"] < 4 < 24 / 2  # mostly id + 1: far below a uniform guess's perplexity of 24
    assert rows[-1]["val_acc"] > 0.75  # next-token accuracy
    stdout = capsys.readouterr().out
    assert "160 train / 40 validation windows, vocabulary 24 (--task lm" in stdout
    assert "the first 160 windows train, the last 40 validate" in stdout
    assert "uint16 cast to int64; target: the next token at every position (windows of 9 ids" in stdout
    assert " ppl " in stdout and "tok/s" in stdout
    best = min(rows, key=lambda r: r["val_loss"])
    assert f"best validation perplexity: {best['val_ppl']:.3f} at epoch {best['epoch']}" in stdout
    payload = torch.load(out / "best.pt", weights_only=True)
    assert payload["epoch"] == best["epoch"] and payload["settings"]["task"] == "lm"
    assert payload["data"]["num_classes"] == 24 and payload["data"]["preprocess"]["target"] == "next token"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # evaluate: one prediction per position of the 40 validation windows
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--format", "json", "--device", "cpu") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "lm" and result["tokens"] == 40 * 8 and result["confusion_matrix"] is None
    assert result["loss"] == pytest.approx(rows[-1]["val_loss"], rel=1e-9)
    assert result["perplexity"] == pytest.approx(rows[-1]["val_ppl"], rel=1e-9)
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--device", "cpu") == 0
    assert "perplexity" in capsys.readouterr().out


def test_stream_windows_overlap_by_one_id(tmp_path: Path) -> None:
    """T ids give (T - 1) // L windows of L + 1 ids, stride L: every id after the first is a target once."""
    spec = token_spec(tmp_path, lm=True, length=4, vocab=100)
    np.savez(tmp_path / "s.npz", tokens=np.arange(23), val_tokens=np.arange(50, 59))
    data = _data(spec, data=f"tokens:{tmp_path / 's.npz'}", task="lm")
    assert (len(data.train), len(data.val)) == (5, 2)  # (23 - 1) // 4, (9 - 1) // 4
    x, y = data.train[[0, 4]]
    assert x.tolist() == [[0, 1, 2, 3], [16, 17, 18, 19]] and y.tolist() == [[1, 2, 3, 4], [17, 18, 19, 20]]
    assert data.val[[1]][1].tolist() == [[55, 56, 57, 58]]
    # windows [N, L + 1] as given
    windows = np.arange(30).reshape(6, 5)
    torch.save({"tokens": torch.from_numpy(windows)}, tmp_path / "w.pt")
    data = _data(spec, data=f"tokens:{tmp_path / 'w.pt'}", task="lm")
    assert (len(data.train), len(data.val)) == (5, 1)  # the last 20% (at least one) validate
    x, y = data.val[[0]]
    assert x.tolist() == [[25, 26, 27, 28]] and y.tolist() == [[26, 27, 28, 29]]
    assert data.describe()["preprocess"]["windows"] == "given"


def test_task_from_the_spec_and_resume_refuses_another_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = token_spec(tmp_path, lm=True, extra="train: {task: lm, data: 'fake:16', epochs: 1, device: cpu}\n")
    out = tmp_path / "out"
    assert cli("train", spec, "--out", out) == 0
    assert set(metrics(out)[0]) == LM_KEYS
    capsys.readouterr()
    assert cli("train", spec, "--out", out, "--resume", "--task", "classify", "--epochs", "2") == 2
    assert "--task classify differs from the run being resumed (lm)" in capsys.readouterr().err


# --- resume: bit-identical for both tasks ---


@pytest.mark.parametrize("task", ["classify", "lm"])
def test_in_process_resume_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch, task: str) -> None:
    from archspec.train.loop import Trainer

    spec = token_spec(tmp_path, lm=task == "lm")
    if task == "lm":
        np.savez(tmp_path / "t.npz", tokens=token_stream(8 * 60 + 1))
    else:
        np.savez(tmp_path / "t.npz", **token_classes(90))
    common = ["--task", task, "--data", f"tokens:{tmp_path / 't.npz'}", "--batch-size", "8", "--seed", "3"]
    common += ["--scheduler", "onecycle", "--optimizer", "adamw", "--epochs", "3", "--device", "cpu"]
    assert cli("train", spec, *common, "--out", tmp_path / "a") == 0
    original = Trainer.write_outputs

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if self.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "write_outputs", interrupted)
    assert cli("train", spec, *common, "--out", tmp_path / "b") == 130
    monkeypatch.setattr(Trainer, "write_outputs", original)
    assert len(metrics(tmp_path / "b")) == 1
    assert cli("train", spec, *common, "--out", tmp_path / "b", "--resume") == 0
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    for key, state in a["optimizer"]["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["optimizer"]["state"][key][name])), name
    assert a["scheduler"] == b["scheduler"]
    assert without_time(metrics(tmp_path / "a")) == without_time(metrics(tmp_path / "b"))
    assert a["best"] == b["best"]


# --- the README's commands ---

README = Path(__file__).parent.parent / "README.md"


def _readme_commands() -> list[list[str]]:
    import shlex

    text = README.read_text()
    section = text[text.index("### Training on tokens") :]
    block = section[section.index("```sh\n") + 6 : section.index("\n```", section.index("```sh\n"))]
    return [shlex.split(line) for line in block.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("shipped", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["stand-ins", "shipped"])
def test_the_readmes_token_commands_train_on_the_files_they_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped: bool
) -> None:
    """The README's commands, run as written (one epoch) on the shipped specs, or on tiny stand-ins with the same
    inputs and outputs. The shipped LSTM trains on the first 160 of the 2,000 sequences: a whole epoch takes ~20
    CPU-seconds on one thread, and the files' shapes, types and ranges, which are what must fit the spec, are
    checked whole."""
    import shutil
    import subprocess
    import sys

    shutil.copy(README, tmp_path / "README.md")
    monkeypatch.chdir(tmp_path)
    stand_ins = {
        "specs/lstm_classifier.yaml": lambda: token_spec(tmp_path, vocab=10000, length=100, classes=4),
        "specs/gpt_decoder.yaml": lambda: token_spec(tmp_path, lm=True, vocab=65, length=64),
    }
    trained = []
    for command in _readme_commands():
        if command[0] == "python":
            subprocess.run([sys.executable, *command[1:]], check=True, cwd=tmp_path, timeout=120)
            continue
        assert command[:2] == ["archspec", "train"], command
        if shipped and command[2] == "specs/lstm_classifier.yaml":
            _check_and_cut(tmp_path / "seq.npz", 160)
        spec = README.parent / command[2] if shipped else stand_ins[command[2]]()
        assert cli("train", spec, *command[3:], "--epochs", "1", "--device", "cpu") == 0, command
        out = Path(command[command.index("--out") + 1])
        trained.append((command, metrics(out)[-1]))
    assert [command[2] for command, _ in trained] == ["specs/lstm_classifier.yaml", "specs/gpt_decoder.yaml"]
    (_, classifier), (_, lm) = trained
    assert set(classifier) == EPOCH_KEYS and set(lm) == LM_KEYS
    if shipped:  # the byte-level decoder learns something in one epoch (a uniform guess: perplexity 256)
        assert lm["val_ppl"] < 128
    assert math.isfinite(lm["val_ppl"]) and lm["val_ppl"] == pytest.approx(math.exp(lm["val_loss"]))


def _check_and_cut(path: Path, keep: int) -> None:
    """The README's sequence file is what its comment says (2,000 sequences of 100 ids in [1, 10000), 4 classes);
    keep its first ``keep`` sequences."""
    with np.load(path) as arrays:
        tokens, labels = arrays["tokens"], arrays["labels"]
    assert tokens.shape == (2000, 100) and labels.shape == (2000,)
    assert tokens.min() >= 1 and tokens.max() < 10000 and set(labels.tolist()) == {0, 1, 2, 3}
    np.savez(path, tokens=tokens[:keep], labels=labels[:keep])
