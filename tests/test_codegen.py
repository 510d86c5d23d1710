"""``archspec codegen``: readable, ruff-clean PyTorch source equal to what ``archspec.build`` makes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ruff import find_ruff_bin

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.backends.export import example_inputs  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.errors import UsageError  # noqa: E402

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
RUFF = [find_ruff_bin()]
"""ruff's own binary: ``python -m ruff`` starts an interpreter only to exec it (39 ms of CPU a call, the check 7 ms)."""

sys.path.insert(0, str(Path(__file__).parent))
from test_export import DROP_PATH  # noqa: E402
from test_torch_backend import AWKWARD, IN_PLACE, KEYWORDS, ODD_IDS, TINY  # noqa: E402

DOCS = r'''
archspec: 1
name: docs
description: 'Quotes """ and back\\slashes, a "quoted" end"'
input: {channels: 3, size: [8, 8]}
blocks:
  Stem:
    doc: A named chain; its ids are attributes. A rather long line of documentation that needs wrapping.
    layers:
      - {id: conv, type: Conv2d, out_channels: 4, kernel_size: 3, padding: same, padding_mode: reflect, dilation: 1}
      - {id: norm, type: GroupNorm, num_groups: 2}
      - {id: act, type: LeakyReLU, negative_slope: 0.125}
  Unnamed:
    layers:
      - {type: Conv2d, out_channels: 4, kernel_size: 1}
      - {type: ReLU}
layers:
  - {id: stem, use: Stem}
  - {id: body, use: Unnamed}
  - id: mixed
    layers:
      - {id: a, type: Identity}
      - {type: ReLU}
  - {id: pool, type: AdaptiveAvgPool2d, output_size: [1, 1]}
  - {type: Flatten}
  - {id: a_very_long_identifier_for_a_linear_layer_that_forces_wrapping, type: Linear, out_features: 3, bias: false}
'''


# very long ids: the layout must split like ruff (a parenthesized right-hand side, an operator per line)
LONG = """
archspec: 1
name: OrderedDict
input: {channels: 3, size: [8, 8]}
blocks:
  stage1:
    layers:
      - {id: a_really_quite_long_identifier_number_one, type: Conv2d, out_channels: 3, kernel_size: 1}
      - {id: a_really_quite_long_identifier_number_two, type: Conv2d, out_channels: 3, kernel_size: 1, inputs: [input]}
      - id: sum_of_the_two_long_things
        type: add
        inputs: [a_really_quite_long_identifier_number_one, a_really_quite_long_identifier_number_two, input]
      - id: cat_of_the_long_things
        type: concat
        inputs: [a_really_quite_long_identifier_number_one, a_really_quite_long_identifier_number_two, input]
layers:
  - {id: s1, use: stage1}
  - {id: reduce, type: Conv2d, out_channels: 3, kernel_size: 1}
  - {id: s2, use: stage1}
"""

# a block with several inputs whose names make the forward signature too long for one line
MANY_INPUTS = """
archspec: 1
name: many
input: {channels: 3, size: [8, 8]}
blocks:
  Merge:
    inputs: [the_first_input_with_a_long_name, the_second_input_with_a_long_name, x]
    layers:
      - {id: total, type: add, inputs: [the_first_input_with_a_long_name, the_second_input_with_a_long_name, x]}
      - {type: Conv2d, out_channels: 3, kernel_size: 1}
layers:
  - {id: a, type: Conv2d, out_channels: 3, kernel_size: 1}
  - {id: b, type: ReLU, inputs: [input]}
  - {id: merged, use: Merge, inputs: [a, b, input]}
"""


def import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ruff_clean(path: Path, *, long_lines: bool = True) -> None:
    """Clean with ruff's defaults, this project's rule set, and (``long_lines``) also at line length 120."""
    checks = [
        ["check", "--isolated", str(path)],
        ["check", "--isolated", "--select", "E,F,W,I,UP,B,SIM,RUF", str(path)],
        ["format", "--isolated", "--check", "--diff", str(path)],
    ]
    if long_lines:
        checks.append(["format", "--isolated", "--line-length", "120", "--check", "--diff", str(path)])
    for args in checks:
        result = subprocess.run([*RUFF, *args], capture_output=True, text=True)
        assert result.returncode == 0, f"ruff {' '.join(args)}\n{result.stdout}{result.stderr}"


def check_generated(spec: Path | str, tmp_path: Path, name: str, *, long_lines: bool = True) -> str:
    compiled = archspec.load(spec)
    source = generate_source(compiled, origin=name)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    ruff_clean(path, long_lines=long_lines)
    module = import_file(path)
    (class_name,) = module.__all__
    torch.manual_seed(0)
    built = archspec.build(compiled).eval()
    generated = getattr(module, class_name)().eval()
    assert list(generated.state_dict()) == list(built.state_dict())
    generated.load_state_dict(built.state_dict(), strict=True)
    x = example_inputs(compiled, batch=1, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(generated(*x), built(*x), rtol=0, atol=0)
    return source


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] if p.stem == "vgg16" else []) for p in SPECS],
    ids=lambda p: p.stem,
)
def test_generated_source_equals_the_built_model(path: Path, tmp_path: Path) -> None:
    source = check_generated(path, tmp_path, path.stem)
    assert "class " in source and "def __init__(self" in source and "def forward(" in source


@pytest.mark.parametrize(
    "spec",
    [TINY, AWKWARD, KEYWORDS, ODD_IDS, DOCS, IN_PLACE],
    ids=["tiny", "awkward", "keywords", "odd_ids", "docs", "in_place"],
)
def test_generated_source_for_tricky_specs(spec: str, tmp_path: Path) -> None:
    check_generated(spec, tmp_path, "tricky")


def test_torchvision_ops_layers_are_written_with_their_module_path(tmp_path: Path) -> None:
    """StochasticDepth comes from torchvision.ops: imported by name, ``p`` a float, and training drops alike."""
    source = check_generated(DROP_PATH, tmp_path, "drop_path")
    assert "import torch\nimport torchvision.ops\nfrom torch import nn\n" in source
    assert 'self.stochastic_depth = torchvision.ops.StochasticDepth(p=p, mode="row")' in source  # Res(p=0.5)
    assert 'self.whole_batch = torchvision.ops.StochasticDepth(p=1.0, mode="batch")' in source
    generated = import_file(tmp_path / "drop_path.py").DropPath()
    built = archspec.build(DROP_PATH)
    generated.load_state_dict(built.state_dict())
    x = torch.randn(8, 4, 6, 6)
    outputs = []
    for net in (built.res, generated.res):
        torch.manual_seed(3)
        outputs.append(net.train()(x))
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)


def test_a_block_with_several_inputs_takes_them_as_forward_arguments(tmp_path: Path) -> None:
    source = check_generated(MANY_INPUTS, tmp_path, "many")
    assert "        the_second_input_with_a_long_name: torch.Tensor,\n" in source
    assert "        x: torch.Tensor,\n" in source  # the block's own name, not renamed
    assert "self.merged(a, b, x)" in source


def test_very_long_ids_are_laid_out_like_ruff(tmp_path: Path) -> None:
    # at 88 columns; at 120, ruff would join the split binary operation back (no magic comma for operators)
    source = check_generated(LONG, tmp_path, "long", long_lines=False)
    assert '__all__ = ["OrderedDictModel"]' in source  # the spec's name would shadow the import
    assert "        a_really_quite_long_identifier_number_one = (\n" in source


def test_resnet_reads_like_a_hand_written_model() -> None:
    source = generate_source(archspec.load(ROOT / "specs" / "resnet18.yaml"))
    # one class per block definition, over its parameters (tests/test_codegen_generic.py has more)
    assert source.count("class BasicBlock") == 1
    assert "class Resnet18(nn.Module):" in source
    assert "self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)" in source
    assert "        bn2 += downsample\n" in source
    assert "        x = self.layer4(x)\n" in source
    assert source.index("class BasicBlock(") < source.index("class Resnet18(")
    assert '"""Two 3x3 convs and a residual' in source


def test_named_and_unnamed_chains(tmp_path: Path) -> None:
    source = check_generated(DOCS, tmp_path, "docs")
    assert "class Stem(nn.Module):" in source  # named chain block: attributes and a forward
    assert "class Unnamed(nn.Sequential):" in source  # 0, 1, ...: a Sequential subclass
    assert "from collections import OrderedDict" in source  # the 'mixed' group: a, 1
    assert 'self.add_module("4", nn.Flatten())' in source  # not an attribute name
    assert 'x = getattr(self, "4")(x)' in source


def test_codegen_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "model.py"
    assert main(["codegen", str(ROOT / "specs" / "lenet5.yaml"), "-o", str(out), "--set", "num_classes=7"]) == 0
    assert "wrote" in capsys.readouterr().out
    module = import_file(out)
    assert module.Lenet5()(torch.randn(2, 1, 28, 28)).shape == (2, 7)
    assert main(["codegen", str(ROOT / "specs" / "lenet5.yaml")]) == 0
    expected = generate_source(archspec.load(ROOT / "specs" / "lenet5.yaml"), origin="lenet5.yaml")
    assert capsys.readouterr().out == expected


def test_codegen_errors_exit_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codegen", str(ROOT / "tests" / "invalid" / "add_mismatch.yaml")]) == 1
    assert main(["codegen", str(ROOT / "specs" / "lenet5.yaml"), "--set", "nope=1"]) == 2
    assert main(["codegen", str(ROOT / "specs" / "lenet5.yaml"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot write" in err


def test_custom_module_layers_are_refused() -> None:
    from archspec.layers.base import Layer

    compiled = archspec.load(TINY)
    node = compiled.node("head")

    class Custom(type(node.layer)):  # type: ignore[misc]
        def build(self, inputs):
            return Layer.build(self, inputs)

    node.layer = Custom.model_construct(**dict(node.layer))
    with pytest.raises(UsageError, match="custom module"):
        generate_source(compiled)
