"""Example inputs, exports and generated code for several inputs and outputs, dtypes and held tensors.

Specs in ``tests/general`` (see ``test_general_outputs.py``): ``ops`` takes a float tensor and int64
token ids and returns a dict; ``pair`` takes an image and a bool mask and returns a tuple; ``vitish``
holds a class token, a position embedding and a bool buffer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.backends.export import example_inputs, io_names  # noqa: E402
from archspec.cli import main  # noqa: E402
from archspec.compiler.pipeline import compile_spec  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_codegen import import_file, ruff_clean  # noqa: E402

GENERAL = Path(__file__).parent / "general"
OPS, VITISH, PAIR = (GENERAL / f"{name}.yaml" for name in ("ops", "vitish", "pair"))
ALL = [OPS, VITISH, PAIR]


def built(path: Path) -> tuple[Any, Any]:
    compiled = compile_spec(path)
    torch.manual_seed(0)
    return compiled, archspec.build(compiled).eval()


def run(model: Any, inputs: tuple[Any, ...]) -> Any:
    with torch.no_grad():
        return model(*inputs)


# -- example inputs ---------------------------------------------------------------------------


def test_example_inputs_follow_each_inputs_dtype_and_range() -> None:
    x, tokens = example_inputs(compile_spec(OPS), batch=64)
    assert (x.dtype, x.shape) == (torch.float32, (64, 8, 6, 4))
    assert (tokens.dtype, tokens.shape) == (torch.int64, (64, 5))
    assert int(tokens.min()) >= 0 and int(tokens.max()) < 10 and len(tokens.unique()) > 2
    image, mask = example_inputs(compile_spec(PAIR), batch=64)
    assert image.dtype == torch.float32 and mask.dtype == torch.bool and mask.any() and not mask.all()
    text = "archspec: 1\nname: u\ninput: {shape: [300], dtype: uint8}\nlayers:\n  - {type: to, dtype: float32}\n"
    (small,) = example_inputs(compile_spec(text))
    assert small.dtype == torch.uint8 and set(small.unique().tolist()) <= {0, 1}  # no range: [0, 2)
    half = "archspec: 1\nname: h\ninput: {shape: [4], dtype: bfloat16}\nlayers:\n  - {type: ReLU}\n"
    assert example_inputs(compile_spec(half))[0].dtype == torch.bfloat16


def test_example_inputs_are_reproducible() -> None:
    first, second = example_inputs(compile_spec(OPS)), example_inputs(compile_spec(OPS))
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


# -- build ------------------------------------------------------------------------------------


def test_build_command_runs_several_inputs_and_checks_every_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(OPS)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == (
        "Ops: 0 parameters; inputs x [8, 6, 4], tokens [5] int64 -> outputs a [8, 8], b [] int64, c [8] bool "
        "(batch excluded)"
    )


# -- codegen ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_generated_source_equals_the_built_model(path: Path, tmp_path: Path) -> None:
    compiled, model = built(path)
    source = generate_source(compiled, origin=path.name)
    file = tmp_path / f"{path.stem}.py"
    file.write_text(source)
    ruff_clean(file)
    module = import_file(file)
    (class_name,) = module.__all__
    generated = getattr(module, class_name)().eval()
    assert list(generated.state_dict()) == list(model.state_dict())
    assert [k for k, _ in generated.named_buffers()] == [k for k, _ in model.named_buffers()]
    generated.load_state_dict(model.state_dict(), strict=True)
    inputs = example_inputs(compiled, batch=3, seed=1)
    torch.testing.assert_close(run(generated, inputs), run(model, inputs), rtol=0, atol=0)


def test_generated_docstring_names_every_input_and_output() -> None:
    source = generate_source(compile_spec(OPS))
    doc = " ".join(source.split('class Ops(nn.Module):\n    """')[1].split('"""')[0].split())
    assert doc == (
        "Inputs (in forward's order): x (N, 8, 6, 4), tokens (N, 5) int64 in [0, 10). "
        "Outputs (a dict): a (N, 8, 8), b (N,) int64, c (N, 8) bool; 0 parameters."
    )
    pair = " ".join(generate_source(compile_spec(PAIR)).split())
    assert "Inputs (in forward's order): image (N, 3, 8, 8), mask (N, 4) bool." in pair
    assert "Outputs (a tuple): 0 (N, 4), 1 (N, 4); 228 parameters." in pair
    assert '"""Input (N, 3, 32, 32) -> output (N, 10); 3,578 parameters."""' in generate_source(compile_spec(VITISH))


# -- exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_torchscript_export_of_several_inputs_and_outputs(path: Path, tmp_path: Path) -> None:
    compiled, model = built(path)
    out = tmp_path / "model.ts"
    assert main(["export", str(path), "-o", str(out), "--seed", "0"]) == 0
    loaded = torch.jit.load(str(out))
    inputs = example_inputs(compiled, batch=5, seed=3)  # another batch size than the export's example
    torch.testing.assert_close(run(loaded, inputs), run(model, inputs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("path", [OPS, PAIR], ids=lambda p: p.stem)
def test_onnx_export_keeps_the_names_and_computes_the_same(path: Path, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    compiled, model = built(path)
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), "-o", str(out), "--seed", "0"]) == 0
    proto = onnx.load(str(out))
    names = io_names(compiled)
    assert [i.name for i in proto.graph.input] == names["input_names"] == list(compiled.inputs)
    assert [o.name for o in proto.graph.output] == names["output_names"]
    assert all(i.type.tensor_type.shape.dim[0].dim_param for i in proto.graph.input)  # symbolic batch
    inputs = example_inputs(compiled, batch=4, seed=2)
    actual = ReferenceEvaluator(proto).run(
        None, {n: t.numpy() for n, t in zip(names["input_names"], inputs, strict=False)}
    )
    expected = run(model, inputs)
    expected = list(expected.values()) if isinstance(expected, dict) else list(expected)
    for got, want in zip(actual, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_onnx_output_names_of_a_tuple_are_numbered() -> None:
    assert io_names(compile_spec(PAIR)) == {"input_names": ["image", "mask"], "output_names": ["output_0", "output_1"]}
    assert io_names(compile_spec(VITISH)) == {"input_names": ["input"], "output_names": ["output"]}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_fx_and_torch_export_take_every_input(path: Path) -> None:
    compiled, model = built(path)
    inputs = example_inputs(compiled, batch=3)
    traced = torch.fx.symbolic_trace(model)
    placeholders = [n.target for n in traced.graph.nodes if n.op == "placeholder"]
    assert placeholders == [name if name != "input" else "x" for name in compiled.inputs]
    torch.testing.assert_close(run(traced, inputs), run(model, inputs), rtol=0, atol=0)
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, inputs, dynamic_shapes=tuple({0: batch} for _ in inputs))
    more = example_inputs(compiled, batch=6, seed=4)
    torch.testing.assert_close(run(program.module(), more), run(model, more), rtol=1e-6, atol=1e-6)


def test_an_export_that_torch_refuses_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("cannot handle this model\nsecond line")

    monkeypatch.setattr(torch.jit, "script", refuse)
    monkeypatch.setattr(torch.jit, "trace", refuse)
    out = tmp_path / "model.ts"
    assert main(["export", str(OPS), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "TorchScript cannot compile or trace this model: cannot handle this model" in err
    assert "Traceback" not in err and not out.exists()


def test_building_a_model_that_names_a_torch_dtype_leaves_torch_alone() -> None:
    """The built ``forward`` frees dead locals with ``del``; ``torch.float32`` (a Symbol) is no local:
    ``del torch.float32`` would delete the dtype from the torch module for the whole process."""
    from archspec.backends import pysource

    compiled, model = built(PAIR)
    source = "\n".join(pysource.forward_lines(pysource.forward(compiled.root), release=True))
    assert "del torch" not in source and "del right, keep" in source  # locals are still freed
    run(model, example_inputs(compiled))
    run(model, example_inputs(compiled))
    assert torch.float32 is torch.tensor(1.0).dtype
