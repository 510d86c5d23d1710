"""MultiheadAttention in specs: inputs by role, masks as model inputs and buffers, two outputs,
what the built module computes and counts, its errors, and its exports.

The layer's shape rule, parameters and FLOPs are property-tested against torch in
``test_attention_contract.py``; here the whole path runs: spec -> elaborated roles -> generated
``forward`` (``self.attn(q, k, v, ..., need_weights=False)[0]``) -> torch.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import archspec
from archspec.cli import main
from archspec.errors import SpecError

ROOT = Path(__file__).parent.parent

SPEC = """\
archspec: 1
name: attend
inputs:
  x: {shape: [5, 8]}
  memory: {shape: [7, 6]}
  padding: {shape: [7], dtype: bool}
  scores: {shape: [4, 5, 7]}
layers:
  - {id: causal, type: Buffer, shape: [5, 5], fill: triu, diagonal: 1, dtype: bool, persistent: false}
  - {id: self_attn, type: MultiheadAttention, num_heads: 2, inputs: {query: x, attn_mask: causal}, is_causal: true}
  - id: cross
    type: MultiheadAttention
    num_heads: 4
    kdim: 6
    vdim: 6
    need_weights: true
    average_attn_weights: false
    inputs: {query: self_attn, key: memory, value: memory, key_padding_mask: padding, attn_mask: scores}
  - {id: plain, type: MultiheadAttention, num_heads: 1, add_bias_kv: true, add_zero_attn: true, inputs: [cross.0]}
output: [plain, cross.1]
"""


def errors(text: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        archspec.load(text)
    return [(d.code, d.message) for d in info.value.diagnostics]


def test_roles_shapes_and_counts() -> None:
    compiled = archspec.load(SPEC)
    cross = compiled.node("cross")
    assert cross.inputs == ["self_attn", "memory", "memory", "padding", "scores"]
    assert cross.layer.roles == ("query", "key", "value", "key_padding_mask", "attn_mask")
    assert compiled.node("self_attn").layer.roles == ("query", "attn_mask")
    assert compiled.node("plain").layer.roles == ("query",)
    implicit = archspec.load(
        HEADER + "layers:\n  - {type: ReLU}\n  - {id: a, type: MultiheadAttention, num_heads: 2}\n"
    )
    assert implicit.node("a").layer.roles == ("query",) and implicit.node("a").inputs == ["0"]
    assert cross.result is not None and cross.result.parts == ((5, 8), (4, 5, 7))
    assert [t.shape for t in compiled.outputs.values()] == [(5, 8), (4, 5, 7)]
    # packed in_proj (3E x E + 3E), out_proj (E x E + E); separate q/k/v weights with kdim, vdim
    assert compiled.node("self_attn").result.params == 3 * 64 + 24 + 64 + 8  # type: ignore[union-attr]
    assert cross.result.params == 8 * (8 + 6 + 6) + 24 + 64 + 8
    assert compiled.node("plain").result.params == 3 * 64 + 24 + 64 + 8 + 2 * 8  # type: ignore[union-attr]


def test_the_built_model_calls_torchs_modules_by_role() -> None:
    torch = pytest.importorskip("torch")
    compiled = archspec.load(SPEC)
    model = archspec.build(compiled).eval()
    x, memory = torch.randn(3, 5, 8), torch.randn(3, 7, 6)
    padding = torch.zeros(3, 7, dtype=torch.bool)
    padding[:, 5:] = True
    scores = torch.randn(3, 4, 5, 7)
    with torch.no_grad():
        plain, weights = model(x, memory, padding, scores)
        causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
        attended = model.self_attn(x, x, x, need_weights=False, attn_mask=causal, is_causal=True)[0]
        out, expected_weights = model.cross(
            attended,
            memory,
            memory,
            key_padding_mask=padding,
            attn_mask=scores.flatten(0, 1),  # torch's (N * num_heads, L, S), batch-major
            average_attn_weights=False,
        )
        expected = model.plain(out, out, out, need_weights=False)[0]
    torch.testing.assert_close(plain, expected, rtol=0, atol=0)
    torch.testing.assert_close(weights, expected_weights, rtol=0, atol=0)
    assert weights[:, :, :, 5:].abs().max() == 0  # padded keys get no weight
    assert model.state_dict().keys() >= {"self_attn.in_proj_weight", "cross.q_proj_weight", "plain.bias_k"}
    assert "causal" not in model.state_dict()  # persistent: false


def test_flops_are_what_flop_counter_mode_counts_in_eval_with_autograd(one_thread: None) -> None:
    """The static count is FlopCounterMode's in eval mode with autograd on (tests/test_flops.py); in eval
    under no_grad torch's fused fast path hides the whole self-attention from it."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    compiled = archspec.load(SPEC)
    model = archspec.build(compiled).eval()
    inputs = (torch.randn(2, 5, 8), torch.randn(2, 7, 6), torch.zeros(2, 7, dtype=torch.bool), torch.randn(2, 4, 5, 7))

    def count(grad: bool) -> dict[str, int]:
        with warnings.catch_warnings(), FlopCounterMode(display=False) as counter, torch.set_grad_enabled(grad):
            warnings.simplefilter("ignore")
            model(*inputs)
        flops = counter.get_flop_counts()
        return {name: sum(flops.get(f"Attend.{name}", {}).values()) // 2 for name in ("self_attn", "cross", "plain")}

    static = {name: compiled.node(name).result.flops for name in ("self_attn", "cross", "plain")}  # type: ignore[union-attr]
    assert count(grad=True) == static
    # cross: projections 2*5*8*8 + 2*7*(6+6)*8 + 2*5*8*8, and with need_weights the two bmm 4*5*7*8
    assert static["cross"] == 2 * 5 * 64 * 2 + 2 * 7 * 12 * 8 + 4 * 5 * 7 * 8
    fast = count(grad=False)
    assert fast["self_attn"] == 0 and fast["cross"] == static["cross"]  # only self-attention takes the fast path


def test_dropout_in_training_makes_torch_count_the_attention_matmuls(one_thread: None) -> None:
    """With dropout on the weights, torch's CPU attention falls back to explicit matmuls, which
    FlopCounterMode counts: the training count exceeds the static (eval) count by 4 L S E."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    text = HEADER + "layers:\n  - {type: MultiheadAttention, num_heads: 2, dropout: 0.5}\n"
    compiled = archspec.load(text)
    model = archspec.build(compiled).train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 5, 8), torch.randn(1, 7, 8), torch.zeros(1, 7, dtype=torch.bool))
    assert counter.get_total_flops() == compiled.flops + 4 * 5 * 5 * 8


HEADER = "archspec: 1\nname: t\ninputs:\n  x: {shape: [5, 8]}\n  m: {shape: [7, 8]}\n  pad: {shape: [7], dtype: bool}\n"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("{type: MultiheadAttention, num_heads: 3}", "embed_dim (=8) must be divisible by num_heads (=3)"),
        ("{type: MultiheadAttention, num_heads: 2, inputs: {query: x, value: m}}", "a value needs its key"),
        ("{type: MultiheadAttention, num_heads: 2, is_causal: true}", "torch requires the mask with it"),
        ("{type: MultiheadAttention, num_heads: 2, inputs: {query: x, key: m, key_padding_mask: x}}", "(S,) = (7,)"),
        ("{type: MultiheadAttention, num_heads: 2, inputs: {query: x, key: m, attn_mask: pad}}", "(2, 5, 7)"),
        ("{type: MultiheadAttention, num_heads: 2, kdim: 4, inputs: [x, m]}", "the key has 8 features but kdim is 4"),
        (
            "{id: d, type: to, dtype: float64, inputs: [m]}\n"
            "  - {type: MultiheadAttention, num_heads: 2, inputs: [x, d]}",
            "must share one float dtype, but the key is float64",
        ),
        ("{type: MultiheadAttention, num_heads: 2, embed_dim: 16}", "embed_dim is 16 but the incoming tensor has 8"),
        ("{type: MultiheadAttention, num_heads: 2, inputs: {querry: x}}", "has no input named 'querry'"),
        ("{type: MultiheadAttention, num_heads: 2, batch_first: false}", "batch_first"),
    ],
)
def test_what_torch_refuses_is_a_diagnostic(layers: str, message: str) -> None:
    found = errors(HEADER + f"layers:\n  - {layers}\n")
    assert any(message in text for _, text in found), found


def test_the_weights_are_a_second_output() -> None:
    text = HEADER + "layers:\n  - {id: a, type: MultiheadAttention, num_heads: 2, need_weights: true}\n"
    text += "  - {type: ReLU, inputs: [a]}\n"
    assert any("a has 2 outputs" in message and "'a.0'" not in message for _, message in errors(text))
    fixed = text.replace("inputs: [a]", "inputs: [a.1]")
    assert archspec.load(fixed).output_shape == (5, 5)


def test_the_cli_points_at_the_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEADER + "layers:\n  - {type: MultiheadAttention, num_heads: 2, is_causal: true}\n")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(path))}:8:\d+: error\[shape\]", err) and "Traceback" not in err


FLOAT_MASKS = SPEC.replace("padding: {shape: [7], dtype: bool}", "padding: {shape: [7]}")
"""Both masks float: torch warns when a bool and a float mask meet (deprecated), and a warning
is a graph break for torch.compile(fullgraph=True)."""


def test_scripts_traces_and_compiles() -> None:
    """TorchScript (scripted: the weights are unwrapped from torch's Optional), fx and
    torch.compile(fullgraph=True) compute what the model computes."""
    torch = pytest.importorskip("torch")
    from archspec.backends.export import torchscript_bytes

    model = archspec.build(archspec.load(FLOAT_MASKS)).eval()
    padding = torch.zeros(2, 7).masked_fill(torch.rand(2, 7) > 0.7, float("-inf"))
    padding[:, 0] = 0.0  # every query sees a key
    inputs = (torch.randn(2, 5, 8), torch.randn(2, 7, 6), padding, torch.randn(2, 4, 5, 7))
    with torch.no_grad():
        expected = model(*inputs)
        data, how = torchscript_bytes(model, inputs)
        assert how == "scripted"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outputs: list[Any] = [torch.jit.load(io.BytesIO(data))(*inputs), torch.fx.symbolic_trace(model)(*inputs)]
        torch._dynamo.reset()
        outputs.append(torch.compile(model, fullgraph=True, backend="eager")(*inputs))
    for output in outputs:
        for actual, wanted in zip(output, expected, strict=True):
            torch.testing.assert_close(actual, wanted, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_exports_to_onnx() -> None:
    """Through torch.export into ONNX: checked, and computing the same (masks included)."""
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from archspec.backends.export import onnx_bytes

    model = archspec.build(archspec.load(FLOAT_MASKS)).eval()
    padding = torch.zeros(2, 7).masked_fill(torch.rand(2, 7) > 0.7, float("-inf"))
    padding[:, 0] = 0.0
    inputs = (torch.randn(2, 5, 8), torch.randn(2, 7, 6), padding, torch.randn(2, 4, 5, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = onnx.load_from_string(onnx_bytes(model, inputs))
    onnx.checker.check_model(proto, full_check=True)
    feeds = {i.name: t.numpy() for i, t in zip(proto.graph.input, inputs, strict=True)}
    with torch.no_grad():
        expected = model(*inputs)
    for actual, wanted in zip(ReferenceEvaluator(proto).run(None, feeds), expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(actual), wanted, rtol=1e-4, atol=1e-5)


def sequence_examples() -> list[str]:
    """The complete specs in the attention section of docs/sequence-models.md."""
    text = (ROOT / "docs" / "sequence-models.md").read_text()
    section = text.split("## Attention and ViT", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return [b for b in blocks if b.startswith("archspec: 1")]


def test_the_docs_examples_compile() -> None:
    examples = sequence_examples()
    assert len(examples) >= 4
    for example in examples:
        assert archspec.load(example).ok


@pytest.mark.slow
def test_an_attention_onnx_cannot_write_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """torch's ONNX exporter writes scaled_dot_product_attention for 4-d tensors only (docs/tensor-ops.md):
    a (L, E) attention per sample scripts and exports to TorchScript, and the ONNX export is one
    sentence, exit 2, no traceback, no file."""
    pytest.importorskip("onnxscript")
    spec = tmp_path / "flat_attention.yaml"
    spec.write_text(
        "archspec: 1\nname: flat_attention\ninput: {shape: [6, 8]}\n"
        "layers:\n  - {type: scaled_dot_product_attention, inputs: [input, input, input]}\n"
    )
    assert main(["export", str(spec), "-o", str(tmp_path / "model.ts")]) == 0
    capsys.readouterr()
    assert main(["export", str(spec), "-o", str(tmp_path / "model.onnx")]) == 2
    err = capsys.readouterr().err
    assert "error[export]: torch's ONNX exporter failed:" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3 and not (tmp_path / "model.onnx").exists()
