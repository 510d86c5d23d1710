"""Diagrams for documentation: folded repeats, the U of a U-Net, one screen for ResNet-50, golden DOT.

The golden DOT files in ``tests/golden/diagrams/`` pin what ``archspec diagram`` writes for
every shipped spec; after an intended change, regenerate them with
``ARCHSPEC_UPDATE_GOLDEN=1 pytest tests/test_diagram_layout.py`` and review the diff.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dot_parse import Dot, parse_dot
from golden import GOLDEN as GOLDEN_ROOT
from golden import assert_golden
from test_diagram import png_size, resnet_spec

from archspec.backends import graphviz as graphviz_backend
from archspec.backends.folds import find_folds
from archspec.backends.graphviz import FOLD_FILL, Diagram, dot_source
from archspec.cli import main
from archspec.compiler.ir import Subgraph
from archspec.compiler.pipeline import compile_spec

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOLDEN = GOLDEN_ROOT / "diagrams"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def drawn(spec: str | Path, **options: object) -> Dot:
    return parse_dot(dot_source(compile_spec(Path(spec)), **options))  # type: ignore[arg-type]


# -- folded repeats ---------------------------------------------------------------------------


def test_a_repeated_block_folds_into_one_box_with_its_shapes_in_and_out() -> None:
    compiled = compile_spec(ROOT / "specs" / "resnet18.yaml")
    dot = parse_dot(dot_source(compiled))
    assert not any(name.startswith("cluster_layer") for name in dot.clusters)
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        assert dot.nodes[stage]["fillcolor"] == FOLD_FILL and dot.nodes[stage]["shape"] == "box3d"
        assert not any(node.startswith(stage + ".") for node in dot.nodes)
    group = compiled.root.child("layer2")
    assert isinstance(group, Subgraph)
    params = sum(n.result.params for n in group.leaves() if n.result)
    assert dot.label("layer2") == ["layer2: BasicBlock x2", "[64, 56, 56] -> [128, 28, 28]", f"{params:,} params"]
    assert [(a, b) for a, b, _ in dot.edges if "layer" in a + b] == [
        ("maxpool", "layer1"),
        ("layer1", "layer2"),
        ("layer2", "layer3"),
        ("layer3", "layer4"),
        ("layer4", "avgpool"),
    ]


def test_a_run_inside_a_longer_group_is_labelled_with_its_range() -> None:
    dot = drawn(ROOT / "specs" / "mobilenet_v3_small.yaml")
    label = dot.label("features.1")
    assert label[0] == "features.1-11: InvertedResidual x11"
    assert label[1] == "[16, 112, 112] -> [96, 7, 7]"
    assert {"features.0.0", "features.12.0"} <= set(dot.nodes)  # the blocks around it stay drawn
    assert not any(n.startswith(("features.2", "features.11")) for n in dot.nodes)
    assert [a for a, _, _ in dot.edges_into("features.12.0")] == ["features.1"]


def test_blocks_written_one_by_one_or_read_by_others_stay_open() -> None:
    """A U-Net's ``down1``..``down3`` are one block in a chain, but written separately and read by the decoder."""
    compiled = compile_spec(ROOT / "specs" / "unet.yaml")
    assert find_folds(compiled.root) == {}
    efficientnet = compile_spec(ROOT / "specs" / "efficientnet_b0.yaml")  # expand conv and depthwise conv
    assert all(fold.members[0].block == "MBConv" for fold in find_folds(efficientnet.root).values())


def test_a_repeat_whose_copies_are_read_from_outside_stays_open(tmp_path: Path) -> None:
    spec = tmp_path / "taps.yaml"
    spec.write_text(
        "archspec: 1\nname: taps\ninput: {channels: 4, size: [6, 6]}\n"
        "blocks:\n  Mix:\n    layers:\n      - {type: Conv2d, out_channels: 4, kernel_size: 1}\n"
        "layers:\n"
        '  - {id: "s${i}", use: Mix, repeat: 3}\n'
        "  - {id: tap, type: add, inputs: [s0, s2]}\n"
    )
    dot = drawn(spec)
    assert "s0.0" in dot.nodes, "s0 is read from outside: it stays open"
    assert dot.label("s1")[0] == "s1-s2: Mix x2"
    assert sorted(a for a, _, _ in dot.edges_into("tap")) == ["s0.0", "s1"]
    spec.write_text(spec.read_text().replace("[s0, s2]", "[s2, s2]"))
    dot = drawn(spec)
    assert dot.label("s0") == ["s0-s2: Mix x3", "[4, 6, 6] -> [4, 6, 6]", "60 params"]
    assert [a for a, _, _ in dot.edges_into("tap")] == ["s0", "s0"]


def test_expand_and_depth_open_the_folds(tmp_path: Path) -> None:
    spec = ROOT / "specs" / "resnet18.yaml"
    assert "layer1.0.conv1" in drawn(spec, expand=True).nodes
    assert drawn(spec, depth=1).label("layer1.0")[1].startswith("BasicBlock(channels=64")
    out = tmp_path / "r.dot"
    assert main(["diagram", str(spec), "-o", str(out), "--expand"]) == 0
    assert "layer2.1.bn2" in parse_dot(out.read_text()).nodes
    assert main(["diagram", str(spec), "-o", str(out)]) == 0
    assert "layer2.1.bn2" not in parse_dot(out.read_text()).nodes


# -- the U of a U-Net -------------------------------------------------------------------------


def test_unet_ties_each_skip_to_its_level_and_runs_the_decoder_upwards() -> None:
    dot = drawn(ROOT / "specs" / "unet.yaml")
    assert dot.same_rank == [
        ["down3.6", "up1.up"],
        ["down2.6", "up1.cat"],
        ["down1.6", "up2.cat"],
        ["inc.5", "up3.cat"],
    ]
    decoder = {n for n in dot.nodes if n.startswith(("up", "outc", "_output"))}
    for tail, head, attrs in dot.edges:
        assert (attrs.get("dir") == "back") == (tail in decoder and head in decoder), (tail, head)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_only_the_unet_is_drawn_as_a_u(spec: Path) -> None:
    assert (Diagram(compile_spec(spec)).layout is not None) == (spec.stem == "unet")
    assert (Diagram(compile_spec(spec), depth=0).layout is not None) == (spec.stem == "unet")


def plain_positions(spec: Path, depth: int | None = None) -> tuple[dict[str, tuple[float, float]], float]:
    """Each node's centre (inches, y upwards) and the graph's height in inches, from ``dot -Tplain``."""
    source = dot_source(compile_spec(spec), depth=depth)
    plain = subprocess.run(["dot", "-Tplain"], input=source, capture_output=True, text=True, check=True).stdout
    positions, height = {}, 0.0
    for line in plain.splitlines():
        words = line.split()
        if words[0] == "graph":
            height = float(words[3])
        elif words[0] == "node":
            positions[words[1].strip('"')] = (float(words[2]), float(words[3]))
    return positions, height


LAYER_ENDS = {"inc": "inc.5", "down1": "down1.6", "down3": "down3.6", "up1": "up1.cat", "up3": "up3.cat"}


@needs_dot
@pytest.mark.parametrize("depth", [None, 0], ids=["layers", "depth0"])
def test_unet_renders_as_a_u(depth: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    at, height = plain_positions(ROOT / "specs" / "unet.yaml", depth)
    box = {name: LAYER_ENDS[name] if depth is None else name for name in LAYER_ENDS}
    left = max(x for name, (x, _) in at.items() if name.startswith(("inc", "down")))
    right = min(x for name, (x, _) in at.items() if name.startswith("up"))
    assert left < right, "the encoder is on one side, the decoder on the other"
    assert at[box["inc"]][1] > at[box["down1"]][1] > at[box["down3"]][1], "the encoder goes down"
    assert at[box["up1"]][1] < at[box["up3"]][1] < at["outc"][1], "the decoder comes back up"
    assert at[box["inc"]][1] == at[box["up3"]][1], "a skip crosses at one level"
    monkeypatch.setattr(graphviz_backend, "u_layout", lambda *args: None)
    _, column = plain_positions(ROOT / "specs" / "unet.yaml", depth)
    assert height < 0.75 * column, f"a U ({height:.1f} in) is shorter than the one column ({column:.1f} in)"


# -- one screen for ResNet-50 -----------------------------------------------------------------


@needs_dot
def test_resnet50_fits_on_one_screen(tmp_path: Path) -> None:
    spec = tmp_path / "resnet50.yaml"
    spec.write_text(resnet_spec())
    out = tmp_path / "resnet50.png"
    assert main(["diagram", str(spec), "-o", str(out)]) == 0
    width, height = png_size(out)
    assert height < 2000 and width < 2000, (width, height)
    assert drawn(spec).label("layer3")[:2] == ["layer3: Bottleneck x6", "[512, 28, 28] -> [1024, 14, 14]"]


# -- golden DOT -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_dot_matches_the_golden_file(spec: Path) -> None:
    assert_golden(GOLDEN / f"{spec.stem}.dot", dot_source(compile_spec(spec)))


def test_every_golden_file_has_a_shipped_spec() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.dot")) == [p.stem for p in SPECS]
