"""Shipped specs: their totals equal the seed's reference table (measured with torch/torchinfo)."""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec

ROOT = Path(__file__).parent.parent

# From the seed README: PyTorch 2.14 / torchvision 0.29, batch 1, torchinfo's mult-add convention.
REFERENCE = {
    "lenet5": ((1, 28, 28), 61_706, 423_038),
    "mnist_cnn": ((1, 28, 28), 468_458, 18_767_882),
    "alexnet": ((3, 224, 224), 61_100_840, 714_682_664),
    "vgg16": ((3, 224, 224), 138_357_544, 15_483_821_032),
    "resnet18": ((3, 224, 224), 11_689_512, 1_814_083_944),
    # torchvision's mobilenet_v3_small() and efficientnet_b0(), measured the same way
    "mobilenet_v3_small": ((3, 224, 224), 2_542_856, 56_527_424),
    "efficientnet_b0": ((3, 224, 224), 5_288_548, 385_867_108),
    # torchvision's vit_b_16(): torchinfo counts no mult-adds for nn.MultiheadAttention (no leaf module)
    "vit_b_16": ((3, 224, 224), 86_567_656, 173_232_616),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_totals_match_the_seed_table(name: str) -> None:
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml")
    shape, params, macs = REFERENCE[name]
    assert compiled.input_shape == shape
    assert compiled.params_total == params
    assert compiled.macs == macs


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_is_valid_and_points_at_the_schema(path: Path) -> None:
    assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/archspec.schema.json\n")
    compiled = archspec.load(path)
    assert compiled.ok and compiled.output_shape


def test_overrides_change_the_head() -> None:
    compiled = archspec.load(ROOT / "specs" / "resnet18.yaml", num_classes=10)
    assert compiled.output_shape == (10,)
    assert compiled.params_total == 11_689_512 - 513_000 + 5_130


def test_resnet_projection_only_where_stride_or_channels_change() -> None:
    compiled = archspec.load(ROOT / "specs" / "resnet18.yaml")
    paths = {node.path for node in compiled.nodes}
    assert "layer1.0.downsample.0" not in paths
    assert {"layer2.0.downsample.0", "layer3.0.downsample.1", "layer4.0.downsample.0"} <= paths
    assert "layer2.1.downsample.0" not in paths
    add = compiled.node("layer1.0.add")
    assert add.sources == ["layer1.0.bn2", "maxpool"]


def test_vgg_blocks_inline_into_torchvision_indexes() -> None:
    compiled = archspec.load(ROOT / "specs" / "vgg16.yaml")
    convs = [node.path for node in compiled.nodes if node.type == "Conv2d"]
    assert convs == [f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)]


def test_text_and_path_inputs_agree() -> None:
    path = ROOT / "specs" / "lenet5.yaml"
    assert archspec.load(path.read_text()).macs == archspec.load(str(path)).macs


def test_long_one_line_text_is_a_spec_not_a_file_name() -> None:
    text = (
        "{archspec: 1, name: t, input: {channels: 3, size: [8, 8]}, layers: [" + ", ".join(["{type: ReLU}"] * 60) + "]}"
    )
    assert len(text) > 255  # longer than a file name may be
    assert archspec.load(text).output_shape == (3, 8, 8)
