"""A spec using every tensor operation and held tensor builds, runs, generates code and exports.

``all_tensor_ops.yaml`` holds every functional and stored layer type at least once (a test
checks that against the registry), with two inputs (float features and int64 token ids) and
a dict of outputs of several dtypes. The built model's outputs must have the static shapes
and dtypes, and every path out of archspec must compute the same: generated source,
TorchScript (``torch.jit.script``), ``torch.fx.symbolic_trace``, ``torch.export`` with a
dynamic batch, ONNX from that exported program (checked and run by ONNX's reference
evaluator), and ``torch.compile(fullgraph=True)``.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

SPEC = Path(__file__).parent / "all_tensor_ops.yaml"


@pytest.fixture(scope="module")
def compiled() -> Any:
    return archspec.load(SPEC)


@pytest.fixture(scope="module")
def model(compiled: Any) -> Any:
    torch.manual_seed(0)
    return archspec.build(compiled).eval()


def batch(n: int) -> tuple[Any, Any]:
    generator = torch.Generator().manual_seed(n)
    return torch.randn(n, 4, 6, generator=generator), torch.randint(0, 10, (n, 4), generator=generator)


def same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(actual) == list(expected)
    for key, value in expected.items():
        assert actual[key].dtype == value.dtype, key
        torch.testing.assert_close(actual[key], value, rtol=1e-5, atol=1e-6, msg=key)


@pytest.fixture(scope="module")
def expected(model: Any) -> dict[str, Any]:
    with torch.no_grad():
        return model(*batch(3))


def test_the_spec_uses_every_tensor_op_and_held_tensor(compiled: Any) -> None:
    wanted = {name for name, cls in layer_types().items() if cls.functional or cls.stored}
    used = {node.type for node in compiled.nodes}
    assert not wanted - used, f"add these types to {SPEC.name}: {sorted(wanted - used)}"


def test_outputs_have_the_static_shapes_and_dtypes(compiled: Any, expected: dict[str, Any]) -> None:
    static = compiled.outputs
    assert list(static) == list(expected)
    for name, value in expected.items():
        t = static[name]
        assert (3, *t.shape) == tuple(value.shape) and f"torch.{t.dtype}" == str(value.dtype), name
    assert set(archspec.build(compiled).state_dict()) == {
        "class_token", "pos_embedding", "layer_scale", "temperature", "weight", "causal", "offset", "relative_index"
    }  # fmt: skip  # the non-persistent buffer 'positions' is not saved


def test_generated_source_computes_the_same(compiled: Any, model: Any, expected: dict[str, Any]) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(generate_source(compiled), "<codegen>", "exec"), namespace)
    generated = namespace["AllTensorOps"]().eval()
    generated.load_state_dict(model.state_dict())
    generated.positions = model.positions
    with torch.no_grad():
        same(generated(*batch(3)), expected)


def test_torchscript(model: Any, expected: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript is deprecated in torch 2.10+, still supported
        scripted = torch.jit.script(model)
    same(scripted(*batch(3)), expected)


def test_fx_symbolic_trace(model: Any, expected: dict[str, Any]) -> None:
    traced = torch.fx.symbolic_trace(model)
    same(traced(*batch(3)), expected)


def test_torch_export_with_a_dynamic_batch_and_onnx(model: Any, expected: dict[str, Any]) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    size = torch.export.Dim("batch")
    program = torch.export.export(model, batch(3), dynamic_shapes=({0: size}, {0: size}))
    same(program.module()(*batch(3)), expected)
    with torch.no_grad():
        same(program.module()(*batch(5)), model(*batch(5)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = torch.onnx.export(program, dynamo=True, verbose=False).model_proto
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["x", "ids"]
    assert all(i.type.tensor_type.shape.dim[0].dim_param for i in proto.graph.input)  # symbolic batch
    x, ids = batch(5)
    results = ReferenceEvaluator(proto).run(None, {"x": x.numpy(), "ids": ids.numpy()})
    with torch.no_grad():
        reference = model(x, ids)
    for actual, (name, value) in zip(results, reference.items(), strict=True):
        torch.testing.assert_close(torch.from_numpy(actual), value, rtol=1e-4, atol=1e-5, msg=name)


def test_torch_compile_fullgraph(model: Any, expected: dict[str, Any]) -> None:
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("torch.compile's inductor backend needs a C++ compiler on CPU, and none is on PATH")
    torch._dynamo.reset()
    compiled_model = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        same(compiled_model(*batch(3)), expected)


def test_the_built_forward_never_deletes_a_torch_attribute(model: Any) -> None:
    """The forward ``del``-etes dead locals; ``torch.float32`` (a ``to`` node's argument) is not one."""
    assert "del torch" not in model._archspec_source
    with torch.no_grad():
        model(*batch(2))
    assert isinstance(torch.float32, torch.dtype)


def test_an_in_place_residual_add_keeps_type_promotion(tmp_path: Path) -> None:
    """``conv += y`` would keep the conv's float32 where ``conv + y`` is float64."""
    spec = tmp_path / "promote.yaml"
    spec.write_text(
        "archspec: 1\nname: promote\ninputs:\n  x: {shape: [2, 3, 3]}\n  y: {shape: [2, 3, 3], dtype: float64}\n"
        "layers:\n  - {id: conv, type: Conv2d, inputs: [x], out_channels: 2, kernel_size: 1}\n"
        "  - {id: total, type: add, inputs: [conv, y]}\n"
    )
    compiled = archspec.load(spec)
    assert compiled.outputs["output"].dtype == "float64"
    out = archspec.build(compiled)(torch.randn(2, 2, 3, 3), torch.randn(2, 2, 3, 3, dtype=torch.float64))
    assert out.dtype == torch.float64
