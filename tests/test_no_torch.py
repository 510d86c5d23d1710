"""validate and summary stay light: no torch, no other commands' modules (fresh interpreters, via sys.modules)."""

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
print("COMMAND_MODULES", sorted(m for m in sys.modules if m.startswith("archspec.commands.")))
sys.exit(code)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["validate", *SPECS],
        ["summary", str(ROOT / "specs" / "resnet18.yaml"), "--input", "3x64x64"],
        ["schema"],
        [
            "sweep",
            str(ROOT / "specs" / "resnet18.yaml"),
            "--grid",
            "num_classes=[10, 0]",
            "--grid",
            "depths=[[1,1,1,1]]",
        ],
        ["summary", str(ROOT / "specs" / "lstm_classifier.yaml"), "--memory", "--batch-size", "64", "--amp"],
    ],
    ids=["validate", "summary", "schema", "sweep", "summary-memory"],
)
def test_command_does_not_import_torch(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "TORCH_MODULES 0" in result.stdout
    assert f"COMMAND_MODULES ['archspec.commands.{args[0]}']" in result.stdout


def test_help_lists_every_command() -> None:
    from archspec.cli import COMMANDS

    result = subprocess.run([sys.executable, "-m", "archspec", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert all(f"    {name} " in result.stdout for name in COMMANDS), result.stdout


def test_validation_builds_only_the_layer_validators_a_spec_uses() -> None:
    """A valid spec takes the quick path (archspec/frontend/quick.py) and builds no Pydantic validator;
    an invalid node builds its own layer type's, for Pydantic's error report."""
    code = (
        "import archspec\nfrom archspec.layers.registry import layer_types\n"
        "archspec.load('specs/lenet5.yaml')\n"
        "print(sorted(n for n, c in layer_types().items() if c.__pydantic_complete__))\n"
        "try:\n"
        "    archspec.load(open('specs/lenet5.yaml').read().replace('kernel_size: 5', 'kernel_size: -5', 1))\n"
        "except archspec.SpecError as e:\n"
        "    print([d.code for d in e.diagnostics])\n"
        "print(sorted(n for n, c in layer_types().items() if c.__pydantic_complete__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split("\n")[:3] == ["[]", "['bad-value']", "['Conv2d']"], result.stderr


def test_import_archspec_does_not_import_torch() -> None:
    code = "import archspec, sys; archspec.load('specs/lenet5.yaml'); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "False", result.stderr


def test_language_server_does_not_import_torch() -> None:
    """``archspec lsp``: the server module, a compile and every feature, in a fresh interpreter."""
    code = (
        "import sys\nimport archspec.commands.lsp, archspec.lsp.server\n"
        "from archspec.lsp import analysis, complete, hover, navigate, outline\n"
        "a = analysis.analyze(open('specs/resnet18.yaml').read(), 'resnet18.yaml')\n"
        "assert a.compiled is not None and hover.hover(a, (35, 12)) and outline.inlay_hints(a, 0, 99)\n"
        "outline.outline(a); navigate.occurrences(a); complete.complete(a.text_lines, (16, 30), a)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stderr
