"""--input on summary/validate/diagram and load(input=...): another input size without editing the spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archspec
from archspec.errors import UsageError

ROOT = Path(__file__).parent.parent
RESNET = ROOT / "specs" / "resnet18.yaml"
TWO_INPUTS = """\
archspec: 1
name: two
inputs:
  tokens: {shape: [16], dtype: int64, range: [0, 100]}
  mask: {shape: [16], dtype: bool}
layers:
  - {id: embed, type: Embedding, num_embeddings: 100, embedding_dim: 8, inputs: [tokens]}
  - {id: keep, type: to, dtype: float32, inputs: [mask]}
  - {id: keep_dim, type: unsqueeze, dim: -1}
  - {id: masked, type: mul, inputs: [embed, keep_dim]}
"""


def cli(*args: object) -> int:
    from archspec.cli import main

    return main([str(a) for a in args])


def test_summary_json_at_another_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("summary", RESNET, "--input", "3x299x299", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [3, 299, 299]
    assert data["macs"] == archspec.load(RESNET, input=(3, 299, 299)).macs != archspec.load(RESNET).macs
    layer4 = next(row for row in data["layers"] if row["id"] == "layer4.1.relu_out")
    assert layer4["output_shape"] == [512, 10, 10]  # torchvision's resnet18 at 299: 10x10 before the pool


def test_a_size_that_does_not_fit_points_at_the_failing_node(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("validate", ROOT / "specs" / "vgg16.yaml", "--input", "3x31x31") == 1
    err = capsys.readouterr().err
    assert "vgg16.yaml:24:40: error[shape]: MaxPool2d: output height would be 0" in err
    assert "(in node 'features.30')" in err


def test_diagram_at_another_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.dot"
    assert cli("diagram", RESNET, "--input", "input=3x64x64", "-o", out) == 0
    assert "[512, 2, 2]" in out.read_text() and "[512, 7, 7]" not in out.read_text()


def test_named_inputs() -> None:
    compiled = archspec.load(TWO_INPUTS, input={"tokens": (4,), "mask": (4,)})
    assert compiled.output_shape == (4, 8)
    assert compiled.inputs["tokens"].dtype == "int64" and compiled.inputs["tokens"].high == 100
    with pytest.raises(archspec.SpecError, match="do not broadcast"):
        archspec.load(TWO_INPUTS, input={"tokens": (4,)})  # the mask stays 16 long


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("3x299", "--input: input 'input' has 3 dims (3x224x224); got 2"),
        ("3x0x9", "--input: input 'input' shape [3, 0, 9] must be positive integers"),
        ("images=3x9x9", "--input: the spec has no input 'images'"),
        ("3xabc", "--input 3xabc: expected [NAME=]SIZExSIZEx..., positive whole numbers"),
        ("=3", "--input =3: expected"),
        ("3x99999999999", "--input 3x99999999999: expected"),
    ],
)
def test_bad_input_shapes_are_usage_errors(argument: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("summary", RESNET, "--input", argument) == 2
    assert message in capsys.readouterr().err


def test_load_input_keyword_and_loaded_spec() -> None:
    with pytest.raises(UsageError, match="has 3 dims"):
        archspec.load(RESNET, input=(224, 224))
    loaded = archspec.load_spec(RESNET)
    at_64 = loaded.compile(overrides={"num_classes": 10}, input_shapes={"input": (3, 64, 64)})
    assert at_64.output_shape == (10,) and at_64.input_shape == (3, 64, 64)
    assert loaded.compile().macs == archspec.load(RESNET).macs  # the loaded spec is unchanged
