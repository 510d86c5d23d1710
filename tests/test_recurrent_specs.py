"""specs/lstm_classifier.yaml and specs/gru_timeseries.yaml against hand-written reference classes.

For each: the reference's state_dict loads into the built model with ``strict=True`` (same keys,
same order), eval-mode outputs agree within 1e-5, every node's static shape (every part of a
recurrent node: output, h_n and c_n batch-first) equals the reference's real tensor, and the
parameters, torchinfo's mult-adds and FlopCounterMode's FLOPs (torch's native CPU
implementation: oneDNN off, see docs/sequence-models.md) equal the static totals. The spec's
generated forward also scripts (TorchScript) and exports to ONNX with the same outputs.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.export import example_inputs, io_names, onnx_bytes, torchscript_bytes  # noqa: E402
from archspec.compiler.ir import CompiledSpec  # noqa: E402
from archspec.errors import SpecError  # noqa: E402

ROOT = Path(__file__).parent.parent


class LSTMClassifier(nn.Module):
    """Embedding -> bidirectional 2-layer LSTM -> Linear on the last layer's final hidden states."""

    def __init__(self, vocab_size: int = 10000, embed_dim: int = 128, hidden_size: int = 128, num_classes: int = 4):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=2, bidirectional=True, dropout=0.3, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(2 * hidden_size, num_classes)
        self.trace: dict[str, torch.Tensor] = {}

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(tokens)
        output, (h_n, c_n) = self.lstm(embedded)
        features = torch.cat([h_n[-2], h_n[-1]], dim=1)  # the last layer: forward, then backward
        logits = self.fc(self.dropout(features))
        self.trace = {
            "embedding": embedded,
            "lstm.0": output,
            "lstm.1": h_n.transpose(0, 1),
            "lstm.2": c_n.transpose(0, 1),
            "last_hidden": h_n[-2:].transpose(0, 1),
            "features": features,
            "dropout": features,
            "fc": logits,
        }
        return logits


class GRUForecaster(nn.Module):
    """A two-layer GRU over a window of steps; an MLP head on its last output step."""

    def __init__(self, features: int = 8, hidden_size: int = 64, horizon: int = 12):
        super().__init__()
        self.gru = nn.GRU(features, hidden_size, num_layers=2, dropout=0.1, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 32), nn.ReLU(), nn.Linear(32, horizon))
        self.trace: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, h_n = self.gru(x)
        last = output[:, -1]
        hidden = self.head[0](last)
        prediction = self.head[2](self.head[1](hidden))
        self.trace = {
            "gru.0": output,
            "gru.1": h_n.transpose(0, 1),
            "last_step": last,
            "head.0": hidden,
            "head.1": self.head[1](hidden),
            "head.2": prediction,
            "head": prediction,
        }
        return prediction


REFERENCES: dict[str, Callable[..., nn.Module]] = {
    "lstm_classifier": LSTMClassifier,
    "gru_timeseries": GRUForecaster,
}
OVERRIDES: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    # a second configuration: the reference's arguments, and the spec's parameters that match them
    "lstm_classifier": ({"embed_dim": 32, "hidden_size": 48, "num_classes": 7},) * 2,
    "gru_timeseries": (
        {"features": 3, "hidden_size": 16, "horizon": 5},
        {"features": 3, "hidden_size": 16, "horizon": 5, "window": 20},
    ),
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> Iterator[None]:
    yield


def native_flops(model: nn.Module, inputs: tuple[Any, ...]) -> int:
    """FlopCounterMode's count on torch's native CPU recurrent implementation (oneDNN off)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
            model(*inputs)
    return counter.get_total_flops()


def built_pair(name: str, configuration: int) -> tuple[CompiledSpec, nn.Module, nn.Module]:
    reference_args, spec_args = OVERRIDES[name] if configuration else ({}, {})
    torch.manual_seed(configuration)
    reference = REFERENCES[name](**reference_args)
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml", **spec_args)
    model = archspec.build(ROOT / "specs" / f"{name}.yaml", **spec_args)
    return compiled, reference, model


@pytest.mark.parametrize("configuration", [0, 1])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_spec_equals_its_reference(name: str, configuration: int) -> None:
    compiled, reference, model = built_pair(name, configuration)
    model.load_state_dict(reference.state_dict(), strict=True)
    assert list(model.state_dict()) == list(reference.state_dict())
    inputs = example_inputs(compiled, batch=3, seed=configuration)
    with torch.no_grad():
        expected = reference.eval()(*inputs)
        torch.testing.assert_close(model.eval()(*inputs), expected, rtol=0, atol=1e-5)

    values = {path: tuple(t.shape[1:]) for path, t in reference.trace.items()}
    assert set(values) == set(compiled.values) - {"input"}, "a node whose shape nothing checks"
    for path, shape in values.items():
        assert compiled.values[path] == shape, f"{name}: {path}: static {compiled.values[path]}, real {shape}"
    assert compiled.params_total == sum(p.numel() for p in reference.parameters())
    assert compiled.flops == native_flops(reference, (inputs[0][:1],)) > 0
    assert compiled.flops == native_flops(model, (inputs[0][:1],))
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(reference, input_data=[inputs[0][:1]], verbose=0, device="cpu")
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_spec_trains_like_its_reference(name: str) -> None:
    """Dropout between the recurrent layers and before the head: the same seed drops the same
    units in training mode, so one step gives the same loss and gradients."""
    compiled, reference, model = built_pair(name, 0)
    model.load_state_dict(reference.state_dict(), strict=True)
    inputs = example_inputs(compiled, batch=4, seed=5)
    grads = []
    for net in (reference, model):
        torch.manual_seed(3)
        loss = net.train()(*inputs).square().mean()
        loss.backward()
        grads.append({k: p.grad for k, p in net.named_parameters()})
    for key, grad in grads[0].items():
        torch.testing.assert_close(grads[1][key], grad, rtol=1e-4, atol=1e-6, msg=key)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_spec_scripts_and_traces(name: str) -> None:
    """TorchScript (scripted, not traced) and torch.fx compute what the model does."""
    compiled, _, model = built_pair(name, 0)
    model.eval()
    inputs = example_inputs(compiled, batch=2, seed=1)
    with torch.no_grad():
        expected = model(*inputs)
        data, how = torchscript_bytes(model, inputs)
        assert how == "scripted"
        torch.testing.assert_close(torch.jit.load(io.BytesIO(data))(*inputs), expected)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(*inputs), expected)


SMALL = {"lstm_classifier": {"seq_len": 12, "embed_dim": 8, "hidden_size": 16}, "gru_timeseries": {"window": 12}}
"""Smaller configurations for ONNX: torch's exporter takes ~30 s per recurrent model whatever its size."""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_spec_exports_to_onnx(name: str) -> None:
    """torch.export -> ONNX's LSTM and GRU operators: checked, and computing the same."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml", **SMALL[name])
    model = archspec.build(ROOT / "specs" / f"{name}.yaml", **SMALL[name]).eval()
    inputs = example_inputs(compiled, batch=2, seed=1)
    proto = onnx.load_from_string(onnx_bytes(model, inputs, **io_names(compiled)))
    onnx.checker.check_model(proto, full_check=True)
    assert {"LSTM", "GRU"} & {node.op_type for node in proto.graph.node}
    (actual,) = ReferenceEvaluator(proto).run(None, {"input": inputs[0].numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), model(*inputs), rtol=1e-4, atol=1e-5)


SEQ2SEQ = """
archspec: 1
name: seq2seq
inputs:
  source: {shape: [7, 5]}
  target: {shape: [4, 3]}
layers:
  - {id: encoder, type: LSTM, hidden_size: 6, num_layers: 2, bidirectional: true, inputs: [source]}
  - {id: decoder, type: LSTM, hidden_size: 6, num_layers: 2, bidirectional: true,
     inputs: {c_0: encoder.2, input: target, h_0: encoder.1}}
  - {id: gru, type: GRU, hidden_size: 6, num_layers: 2, bidirectional: true, inputs: [target, encoder.1]}
  - {id: sum, type: add, inputs: [decoder.0, gru.0]}
output: sum
"""


def test_final_states_start_another_layer() -> None:
    """h_0/c_0 by role, in id.1/id.2's batch-first layout: an encoder's final states start a decoder."""
    model = archspec.build(SEQ2SEQ).eval()
    source, target = torch.randn(2, 7, 5), torch.randn(2, 4, 3)
    with torch.no_grad():
        _, (h_n, c_n) = model.encoder(source)
        expected = model.decoder(target, (h_n, c_n))[0] + model.gru(target, h_n)[0]
        torch.testing.assert_close(model(source, target), expected, rtol=0, atol=0)
    compiled = archspec.load(SEQ2SEQ)
    assert compiled.node("decoder").inputs == ["target", "encoder.1", "encoder.2"]  # the canonical order


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("{input: target, h_0: encoder.1}", "an LSTM takes its initial states together"),
        ("{input: target, h_0: encoder.2, c_0: encoder.1}", "h_0 has shape [1, 5], but this layer's states are [1, 4]"),
        ("{h_0: encoder.1, c_0: encoder.2}", "needs its input 'input'"),
    ],
)
def test_bad_initial_states_are_spec_errors(inputs: str, message: str) -> None:
    text = f"""
archspec: 1
name: bad
inputs:
  source: {{shape: [7, 5]}}
  target: {{shape: [4, 3]}}
layers:
  - {{id: encoder, type: LSTM, hidden_size: 5, proj_size: 4, inputs: [source]}}
  - {{id: decoder, type: LSTM, hidden_size: 5, proj_size: 4, inputs: {inputs}}}
output: decoder.0
"""
    with pytest.raises(SpecError) as info:
        archspec.load(text)
    assert message in str(info.value)
    assert all(d.line == 9 for d in info.value.diagnostics)


def test_torch_compile_captures_one_graph_with_allow_rnn() -> None:
    """Dynamo refuses RNN modules unless ``torch._dynamo.config.allow_rnn`` is set (docs/sequence-models.md):
    with it, the whole forward is one graph; without it, torch says so (pinned, to keep the docs true)."""
    compiled = archspec.load(ROOT / "specs" / "gru_timeseries.yaml", **SMALL["gru_timeseries"])
    model = archspec.build(ROOT / "specs" / "gru_timeseries.yaml", **SMALL["gru_timeseries"]).eval()
    inputs = example_inputs(compiled)
    torch._dynamo.reset()
    with pytest.raises(Exception, match="Attempted to wrap RNN, GRU, or LSTM"):
        torch.compile(model, fullgraph=True, backend="eager")(*inputs)
    torch._dynamo.reset()
    with torch._dynamo.config.patch(allow_rnn=True), torch.no_grad():
        torch.testing.assert_close(torch.compile(model, fullgraph=True, backend="eager")(*inputs), model(*inputs))
    torch._dynamo.reset()


PROJECTED = """
archspec: 1
name: projected
input: {shape: [6, 8]}
layers:
  - {id: lstm, type: LSTM, hidden_size: 5, proj_size: 3}
output: lstm.0
"""


def test_onnx_export_of_an_lstm_projection_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ONNX's LSTM operator has no projection (see the pin below): one sentence naming the node, exit 2,
    no file; TorchScript and pt still export it."""
    from archspec.cli import main

    spec = tmp_path / "projected.yaml"
    spec.write_text(PROJECTED)
    assert main(["export", str(spec), "-o", str(tmp_path / "model.onnx")]) == 2
    err = capsys.readouterr().err
    assert "cannot export to ONNX: node 'lstm' (LSTM): torch's ONNX exporter writes ONNX's LSTM operator" in err
    assert "export --format pt or torchscript instead" in err and "Traceback" not in err
    assert not (tmp_path / "model.onnx").exists()
    assert main(["export", str(spec), "-o", str(tmp_path / "model.ts")]) == 0
    assert "torchscript (scripted)" in capsys.readouterr().out


@pytest.mark.slow
def test_torchs_onnx_lstm_drops_the_projection() -> None:
    """Pinned: torch's exporter writes an LSTM with proj_size as ONNX's LSTM operator, which cannot
    compute it. If a later torch exports it correctly, this fails and LSTM.export_limit can go."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    compiled = archspec.load(PROJECTED)
    model = archspec.build(compiled).eval()
    inputs = example_inputs(compiled, batch=2, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = onnx.load_from_string(onnx_bytes(model, inputs, **io_names(compiled)))
    assert "LSTM" in {node.op_type for node in proto.graph.node}
    with torch.no_grad():
        expected = model(*inputs)
    try:
        (actual,) = ReferenceEvaluator(proto).run(None, {"input": inputs[0].numpy()})
    except ValueError:  # numpy: the projected hidden state does not broadcast with the gates
        return
    assert not torch.allclose(torch.from_numpy(actual), expected, atol=1e-4)
