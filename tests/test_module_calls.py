"""Module calls beyond ``module(x)``: inputs named by role, calls with options, several outputs.

Two plug-in test layers stand for the real ones (attention, recurrent layers) so that the
mechanism is pinned on its own: ``TestAttend`` wraps ``nn.MultiheadAttention`` (inputs by role,
``self.attend(q, k, v, need_weights=False)[0]``), ``TestRecur`` wraps ``nn.GRU`` (two outputs, the
second read as ``result[1].transpose(0, 1)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import pytest

import archspec
from archspec.errors import SpecError
from archspec.layers.base import CALL_MODULE, Arg, Layer, LayerResult, Op, Shape
from archspec.layers.registry import register


class Attend(Layer):
    """Multi-head self- or cross-attention (a test layer)."""

    input_roles: ClassVar[tuple[str, ...]] = ("query", "key", "value", "key_padding_mask")
    max_inputs: ClassVar[int | None] = 4
    type: Literal["TestAttend"]
    num_heads: int = 1

    def infer(self, inputs: list[Shape]) -> LayerResult:
        length, dim = inputs[0]
        return LayerResult((length, dim), 4 * dim * dim + 4 * dim)

    torch_name: ClassVar[str | None] = "MultiheadAttention"

    def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
        return {"embed_dim": inputs[0][-1], "num_heads": self.num_heads, "batch_first": True}

    def forward_call(self, inputs: list[Shape]) -> Op:
        at = {role: Arg(index) for index, role in enumerate(self.roles)}
        key = at.get("key", at["query"])
        options: tuple[tuple[str, Any], ...] = (("need_weights", False),)
        if "key_padding_mask" in at:
            options = (("key_padding_mask", at["key_padding_mask"]), *options)
        call = Op(CALL_MODULE, (at["query"], key, at.get("value", key)), options)
        return Op("[]", (call, (0,)))


class Recur(Layer):
    """A one-layer GRU with its final state as a second output (a test layer)."""

    type: Literal["TestRecur"]
    hidden: int

    def infer(self, inputs: list[Shape]) -> LayerResult:
        length, features = inputs[0]
        params = 3 * self.hidden * (features + self.hidden + 2)
        return LayerResult((length, self.hidden), params, parts=((length, self.hidden), (1, self.hidden)))

    torch_name: ClassVar[str | None] = "GRU"

    def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
        return {"input_size": inputs[0][-1], "hidden_size": self.hidden, "batch_first": True}

    def part(self, index: int) -> Op | None:
        return Op("Tensor.transpose", (Op("[]", (Arg(0), (1,))), 0, 1)) if index == 1 else None


@pytest.fixture
def test_layers(scratch_registry: None) -> Iterator[None]:
    register(Attend)
    register(Recur)
    yield


HEADER = "archspec: 1\nname: t\ninput: {shape: [5, 8]}\n"
GRAPH = """
layers:
  - {id: self_attn, type: TestAttend, num_heads: 2, inputs: {query: input}}
  - {id: cross, type: TestAttend, num_heads: 2, inputs: {value: self_attn, query: input, key: self_attn}}
  - {id: gru, type: TestRecur, hidden: 6}
  - {id: last, type: Flatten, inputs: [gru.1]}
output: [cross, gru.0, last]
"""


def errors(text: str) -> list[tuple[str, str, int, int]]:
    with pytest.raises(SpecError) as info:
        archspec.load(text)
    return [(d.code, d.message, d.line, d.column) for d in info.value.diagnostics]


def test_inputs_by_role_are_put_in_the_layers_order(test_layers: None) -> None:
    compiled = archspec.load(HEADER + GRAPH)
    cross = compiled.node("cross")
    assert cross.inputs == ["input", "self_attn", "self_attn"]
    assert cross.layer.roles == ("query", "key", "value")
    assert compiled.node("self_attn").layer.roles == ("query",)
    assert [t.shape for t in compiled.outputs.values()] == [(5, 8), (5, 6), (6,)]


def test_a_list_gives_the_first_roles_in_order(test_layers: None) -> None:
    compiled = archspec.load(HEADER + "layers:\n  - {id: a, type: TestAttend, inputs: [input, input]}\n")
    assert compiled.node("a").layer.roles == ("query", "key")


def test_the_built_module_calls_with_roles_and_reads_parts(test_layers: None) -> None:
    import torch

    compiled = archspec.load(HEADER + GRAPH)
    model = archspec.build(compiled).eval()
    x = torch.randn(3, 5, 8)
    cross, sequence, last = model(x)
    attended = model.self_attn(x, x, x, need_weights=False)[0]
    assert torch.equal(cross, model.cross(x, attended, attended, need_weights=False)[0])
    output, state = model.gru(cross)
    assert torch.equal(sequence, output)
    assert torch.equal(last, state.transpose(0, 1).flatten(1))
    assert last.shape == (3, 6)


def test_generated_code_reads_like_hand_written_torch(test_layers: None) -> None:
    from archspec.backends.codegen import generate_source

    source = generate_source(archspec.load(HEADER + GRAPH))
    assert "self.self_attn(x, x, x, need_weights=False)[0]" in source
    assert "self.cross(x, self_attn, self_attn, need_weights=False)[0]" in source
    assert "gru[1].transpose(0, 1)" in source


def test_a_module_called_with_options_is_no_sequential_chain(test_layers: None) -> None:
    import torch

    compiled = archspec.load(HEADER + "layers:\n  - {type: TestAttend}\n  - {type: ReLU}\n")
    assert not compiled.root.is_chain
    model = archspec.build(compiled)
    assert not isinstance(model, torch.nn.Sequential)
    assert model(torch.randn(2, 5, 8)).shape == (2, 5, 8)


def test_unknown_role_names_the_key_and_suggests(test_layers: None) -> None:
    found = errors(HEADER + "layers:\n  - {type: TestAttend, inputs: {quary: input}}\n")
    assert [(code, line, column) for code, _, line, column in found] == [("bad-inputs", 5, 33)]
    assert "no input named 'quary'" in found[0][1]


def test_a_missing_required_role_is_an_error(test_layers: None) -> None:
    found = errors(HEADER + "layers:\n  - {type: TestAttend, inputs: {key: input}}\n")
    assert found[0][:2] == ("bad-inputs", "'TestAttend' needs its input 'query'")


def test_a_layer_without_roles_takes_a_list() -> None:
    found = errors(HEADER + "layers:\n  - {type: ReLU, inputs: {x: input}}\n")
    assert found[0][:2] == ("bad-inputs", "'ReLU' takes its inputs as a list, not by name")


def test_a_block_takes_its_inputs_by_name() -> None:
    block = (
        "blocks:\n  Gate:\n    inputs: [x, gate]\n    layers:\n"
        "      - {id: g, type: Sigmoid, inputs: [gate]}\n      - {id: out, type: mul, inputs: [x, g]}\n"
    )
    by_name = archspec.load(
        HEADER + block + "layers:\n  - {id: a, type: Tanh}\n  - {id: b, use: Gate, inputs: {gate: a, x: input}}\n"
    )
    assert by_name.node("b.g").sources == ["a"]
    assert by_name.node("b.out").sources == ["input", "b.g"]
    found = errors(HEADER + block + "layers:\n  - {use: Gate, inputs: {x: input, gates: input}}\n")
    assert found[0][0] == "bad-inputs" and "no input named 'gates'" in found[0][1]
    assert errors(HEADER + "layers:\n  - {layers: [{type: ReLU}], inputs: {x: input}}\n")[0][0] == "bad-inputs"


def test_diagram_edges_name_the_roles(test_layers: None) -> None:
    from archspec.backends.graphviz import dot_source

    dot = dot_source(archspec.load(HEADER + GRAPH))
    assert "label=key" in dot and "label=value" in dot and "label=query" in dot  # the shape is in the box
