"""Embedding and EmbeddingBag against torch: random arguments, id shapes and dtypes (hypothesis),
comparing the static shape, dtype, parameters, torchinfo mult-adds and FLOPs with the real module,
rejections with torch's, and the id range a spec declares with the table size."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")

from state_check import assert_state_matches  # noqa: E402
from strategy_cache import sampled  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError, SpecError  # noqa: E402
from archspec.layers.base import LayerResult, TensorType  # noqa: E402
from archspec.layers.embedding import Embedding, EmbeddingBag  # noqa: E402

EXAMPLES = examples(200)
BATCH = 2
ID_DTYPES = ["int64", "int32", "int16", "int8", "uint8"]
TORCH_ERRORS = (AssertionError, ValueError, RuntimeError, IndexError, NotImplementedError)


def static(layer: Any, types: list[TensorType]) -> LayerResult | LayerError:
    """What archspec says for these inputs: the result, or the error torch should also raise."""
    try:
        return infer_types(layer, types)[0]
    except LayerError as exc:
        return exc


def flops(module: Any, *args: Any, **kwargs: Any) -> int:
    with FlopCounterMode(display=False) as counter:
        module(*args, **kwargs)
    return counter.get_total_flops()


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...], str]:
    count = draw(st.integers(1, 12))
    args: dict[str, Any] = {"num_embeddings": count, "embedding_dim": draw(st.integers(1, 6))}
    if draw(st.booleans()):
        args["padding_idx"] = draw(st.integers(-count - 2, count + 1))
    if draw(st.booleans()):
        args["max_norm"] = draw(sampled([0.5, 1.0, 3]))
        args["norm_type"] = draw(sampled([1.0, 2.0, 3.5]))
    args["scale_grad_by_freq"] = draw(st.booleans())
    args["sparse"] = draw(st.booleans())
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    return args, shape, draw(sampled(ID_DTYPES))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_embedding_matches_torch(case: tuple[dict[str, Any], tuple[int, ...], str]) -> None:
    args, shape, dtype = case
    layer = Embedding.model_validate({"type": "Embedding", **args})
    expected = static(layer, [TensorType(shape, dtype, True)])
    try:
        module = torch.nn.Embedding(**args)
        ids = torch.randint(0, args["num_embeddings"], (BATCH, *shape), dtype=getattr(torch, dtype))
        out = module(ids)
    except TORCH_ERRORS as exc:
        assert isinstance(expected, LayerError), f"{args} {dtype}: torch raised {exc!r}"
        return
    assert not isinstance(expected, LayerError), f"{args} {dtype}: archspec rejected ({expected}), torch accepts"
    assert tuple(out.shape[1:]) == expected.shape and out.dtype == torch.float32
    assert sum(p.numel() for p in module.parameters()) == expected.params
    assert flops(module, ids) == BATCH * expected.flops
    built = layer.build([shape])
    assert {k: v.shape for k, v in built.state_dict().items()} == {k: v.shape for k, v in module.state_dict().items()}
    assert_state_matches(layer, [shape], module, f"Embedding({args})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=ids, verbose=0, device="cpu")
    assert stats.total_mult_adds == BATCH * expected.macs


@st.composite
def bag_cases(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...], str, tuple[tuple[int, ...], str] | None]:
    args, _, dtype = draw(cases())
    args["mode"] = draw(sampled(["sum", "mean", "max"]))
    args["include_last_offset"] = draw(st.booleans())
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=2)))
    weights = None
    if draw(st.booleans()):
        weights_shape = shape if draw(st.integers(0, 3)) else tuple(draw(st.lists(st.integers(1, 5), max_size=2)))
        weights = (weights_shape, draw(sampled(["float32", "float32", "float64"])))
    return args, shape, dtype, weights


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bag_cases())
def test_embedding_bag_matches_torch(
    case: tuple[dict[str, Any], tuple[int, ...], str, tuple[tuple[int, ...], str] | None],
) -> None:
    args, shape, dtype, weights = case
    roles = ("input", "per_sample_weights") if weights else ("input",)
    layer = EmbeddingBag.model_validate({"type": "EmbeddingBag", **args}).with_roles(roles)
    types = [TensorType(shape, dtype, True)] + ([TensorType(weights[0], weights[1], True)] if weights else [])
    expected = static(layer, types)
    try:
        module = torch.nn.EmbeddingBag(**args)
        ids = torch.randint(0, args["num_embeddings"], (BATCH, *shape), dtype=getattr(torch, dtype))
        extra = (
            {"per_sample_weights": torch.rand(BATCH, *weights[0], dtype=getattr(torch, weights[1]))} if weights else {}
        )
        out = module(ids, **extra)
    except TORCH_ERRORS as exc:
        assert isinstance(expected, LayerError), f"{args} {shape} {dtype} {weights}: torch raised {exc!r}"
        return
    assert not isinstance(expected, LayerError), f"{args} {shape} {dtype} {weights}: archspec rejected ({expected})"
    assert tuple(out.shape[1:]) == expected.shape and out.dtype == torch.float32
    assert sum(p.numel() for p in module.parameters()) == expected.params
    assert flops(module, ids, **extra) == BATCH * expected.flops
    assert_state_matches(layer, [shape] + ([weights[0]] if weights else []), module, f"EmbeddingBag({args})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=ids, verbose=0, device="cpu")
    assert stats.total_mult_adds == BATCH * expected.macs


def test_embedding_bag_with_weights_builds_and_calls_by_keyword() -> None:
    spec = archspec.load(
        "archspec: 1\nname: bag\n"
        "inputs: {ids: {shape: [7], dtype: int64, range: [0, 20]}, weights: {shape: [7]}}\n"
        "layers:\n"
        "  - {id: bag, type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, mode: sum,\n"
        "     inputs: {per_sample_weights: weights, input: ids}}\n"
        "  - {id: fc, type: Linear, out_features: 2}\n"
    )
    assert spec.output_shape == (2,)
    model = archspec.build(spec)
    ids, weights = torch.randint(0, 20, (3, 7)), torch.rand(3, 7)
    assert torch.equal(model(ids, weights), model.fc(model.bag(ids, per_sample_weights=weights)))


TOKENS = """
archspec: 1
name: tokens
input: {{shape: [6], dtype: int64, range: [0, {high}]}}
layers:
  - {{type: Embedding, num_embeddings: 10, embedding_dim: 4}}
  - {{type: Linear, out_features: 2}}
"""


def test_declared_ids_must_fit_the_table() -> None:
    assert archspec.load(TOKENS.format(high=10)).output_shape == (6, 2)
    with pytest.raises(SpecError, match=r"ids in \[0, 11\) do not fit a table of 10"):
        archspec.load(TOKENS.format(high=11))


def test_embedding_refuses_float_input_and_a_float_layer_refuses_ids() -> None:
    spec = TOKENS.format(high=10).replace("dtype: int64, range: [0, 10]", "dtype: float32")
    with pytest.raises(SpecError, match="takes int32 or int64 tensors, but its input is float32"):
        archspec.load(spec)
    no_embedding = TOKENS.format(high=10).replace("  - {type: Embedding, num_embeddings: 10, embedding_dim: 4}\n", "")
    with pytest.raises(SpecError, match="takes float tensors, but its input is int64") as info:
        archspec.load(no_embedding)
    assert "Embedding" in str(info.value)


BAGS = """
archspec: 1
name: bags
inputs: {ids: {shape: [7], dtype: int64, range: [0, 20]}, weights: {shape: [7]}}
layers:
  - {id: weighted, type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, mode: sum,
     inputs: {input: ids, per_sample_weights: weights}}
  - {id: averaged, type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, inputs: [ids]}
  - {id: both, type: add, inputs: [weighted, averaged]}
  - {id: fc, type: Linear, out_features: 2}
"""


def test_embedding_bags_script_trace_and_export() -> None:
    """TorchScript, fx, torch.export and torch.compile(fullgraph=True) compute what the bags compute."""
    model = archspec.build(archspec.load(BAGS)).eval()
    inputs = (torch.randint(0, 20, (3, 7)), torch.rand(3, 7))
    expected = model(*inputs)
    torch.testing.assert_close(torch.jit.script(model)(*inputs), expected)
    torch.testing.assert_close(torch.fx.symbolic_trace(model)(*inputs), expected)
    torch.testing.assert_close(torch.export.export(model, inputs).module()(*inputs), expected)
    torch._dynamo.reset()
    torch.testing.assert_close(torch.compile(model, fullgraph=True, backend="eager")(*inputs), expected)


@pytest.mark.slow
def test_embedding_bags_export_to_onnx() -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from archspec.backends.export import onnx_bytes

    model = archspec.build(archspec.load(BAGS)).eval()
    inputs = (torch.randint(0, 20, (3, 7)), torch.rand(3, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = onnx.load_from_string(onnx_bytes(model, inputs))
    onnx.checker.check_model(proto, full_check=True)
    feeds = {i.name: t.numpy() for i, t in zip(proto.graph.input, inputs, strict=True)}
    (actual,) = ReferenceEvaluator(proto).run(None, feeds)
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), model(*inputs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", ["Embedding", "EmbeddingBag"])
def test_torchscript_export_traces_a_max_norm_table(layer: str, tmp_path: Any) -> None:
    """torch.jit.script compiles F.embedding without max_norm's renormalisation (pinned: if torch
    fixes it, this fails and the layer's export_limit can go), so archspec's TorchScript export
    traces such a model; the archive then renormalises the looked-up rows as the module does."""
    import copy
    import io

    from archspec.backends.export import example_inputs, export_limits, export_model

    text = TOKENS.format(high=10).replace("embedding_dim: 4}", "embedding_dim: 4, max_norm: 1.0}")
    compiled = archspec.load(text.replace("type: Embedding", f"type: {layer}"))
    assert export_limits(compiled, "torchscript") and not export_limits(compiled, "onnx")
    torch.manual_seed(0)
    model = archspec.build(compiled).eval()  # rows drawn from N(0, 1): norms near 2, above max_norm
    ids = example_inputs(compiled, batch=3, seed=1)
    with torch.no_grad():
        expected = copy.deepcopy(model)(*ids)
        scripted = torch.jit.script(copy.deepcopy(model))(*ids)
    assert not torch.allclose(scripted, expected)  # torch's scripted module skips the renormalisation
    info = export_model(copy.deepcopy(model), compiled, tmp_path / "model.ts", "torchscript")
    assert info["how"] == "traced"
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(io.BytesIO((tmp_path / "model.ts").read_bytes()))(*ids), expected)
    without = archspec.load(TOKENS.format(high=10).replace("type: Embedding", f"type: {layer}"))
    assert export_limits(without, "torchscript") == []
