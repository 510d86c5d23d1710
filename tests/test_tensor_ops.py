"""Tensor operations and held tensors against real torch: the static shape, dtype and batch
dim of each case equal what torch computes when it runs the node's own ``Op`` description,
and archspec rejects a case exactly when torch raises (or where archspec is stricter by
design: an operation on the batch dim)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archspec.backends.torch_backend import run_op  # noqa: E402
from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.base import TensorType  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

BATCH = 2
TORCH_DTYPES = {
    name: getattr(torch, name)
    for name in ("float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool")
}


def sample(t: TensorType) -> Any:
    """A real tensor of this type (batch ``BATCH`` when it is batched)."""
    shape = (BATCH, *t.shape) if t.batched else t.shape
    dtype = TORCH_DTYPES[t.dtype]
    if t.dtype == "bool":
        return torch.rand(shape) > 0.5
    if dtype.is_floating_point:
        return torch.randn(shape).to(dtype)
    return torch.randint(0, 5, shape, dtype=dtype)


def static(name: str, args: dict[str, Any], inputs: list[TensorType]) -> Any:
    """archspec's answer, through the elaborator's own type inference."""
    layer = layer_types()[name].model_validate({"type": name, **args})
    try:
        result, outputs = infer_types(layer, inputs)
    except LayerError as exc:
        return exc
    FLOPS[name, repr(args), repr(inputs)] = result.flops
    return outputs


FLOPS: dict[tuple[str, str, str], int] = {}
"""Static FLOPs per case (per sample), recorded by :func:`static`."""


def observed(out: Any, batched: bool) -> TensorType:
    shape = tuple(out.shape[1:] if batched else out.shape)
    return TensorType(shape, str(out.dtype).removeprefix("torch."), batched)


def check(name: str, args: dict[str, Any], inputs: list[TensorType]) -> str:
    """Compare with torch; return 'ok', 'both-reject' or 'stricter'."""
    expected = static(name, args, inputs)
    layer = layer_types()[name].model_validate({"type": name, **args})
    tensors = [sample(t) for t in inputs]
    try:
        op = layer.creation() if layer.stored else layer.call([t.layer_shape() for t in inputs])
        with FlopCounterMode(display=False) as counter:
            out = run_op(op, tensors)
    except Exception as exc:  # torch's rejection
        assert isinstance(expected, LayerError), (
            f"{name} {args} {inputs}: torch raised {exc!r}, archspec gave {expected}"
        )
        return "both-reject"
    if isinstance(expected, LayerError):
        return "stricter"
    assert FLOPS[name, repr(args), repr(inputs)] * BATCH == counter.get_total_flops(), (name, args, inputs)
    if not isinstance(expected, TensorType):  # several outputs
        assert isinstance(out, tuple | list) and len(out) == len(expected), (name, args, len(out))
        assert [observed(o, True) for o in out] == list(expected), (name, args, inputs)
    else:
        values = expected.low, expected.high  # an index buffer's known values: torch's lie within
        expected = expected._replace(low=None, high=None)
        assert observed(out, expected.batched) == expected, (name, args, inputs, tuple(out.shape), out.dtype)
        assert values[1] is None or not out.numel() or (values[0] <= out.min() and out.max() < values[1])
    return "ok"


F = TensorType
CASES: list[tuple[str, dict[str, Any], list[TensorType], str]] = [
    ("permute", {"dims": [0, 2, 3, 1]}, [F((3, 4, 5))], "ok"),
    ("permute", {"dims": [0, 2, 1]}, [F((3, 4, 5))], "both-reject"),
    ("permute", {"dims": [1, 0, 2]}, [F((3, 4))], "stricter"),
    ("transpose", {"dim0": 1, "dim1": -1}, [F((3, 4, 5))], "ok"),
    ("transpose", {"dim0": 1, "dim1": 4}, [F((3, 4, 5))], "both-reject"),
    ("reshape", {"shape": [-1, 6]}, [F((3, 4))], "ok"),
    ("reshape", {"shape": [5, -1]}, [F((3, 4))], "both-reject"),
    ("squeeze", {"dim": [1, 2]}, [F((1, 4, 1))], "ok"),
    ("unsqueeze", {"dim": -1}, [F((3, 4))], "ok"),
    ("chunk", {"chunks": 4, "dim": 1}, [F((5, 2))], "ok"),
    ("split", {"split_size_or_sections": [2, 3], "dim": -1}, [F((2, 5))], "ok"),
    ("split", {"split_size_or_sections": [2, 2], "dim": -1}, [F((2, 5))], "both-reject"),
    ("unbind", {"dim": 1}, [F((3, 2))], "ok"),
    ("select", {"dim": 1, "index": -3}, [F((3, 2))], "ok"),
    ("select", {"dim": 1, "index": 3}, [F((3, 2))], "both-reject"),
    ("narrow", {"dim": 2, "start": -2, "length": 2}, [F((3, 4))], "ok"),
    ("narrow", {"dim": 2, "start": 3, "length": 2}, [F((3, 4))], "both-reject"),
    ("expand", {"size": [-1, 4]}, [F((3, 1))], "ok"),
    ("expand", {"size": [-1, -1]}, [F((1, 1, 8), batched=False), F((5, 8))], "ok"),
    ("repeat", {"repeats": [2, 1]}, [F((3, 4))], "ok"),
    ("stack", {"dim": -1}, [F((3, 4)), F((3, 4))], "ok"),
    ("roll", {"shifts": [1, -2], "dims": [1, 2]}, [F((3, 4))], "ok"),
    ("mean", {"dim": [2, 3]}, [F((3, 4, 5))], "ok"),
    ("mean", {"dim": 1}, [F((3,), "int64")], "both-reject"),
    ("sum", {"dim": -1, "keepdim": True}, [F((3, 4), "bool")], "ok"),
    ("amax", {"dim": 1}, [F((3, 4), "int32")], "ok"),
    ("matmul", {}, [F((2, 3, 4)), F((2, 4, 5))], "ok"),
    ("matmul", {}, [F((3, 4)), F((4, 6), batched=False)], "ok"),
    ("matmul", {}, [F((3, 4)), F((5, 6))], "both-reject"),
    ("bmm", {}, [F((3, 4)), F((4, 2))], "ok"),
    ("einsum", {"equation": "bij,bkj->bik"}, [F((3, 4)), F((5, 4))], "ok"),
    ("einsum", {"equation": "bij->bji"}, [F((3, 4))], "ok"),
    ("sub", {}, [F((3, 4)), F((1, 4))], "ok"),
    ("div", {}, [F((3, 4), "int64"), F((3, 4), "int64")], "ok"),
    ("scale", {"factor": 0.5}, [F((3,))], "ok"),
    ("pow", {"exponent": 2}, [F((3,), "float64")], "ok"),
    ("clamp", {"min": 0, "max": 1.5}, [F((3,), "int32")], "ok"),
    ("gt", {"other": 0}, [F((3,))], "ok"),
    ("eq", {}, [F((3, 4)), F((3, 1))], "ok"),
    ("to", {"dtype": "float16"}, [F((3,), "int64")], "ok"),
    ("add", {}, [F((17, 16)), F((1, 17, 16), batched=False)], "ok"),
    ("add", {}, [F((17, 16)), F((2, 17, 16), batched=False)], "stricter"),
    ("mul", {}, [F((4, 3, 3)), F((4, 1, 1), batched=False)], "ok"),
    ("Parameter", {"shape": [1, 1, 8], "init": "trunc_normal", "std": 0.02}, [], "ok"),
    ("Buffer", {"shape": [4, 4], "fill": "triu", "diagonal": 1, "dtype": "bool"}, [], "ok"),
    ("Buffer", {"shape": [4], "fill": "arange", "dtype": "int64"}, [], "ok"),
    ("Buffer", {"shape": [6, 4], "fill": "sinusoidal"}, [], "ok"),
    ("slice", {"dim": 2, "start": 0, "step": 2}, [F((3, 5, 2))], "ok"),
    ("slice", {"dim": -1, "start": -3, "end": 100}, [F((3, 5))], "ok"),
    ("slice", {"dim": 1, "start": 4, "end": 1}, [F((3, 5))], "ok"),
    # found by the property tests (test_tensor_op_contract.py), pinned
    ("Parameter", {"shape": [], "init": "ones"}, [], "ok"),  # 0-d: torch.ones(()), not torch.ones()
    ("Buffer", {"shape": [3], "fill": "full", "value": 0}, [], "ok"),  # float32, not full's int64
    ("Buffer", {"shape": [3], "fill": "arange"}, [], "ok"),  # float32, not arange's int64
    ("Buffer", {"shape": [3], "fill": "arange", "dtype": "bool"}, [], "both-reject"),
    ("add", {}, [F((3,), "float16"), F((), "float32", batched=False)], "ok"),  # a 0-d tensor weighs less
    ("mul", {}, [F((), "float16", batched=False), F((), "uint8"), F((), "bfloat16")], "ok"),  # folded pairwise
    ("add", {}, [F((2,), "bool"), F((2,), "bool")], "ok"),
    ("sub", {}, [F((2,), "bool"), F((2,), "int64")], "both-reject"),
    ("scale", {"factor": 0.5}, [F((3,), "uint8")], "ok"),
    ("scale", {"factor": 2}, [F((3,), "bool")], "ok"),
    ("pow", {"exponent": -1}, [F((3,), "int64")], "both-reject"),
    ("clamp", {"min": 0}, [F((3,), "bool")], "ok"),
    ("expand", {"size": [-1]}, [F((1, 4), "float16", batched=False), F((4,), "bfloat16")], "ok"),
    ("expand", {"size": [3, 4]}, [F((4,), batched=False), F((5,))], "ok"),  # the batch as a new leading dim
    ("einsum", {"equation": "bij->bi"}, [F((0, 3))], "ok"),
    ("einsum", {"equation": "bij,bjl->b"}, [F((1, 1)), F((1, 1))], "ok"),  # size-1 contraction: no bmm
    ("einsum", {"equation": "bii->bi"}, [F((2, 3))], "both-reject"),
    ("add", {}, [F((1,)), F((1, 1)), F((1, 1), batched=False)], "stricter"),  # ranks differ: batch meets a dim
]


@pytest.mark.parametrize(("name", "args", "inputs", "outcome"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_operation_matches_torch(name: str, args: dict[str, Any], inputs: list[TensorType], outcome: str) -> None:
    assert check(name, args, inputs) == outcome


def test_a_float_layer_refuses_integer_ids_with_the_fix() -> None:
    expected = static("Linear", {"out_features": 4}, [F((5,), "int64")])
    assert isinstance(expected, LayerError)
    assert "takes float tensors" in expected.message and "Embedding" in (expected.hint or "")


def test_a_module_refuses_a_tensor_without_batch_dim() -> None:
    expected = static("Linear", {"out_features": 4}, [F((5, 8), batched=False)])
    assert isinstance(expected, LayerError) and "expand" in (expected.hint or "")


def test_the_readme_token_model_builds_and_runs() -> None:
    import re
    from pathlib import Path

    import archspec

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    spec = next(block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "token_classifier" in block)
    compiled = archspec.load(spec)
    assert {k: (v.shape, v.dtype) for k, v in compiled.inputs.items()} == {
        "tokens": ((128,), "int64"),
        "mask": ((128,), "bool"),
    }
    outputs = compiled.outputs
    assert {k: (v.shape, v.dtype) for k, v in outputs.items() if v} == {
        "logits": ((4,), "float32"),
        "features": ((64,), "float32"),
    }
    model = archspec.build(compiled)
    assert list(model.state_dict())[:2] == ["pos_embedding", "embed.weight"]
    tokens = torch.randint(0, 30000, (3, 128))
    mask = torch.rand(3, 128) > 0.3
    out = model(tokens, mask)
    assert set(out) == {"logits", "features"} and out["logits"].shape == (3, 4)
    keep = mask.float().unsqueeze(-1)
    x = model.embed(tokens) + model.pos_embedding
    expected = (x * keep).sum(1) / keep.sum(1)
    torch.testing.assert_close(out["features"], expected)
    scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(tokens, mask)["logits"], out["logits"])


def test_an_unknown_type_suggests_the_tensor_method_first() -> None:
    from archspec.errors import SpecError

    spec = "archspec: 1\nname: t\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: Transpose, dim0: 1, dim1: 2}\n"
    with pytest.raises(SpecError) as info:
        __import__("archspec").load(spec)
    assert "did you mean 'transpose'?" in str(info.value)


def test_a_several_output_node_is_read_by_index() -> None:
    import archspec
    from archspec.errors import SpecError

    spec = """
archspec: 1
name: halves
input: {shape: [6, 4]}
layers:
  - {id: halves, type: chunk, chunks: 2, dim: 1}
  - {id: a, type: add, inputs: [halves.0, halves.1]}
"""
    compiled = archspec.load(spec)
    assert compiled.output_shape == (3, 4)
    x = torch.randn(2, 6, 4)
    torch.testing.assert_close(archspec.build(compiled)(x), x[:, :3] + x[:, 3:])
    with pytest.raises(SpecError, match=r"'halves' has 2 outputs, numbered 0 to 1; there is no 'halves\.2'"):
        archspec.load(spec.replace("halves.1]", "halves.2]"))
    with pytest.raises(SpecError, match="halves has 2 outputs; a node takes one of them"):
        archspec.load(spec.replace("inputs: [halves.0, halves.1]", "inputs: [halves, halves.1]"))
    with pytest.raises(SpecError, match="the previous node has 2 outputs"):
        archspec.load(spec.replace("{id: a, type: add, inputs: [halves.0, halves.1]}", "{type: ReLU}"))


def test_sinusoidal_positions_equal_the_pytorch_tutorials_table() -> None:
    import math

    from archspec.layers.stored import Buffer

    length, features = 50, 16
    table = run_op(
        Buffer.model_validate({"type": "Buffer", "shape": [length, features], "fill": "sinusoidal"}).creation(), []
    )
    position = torch.arange(length).unsqueeze(1)
    rates = torch.exp(torch.arange(0, features, 2) * (-math.log(10000.0) / features))
    expected = torch.zeros(length, features)
    expected[:, 0::2] = torch.sin(position * rates)
    expected[:, 1::2] = torch.cos(position * rates)
    assert torch.equal(table, expected)


def test_slice_is_written_as_a_subscript() -> None:
    import archspec

    spec = """
archspec: 1
name: s
input: {shape: [8, 8, 4]}
layers:
  - {type: slice, dim: 1, start: 0, step: 2}
  - {type: slice, dim: 2, start: 1, step: 2}
"""
    model = archspec.build(spec)
    x = torch.randn(2, 8, 8, 4)
    torch.testing.assert_close(model(x), x[:, 0::2, 1::2])
    from archspec.backends.codegen import generate_source

    source = generate_source(archspec.load(spec))
    assert "[:, 0::2]" in source and "[:, :, 1::2]" in source
    scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(x), x[:, 0::2, 1::2])
