"""The training loop in-process: learning on the embedded data, settings, outputs, evaluate, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from train_helpers import cli, metrics, tiny_spec, without_time  # noqa: E402

from archspec.frontend.models import TrainConfig  # noqa: E402
from archspec.train import progress  # noqa: E402
from archspec.train.config import resolve  # noqa: E402
from archspec.train.data import InMemory, make_loader, train_sampler  # noqa: E402
from archspec.train.loop import evaluate, train_one_epoch  # noqa: E402

EPOCH_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}


pytestmark = pytest.mark.usefixtures("one_thread")


def test_short_run_on_the_embedded_digits_learns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    assert cli("train", spec, "--epochs", "2", "--out", out, "--batch-size", "32") == 0
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2] and all(set(r) == EPOCH_KEYS for r in rows)
    assert rows[1]["val_acc"] > rows[0]["val_acc"] > 0.4  # chance is 0.1
    assert rows[1]["train_loss"] < rows[0]["train_loss"]
    stdout = capsys.readouterr().out
    assert "on mnist5k: 4,000 train / 1,000 validation images, 10 classes" in stdout
    assert "normalize mean [0.1307] std [0.3081]" in stdout
    assert f"best validation accuracy: {rows[1]['val_acc']:.2%} at epoch 2" in stdout.splitlines()[-1]
    assert {p.name for p in out.iterdir()} == {
        "last.pt",
        "best.pt",
        "metrics.jsonl",
        "curves.png",
        "run.json",
        "train.log",
    }


def test_evaluate_reproduces_the_validation_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    assert cli("train", spec, "--epochs", "1", "--out", out, "--seed", "3", "--device", "cpu") == 0
    row = metrics(out)[0]
    capsys.readouterr()
    assert cli("evaluate", spec, "--checkpoint", out / "best.pt", "--format", "json", "--device", "cpu") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["images"] == 1000 and result["split"] == "validation"
    assert result["accuracy"] == row["val_acc"]
    assert result["loss"] == pytest.approx(row["val_loss"], rel=1e-9)
    matrix = result["confusion_matrix"]
    assert len(matrix) == 10 and sum(map(sum, matrix)) == 1000
    assert sum(matrix[i][i] for i in range(10)) == result["correct"]
    assert [sum(r) for r in matrix] == [100] * 10  # rows are the true classes
    assert cli("evaluate", spec, "--checkpoint", out / "best.pt") == 0
    text = capsys.readouterr().out
    assert f"accuracy {row['val_acc']:.2%}" in text and "loss " in text


def test_evaluate_uses_the_checkpoints_parameters(tmp_path: Path, capsys) -> None:
    from train_helpers import write_imagefolder

    root = tmp_path / "images"
    write_imagefolder(root, classes=3, per_class=5)
    spec = tiny_spec(tmp_path)  # num_classes 10 in the file
    out = tmp_path / "out"
    assert (
        cli("train", spec, "--set", "num_classes=3", "--data", f"imagefolder:{root}", "--epochs", "1", "--out", out)
        == 0
    )
    capsys.readouterr()
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["images"] == 3
    assert cli("evaluate", spec, "--checkpoint", out / "last.pt", "--set", "num_classes=10") == 2
    assert "data-mismatch" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--optimizer", "sgd", "--scheduler", "step"],
        ["--optimizer", "adamw", "--scheduler", "onecycle", "--weight-decay", "0.05"],
        ["--scheduler", "cosine", "--amp"],
        ["--workers", "1", "--normalize", "none"],
    ],
    ids=["sgd-step", "adamw-onecycle", "cosine-amp", "workers"],
)
def test_optimizers_schedulers_and_options(tmp_path: Path, args: list[str]) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "fake:64", "--epochs", "2", "--out", out, *args) == 0
    payload = torch.load(out / "last.pt", weights_only=True)
    rows = metrics(out)
    assert len(rows) == 2
    if "step" in args:
        assert payload["settings"]["lr"] == 0.01 and payload["optimizer"]["param_groups"][0]["momentum"] == 0.9
    if "onecycle" in args:
        assert payload["scheduler"]["total_steps"] == 2 * 1  # 64 images, batch 64
        assert payload["optimizer"]["param_groups"][0]["weight_decay"] == 0.05
    if "cosine" in args:
        assert rows[1]["lr"] < rows[0]["lr"]
    if "none" in args:
        assert payload["data"]["preprocess"]["normalize"] is None


def test_spec_train_section_sets_defaults_and_flags_override(tmp_path: Path) -> None:
    extra = "train: {data: 'fake:32', epochs: 1, batch_size: 8, optimizer: sgd, lr: 0.05, seed: 11}\n"
    spec = tiny_spec(tmp_path, extra=extra)
    out = tmp_path / "out"
    assert cli("train", spec, "--out", out, "--lr", "0.02") == 0
    settings = torch.load(out / "last.pt", weights_only=True)["settings"]
    assert (settings["data"], settings["epochs"], settings["batch_size"]) == ("fake:32", 1, 8)
    assert (settings["optimizer"], settings["lr"], settings["seed"]) == ("sgd", 0.02, 11)


def test_spec_train_section_is_validated(tmp_path: Path, capsys) -> None:
    spec = tiny_spec(tmp_path, extra="train: {epochs: 0, optimiser: sgd}\n")
    assert cli("train", spec) == 1
    err = capsys.readouterr().err
    assert "epochs" in err and "optimiser" in err


def test_resolve_order() -> None:
    settings = resolve(TrainConfig(epochs=3, resize=32, normalize={"mean": [0.5], "std": [0.2]}), {"epochs": 5})
    assert settings.epochs == 5 and settings.resize == (32, 32)
    assert settings.normalize == {"mean": [0.5], "std": [0.2]}
    assert resolve(None, {}) == TrainConfig(lr=0.001, weight_decay=0.0)  # the optimizer's defaults, made concrete
    assert resolve(None, {"optimizer": "adamw"}).weight_decay == 0.01
    assert TrainConfig.model_validate(settings.model_dump()) == settings  # the checkpoint's record reads back


def test_default_out_folder_and_resume_without_out(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tiny_spec(tmp_path)
    assert cli("train", spec, "--data", "fake:32", "--epochs", "1") == 0
    (run,) = (tmp_path / "runs" / "tiny").iterdir()
    assert (run / "last.pt").is_file()
    capsys.readouterr()
    assert cli("train", spec, "--data", "fake:32", "--epochs", "2", "--resume") == 0
    assert f"resumed from {Path('runs') / 'tiny' / run.name / 'last.pt'} after epoch 1/2" in capsys.readouterr().out
    assert len(metrics(run)) == 2


def test_resume_of_a_finished_run_trains_nothing(tmp_path: Path, capsys) -> None:
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "fake:32", "--epochs", "1", "--out", out) == 0
    before = (out / "last.pt").read_bytes()
    assert cli("train", spec, "--data", "fake:32", "--out", out, "--resume") == 0
    assert (out / "last.pt").read_bytes() == before
    assert "best validation accuracy" in capsys.readouterr().out


def test_in_process_resume_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    """The fast version of the SIGKILL test (tests/test_train_resume.py): interrupted after epoch 1's checkpoint."""
    from archspec.train.loop import Trainer

    spec = tiny_spec(tmp_path)
    common = ["--data", "fake:96", "--batch-size", "16", "--scheduler", "onecycle", "--seed", "5", "--epochs", "3"]
    common += ["--device", "cpu"]  # bit-exact resumption is promised on CPU (GPU kernels may be nondeterministic)
    assert cli("train", spec, *common, "--out", tmp_path / "a") == 0
    original = Trainer.write_outputs

    def interrupted(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "write_outputs", interrupted)
    assert cli("train", spec, *common, "--out", tmp_path / "b") == 130
    monkeypatch.setattr(Trainer, "write_outputs", original)
    assert len(metrics(tmp_path / "b")) == 1
    (tmp_path / "b" / "metrics.jsonl").write_text("garbage\n")  # rewritten from the checkpoint's history
    assert cli("train", spec, *common, "--out", tmp_path / "b", "--resume") == 0
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    assert a["scheduler"] == b["scheduler"]
    assert without_time(metrics(tmp_path / "a")) == without_time(metrics(tmp_path / "b"))


# --- the loop functions on hand-made modules ---


def _toy_data(n: int = 256) -> InMemory:
    from archspec.train.data import Preprocess

    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = (torch.rand(n, 1, 4, 4, generator=generator) * 80).to(torch.uint8)
    images[labels == 1] += 150
    pre = Preprocess(
        source_channels=1, source_size=[4, 4], channels=1, size=[4, 4], normalize={"mean": [0.5], "std": [0.5]}
    )
    return InMemory(images, labels, pre.pipeline())


def test_train_one_epoch_and_evaluate_on_a_hand_made_model() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    data = _toy_data()
    loader = make_loader(data, 32, batched=True, sampler=train_sampler(data, 0))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    totals = train_one_epoch(model, loader, optimizer, torch.device("cpu"))
    assert totals[2].item() == 256 and 0 <= totals[1].item() <= 256
    totals, confusion = evaluate(model, loader, torch.device("cpu"), num_classes=2)
    assert totals[1].item() / 256 > 0.9
    assert confusion is not None and confusion.sum().item() == 256


def test_data_order_depends_only_on_seed_and_epoch() -> None:
    data = list(range(50))
    a, b = train_sampler(data, 1), train_sampler(data, 1)  # type: ignore[arg-type]
    a.set_epoch(3)
    list(b)
    b.set_epoch(3)
    assert list(a) == list(b) == list(a)
    b.set_epoch(4)
    assert list(a) != list(b) and sorted(b) == data
    assert list(a) != list(train_sampler(data, 2))  # type: ignore[arg-type]
    ranks = [train_sampler(data, 1, rank=r, world=2) for r in (0, 1)]  # torchrun: the same shuffle, in shards
    for sampler in ranks:
        sampler.set_epoch(3)
    assert sorted([*ranks[0], *ranks[1]]) == data and list(ranks[0]) == list(a)[0::2]


def test_plain_progress_lines_when_not_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_S", 0.0)
    stream = io.StringIO()
    reporter = progress.Reporter(stream=stream)
    assert not reporter.use_bar
    reporter.start_epoch("epoch 1/1", 2)
    reporter.track(lambda: (0.5, 0.75))
    reporter.step(10)
    reporter.end_epoch()
    assert "epoch 1/1 [1/2] loss 0.5000 acc 75.00%" in stream.getvalue()


def test_progress_bar_on_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(progress, "POSTFIX_INTERVAL_S", 0.0)
    stream = io.StringIO()
    reporter = progress.Reporter(stream=stream, bar=True)
    reporter.start_epoch("epoch 1/1", 2)
    reporter.track(lambda: (0.25, 0.5))
    reporter.step(64)
    reporter.step(64)
    reporter.info("a line")
    reporter.end_epoch()
    text = stream.getvalue()
    assert "epoch 1/1" in text and "img/s" in text and "a line" in text


def test_building_the_parser_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from archspec.cli import parser; p = parser(); "
        "p.parse_args(['train', 'x.yaml', '--resize', '32']); "
        "p.parse_args(['evaluate', 'x.yaml', '--checkpoint', 'c']); "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_tensorboard_scalars_beside_metrics_follow_the_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    args = ["train", spec, "--data", "fake:32", "--epochs", "2", "--out", out, "--device", "cpu", "--tensorboard"]
    assert cli(*args) == 0
    assert cli(*args[:5], "3", *args[6:], "--resume") == 0  # one more epoch: the folder restarts from last.pt

    def scalars() -> dict[str, list[tuple[int, float]]]:
        (events,) = (out / "tensorboard").glob("events.out.tfevents.*")  # the resumed run replaced the old file
        board = EventAccumulator(str(events))
        board.Reload()
        return {tag: [(e.step, e.value) for e in board.Scalars(tag)] for tag in board.Tags()["scalars"]}

    found = scalars()
    rows = metrics(out)
    assert {"loss/train", "loss/val", "acc/train", "acc/val", "lr"} <= set(found)
    for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"), ("acc/val", "val_acc")):
        assert [step for step, _ in found[tag]] == [1, 2, 3]
        assert [value for _, value in found[tag]] == pytest.approx([row[key] for row in rows], rel=1e-6)


def test_every_setting_is_a_flag_generated_from_the_model() -> None:
    import argparse

    from archspec.commands.train import add_setting_flags

    train = argparse.ArgumentParser()
    add_setting_flags(train)
    flags = {action.dest: action for action in train._actions}
    for name, field in TrainConfig.model_fields.items():
        action = flags[name]
        assert action.option_strings[0] == "--" + name.replace("_", "-") and action.default is None
        assert field.description and field.description in (action.help or "")
    assert flags["channels"].choices == (1, 3) and flags["optimizer"].choices == ("adam", "adamw", "sgd")
    assert "--no-tensorboard" in flags["tensorboard"].option_strings  # booleans: --x / --no-x
    seed = flags["seed"].type
    assert seed(str(2**64 - 1)) == 2**64 - 1  # the model's range
    with pytest.raises(Exception, match="expected an integer from"):
        seed(str(2**64))
    with pytest.raises(Exception, match="greater than 0"):
        flags["lr"].type("0")
    assert flags["weight_decay"].type("0") == 0.0
