"""The torch.nn layers beyond the classic CNN set, in a whole model and at torch's edges.

The registry contract test (``test_layer_contract.py``) checks each type alone against torch on
random arguments; here they run together in one spec, through codegen, TorchScript, fx,
torch.export and torch.compile, and torch's corner cases are pinned one by one.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from test_codegen import check_generated  # noqa: E402
from test_layer_contract import archspec_side, check_case  # noqa: E402
from test_torch_backend import _leaf_and_module_shapes  # noqa: E402
from torch import fx  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.compiler.ir import CompiledSpec  # noqa: E402
from archspec.layers.base import LayerResult  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

# (C, H, W) -> rearranged and back, through every new activation, then sliding blocks and tokens
SPEC = """
archspec: 1
name: nn_layers
input: {channels: 8, size: [8, 8]}
layers:
  - {id: unshuffle, type: PixelUnshuffle, downscale_factor: 2}
  - {id: shuffle, type: ChannelShuffle, groups: 4}
  - {id: lrn, type: LocalResponseNorm, size: 3}
  - {id: up, type: PixelShuffle, upscale_factor: 2}
  - {id: softmax, type: Softmax2d}
  - {id: hardtanh, type: Hardtanh, min_val: -2.0, max_val: 2.0}
  - {id: threshold, type: Threshold, threshold: 0.1, value: 0.0}
  - {id: softplus, type: Softplus, beta: 2}
  - {id: softsign, type: Softsign}
  - {id: celu, type: CELU, alpha: 0.5}
  - {id: selu, type: SELU}
  - {id: rrelu, type: RReLU, lower: 0.1, upper: 0.3}
  - {id: hardshrink, type: Hardshrink, lambd: 0.01}
  - {id: softshrink, type: Softshrink, lambd: 0.01}
  - {id: tanhshrink, type: Tanhshrink}
  - {id: logsigmoid, type: LogSigmoid}
  - {id: softmin, type: Softmin, dim: 1}
  - {id: unfold, type: Unfold, kernel_size: 2, stride: 2}
  - {id: rms, type: RMSNorm, normalized_shape: 16}
  - {id: glu, type: GLU, dim: 1}
  - {id: fold, type: Fold, output_size: [8, 8], kernel_size: 2, stride: 2}
"""


@pytest.fixture(scope="module")
def model() -> tuple[CompiledSpec, torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    compiled = archspec.load(SPEC)
    return compiled, archspec.build(compiled).eval(), torch.randn(2, *compiled.input_shape)


def test_static_shapes_params_and_macs_equal_the_built_model(model: Any) -> None:
    compiled, built, x = model
    runtime = _leaf_and_module_shapes(built, x)
    assert {node.path: node.shape for node in compiled.nodes} == runtime
    assert compiled.output_shape == (4, 8, 8)
    assert compiled.params_total == sum(p.numel() for p in built.parameters()) == 16  # RMSNorm's weight
    assert compiled.macs == 16  # torchinfo: each weight once per sample


def test_codegen_equals_the_built_model(tmp_path: Path) -> None:
    source = check_generated(SPEC, tmp_path, "nn_layers")
    assert "nn.Fold(output_size=(8, 8), kernel_size=2, stride=2)" in source


def test_fx_torchscript_export_and_compile(model: Any) -> None:
    _, built, x = model
    with torch.no_grad():
        expected = built(x)
        torch.testing.assert_close(fx.symbolic_trace(built)(x), expected)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.testing.assert_close(torch.jit.script(built)(x), expected)
        program = torch.export.export(built, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
        torch.testing.assert_close(program.module()(x[:1]), expected[:1])
        torch._dynamo.reset()
        compiled = torch.compile(built, fullgraph=True, backend="eager")
        torch.testing.assert_close(compiled(x), expected)


@pytest.mark.slow
def test_onnx_export_computes_the_same(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    spec = SPEC.replace("  - {id: rrelu, type: RReLU, lower: 0.1, upper: 0.3}\n", "")  # no ONNX translation
    path = tmp_path / "nn_layers.yaml"
    path.write_text(spec)
    out = tmp_path / "nn_layers.onnx"
    assert main(["export", str(path), "-o", str(out), "--format", "onnx", "--seed", "0"]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    torch.manual_seed(0)
    built = archspec.build(path).eval()
    x = torch.randn(3, 8, 8, 8)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), built(x), rtol=1e-4, atol=1e-5)


def test_summary_follows_the_receptive_field_through_pixel_shuffles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nn_layers.yaml"
    path.write_text(SPEC)
    assert main(["summary", str(path), "--format", "json"]) == 0
    layers = {layer["id"]: layer for layer in json.loads(capsys.readouterr().out)["layers"]}
    field = {name: layers[name]["receptive_field"] for name in ("unshuffle", "up", "unfold")}
    assert field["unshuffle"] == {"size": [2, 2], "jump": [2, 2], "global": False}  # 2x2 pixels per position
    assert field["up"] == {"size": [2, 2], "jump": [1, 1], "global": False}  # back to the input's grid
    assert field["unfold"]["global"]
    assert (layers["unshuffle"]["args"], layers["fold"]["args"]) == ("/2", "2x2 /2x2")


# -- torch's corner cases, pinned: (type, args, per-sample shape, expected shape or None) ----

CORNER_CASES = [
    # scalars are converted to float32 (or int64/uint64) at the first forward
    ("Softplus", {"beta": 1e39}, (3,), None),
    ("Softplus", {"beta": 3.4e38, "threshold": -(2**63)}, (3,), (3,)),
    ("Threshold", {"threshold": 0, "value": 2**64}, (3,), None),
    ("Threshold", {"threshold": 0, "value": 2**64 - 1}, (3,), (3,)),
    ("LeakyReLU", {"negative_slope": 3.4028235e38}, (3,), None),
    ("ELU", {"alpha": -(2**63) - 1}, (3,), None),
    ("PReLU", {"init": 1e300}, (3,), None),
    ("ConstantPad1d", {"padding": 1, "value": -1e39}, (3,), None),
    ("ConstantPad1d", {"padding": 1, "value": 2**64 - 1}, (3,), (5,)),
    ("ConstantPad1d", {"padding": [-1, 0], "value": 1e39}, (3,), (2,)),  # nothing filled: no conversion
    ("ConstantPad1d", {"padding": [0, 1], "value": 340282356779733661637539395458142568447}, (3,), None),  # a double
    ("LocalResponseNorm", {"size": 2, "alpha": 1e300}, (3, 2), (3, 2)),  # Python arithmetic: no float32 check
    ("LocalResponseNorm", {"size": 2, "k": 2**64}, (3, 2), None),
    ("LocalResponseNorm", {"size": 2}, (3,), None),
    # CELU divides by alpha, and 1 / alpha must fit float32 unless it is infinite (a subnormal alpha)
    ("CELU", {"alpha": 0}, (3,), None),
    ("CELU", {"alpha": 1e-40}, (3,), None),
    ("CELU", {"alpha": 1e-320}, (3,), (3,)),
    ("CELU", {"alpha": -0.5}, (3,), (3,)),
    ("Hardtanh", {"min_val": 1, "max_val": 1.0}, (3,), None),
    ("Hardtanh", {"min_val": -(2**63), "max_val": 2**64 - 1}, (3,), (3,)),
    ("RReLU", {"lower": 0.2, "upper": 0.2}, (3,), (3,)),
    ("RReLU", {"lower": 0.3, "upper": 0.2}, (3,), None),
    ("RReLU", {"lower": -1, "upper": -0.5, "inplace": True}, (3,), (3,)),  # raises only in an eval-mode backward
    ("RReLU", {"upper": 3.4028235e38}, (3,), None),
    ("RReLU", {"lower": 0, "upper": 2**63}, (3,), None),  # eval adds int64 and uint64 Scalars: no promotion
    ("RReLU", {"lower": 2**63, "upper": 2**64 - 1}, (3,), None),  # no uint64 addition
    ("RReLU", {"lower": 0.5, "upper": 2**63}, (3,), (3,)),
    (
        "RReLU",
        {"lower": 2**63 - 1, "upper": 2**63 - 1},
        (3,),
        (3,),
    ),  # training converts each bound to float32; eval their mean
    ("Softshrink", {"lambd": -0.1}, (3,), None),
    ("Softshrink", {"lambd": 3.4028235e38}, (3,), None),
    ("Softshrink", {"lambd": 3.4e38}, (3,), (3,)),
    ("Hardshrink", {"lambd": -0.1}, (3,), (3,)),
    ("GLU", {}, (4, 3), None),
    ("GLU", {"dim": 1}, (4, 3), (2, 3)),
    ("GLU", {"dim": -2}, (), None),  # the batch dim
    ("Softmax2d", {}, (2, 3, 4), (2, 3, 4)),
    ("Softmax2d", {}, (3, 4), None),  # torch would normalise across the batch
    ("Softmin", {"dim": 3}, (4, 3), None),
    ("RMSNorm", {"normalized_shape": [3, 4]}, (2, 3, 4), (2, 3, 4)),
    ("RMSNorm", {"normalized_shape": 3}, (3, 4), None),
    ("RMSNorm", {"normalized_shape": []}, (3, 4), None),
    ("ChannelShuffle", {"groups": 2}, (4,), None),
    ("ChannelShuffle", {"groups": 3}, (4, 2), None),
    ("ChannelShuffle", {"groups": 2}, (4, 1, 1, 1, 1), (4, 1, 1, 1, 1)),
    ("PixelShuffle", {"upscale_factor": 2}, (3, 8, 2, 3), (3, 2, 4, 6)),
    ("PixelShuffle", {"upscale_factor": 2}, (6, 2, 3), None),
    ("PixelShuffle", {"upscale_factor": 1}, (2, 3), None),  # the batch would be the channels
    ("PixelUnshuffle", {"downscale_factor": 2}, (1, 4, 5), None),
    ("PixelUnshuffle", {"downscale_factor": 2}, (1, 4, 6), (4, 2, 3)),
    # aten floors the block count (div_rtn): (2 - 3) // 2 + 1 = 0 blocks, where C's truncation gives 1
    ("Unfold", {"kernel_size": 3, "stride": 2}, (1, 2, 2), None),
    ("Unfold", {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 4, 4), (9, 4)),
    ("Unfold", {"kernel_size": [1, 2], "dilation": [1, 3]}, (2, 3, 4), (4, 3)),
    ("Unfold", {"kernel_size": 1}, (3, 4), None),
    ("Fold", {"output_size": 4, "kernel_size": 2}, (12, 9), (3, 4, 4)),
    ("Fold", {"output_size": 4, "kernel_size": 2}, (12, 8), None),
    ("Fold", {"output_size": 4, "kernel_size": 2}, (10, 9), None),
    ("Fold", {"output_size": 2, "kernel_size": 3, "stride": 2}, (9, 1), None),
    ("Fold", {"output_size": 1, "kernel_size": 1, "padding": 3}, (1, 49), (1, 1, 1)),
    ("Fold", {"output_size": 4, "kernel_size": 2}, (9,), None),
]


@pytest.mark.parametrize(("name", "args", "shape", "expected"), CORNER_CASES)
def test_corner_case(name: str, args: dict[str, Any], shape: tuple[int, ...], expected: Any) -> None:
    _, result = archspec_side(name, args, shape)
    if expected is None:
        assert isinstance(result, Exception), f"{name}({args}) on {list(shape)} must be rejected, got {result}"
    else:
        assert isinstance(result, LayerResult) and result.shape == expected, f"{name}({args}): {result}"
    check_case(name, args, shape)


def test_a_residual_add_accumulates_into_rmsnorm_output_and_trains() -> None:
    """RMSNorm is a ``fresh_output`` layer: generated code adds the residual in place, which
    autograd would refuse if the norm's backward needed its output."""
    spec = """
archspec: 1
name: residual
input: {channels: 4, size: [6]}
layers:
  - {id: norm, type: RMSNorm, normalized_shape: 6, inputs: [input]}
  - {id: sum, type: add, inputs: [norm, input]}
  - {id: bare, type: RMSNorm, normalized_shape: [4, 6], elementwise_affine: false}
  - {id: sum2, type: add, inputs: [bare, sum]}
"""
    compiled = archspec.load(spec)
    assert "norm += x" in generate_source(compiled, origin="residual")
    model = archspec.build(compiled).train()
    x = torch.randn(2, 4, 6, requires_grad=True)
    model(x).sum().backward()
    assert x.grad is not None and model.norm.weight.grad is not None


def test_families_colour_the_diagram() -> None:
    families = {
        "norm": ["RMSNorm", "LocalResponseNorm"],
        "shape": ["ChannelShuffle", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold"],
        "activation": ["Softplus", "Threshold", "Hardtanh", "CELU", "RReLU", "Softshrink", "Softmax2d", "GLU"],
    }
    types = layer_types()
    assert {name: types[name].family for names in families.values() for name in names} == {
        name: family for family, names in families.items() for name in names
    }
