"""``archspec export`` (pt, TorchScript, ONNX) and ``archspec.load_model``."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.errors import ReadError, UsageError  # noqa: E402

ROOT = Path(__file__).parent.parent
LENET = str(ROOT / "specs" / "lenet5.yaml")
MNIST = str(ROOT / "specs" / "mnist_cnn.yaml")
RESNET = str(ROOT / "specs" / "resnet18.yaml")
UNET = str(ROOT / "specs" / "unet.yaml")


def x_for(spec: str, n: int = 3, **overrides: int) -> torch.Tensor:
    compiled = archspec.load(spec, **overrides)
    return torch.randn(n, *compiled.input_shape, generator=torch.Generator().manual_seed(0))


def test_pt_export_rebuilds_from_the_file_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "resnet.pt"
    assert main(["export", RESNET, "-o", str(out), "--set", "num_classes=10", "--seed", "3"]) == 0
    assert "wrote" in capsys.readouterr().out
    payload = torch.load(out, weights_only=True)
    assert payload["format"] == "archspec-model" and payload["version"] == 1
    assert payload["spec"]["params"]["num_classes"] == 10
    assert payload["spec"]["text"] == Path(RESNET).read_text()
    assert type(payload["state_dict"]) is dict
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())

    model = archspec.load_model(out).eval()
    torch.manual_seed(3)
    expected = archspec.build(RESNET, num_classes=10).eval()
    x = x_for(RESNET, 1)
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected(x), rtol=0, atol=0)
    assert model.fc.out_features == 10


def test_pt_export_keeps_trained_weights(tmp_path: Path) -> None:
    """--weights: a state dict (or checkpoint) becomes a self-contained export."""
    model = archspec.build(LENET)
    for p in model.parameters():
        p.data.fill_(0.01)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "lenet.pt"
    assert main(["export", LENET, "-o", str(out), "--weights", str(weights)]) == 0
    loaded = archspec.load_model(out)
    assert all(torch.all(p == 0.01) for p in loaded.parameters())


def test_torchscript_export_loads_without_archspec(tmp_path: Path) -> None:
    out = tmp_path / "model.ts"
    assert main(["export", MNIST, "-o", str(out), "--set", "num_classes=10"]) == 0  # format from the suffix
    x = x_for(MNIST, 2)
    torch.save(x, tmp_path / "x.pt")
    probe = (
        "import sys, warnings; sys.modules['archspec'] = None\n"  # any import of archspec would fail
        "warnings.simplefilter('ignore')\n"
        "import torch\n"
        f"m = torch.jit.load({str(out)!r})\n"
        f"y = m(torch.load({str(tmp_path / 'x.pt')!r}))\n"
        f"torch.save(y, {str(tmp_path / 'y.pt')!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    y = torch.load(tmp_path / "y.pt")
    assert y.shape == (2, 10)


@pytest.mark.parametrize("spec", [MNIST, UNET], ids=["mnist_cnn", "unet (two-input blocks)"])
def test_torchscript_export_matches_the_model(spec: str, tmp_path: Path) -> None:
    from archspec.backends.export import torchscript_bytes

    torch.manual_seed(0)
    model = archspec.build(spec).eval()
    data, how = torchscript_bytes(model, x_for(spec, 2))
    assert how == "scripted"
    (tmp_path / "m.ts").write_bytes(data)
    with pytest.warns(FutureWarning):  # TorchScript is deprecated in torch 2.10+, still supported
        loaded = torch.jit.load(tmp_path / "m.ts")
    x = x_for(spec, 4)
    torch.testing.assert_close(loaded(x), model(x))


def test_onnx_export_passes_the_checker_and_computes_the_same(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    out = tmp_path / "lenet.onnx"
    assert main(["export", LENET, "-o", str(out), "--format", "onnx", "--seed", "0"]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    torch.manual_seed(0)
    model = archspec.build(LENET).eval()
    x = x_for(LENET, 5)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), model(x), rtol=1e-4, atol=1e-5)


DROP_PATH = """
archspec: 1
name: drop_path
input: {channels: 4, size: [6, 6]}
blocks:
  Res:
    params: {p: 0.5}
    layers:
      - {id: conv, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
      - {id: stochastic_depth, type: StochasticDepth, p: "${p}", mode: row}
      - {id: add, type: add, inputs: [stochastic_depth, input]}
layers:
  - {id: res, use: Res, repeat: 2}
  - {id: whole_batch, type: StochasticDepth, p: 1, mode: batch}
"""


def test_stochastic_depth_survives_every_export(tmp_path: Path) -> None:
    """torchvision.ops.StochasticDepth: scripted (p: float, even where the spec wrote 1), traced by fx,
    compiled in one graph, exported to ONNX; in training the scripted model drops what the model drops."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from archspec.backends.export import onnx_bytes, torchscript_bytes

    torch.manual_seed(0)
    model = archspec.build(DROP_PATH).eval()
    x = x_for(DROP_PATH, 4)
    data, how = torchscript_bytes(model, x)
    assert how == "scripted"
    (tmp_path / "m.ts").write_bytes(data)
    with pytest.warns(FutureWarning):
        scripted = torch.jit.load(tmp_path / "m.ts")
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(scripted(x), expected)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), expected)
        torch._dynamo.reset()
        torch.testing.assert_close(torch.compile(model, fullgraph=True, backend="eager")(x), expected)
        outputs = []
        for net in (model.res, scripted.res):  # the residual blocks, in training mode: rows dropped at random
            torch.manual_seed(1)
            outputs.append(net.train()(x))
        torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)
        assert not torch.equal(outputs[0], model.res.eval()(x))  # some branch was dropped or rescaled
        model.train()
        assert torch.count_nonzero(model(x)) == 0  # p=1 in batch mode drops everything
        model.eval()
    proto = onnx.load_from_string(onnx_bytes(model, x))
    onnx.checker.check_model(proto, full_check=True)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(actual), expected, rtol=1e-4, atol=1e-5)


def test_load_model_rejects_other_files(tmp_path: Path) -> None:
    state = tmp_path / "state.pt"
    torch.save(archspec.build(LENET).state_dict(), state)
    with pytest.raises(UsageError, match="plain state dict"):
        archspec.load_model(state)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(UsageError, match="corrupt"):
        archspec.load_model(garbage)
    with pytest.raises(ReadError):
        archspec.load_model(tmp_path / "missing.pt")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_load_model_reads_trainer_style_checkpoints(tmp_path: Path) -> None:
    model = archspec.build(LENET, num_classes=4)
    text = Path(LENET).read_text()
    payload = {
        "format": "archspec-checkpoint",
        "version": 1,
        "spec": {"name": "lenet5", "file": LENET, "text": text, "sha256": sha256(text), "params": {"num_classes": 4}},
        "model": model.state_dict(),
    }
    torch.save(payload, tmp_path / "best.pt")
    loaded = archspec.load_model(tmp_path / "best.pt")
    assert loaded.classifier[2].out_features == 4


def test_export_errors_exit_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    invalid = str(ROOT / "tests" / "invalid" / "add_mismatch.yaml")
    assert main(["export", invalid, "-o", str(tmp_path / "x.pt")]) == 1
    assert main(["export", LENET, "-o", str(tmp_path / "x.pt"), "--set", "nope=1"]) == 2
    assert main(["export", LENET, "-o", str(tmp_path)]) == 2  # a directory
    assert main(["export", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.pt")]) == 2
    assert main(["export", LENET, "-o", str(tmp_path / "x.pt"), "--max-param-bytes", "100KB"]) == 2
    assert main(["export", LENET, "-o", str(tmp_path / "x.pt"), "--max-param-bytes", "lots"]) == 2
    wrong = tmp_path / "wrong.pt"
    torch.save(archspec.build(LENET, num_classes=3).state_dict(), wrong)
    assert main(["export", LENET, "-o", str(tmp_path / "x.pt"), "--weights", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "more than the limit of 97.7 KiB" in err and "'classifier.0'" in err
    assert "do not fit the spec's model" in err
    assert not (tmp_path / "x.pt").exists()


def test_export_cli_runs_in_a_subprocess(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "export", LENET, "-o", str(tmp_path / "m.pt"), "--max-param-bytes", "1KB"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "error[too-large]" in result.stderr and "Traceback" not in result.stderr


def _small_model(spec: str, **overrides: object) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = archspec.build(ROOT / "specs" / f"{spec}.yaml", num_classes=10, **overrides).eval()
    return model, torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


FEWER_BLOCKS = {"shufflenet_v2_x1_0": {"stages_repeats": [2, 1, 1]}, "convnext_tiny": {"depths": [1, 1, 1, 1]}}
"""Every node type of the full model (checked), in fewer blocks: scripting's time grows with the graph."""


@pytest.mark.parametrize("spec", ["shufflenet_v2_x1_0", "convnext_tiny"])
def test_tensor_op_specs_script_and_trace(spec: str) -> None:
    """Chunks, transposes, permutes, a mean over dims and a learned layer scale: the exported TorchScript
    is scripted (not traced), and it and fx's trace compute what the model computes (on a small input)."""
    path = ROOT / "specs" / f"{spec}.yaml"
    fewer = FEWER_BLOCKS[spec]
    assert {n.type for n in archspec.load(path, **fewer).nodes} == {n.type for n in archspec.load(path).nodes}
    assert_scripts_and_traces(*_small_model(spec, **fewer))


def assert_scripts_and_traces(model: torch.nn.Module, x: torch.Tensor) -> None:
    """The exported TorchScript is scripted (not traced); it and fx's trace compute what the model does."""
    from archspec.backends.export import torchscript_bytes

    data, how = torchscript_bytes(model, x)
    assert how == "scripted"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(io.BytesIO(data))
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(scripted(x), expected)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), expected)


@pytest.mark.slow
def test_shufflenet_exports_to_onnx() -> None:
    """ChannelShuffle, chunk and mean through torch.export into ONNX (which has no channel_shuffle operator:
    the exporter decomposes it into Reshape/Transpose): checked, and computing the same. One block per
    stage but two in the first (a stride-2 block and a stride-1 one with its chunk): the exporter's time
    grows with the graph, and the other twelve blocks repeat these two."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from archspec.backends.export import onnx_bytes

    repeats = [2, 1, 1]
    compiled = archspec.load(ROOT / "specs" / "shufflenet_v2_x1_0.yaml", stages_repeats=repeats)
    assert {node.type for node in compiled.nodes} >= {"ChannelShuffle", "chunk", "mean"}
    model, x = _small_model("shufflenet_v2_x1_0", stages_repeats=repeats)
    proto = onnx.load_from_string(onnx_bytes(model, x))
    onnx.checker.check_model(proto, full_check=True)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), model(x), rtol=1e-4, atol=1e-5)
