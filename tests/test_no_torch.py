"""validate and summary never import torch (a fresh interpreter, checked via sys.modules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SPECS = [str(p) for p in sorted((ROOT / "specs").glob("*.yaml"))]

PROBE = """
import sys
from archspec.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("TORCH_MODULES", len(heavy))
sys.exit(code)
"""


@pytest.mark.parametrize(
    "args",
    [["validate", *SPECS], ["summary", str(ROOT / "specs" / "resnet18.yaml")], ["schema"]],
    ids=["validate", "summary", "schema"],
)
def test_command_does_not_import_torch(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "TORCH_MODULES 0" in result.stdout


def test_import_archspec_does_not_import_torch() -> None:
    code = "import archspec, sys; archspec.load('specs/lenet5.yaml'); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "False", result.stderr
