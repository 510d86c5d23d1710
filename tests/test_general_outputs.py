"""Summaries, diagrams, docs, memory guards and ``validate`` for the general tensor model: several
named inputs and outputs, dtypes other than float32, nodes with several outputs, held tensors.

The specs are in ``tests/general``: ``ops`` (two inputs, one int64; a chunk read by part; a dict
output with int64 and bool entries), ``vitish`` (a class token and a position embedding, a bool
buffer) and ``pair`` (an image and a bool mask; held tensors inside a block; a tuple output).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from dot_parse import Dot, parse_dot

from archspec.backends.docs import Page, index_markdown, page_markdown
from archspec.backends.graphviz import INPUT_ID, OUTPUT_ID, dot_source
from archspec.backends.limits import activation_bytes, check_activation_memory
from archspec.backends.summary import summary_data, summary_markdown, summary_text
from archspec.backends.values import DTYPE_BYTES, node_text
from archspec.cli import main
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.pipeline import compile_spec
from archspec.errors import UsageError

GENERAL = Path(__file__).parent / "general"
OPS, VITISH, PAIR = (GENERAL / f"{name}.yaml" for name in ("ops", "vitish", "pair"))


def load(path: Path) -> CompiledSpec:
    return compile_spec(path)


def dot(path: Path) -> Dot:
    return parse_dot(dot_source(load(path)))


def edge_labels(graph: Dot, source: str, target: str) -> list[str]:
    return sorted(attrs.get("label", "") for s, t, attrs in graph.edges if (s, t) == (source, target))


# -- diagrams ---------------------------------------------------------------------------------


def test_each_named_input_is_its_own_box_with_its_dtype_and_range() -> None:
    graph = dot(OPS)
    assert INPUT_ID not in graph.nodes
    assert graph.label(f"{INPUT_ID}_x") == ["x", "[8, 6, 4]"]
    assert graph.label(f"{INPUT_ID}_tokens") == ["tokens", "[5] int64", "values in [0, 10)"]
    assert graph.nodes[f"{INPUT_ID}_tokens"]["shape"] == "invhouse"
    assert edge_labels(graph, f"{INPUT_ID}_x", "p") == [""]
    assert edge_labels(graph, f"{INPUT_ID}_tokens", "s") == [""]


def test_edges_from_the_parts_of_a_several_output_node_leave_that_node() -> None:
    graph = dot(OPS)
    assert graph.label("c")[-1] == "2 x [8, 12]"
    assert edge_labels(graph, "c", "ct") == ["[1]"]
    assert edge_labels(graph, "c", "m") == ["[0]"]
    assert edge_labels(graph, "c", "e") == ["[0]", "[1]"]
    assert edge_labels(graph, "ct", "m") == [""]  # the shape is in the box the edge leaves
    # every node that reads something has all its inputs drawn
    compiled = load(OPS)
    for node in compiled.nodes:
        assert len(graph.edges_into(node.path)) == len(node.sources), node.path


def test_a_dict_output_is_one_box_per_name() -> None:
    graph = dot(OPS)
    assert OUTPUT_ID not in graph.nodes
    assert graph.label(f"{OUTPUT_ID}_a") == ["a", "[8, 8]"]
    assert graph.label(f"{OUTPUT_ID}_b") == ["b", "[] int64"]
    assert graph.label(f"{OUTPUT_ID}_c") == ["c", "[8] bool"]
    assert edge_labels(graph, "m", f"{OUTPUT_ID}_a") == [""]
    assert edge_labels(graph, "s", f"{OUTPUT_ID}_b") == [""]
    assert edge_labels(graph, "cmp", f"{OUTPUT_ID}_c") == [""]
    title = graph.attrs["label"].split("\n")
    assert title[1] == "inputs x [8, 6, 4], tokens [5] int64 -> outputs a [8, 8], b [] int64, c [8] bool"


def test_a_tuple_output_is_numbered_and_block_parts_and_held_tensors_are_wired() -> None:
    graph = dot(PAIR)
    assert graph.label(f"{OUTPUT_ID}_0") == ["output 0", "[4]"]
    assert edge_labels(graph, "left.shifted", f"{OUTPUT_ID}_0") == [""]
    assert edge_labels(graph, "gated", f"{OUTPUT_ID}_1") == [""]
    assert edge_labels(graph, "halves", "left.scaled") == ["[0]"]  # a part, into a block
    assert edge_labels(graph, "halves", "right") == ["[1]"]
    assert edge_labels(graph, f"{INPUT_ID}_mask", "keep") == [""]


def test_held_tensors_are_cylinders_with_no_input_edge() -> None:
    graph = dot(VITISH)
    held = ["class_token", "encoder.pos_embedding", "encoder.mask"]
    for name in held:
        assert graph.nodes[name]["shape"] == "cylinder", name
        assert graph.edges_into(name) == [], name
    assert graph.nodes["class_token"]["fillcolor"] != graph.nodes["encoder.mask"]["fillcolor"]  # learned vs fixed
    assert graph.label("encoder.mask")[-1] == "[17, 17] bool"
    assert graph.nodes["encoder.ln"].get("shape") is None  # ordinary layers keep the default box
    assert edge_labels(graph, "class_token", "cls") == [""]
    # the single unnamed input and output keep their boxes
    assert graph.label(INPUT_ID) == ["input", "[3, 32, 32]"]
    assert edge_labels(graph, "head", OUTPUT_ID) == [""]


def test_a_partial_diagram_keeps_every_input_and_output_box() -> None:
    broken = OPS.read_text().replace("chunks: 2, dim: 1", "chunks: 2, dim: 5")
    compiled = compile_spec(broken, allow_errors=True)
    assert not compiled.ok
    graph = parse_dot(dot_source(compiled))
    assert graph.attrs["label"].split("\n")[1] == "inputs x [8, 6, 4], tokens [5] int64 -> outputs a ?, b [] int64, c ?"
    assert graph.label(f"{OUTPUT_ID}_a") == ["a", "?"]
    assert edge_labels(graph, "s", f"{OUTPUT_ID}_b") == [""]  # the branch that did not fail
    assert edge_labels(graph, "c", "ct") == ["?"]  # from the failing node


def test_the_diagram_command_writes_the_several_input_dot(tmp_path: Path) -> None:
    out = tmp_path / "ops.dot"
    assert main(["diagram", str(OPS), "-o", str(out)]) == 0
    graph = parse_dot(out.read_text())
    assert {f"{INPUT_ID}_x", f"{INPUT_ID}_tokens", f"{OUTPUT_ID}_a"} <= set(graph.nodes)


# -- summaries --------------------------------------------------------------------------------


def test_summary_text_names_inputs_and_outputs_and_shows_dtypes_and_parts() -> None:
    text = summary_text(load(OPS))
    lines = text.splitlines()
    assert lines[0] == "ops: inputs x [8, 6, 4], tokens [5] int64 -> outputs a [8, 8], b [] int64, c [8] bool"
    rows = {line.split()[0]: line for line in lines[4:14]}
    assert "2 x [8, 12]" in rows["c"]
    assert "[] int64" in rows["s"] and "[8] bool" in rows["cmp"]
    assert "int64" not in rows["m"] and "float32" not in text


def test_summary_json_has_inputs_outputs_dtypes_and_parts() -> None:
    data = json.loads(json.dumps(summary_data(load(OPS))))
    assert data["inputs"] == {
        "x": {"shape": [8, 6, 4], "dtype": "float32"},
        "tokens": {"shape": [5], "dtype": "int64", "range": [0, 10]},
    }
    assert data["outputs"] == {
        "a": {"shape": [8, 8], "dtype": "float32"},
        "b": {"shape": [], "dtype": "int64"},
        "c": {"shape": [8], "dtype": "bool"},
    }
    layers = {row["id"]: row for row in data["layers"]}
    assert layers["c"]["output_shapes"] == [[8, 12], [8, 12]]
    assert layers["m"]["output_shapes"] is None
    assert (layers["s"]["dtype"], layers["cmp"]["dtype"], layers["m"]["dtype"]) == ("int64", "bool", "float32")
    assert layers["s"]["activation_bytes"] == 8  # one int64
    assert layers["cmp"]["activation_bytes"] == 8  # eight bools
    assert layers["c"]["activation_bytes"] == 2 * 8 * 12 * 4  # both parts
    assert data["input_bytes"] == 8 * 6 * 4 * 4 + 5 * 8


def test_held_tensors_count_as_parameters_not_activations() -> None:
    compiled = load(VITISH)
    data = summary_data(compiled)
    layers = {row["id"]: row for row in data["layers"]}
    assert layers["class_token"]["params"] == 16 and layers["class_token"]["held"] is True
    assert layers["encoder.pos_embedding"]["params"] == 17 * 16
    for name in ("class_token", "encoder.pos_embedding", "encoder.mask"):
        assert layers[name]["activation_bytes"] == 0, name
    assert layers["head"]["held"] is False
    batched = sum(math.prod(n.shape or ()) * 4 for n in compiled.nodes if not n.layer.stored)
    assert data["activation_bytes"] == batched
    assert data["params"] == compiled.params_total == sum(row["params"] for row in data["layers"])


def test_summary_markdown_and_docs_pages_show_the_inputs_and_outputs(tmp_path: Path) -> None:
    compiled = load(OPS)
    markdown = summary_markdown(compiled)
    assert "- inputs x [8, 6, 4], tokens [5] int64 -> outputs a [8, 8], b [] int64, c [8] bool" in markdown
    assert "| `c` | chunk | `2 dim=1` | `2 x [8, 12]` |" in markdown
    page = Page("ops", OPS, compiled)
    text = page_markdown(page, tmp_path, diagram=False)
    assert "inputs `x [8, 6, 4], tokens [5] int64` → outputs `a [8, 8], b [] int64, c [8] bool`" in text
    index = index_markdown([page])
    assert "| `x [8, 6, 4], tokens [5] int64` | `a [8, 8], b [] int64, c [8] bool` |" in index
    single = page_markdown(Page("vitish", VITISH, load(VITISH)), tmp_path, diagram=False)
    assert "input `[3, 32, 32]` → output `[10]`" in single


def test_summary_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(PAIR), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["inputs"]) == ["image", "mask"] and data["inputs"]["mask"]["dtype"] == "bool"
    assert data["outputs"] == {"0": {"shape": [4], "dtype": "float32"}, "1": {"shape": [4], "dtype": "float32"}}


def test_node_text_lists_unequal_parts() -> None:
    compiled = compile_spec(
        "archspec: 1\nname: s\ninput: {shape: [16, 12]}\nlayers:\n"
        "  - {id: c, type: split, split_size_or_sections: [6, 10], dim: 1}\n"
        "  - {id: r, type: ReLU, inputs: [c.1]}\n"
    )
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    assert node_text(compiled, compiled.node("c")) == "[6, 12], [10, 12]"
    assert summary_data(compiled)["layers"][0]["output_shapes"] == [[6, 12], [10, 12]]


# -- memory guards ----------------------------------------------------------------------------


def test_activation_guard_counts_real_dtypes_and_skips_held_tensors() -> None:
    compiled = load(OPS)
    expected = 8 * 6 * 4 * 4 + 5 * 8  # inputs: float32 and int64
    for node in compiled.nodes:
        for index, shape in enumerate(node.result.parts or (node.shape,)):  # type: ignore[union-attr]
            value = compiled.types[f"{node.path}.{index}" if node.result.parts else node.path]  # type: ignore[union-attr]
            expected += math.prod(shape) * DTYPE_BYTES[value.dtype]
    assert activation_bytes(compiled) == expected
    assert activation_bytes(compiled, batch=3) == 3 * expected
    vitish = load(VITISH)
    held = sum(math.prod(n.shape or ()) * 4 for n in vitish.nodes if n.layer.stored)
    every = 3 * 32 * 32 * 4 + sum(math.prod(n.shape or ()) * 4 for n in vitish.nodes)
    assert activation_bytes(vitish) == every - held


def test_activation_guard_names_the_largest_of_several_inputs() -> None:
    text = OPS.read_text().replace("tokens: {shape: [5]", "tokens: {shape: [50000]")
    compiled = compile_spec(text)
    with pytest.raises(UsageError) as info:
        check_activation_memory(compiled, 100_000)
    message = info.value.diagnostics[0].message
    assert "the largest is the input 'tokens' [50000]" in message and "float32" not in message


# -- validate ---------------------------------------------------------------------------------


def test_validate_line_names_several_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(OPS), str(PAIR), str(VITISH)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("0 mult-adds, outputs a [8, 8], b [] int64, c [8] bool")
    assert out[1].endswith("mult-adds, outputs 0 [4], 1 [4]")
    assert ", output [10] (+0 mult-adds" in out[2]


def test_parts_and_several_outputs_are_not_reported_unused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(PAIR), str(OPS)]) == 0
    assert "never used" not in capsys.readouterr().err


# -- train ------------------------------------------------------------------------------------


TOKENS = """\
archspec: 1
name: tok
input: {shape: [6], dtype: int64}
layers:
  - {id: f, type: to, dtype: float32}
  - {id: head, type: Linear, out_features: 3}
"""

DICT_OUT = """\
archspec: 1
name: named
input: {channels: 1, size: [4, 4]}
layers:
  - {id: flat, type: Flatten}
  - {id: head, type: Linear, out_features: 3}
output: {logits: head}
"""


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        (TOKENS, "its int64 input declares no id range"),  # token ids train once their range is declared
        (None, "this spec takes 2 inputs"),
        (DICT_OUT, "it returns a dict of outputs"),
    ],
    ids=["tokens", "two-inputs", "dict-output"],
)
def test_train_refuses_what_it_cannot_train(
    spec: str | None, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = OPS
    if spec is not None:
        path = tmp_path / "spec.yaml"
        path.write_text(spec)
    code = main(["train", str(path), "--data", "fake", "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert "error[not-trainable]: archspec train supports classifiers of one image input" in err
    assert why in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
