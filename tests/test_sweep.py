"""archspec sweep: every grid point compiled statically, dropped points explained, tables, Pareto plot, --train."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from archspec.backends.sweep import Budgets, Point, mark_pareto, run_sweep
from archspec.commands.sweep import parse_count
from archspec.compiler.pipeline import compile_spec, load_spec
from archspec.errors import UsageError

ROOT = Path(__file__).parent.parent
RESNET = ROOT / "specs" / "resnet18.yaml"

WIDE = """\
archspec: 1
name: wide
input: {channels: 3, size: [32, 32]}
params: {width: 8, depth: 1, num_classes: 10, kernel: 3}
layers:
  - {id: stem, type: Conv2d, out_channels: "${width}", kernel_size: "${kernel}", stride: 2}
  - {id: body, type: Conv2d, out_channels: "${width}", kernel_size: 3, padding: 1, repeat: "${depth}"}
  - {id: pool, type: AdaptiveAvgPool2d, output_size: 1}
  - {id: flat, type: Flatten}
  - {id: fc, type: Linear, out_features: "${num_classes}"}
"""


def cli(*args: object) -> int:
    from archspec.cli import main

    return main([str(a) for a in args])


def test_every_point_equals_a_compile_of_its_own(tmp_path: Path) -> None:
    """Sharing the loaded spec's caches across points changes no count (different and repeated points alike)."""
    grid = {"depths": [[1, 1, 1, 1], [2, 2, 2, 2], [3, 4, 6, 3], [1, 1, 1, 1]], "num_classes": [10, 1000]}
    points = run_sweep(load_spec(RESNET), grid)
    assert len(points) == 8 and all(p.kept for p in points)
    for point in points:
        alone = compile_spec(RESNET, overrides=point.overrides)
        assert (point.params, point.macs, point.flops) == (alone.params_total, alone.macs, alone.flops)
        assert point.output == str(list(alone.output_shape or ()))


def test_invalid_and_over_budget_points_are_dropped_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE)
    code = cli(
        "sweep",
        spec,
        "--grid",
        "width=[8, 16, 0]",
        "--grid",
        "kernel=[3, 40]",
        "--max-params",
        "2.5k",
        "-o",
        tmp_path / "out",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    dropped = [line for line in captured.err.splitlines() if line.startswith("dropped")]
    assert len(dropped) == 5
    assert "dropped #1 width=8 kernel=40: " in captured.err
    assert "kernel" in next(line for line in dropped if line.startswith("dropped #1 "))  # the kernel is too large
    params = compile_spec(spec, overrides={"width": 16}).params_total
    assert f"dropped #2 width=16 kernel=3: params {params:,} > 2,500" in captured.err
    assert any(line.startswith("dropped #4 width=0 kernel=3: ") and "out_channels" in line for line in dropped)
    assert "1 of 6 point(s) kept (5 dropped), 1 on the Pareto frontier" in captured.out
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "sweep.csv").read_text())))
    assert [row["status"] for row in rows] == ["ok", "invalid", "over-budget", "invalid", "invalid", "invalid"]
    assert rows[0]["params"] == str(compile_spec(spec, overrides={"width": 8}).params_total)
    data = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert data["kept"] == 1 and data["pareto"] == [0]
    assert data["points"][2]["reason"] == f"params {params:,} > 2,500"
    png = tmp_path / "out" / "pareto.png"
    pytest.importorskip("matplotlib")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_formats_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sweep", RESNET, "--grid", "depths=[[1,1,1,1],[2,2,2,2]]", "--grid", "num_classes=[10]"]
    assert cli(*args, "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["depths"] for row in rows] == ["[1, 1, 1, 1]", "[2, 2, 2, 2]"]
    assert rows[1]["params"] == "11181642" and rows[1]["pareto"] == "0" and rows[0]["pareto"] == "1"
    assert cli(*args, "--format", "json", "--max-flops", "2G") == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["status"] for p in data["points"]] == ["ok", "over-budget"]
    assert data["points"][1]["reason"] == "FLOPs 3,627,132,928 > 2,000,000,000"


def test_input_override_applies_to_every_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("sweep", RESNET, "--grid", "num_classes=[10]", "--input", "3x64x64", "--format", "json") == 0
    point = json.loads(capsys.readouterr().out)["points"][0]
    assert (
        point["macs"] == compile_spec(RESNET, overrides={"num_classes": 10}, input_shapes={"input": (3, 64, 64)}).macs
    )


def test_pareto_frontier() -> None:
    points = [
        Point(0, {}, params=10, flops=100),
        Point(1, {}, params=20, flops=50),
        Point(2, {}, params=20, flops=60),  # dominated by #1
        Point(3, {}, params=30, flops=50),  # dominated by #1
        Point(4, {}, params=5, flops=200),
        Point(5, {}, params=10, flops=100),  # equal to #0: both on it
        Point(6, {}, status="invalid", params=1, flops=1),  # dropped points take no part
    ]
    mark_pareto(points)
    assert [p.index for p in points if p.pareto] == [0, 1, 4, 5]


def test_budgets() -> None:
    assert Budgets(params=10).over({"params": 11, "macs": 0, "flops": 0}) == "params 11 > 10"
    assert Budgets(macs=10).over({"params": 99, "macs": 10, "flops": 99}) is None
    assert [parse_count("--max-params", t) for t in ("5M", "2.5G", "500k", "1e9", "1_000", "7")] == [
        5_000_000,
        2_500_000_000,
        500_000,
        10**9,
        1000,
        7,
    ]
    with pytest.raises(UsageError, match="--max-flops 'lots'"):
        parse_count("--max-flops", "lots")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "num_classes=10"], "the values must be a non-empty list"),
        (["--grid", "num_classes=[]"], "the values must be a non-empty list"),
        (["--grid", "=[1]"], "--grid expects KEY=[V1,V2,...]"),
        (["--grid", "num_classes=[1", "--grid", "depths=[[1,1,1,1]]"], "--grid num_classes=[1:"),
        (["--grid", "a=[1]", "--grid", "a=[2]"], "--grid a is given twice"),
        (["--grid", "num_classes=[1,2,3]", "--max-points", "2"], "the grid has 3 points, more than --max-points 2"),
        (["--grid", "num_classes=[1]", "--train"], "--train needs -o DIR"),
        (["--grid", "num_classes=[1]", "--max-macs", "-3"], "--max-macs '-3'"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("sweep", RESNET, *args) == 2
    assert message in capsys.readouterr().err


def test_unknown_parameter_is_a_dropped_point_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("sweep", RESNET, "--grid", "widht=[1]") == 0
    err = capsys.readouterr().err
    assert err.startswith("dropped #0 widht=1: ") and "widht" in err


def test_train_runs_each_kept_point_in_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    """Each kept point's ``python -m archspec train ...`` command runs here, through ``archspec.cli.main`` as
    ``python -m archspec`` would run it (a process of its own would import torch again for each point)."""
    import subprocess
    import sys

    from train_helpers import tiny_spec

    commands: list[list[str]] = []

    def run_here(command: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        assert command[:4] == [sys.executable, "-m", "archspec", "train"] and not check, command
        commands.append(command)
        return subprocess.CompletedProcess(command, cli(*command[3:]))

    monkeypatch.setattr("archspec.commands.sweep.subprocess.run", run_here)
    spec = tiny_spec(tmp_path, classes=2)
    out = tmp_path / "sweep"
    code = cli(
        "sweep",
        spec,
        "--grid",
        "num_classes=[2, 0, 3]",
        "-o",
        out,
        "--train",
        "--train-args=--epochs 1 --data fake:32 --batch-size 16 --device cpu",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in out.glob("point-*")) == ["point-000", "point-002"]
    for name in ("point-000", "point-002"):
        assert (out / name / "metrics.jsonl").read_text().count("\n") == 1
        assert (out / name / "curves.png").exists()
    for name, classes in (("point-000", 2), ("point-002", 3)):  # each trained with its own overrides
        assert json.loads((out / name / "run.json").read_text())["spec"]["params"]["num_classes"] == classes
    points = json.loads((out / "sweep.json").read_text())["points"]
    assert "val_acc" in points[0]["metrics"] and "metrics" not in points[1]
    assert "val_acc" in captured.out
    assert [command[command.index("--out") + 1] for command in commands] == [
        str(out / "point-000"),
        str(out / "point-002"),
    ]


def test_without_matplotlib_the_tables_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert cli("sweep", RESNET, "--grid", "num_classes=[10]", "-o", tmp_path) == 0
    err = capsys.readouterr().err
    assert "error[missing-dependency]: matplotlib is not installed, so the Pareto plot cannot be drawn" in err
    assert "pip install 'archspec[train]'" in err
    assert (tmp_path / "sweep.csv").exists() and (tmp_path / "sweep.json").exists()
    assert not (tmp_path / "pareto.png").exists()
