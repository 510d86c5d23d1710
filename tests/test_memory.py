"""``summary --memory`` against torch: saved activations on every shipped spec, optimizer state, outputs.

The truth for saved activations is ``tests/saved_tensors.py``: the storages that
``torch.autograd.graph.saved_tensors_hooks`` sees in one train-mode forward of the built model on
CPU, each counted once, parameters and buffers apart. archspec's figure must agree within 1% (it
agrees to the byte on every shipped spec; ``bench/memory.py`` prints the table).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from saved_tensors import live_peak, measure  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.memory import OPTIMIZERS  # noqa: E402

ROOT = Path(__file__).parent.parent
SPECS = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))
REDUCED: dict[str, dict[str, Any]] = {
    "vit_b_16": {"image_size": 64, "hidden_dim": 96, "num_layers": 2, "mlp_dim": 192},
    "swin_t": {"image_size": [64, 64], "depths": [1, 1, 2, 1], "embed_dim": 48},
    "convnext_tiny": {"depths": [1, 1, 1, 1], "dims": [24, 48, 96, 192]},
    "vgg16": {"stages": [[8, 1], [16, 1], [16, 1], [32, 1], [32, 1]]},
    "efficientnet_b0": {
        "stages": [
            [1, 3, 1, 16, 1],
            [6, 3, 2, 24, 1],
            [6, 5, 2, 40, 1],
            [6, 3, 2, 80, 1],
            [6, 5, 1, 112, 1],
            [6, 5, 2, 192, 1],
            [6, 3, 1, 320, 1],
        ],
    },
}
"""Smaller variants of the big specs (their own params) for the fast suite; full size runs as ``slow``."""
SLOW = {*REDUCED, "conv_variants"}

pytestmark = pytest.mark.usefixtures("module_one_thread")


def inputs(compiled: archspec.CompiledSpec, batch: int) -> list[Any]:
    tensors = []
    for t in compiled.inputs.values():
        if t.kind == "float":
            tensors.append(torch.randn(batch, *t.shape))
        else:
            tensors.append(torch.randint(t.low or 0, t.high or 2, (batch, *t.shape), dtype=getattr(torch, t.dtype)))
    return tensors


def agreement(name: str, overrides: dict[str, Any], *, batch: int = 2, amp: bool = False) -> tuple[int, int]:
    """(archspec's saved bytes, torch's) for one spec."""
    torch.manual_seed(0)
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml", **overrides)
    report = archspec.memory(compiled, batch_size=batch, device="cpu", amp=amp, dtype="bf16" if amp else "fp32")
    model = archspec.build(compiled, max_param_bytes=None)
    measured = measure(model, *inputs(compiled, batch), autocast=torch.bfloat16 if amp else None)
    return report.saved, measured.activations


def assert_within_one_percent(name: str, static: int, measured: int) -> None:
    error = abs(static - measured) / measured
    assert error <= 0.01, f"{name}: archspec {static:,} bytes, torch {measured:,} ({error:.2%})"


@pytest.mark.parametrize("name", SPECS)
def test_saved_activations_match_torch(name: str) -> None:
    static, measured = agreement(name, REDUCED.get(name, {}))
    assert_within_one_percent(name, static, measured)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_saved_activations_match_torch_full_size(name: str) -> None:
    static, measured = agreement(name, {})
    assert_within_one_percent(name, static, measured)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", ["lenet5", "gpt_decoder", "gru_timeseries", "lstm_classifier"])
def test_other_batch_sizes(name: str, batch: int) -> None:
    """oneDNN's LSTM workspace is page-aligned, so its bytes are not linear in the batch."""
    static, measured = agreement(name, {}, batch=batch)
    assert_within_one_percent(name, static, measured)


@pytest.mark.parametrize("name", ["lenet5", "mnist_cnn", "resnet18", "gpt_decoder", "mobilenet_v3_small"])
def test_autocast_copies_match_torch(name: str) -> None:
    """Under bf16 autocast the convolutions and matrix products keep bf16 copies of inputs and weights."""
    static, measured = agreement(name, {}, amp=True)
    assert_within_one_percent(name, static, measured)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_optimizer_state_matches_torch(optimizer: str) -> None:
    """The state tensors a real optimizer step creates (``optimizer.state``; 0-d step counters left out)."""
    name, _, variant = optimizer.partition("-")
    classes = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam",
               "radam": "RAdam", "adagrad": "Adagrad", "adadelta": "Adadelta", "rmsprop": "RMSprop"}  # fmt: skip
    options = {"momentum": {"momentum": 0.9}, "amsgrad": {"amsgrad": True}}.get(variant, {})
    if variant == "momentum" and name == "rmsprop":
        options = {"momentum": 0.9}
    compiled = archspec.load(ROOT / "specs" / "mnist_cnn.yaml")
    model = archspec.build(compiled)
    step = getattr(torch.optim, classes[name])(model.parameters(), lr=0.01, **options)
    model(torch.randn(4, 1, 28, 28)).sum().backward()
    step.step()
    state = sum(
        t.numel() * t.element_size() for s in step.state.values() for t in s.values() if torch.is_tensor(t) and t.dim()
    )
    report = archspec.memory(compiled, optimizer=optimizer)
    assert report.optimizer_state == state
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
    assert report.grads == grads
    assert report.params == sum(p.numel() * p.element_size() for p in model.parameters())


def test_bf16_halves_parameters_and_amp_keeps_them_float32() -> None:
    compiled = archspec.load(ROOT / "specs" / "resnet18.yaml")
    fp32 = archspec.memory(compiled, batch_size=8)
    bf16 = archspec.memory(compiled, batch_size=8, dtype="bf16")
    amp = archspec.memory(compiled, batch_size=8, dtype="bf16", amp=True)
    assert bf16.params * 2 == fp32.params == amp.params
    assert bf16.saved < amp.saved < fp32.saved  # autocast keeps bf16 copies, and float32 norms on CUDA
    assert bf16.grads * 2 == fp32.grads == amp.grads and bf16.optimizer_state * 2 == fp32.optimizer_state


@pytest.mark.parametrize("name", ["lenet5", "mnist_cnn", "resnet18", "gpt_decoder", "gru_timeseries"])
def test_bf16_model_matches_torch(name: str) -> None:
    """``model.to(torch.bfloat16)``: activations, masks and statistics in bf16, indices still int64."""
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml")
    report = archspec.memory(compiled, batch_size=2, dtype="bf16", device="cpu")
    model = archspec.build(compiled).to(torch.bfloat16)
    tensors = [x.to(torch.bfloat16) if x.is_floating_point() else x for x in inputs(compiled, 2)]
    assert_within_one_percent(name, report.saved, measure(model, *tensors).activations)


def test_peaks_add_up() -> None:
    report = archspec.memory(ROOT / "specs" / "resnet18.yaml", batch_size=4)
    totals = report.totals()
    assert totals["train_peak"] == sum(
        totals[k] for k in ("params", "grads", "optimizer_state", "saved_activations", "backward_transient")
    )
    assert totals["inference_peak"] == totals["params"] + totals["inference_activations"]
    largest = max(n.output for n in report.nodes)
    assert largest <= report.inference_activations < sum(n.output for n in report.nodes)
    assert sum(n.saved for n in report.nodes) == report.saved


@pytest.mark.parametrize("name", ["lenet5", "mnist_cnn", "resnet18"])
def test_inference_peak_matches_live_storages(name: str) -> None:
    """The storages alive at once in a no_grad forward (``live_peak``), where no call allocates
    temporaries of its own: there the figure is exact. (Recurrent layers, attention and norms
    over the last dim allocate temporaries inside a call that archspec does not count.)"""
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml")
    report = archspec.memory(compiled, batch_size=2, device="cpu")
    model = archspec.build(compiled)
    assert report.inference_activations == live_peak(model, *inputs(compiled, 2))


def test_inference_peak_counts_what_is_alive(tmp_path: Path) -> None:
    """A chain keeps two outputs alive at once (a layer's input and output); the input stays to the end."""
    spec = tmp_path / "chain.yaml"
    spec.write_text(
        "archspec: 1\nname: chain\ninput: {shape: [1000]}\nlayers:\n"
        "  - {type: Linear, out_features: 4000}\n  - {type: Linear, out_features: 2000}\n"
        "  - {type: Linear, out_features: 10}\n"
    )
    report = archspec.memory(spec, batch_size=1)
    assert report.inference_activations == 4 * (1000 + 4000 + 2000)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archspec", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_text_markdown_and_json() -> None:
    spec = str(ROOT / "specs" / "lenet5.yaml")
    text = run("summary", spec, "--memory", "--batch-size", "64", "--optimizer", "sgd-momentum")
    assert text.returncode == 0, text.stderr
    assert "saved for backward" in text.stdout and "training step peak" in text.stdout
    assert "features.0" in text.stdout and "optimizer sgd-momentum (1 state(s) per parameter)" in text.stdout
    markdown = run("summary", spec, "--memory", "--format", "markdown")
    assert markdown.stdout.startswith("| id | type | params |")
    data = json.loads(run("summary", spec, "--memory", "--batch-size", "64", "--format", "json").stdout)
    report = archspec.memory(spec, batch_size=64)
    assert data["saved_activations"] == report.saved and data["batch_size"] == 64
    assert data["train_peak"] == report.train_peak and len(data["nodes"]) == len(report.nodes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "--batch-size 0"),
        (["--batch-size", "x"], "--batch-size x"),
        (["--amp", "--dtype", "fp32"], "--amp with --dtype fp32"),
        (["--optimizer", "lion"], "invalid choice"),
    ],
)
def test_cli_refuses_bad_options(args: list[str], message: str) -> None:
    result = run("summary", str(ROOT / "specs" / "lenet5.yaml"), "--memory", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_invalid_spec_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "archspec: 1\nname: bad\ninput: {shape: [4]}\nlayers:\n  - {type: Conv2d, out_channels: 2, kernel_size: 3}\n"
    )
    result = run("summary", str(spec), "--memory")
    assert result.returncode == 1 and "bad.yaml" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "options",
    [{"batch_size": 0}, {"dtype": "int8"}, {"amp": True, "dtype": "fp32"}, {"optimizer": "lion"}, {"device": "tpu"}],
)
def test_api_refuses_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        archspec.memory(ROOT / "specs" / "lenet5.yaml", **options)
