"""``archspec validate`` as a process of its own ends with ``os._exit`` (archspec/cli.py: ``_hard_exit``):
everything it printed must still arrive, with the right exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
SPECS = sorted(str(p) for p in (ROOT / "specs").glob("*.yaml"))
BAD = (
    "archspec: 1\nname: bad\ninput: {channels: 1, size: 8}\n"
    "layers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 99}\n"
)


def test_every_line_arrives_and_the_exit_code_is_kept(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "archspec", "validate", *SPECS, str(bad)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert len([line for line in done.stdout.splitlines() if line.startswith("ok ")]) == len(SPECS)
    assert "bad.yaml:5:" in done.stderr and "error[shape]" in done.stderr


def test_json_output_is_complete(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "archspec", "validate", "--format", "json", *SPECS, str(bad)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert [d["code"] for d in json.loads(done.stdout)] == ["shape"]


def test_a_missing_file_still_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archspec", "validate", SPECS[0], str(ROOT / "no-such-spec.yaml")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout.startswith("ok ") and "no-such-spec.yaml" in done.stderr
