"""Flags out of range are usage errors naming the flag, the value and the range; never exit 3 (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec.backends.limits import MAX_BYTES, parse_bytes
from archspec.cli import main
from archspec.train.config import LIMITS, MAX_WORKERS

ROOT = Path(__file__).parent.parent
LENET = str(ROOT / "specs" / "lenet5.yaml")
HUGE = str(10**23)


def _usage(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--seed", HUGE, "from -9,223,372,036,854,775,808 to 18,446,744,073,709,551,615"),
        ("--seed", "1.5", "from -9,223,372,036,854,775,808"),
        ("--batch-size", str(10**20), "from 1 to 2,147,483,647"),
        ("--batch-size", "0", "from 1 to"),
        ("--epochs", str(10**20), "from 1 to 1,000,000"),
        ("--workers", "100000", f"from 0 to {MAX_WORKERS:,}"),
        ("--workers", "-3", "from 0 to"),
    ],
)
def test_train_integer_flags(capsys: pytest.CaptureFixture[str], flag: str, value: str, allowed: str) -> None:
    err = _usage(capsys, "train", LENET, f"{flag}={value}")
    assert f"argument {flag}: expected an integer {allowed}" in err and f", got '{value}'" in err


def test_workers_are_bounded_by_the_machine() -> None:
    import os

    assert 4 * (os.cpu_count() or 1) == MAX_WORKERS and LIMITS["workers"] == (0, MAX_WORKERS)


@pytest.mark.parametrize("command", [["evaluate", LENET, "--checkpoint", "x.pt"], ["export", LENET, "-o", "x.pt"]])
def test_other_commands_share_the_ranges(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    flag = "--workers" if command[0] == "evaluate" else "--seed"
    err = _usage(capsys, *command, flag, HUGE)
    assert f"argument {flag}: expected an integer from" in err


def test_fake_data_size_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torchvision")
    err = _usage(capsys, "train", LENET, "--data", f"fake:{HUGE}", "--out", str(tmp_path / "run"))
    assert "N must be at most 1,000,000,000 (fake:N)" in err
    err = _usage(capsys, "train", LENET, "--data", "fake:" + "9" * 5000, "--out", str(tmp_path / "run"))
    assert "data: String should have at most 4096 characters" in err  # 5000 digits: more than int() reads
    assert not (tmp_path / "run").exists()  # refused before leaving a folder behind


def test_spec_train_section_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The spec's train: section is the flags' model: its ranges make an invalid spec (exit 1), at the value."""
    spec = tmp_path / "s.yaml"
    text = Path(LENET).read_text() + f"train: {{seed: {HUGE}, workers: 5000}}\n"
    spec.write_text(text)
    assert main(["train", str(spec), "--data", "fake:8", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    line = text.count("\n")
    expected = "expected an integer >= -9223372036854775808 and <= 18446744073709551615"
    assert f"{spec}:{line}:15: error[bad-value]: invalid value {HUGE} for 'seed': {expected}" in err
    assert "invalid value 5000 for 'workers': expected an integer >= 0 and <= 1024" in err
    assert not (tmp_path / "run").exists()


def test_spec_train_workers_beyond_this_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    spec = tmp_path / "s.yaml"
    spec.write_text(Path(LENET).read_text() + f"train: {{workers: {MAX_WORKERS + 1}}}\n")
    err = _usage(capsys, "train", str(spec), "--data", "fake:8", "--out", str(tmp_path / "run"))
    assert f"workers: expected an integer from 0 to {MAX_WORKERS:,}, got {MAX_WORKERS + 1}" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e999", "'1e999' is out of range: at most 9,223,372,036,854,775,807 bytes"),
        ("1e99999999999", "is out of range"),
        ("0.5", "'0.5' is not a whole number of bytes; use 0 or none for no limit"),
        ("1e-3", "is not a whole number of bytes"),
        ("9223372036854775808", "is out of range"),
        ("-1GB", "is not a size"),
    ],
)
def test_max_param_bytes_out_of_range(capsys: pytest.CaptureFixture[str], value: str, message: str) -> None:
    err = _usage(capsys, "build", LENET, f"--max-param-bytes={value}")
    assert f"--max-param-bytes: '{value}' " in err and message in err


@pytest.mark.parametrize(
    ("text", "count"),
    [("0", 0), ("none", 0), ("NONE", 0), ("0e99999999999", 0), ("0.5GB", 500_000_000), (".5k", 500)],
)
def test_parse_bytes_is_exact(text: str, count: int) -> None:
    assert parse_bytes(text) == count
    assert parse_bytes(str(MAX_BYTES)) == MAX_BYTES


@pytest.mark.parametrize("flag", ["--max-nodes", "--max-errors", "--max-spec-bytes"])
def test_budget_flags_with_thousands_of_digits(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    err = _usage(capsys, "validate", LENET, flag, "9" * 5000)  # more digits than int() reads by default
    assert f"{flag} {'9' * 5000}: expected a whole number from 1 to 1,099,511,627,776" in err
