"""Transformer layers in whole specs, end to end (``tests/transformer/*.yaml``).

``text_encoder``: token and position embeddings into a pre-norm ``TransformerEncoder`` stack that
reads a padding mask given as a model input, mean-pooled into a linear head. ``seq2seq``:
``nn.Transformer`` over two embedded token inputs, a causal target mask held as a bool buffer
(``tgt_is_causal: true``), the source padding mask as an input for the encoder and the memory.

Each is built and run; its parameters and FLOPs (``FlopCounterMode``, eval, autograd on) equal the
static ones; the transformer node is torch's own module with torch's state_dict keys and gives
what a ``torch.nn`` module made by hand gives; it scripts, fx-traces, exports with a dynamic batch
(``torch.export``, ONNX) and compiles with ``fullgraph=True``; codegen writes both specs,
the stacks as torch constructs them (a layer, then ``num_layers`` copies).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.backends.export import example_inputs, io_names  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.compiler.pipeline import compile_spec  # noqa: E402
from archspec.errors import SpecError  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_codegen import import_file, ruff_clean  # noqa: E402

HERE = Path(__file__).parent / "transformer"
ENCODER, SEQ2SEQ = HERE / "text_encoder.yaml", HERE / "seq2seq.yaml"
SPECS = [ENCODER, SEQ2SEQ]


def built(path: Path) -> tuple[Any, Any]:
    compiled = compile_spec(path)
    torch.manual_seed(0)
    return compiled, archspec.build(compiled).eval()


def run(model: Any, inputs: tuple[Any, ...]) -> Any:
    with torch.no_grad():
        return model(*inputs)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_counts_and_shapes_equal_the_built_model(path: Path, one_thread: None) -> None:
    compiled, model = built(path)
    inputs = example_inputs(compiled, batch=3, seed=1)
    assert sum(p.numel() for p in model.parameters()) == compiled.params_total
    with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        out = model(*inputs)
    assert counter.get_total_flops() == 3 * compiled.flops
    assert tuple(out.shape) == (3, *compiled.output_shape)
    assert not out.isnan().any()


def test_the_stack_is_torchs_encoder_with_torchs_keys_and_outputs() -> None:
    compiled, model = built(ENCODER)
    stack = model.encoder
    assert isinstance(stack, nn.TransformerEncoder) and len(stack.layers) == 2
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    reference = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(32), enable_nested_tensor=False).eval()
    assert list(stack.state_dict()) == list(reference.state_dict())
    assert "layers.1.self_attn.in_proj_weight" in reference.state_dict() and "norm.bias" in reference.state_dict()
    reference.load_state_dict(stack.state_dict(), strict=True)
    x, padding = torch.randn(3, 16, 32), torch.zeros(3, 16, dtype=torch.bool)
    padding[:, 12:] = True
    torch.testing.assert_close(
        stack(x, src_key_padding_mask=padding), reference(x, src_key_padding_mask=padding), rtol=0, atol=0
    )
    assert compiled.node("encoder").layer.roles == ("src", "src_key_padding_mask")


def test_the_transformer_node_calls_with_its_masks_and_causal_flag() -> None:
    compiled, model = built(SEQ2SEQ)
    src, tgt, padding = example_inputs(compiled, batch=2, seed=5)
    memory = model.transformer.encoder(model.src_embed(src), src_key_padding_mask=padding)
    causal = torch.ones(7, 7, dtype=torch.bool).triu(1)
    decoded = model.transformer.decoder(
        model.tgt_embed(tgt), memory, tgt_mask=causal, memory_key_padding_mask=padding, tgt_is_causal=True
    )
    torch.testing.assert_close(model(src, tgt, padding), model.logits(decoded), rtol=0, atol=0)
    assert isinstance(model.transformer, nn.Transformer) and model.transformer.batch_first


# -- exports and codegen ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_torchscript_fx_and_torch_export(path: Path, tmp_path: Path) -> None:
    compiled, model = built(path)
    inputs = example_inputs(compiled, batch=3, seed=2)
    expected = run(model, inputs)
    out = tmp_path / "model.ts"
    assert main(["export", str(path), "-o", str(out), "--seed", "0"]) == 0
    scripted = torch.jit.load(str(out))
    torch.testing.assert_close(run(scripted, inputs), run(built(path)[1], inputs), rtol=1e-5, atol=1e-5)
    traced = torch.fx.symbolic_trace(model)
    torch.testing.assert_close(run(traced, inputs), expected, rtol=1e-5, atol=1e-5)
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, inputs, dynamic_shapes=tuple({0: batch} for _ in inputs))
    more = example_inputs(compiled, batch=5, seed=4)
    torch.testing.assert_close(run(program.module(), more), run(model, more), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "path", [ENCODER, pytest.param(SEQ2SEQ, marks=pytest.mark.slow)], ids=lambda p: p.stem
)  # an ONNX export of nn.Transformer takes a minute
def test_onnx_export_computes_the_same(path: Path, tmp_path: Path) -> None:
    """seq2seq exported with one encoder and one decoder layer (the exporter unrolls the layer loops: a
    second layer is the first one again, and doubles the export's time)."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    if path == SEQ2SEQ:
        text = path.read_text()
        one_layer = text.replace("num_encoder_layers: 2", "num_encoder_layers: 1")
        one_layer = one_layer.replace("num_decoder_layers: 2", "num_decoder_layers: 1")
        assert one_layer.count(": 1\n") == text.count(": 1\n") + 2
        path = tmp_path / path.name
        path.write_text(one_layer)
    compiled, model = built(path)
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), "-o", str(out), "--seed", "0"]) == 0
    proto = onnx.load(str(out))
    names = io_names(compiled)["input_names"]
    assert [i.name for i in proto.graph.input] == names
    inputs = example_inputs(compiled, batch=4, seed=2)
    (actual,) = ReferenceEvaluator(proto).run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})
    torch.testing.assert_close(torch.from_numpy(actual), run(model, inputs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_compiles_without_graph_breaks(path: Path, one_thread: None) -> None:
    compiled, model = built(path)
    inputs = example_inputs(compiled, batch=2, seed=3)
    with torch.no_grad():
        whole = torch.compile(model, fullgraph=True, backend="eager")
        torch.testing.assert_close(whole(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)


def test_codegen_writes_the_transformer(tmp_path: Path) -> None:
    compiled, model = built(SEQ2SEQ)
    source = generate_source(compiled, origin=SEQ2SEQ.name)
    assert "tgt_mask=self.causal," in source and "tgt_is_causal=True," in source and "batch_first=True," in source
    file = tmp_path / "seq2seq.py"
    file.write_text(source)
    ruff_clean(file)
    generated = import_file(file).Seq2seq().eval()
    generated.load_state_dict(model.state_dict(), strict=True)
    inputs = example_inputs(compiled, batch=3, seed=1)
    torch.testing.assert_close(run(generated, inputs), run(model, inputs), rtol=0, atol=0)


def test_codegen_writes_a_stack_as_torch_constructs_it(tmp_path: Path) -> None:
    compiled, model = built(ENCODER)
    source = generate_source(compiled, origin=ENCODER.name)
    assert "nn.TransformerEncoder(\n" in source and "nn.TransformerEncoderLayer(" in source
    file = tmp_path / "encoder.py"
    file.write_text(source)
    ruff_clean(file)
    generated = import_file(file).TextEncoder().eval()
    generated.load_state_dict(model.state_dict(), strict=True)
    inputs = example_inputs(compiled, batch=3, seed=1)
    torch.testing.assert_close(run(generated, inputs), run(model, inputs), rtol=0, atol=0)


# -- errors in specs --------------------------------------------------------------------------

HEADER = (
    "archspec: 1\nname: t\ninputs:\n  x: {shape: [6, 8]}\n  pad: {shape: [6], dtype: bool}\n"
    "  m: {shape: [6, 6], dtype: bool}\n"
)


def diagnostics(text: str) -> list[tuple[str, str, int]]:
    with pytest.raises(SpecError) as info:
        archspec.load(text)
    return [(d.code, d.message, d.line) for d in info.value.diagnostics]


def test_nhead_that_does_not_divide_points_at_nhead() -> None:
    found = diagnostics(HEADER + "layers:\n  - {type: TransformerEncoderLayer, nhead: 3, inputs: [x]}\n")
    assert found[0][0] == "shape" and "d_model (=8) must be divisible by nhead (=3)" in found[0][1]
    assert found[0][2] == 8


def test_a_batched_mask_needs_one_head() -> None:
    spec = "layers:\n  - {type: TransformerEncoderLayer, nhead: NH, inputs: {src: x, src_mask: m}}\n"
    found = diagnostics(HEADER + spec.replace("NH", "2"))
    assert "src_mask must be (6, 6)" in found[0][1] and "without a batch dim" in found[0][1]
    assert archspec.load(HEADER + spec.replace("NH", "1")).output_shape == (6, 8)


def test_masks_by_role_and_an_unknown_role() -> None:
    spec = (
        "layers:\n  - {type: TransformerEncoder, nhead: 2, num_layers: 1, "
        "inputs: {src: x, src_key_padding_mask: pad}}\n"
    )
    assert archspec.load(HEADER + spec).node("0").layer.roles == ("src", "src_key_padding_mask")
    found = diagnostics(HEADER + spec.replace("src_key_padding_mask", "src_mask"))
    assert "no input named 'src_mask'" in found[0][1]  # the stack's forward calls it 'mask', as torch's


def test_batch_first_false_is_refused() -> None:
    found = diagnostics(HEADER + "layers:\n  - {type: TransformerEncoderLayer, nhead: 2, batch_first: false}\n")
    assert "batch_first" in found[0][1] or "True" in found[0][1]
