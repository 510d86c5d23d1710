"""``archspec summary`` in text, JSON and Markdown: receptive fields and activation memory in each."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest

from archspec.backends.summary import (
    HEADERS,
    Receptive,
    human_bytes,
    receptive_fields,
    summary_data,
    summary_markdown,
    summary_text,
)
from archspec.cli import main
from archspec.compiler.pipeline import compile_spec
from archspec.layers.base import TensorType

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def fields(spec: str | Path) -> dict[str, tuple[str, str]]:
    """Node path -> (receptive field, jump) as the tables print them."""
    compiled = compile_spec(spec)
    rfs = receptive_fields(compiled)
    return {n.path: (rfs[n.path].size_text(), rfs[n.path].jump_text()) for n in compiled.nodes}


def spec_text(layers: str, input_: str = "{channels: 3, size: [32, 32]}") -> str:
    return f"archspec: 1\nname: t\ninput: {input_}\nlayers:\n{layers}"


# -- receptive fields, against hand-computed values --------------------------------------------


def test_lenet5_receptive_fields() -> None:
    # conv 5x5 (p2): 1 + 4*1 = 5, jump 1; pool 2/2: 5 + 1*1 = 6, jump 2; conv 5x5: 6 + 4*2 = 14;
    # pool 2/2: 14 + 1*2 = 16, jump 4; conv 5x5: 16 + 4*4 = 32; then flatten and linear: global
    expected = {
        "features.0": ("5", "1"),
        "features.1": ("5", "1"),
        "features.2": ("6", "2"),
        "features.3": ("14", "2"),
        "features.4": ("14", "2"),
        "features.5": ("16", "4"),
        "features.6": ("32", "4"),
        "features.7": ("32", "4"),
        "flatten": ("global", "-"),
        "classifier.0": ("global", "-"),
        "classifier.1": ("global", "-"),
        "classifier.2": ("global", "-"),
    }
    assert fields(ROOT / "specs" / "lenet5.yaml") == expected


def test_resnet18_stem_and_stages() -> None:
    rf = fields(ROOT / "specs" / "resnet18.yaml")
    assert rf["conv1"] == ("7", "2")  # 7x7 /2
    assert rf["relu"] == ("7", "2")
    assert rf["maxpool"] == ("11", "4")  # 7 + (3-1)*2 = 11, jump 4
    assert rf["layer1.0.conv1"] == ("19", "4")  # 11 + 2*4
    assert rf["layer1.0.conv2"] == ("27", "4")
    # the residual add takes the max over its inputs: bn2 (27) and the block input (11)
    assert rf["layer1.0.add"] == ("27", "4")
    assert rf["layer2.0.conv1"] == ("51", "8")  # 43 + 2*4, jump 8
    assert rf["layer2.0.downsample.0"] == ("43", "8")  # a 1x1 /2 conv only changes the jump
    assert rf["layer4.1.relu_out"] == ("435", "32")  # ResNet-18's well-known receptive field
    assert rf["avgpool"] == ("global", "-")
    assert rf["fc"] == ("global", "-")


def test_json_receptive_field_records() -> None:
    data = summary_data(compile_spec(ROOT / "specs" / "resnet18.yaml"))
    rows = {row["id"]: row for row in data["layers"]}
    assert rows["maxpool"]["receptive_field"] == {"size": [11, 11], "jump": [4, 4], "global": False}
    assert rows["avgpool"]["receptive_field"] == {"size": [224, 224], "jump": None, "global": True}


def test_dilation_merge_and_per_axis_values() -> None:
    text = spec_text(
        """\
  - {id: a, type: Conv2d, out_channels: 4, kernel_size: 3, dilation: 2, padding: 2, inputs: [input]}
  - {id: b, type: Conv2d, out_channels: 4, kernel_size: [3, 5], stride: [1, 2], padding: [1, 2], inputs: [input]}
  - {id: c, type: MaxPool2d, kernel_size: 3, stride: 1, dilation: 3, padding: 1, inputs: [input]}
  - {id: d, type: AvgPool2d, kernel_size: 2, inputs: [b]}
  - {id: m, type: concat, inputs: [a, a]}
  - {id: up, type: Upsample, scale_factor: 2, inputs: [d]}
  - {id: pad, type: ZeroPad2d, padding: 1, inputs: [d]}
"""
    )
    rf = fields(text)
    assert rf["a"] == ("5", "1")  # dilation 2: effective kernel 5
    assert rf["b"] == ("3x5", "1x2")
    assert rf["c"] == ("7", "1")  # dilation 3: effective kernel 7
    assert rf["d"] == ("4x7", "2x4")  # 3 + 1*1, 5 + 1*2; jumps 1*2, 2*2
    assert rf["m"] == ("5", "1")
    assert rf["up"] == rf["d"]  # no rule for Upsample: positions pass through
    assert rf["pad"] == rf["d"]


def test_merge_takes_the_max_over_inputs() -> None:
    text = spec_text(
        """\
  - {id: big, type: Conv2d, out_channels: 4, kernel_size: 7, padding: 3, inputs: [input]}
  - {id: strided, type: Conv2d, out_channels: 4, kernel_size: 1, stride: 1, inputs: [input]}
  - {id: pooled, type: MaxPool2d, kernel_size: 1, stride: 1, inputs: [strided]}
  - {id: sum, type: add, inputs: [big, pooled]}
  - {id: gate, type: AdaptiveAvgPool2d, output_size: 1, inputs: [sum]}
  - {id: scaled, type: mul, inputs: [sum, gate]}
"""
    )
    rf = fields(text)
    assert rf["sum"] == ("7", "1")
    assert rf["gate"] == ("global", "-")
    assert rf["scaled"] == ("global", "-")  # a squeeze-and-excitation gate sees everything


def test_transposed_convolution_has_fractional_jump() -> None:
    text = spec_text(
        """\
  - {id: down, type: Conv2d, out_channels: 4, kernel_size: 4, stride: 4}
  - {id: up, type: ConvTranspose2d, out_channels: 4, kernel_size: 2, stride: 2}
  - {id: up2, type: ConvTranspose2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
"""
    )
    compiled = compile_spec(text)
    rfs = receptive_fields(compiled)
    assert rfs["down"] == Receptive((4, 4), (4, 4))
    assert rfs["up"] == Receptive((4, 4), (2, 2))  # ceil(2/2) = 1 input per output, jump 4/2
    assert rfs["up2"] == Receptive((6, 6), (1, 1))  # ceil(3/2) = 2 inputs per output: 4 + (2-1)*2, jump 2/2
    up3 = compile_spec(text + "  - {id: up3, type: ConvTranspose2d, out_channels: 4, kernel_size: 2, stride: 2}\n")
    assert receptive_fields(up3)["up3"].jump == (Fraction(1, 2), Fraction(1, 2))
    assert receptive_fields(up3)["up3"].jump_text() == "1/2"


def test_conv1d_and_flat_inputs() -> None:
    conv1d = spec_text(
        "  - {type: Conv1d, out_channels: 4, kernel_size: 9, stride: 3}\n  - {type: MaxPool1d, kernel_size: 2}\n",
        "{channels: 2, size: [100]}",
    )
    assert list(fields(conv1d).values()) == [("9", "3"), ("12", "6")]
    mlp = spec_text("  - {type: Linear, out_features: 8}\n  - {type: ReLU}\n", "{channels: 16}")
    assert list(fields(mlp).values()) == [("global", "-"), ("global", "-")]


INPUT_TYPE = TensorType(())
"""A batched value: what a node without a type of its own (one with several outputs) counts as here."""


def test_every_shipped_spec_has_a_receptive_field_for_every_node() -> None:
    for spec in SPECS:
        compiled = compile_spec(spec)
        rfs = receptive_fields(compiled)
        # a held tensor, and what is computed from held tensors alone (the GPT's position embeddings,
        # Swin's bias), has no position on the input
        held = {
            n.path
            for n in compiled.nodes
            if n.layer.stored
            or not (compiled.types.get(n.path) or compiled.types.get(f"{n.path}.0") or INPUT_TYPE).batched
        }
        parts = {
            f"{n.path}.{k}" for n in compiled.nodes if n.result and n.result.parts for k in range(len(n.result.parts))
        }
        assert set(rfs) == {"input", *compiled.inputs} | {n.path for n in compiled.nodes} - held | parts, spec


# -- activation memory -------------------------------------------------------------------------


def test_activation_memory_is_output_elements_times_four() -> None:
    compiled = compile_spec(ROOT / "specs" / "lenet5.yaml")
    data = summary_data(compiled)
    for node, row in zip(compiled.nodes, data["layers"], strict=True):
        assert row["activation_bytes"] == math.prod(node.shape) * 4  # type: ignore[arg-type]
    assert data["layers"][0]["activation_bytes"] == 6 * 28 * 28 * 4 == 18_816
    assert data["activation_bytes"] == sum(row["activation_bytes"] for row in data["layers"])
    assert data["input_bytes"] == 28 * 28 * 4


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**2 + 64 * 1024) == "3.06 MiB"
    assert human_bytes(200 * 1024**3) == "200 GiB"


# -- the three formats -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_text_table_columns(spec: Path) -> None:
    compiled = compile_spec(spec)
    text = summary_text(compiled)
    lines = text.splitlines()
    headers = ["id", "type", "output", "shape", "params", "mult-adds", "FLOPs", "rf", "jump", "activations"]
    assert lines[2].split() == headers
    assert HEADERS[-3:] == ("rf", "jump", "activations")
    rows = lines[4 : 4 + len(compiled.nodes)]
    for node, row in zip(compiled.nodes, rows, strict=True):
        assert row.startswith(node.path + " ")
        assert node.result is not None
        assert row.split()[-6:-4] == [f"{node.result.macs:,}", f"{node.result.flops:,}"]
    assert f"mult-adds: {compiled.macs:,} per sample (torchinfo's count)\n" in text
    assert f"FLOPs: {compiled.flops:,} per sample (FlopCounterMode's count)\n" in text
    assert "activation memory: " in text and "per sample (every layer output at its dtype" in text


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_markdown_table(spec: Path) -> None:
    compiled = compile_spec(spec)
    md = summary_markdown(compiled)
    lines = md.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == (
        "| id | type | args | output shape | params | mult-adds | FLOPs | receptive field | jump | activations |"
    )
    assert len(table) == len(compiled.nodes) + 2
    for line in table:
        assert len(re.split(r"(?<!\\)\|", line)) == 12, line  # 10 cells, none with an unescaped pipe
    assert f"- params: {compiled.params_total:,}" in md
    assert f"- mult-adds: {compiled.macs:,} per sample" in md
    assert f"- FLOPs: {compiled.flops:,} per sample" in md
    assert "- activation memory: " in md


def test_markdown_rows_for_resnet18() -> None:
    md = summary_markdown(compile_spec(ROOT / "specs" / "resnet18.yaml"))
    conv1 = "| `conv1` | Conv2d | `3->64 7x7 /2 p3` | `[64, 112, 112]` | 9,408 | 118,013,952 | 236,027,904 | 7 | 2 |"
    assert conv1 + " 3.06 MiB |" in md
    assert "| `avgpool` | AdaptiveAvgPool2d | `-> 1x1` | `[512, 1, 1]` | 0 | 0 | 0 | global | - | 2 KiB |" in md
    assert "| `fc` | Linear | `512->1000` | `[1000]` | 513,000 | 513,000 | 1,024,000 | global | - | 3.91 KiB |" in md
    assert "- FLOPs: 3,628,146,688 per sample" in md  # torch.utils.flop_counter.FlopCounterMode, batch 1


def test_cli_formats(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(ROOT / "specs" / "lenet5.yaml")
    assert main(["summary", spec, "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| id | type | args |")
    assert main(["summary", spec, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["layers"][0]["receptive_field"] == {"size": [5, 5], "jump": [1, 1], "global": False}
    assert data["layers"][0]["activation_bytes"] == 18_816
    assert data["layers"][0]["args"] == "1->6 5x5 p2"
    assert main(["summary", spec]) == 0
    assert "     5     1" in capsys.readouterr().out
    assert main(["summary", spec, "--format", "yaml"]) == 2
    assert "invalid choice: 'yaml'" in capsys.readouterr().err
