"""Blocks with several inputs (``inputs: [x, skip]``): binding, inlining, shapes and errors."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError

HEADER = "archspec: 1\nname: t\ninput: {channels: 3, size: [8, 8]}\n"

GATE = """
blocks:
  Gate:
    inputs: [x, gate]
    params: {scale: 1}
    layers:
      - {id: g, type: Sigmoid, inputs: [gate]}
      - {id: out, type: mul, inputs: [x, g]}
      - {id: proj, type: Conv2d, out_channels: "${in_shapes[1][0] * scale}", kernel_size: 1}
"""


def load(body: str) -> archspec.CompiledSpec:
    return archspec.load(HEADER + GATE + body)


def errors(body: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        load(body)
    return [(d.code, d.message) for d in info.value.diagnostics]


def test_inputs_bind_by_position_and_the_first_is_the_default() -> None:
    compiled = load(
        "layers:\n"
        "  - {id: a, type: AvgPool2d, kernel_size: 8}\n"
        "  - {id: gated, use: Gate, scale: 2, inputs: [input, a]}\n"
    )
    assert compiled.node("gated.g").sources == ["a"]
    assert compiled.node("gated.out").sources == ["input", "gated.g"]
    assert compiled.node("gated.out").shape == (3, 8, 8)  # [3, 8, 8] * [3, 1, 1] broadcasts
    assert compiled.node("gated.proj").shape == (6, 8, 8)  # in_shapes[1] is a's shape
    gated = compiled.root.child("gated")
    assert (gated.inputs, gated.input_names) == (["input", "a"], ["x", "gate"])


def test_an_inlined_multi_input_block_reads_the_outer_names() -> None:
    compiled = load(
        "layers:\n"
        "  - {id: a, type: Conv2d, out_channels: 3, kernel_size: 1}\n"
        "  - {use: Gate, inline: true, inputs: [a, input]}\n"
    )
    assert [n.path for n in compiled.nodes] == ["a", "g", "out", "proj"]
    assert compiled.node("g").sources == ["input"]
    assert compiled.node("out").inputs == ["a", "g"]


def test_input_counts_are_checked_with_a_useful_message() -> None:
    assert errors("layers:\n  - {use: Gate}\n") == [
        ("bad-inputs", "block 'Gate' takes 2 inputs (x, gate), got 1"),
    ]
    plain = "blocks:\n  One:\n    layers: [{type: ReLU}]\n"
    with pytest.raises(SpecError) as info:
        archspec.load(HEADER + plain + "layers:\n  - {id: a, type: ReLU}\n  - {use: One, inputs: [a, input]}\n")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == "block 'One' takes 1 input, got 2"
    assert diagnostic.hint and "inputs: [x, skip]" in diagnostic.hint


def test_a_group_suggests_a_block_for_several_inputs() -> None:
    with pytest.raises(SpecError) as info:
        archspec.load(HEADER + "layers:\n  - {id: a, type: ReLU}\n  - {inputs: [a, input], layers: [{type: ReLU}]}\n")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == "a group takes exactly one input, got 2"
    assert diagnostic.hint and "define a block with 'inputs: [a, b]'" in diagnostic.hint


def test_a_node_cannot_shadow_an_input_name() -> None:
    spec = (
        HEADER + "blocks:\n  Two:\n    inputs: [x, skip]\n"
        "    layers: [{id: skip, type: ReLU}, {type: add, inputs: [x, skip]}]\n"
        "layers:\n  - {id: a, type: ReLU}\n  - {use: Two, inputs: [a, input]}\n"
    )
    with pytest.raises(SpecError) as info:
        archspec.load(spec)
    assert [d.code for d in info.value.diagnostics] == ["duplicate-id"]


@pytest.mark.parametrize("node", ["{id: m, use: Gate, inputs: [a, input]", "{type: add, inputs: [a, input]"])
def test_a_repeated_node_takes_one_input(node: str) -> None:
    assert errors(f"layers:\n  - {{id: a, type: ReLU}}\n  - {node}, repeat: 2}}\n") == [
        ("bad-inputs", "a repeated node takes one input (each copy feeds the next), got 2"),
    ]


def test_a_single_copy_of_a_multi_input_node_is_fine() -> None:
    compiled = load("layers:\n  - {id: a, type: ReLU}\n  - {type: add, inputs: [a, input], repeat: 1}\n")
    assert compiled.nodes[-1].sources == ["a", "input"]


def test_a_bad_input_name_is_reported_once_however_often_the_block_is_used() -> None:
    spec = (
        HEADER + "blocks:\n  Two:\n    inputs: [x, eval]\n    layers: [{type: add, inputs: [x, eval]}]\n"
        "layers:\n  - {id: a, type: ReLU}\n  - {use: Two, inputs: [a, input]}\n  - {use: Two, inputs: [a, input]}\n"
    )
    with pytest.raises(SpecError) as info:
        archspec.load(spec)
    assert [(d.code, d.line) for d in info.value.diagnostics] == [("bad-id", 6)]
