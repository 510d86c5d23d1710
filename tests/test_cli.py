"""The command line: exit codes, output formats, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archspec.cli import main

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
INVALID = ROOT / "tests" / "invalid"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archspec", *args], capture_output=True, text=True, cwd=ROOT)


def test_validate_all_shipped_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, SPECS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(SPECS)
    assert all(line.startswith("ok ") for line in out)


def test_validate_invalid_exits_1_and_prints_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    path = INVALID / "unknown_layer.yaml"
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:6:11: error[unknown-layer]: unknown layer type 'Conv2D'" in err
    assert "did you mean 'Conv2d'?" in err


def test_validate_mixed_valid_and_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SPECS[0]), str(INVALID / "duplicate_id.yaml")]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("ok ")
    assert "duplicate-id" in captured.err


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "latin1"])
def test_validate_io_errors_exit_2(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = {
        "missing": tmp_path / "nope.yaml",
        "directory": tmp_path,
        "binary": tmp_path / "model.yaml",
        "latin1": tmp_path / "latin.yaml",
    }[kind]
    if kind == "binary":
        target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    if kind == "latin1":
        target.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert main(["validate", str(target)]) == 2
    err = capsys.readouterr().err
    assert str(target) in err
    assert "Traceback" not in err


def test_io_error_wins_over_invalid(tmp_path: Path) -> None:
    assert main(["validate", str(INVALID / "empty.yaml"), str(tmp_path / "missing.yaml")]) == 2


def test_usage_errors_exit_2() -> None:
    assert run_cli("validate").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    result = run_cli("summary", str(SPECS[0]), "--set", "nonsense")
    assert result.returncode == 2 and "KEY=VALUE" in result.stderr
    result = run_cli("summary", str(ROOT / "specs" / "lenet5.yaml"), "--set", "num_clases=3")
    assert result.returncode == 2 and "did you mean 'num_classes'?" in result.stderr


def test_json_diagnostics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(INVALID / "several_errors.yaml")]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [(r["code"], r["line"], r["column"]) for r in records] == [
        ("unknown-layer", 7, 12),
        ("unknown-argument", 8, 37),
    ]
    assert all({"file", "line", "column", "code", "message", "hint"} <= set(r) for r in records)


def test_summary_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(ROOT / "specs" / "lenet5.yaml"), "--format", "json", "--set", "num_classes=7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"name", "input_shape", "output_shape", "params", "trainable_params", "macs", "flops", "layers"} <= set(data)
    assert data["input_shape"] == [1, 28, 28]
    assert data["output_shape"] == [7]
    assert data["layers"][0] | {"id": "features.0", "type": "Conv2d", "output_shape": [6, 28, 28]} == data["layers"][0]
    assert all({"id", "type", "output_shape", "params", "macs", "flops"} <= set(row) for row in data["layers"])
    assert sum(row["params"] for row in data["layers"]) == data["params"]
    assert sum(row["flops"] for row in data["layers"]) == data["flops"] > 0


def test_summary_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(ROOT / "specs" / "lenet5.yaml")]) == 0
    out = capsys.readouterr().out
    assert "61,706" in out and "423,038" in out and "features.0" in out


def test_summary_of_invalid_spec_exits_1() -> None:
    result = run_cli("summary", str(INVALID / "kernel_too_large.yaml"))
    assert result.returncode == 1
    assert "error[shape]" in result.stderr and "Traceback" not in result.stderr


def test_python_dash_m_and_console_script_agree() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("archspec ")


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_no_traceback_for_any_invalid_spec(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_io_and_unknown_parameter_codes_in_json(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert [(r["code"], r["file"]) for r in json.loads(result.stdout)] == [("io", str(tmp_path / "nope.yaml"))]
    lenet = str(ROOT / "specs" / "lenet5.yaml")
    result = run_cli("summary", lenet, "--format", "json", "--set", "num_clases=3", "--set", "depth=2")
    assert result.returncode == 2
    records = json.loads(result.stdout)
    assert [(r["code"], r["line"], r["column"]) for r in records] == [("unknown-param", 6, 1)] * 2
    assert records[0]["hint"] == "did you mean 'num_classes'?"


@pytest.mark.parametrize(
    "args",
    [["schema", "-o"], ["diagram", "specs/lenet5.yaml", "-o"], ["docs", "specs", "-o"]],
    ids=["schema", "diagram", "docs"],
)
def test_unwritable_outputs_exit_2_with_the_path(args: list[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    target = blocker / ("out" if args[0] == "docs" else "out.dot")  # a folder that cannot exist
    result = run_cli(*args, str(target))
    assert result.returncode == 2, result.stderr
    assert f"error[output]: cannot write '{target}': its parent '{blocker}' is a file, not a folder" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("command", [["train"], ["evaluate", "--checkpoint", "x.pt"]], ids=["train", "evaluate"])
def test_negative_workers_are_rejected_by_train_and_evaluate(command: list[str]) -> None:
    result = run_cli(command[0], str(ROOT / "specs" / "lenet5.yaml"), *command[1:], "--workers", "-3")
    assert result.returncode == 2 and "--workers: expected an integer from 0 to" in result.stderr, result.stderr


def test_main_leaves_the_garbage_collector_alone_and_the_process_entry_pauses_it(tmp_path: Path) -> None:
    import gc

    from archspec.cli import main

    spec = Path(__file__).parent.parent / "specs" / "lenet5.yaml"
    assert gc.isenabled()
    assert main(["validate", "-q", str(spec)]) == 0
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert gc.isenabled()
    probe = "import gc, sys; from archspec.cli import entry; sys.argv = ['archspec'] + sys.argv[1:]; "
    probe += "code = entry(); print(gc.isenabled()); sys.exit(code)"
    for command, collecting in ((["validate", "-q", str(spec)], "False"), (["evaluate"], "True")):
        done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=False)
        assert done.stdout.strip() == collecting, (done.stdout, done.stderr[-500:])
