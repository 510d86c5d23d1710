"""Embedding against torch: random arguments and integer id shapes (hypothesis), comparing the
static shape, dtype, parameters and torchinfo mult-adds with the real module, rejections with
torch's, and the id range a spec declares with the table size."""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")

import archspec  # noqa: E402
from archspec.errors import LayerError, SpecError  # noqa: E402
from archspec.layers.embedding import Embedding  # noqa: E402

EXAMPLES = int(os.environ.get("ARCHSPEC_HYPOTHESIS_EXAMPLES", "200"))
BATCH = 2


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
    count = draw(st.integers(1, 12))
    args: dict[str, Any] = {"num_embeddings": count, "embedding_dim": draw(st.integers(1, 6))}
    if draw(st.booleans()):
        args["padding_idx"] = draw(st.integers(-count - 2, count + 1))
    if draw(st.booleans()):
        args["max_norm"] = draw(st.sampled_from([0.5, 1.0, 3]))
        args["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.5]))
    args["scale_grad_by_freq"] = draw(st.booleans())
    args["sparse"] = draw(st.booleans())
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    return args, shape


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_embedding_matches_torch(case: tuple[dict[str, Any], tuple[int, ...]]) -> None:
    args, shape = case
    layer = Embedding.model_validate({"type": "Embedding", **args})
    try:
        expected = layer.infer([shape])
    except LayerError as exc:
        expected = exc
    try:
        module = torch.nn.Embedding(**args)
    except (AssertionError, ValueError, RuntimeError, IndexError) as exc:
        assert isinstance(expected, LayerError), f"{args}: torch raised {exc!r}"
        return
    assert not isinstance(expected, LayerError), f"{args}: archspec rejected ({expected}), torch accepts"
    ids = torch.randint(0, args["num_embeddings"], (BATCH, *shape))
    out = module(ids)
    assert tuple(out.shape[1:]) == expected.shape and out.dtype == torch.float32
    assert sum(p.numel() for p in module.parameters()) == expected.params
    built = layer.build([shape])
    assert {k: v.shape for k, v in built.state_dict().items()} == {k: v.shape for k, v in module.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=ids, verbose=0, device="cpu")
    assert stats.total_mult_adds == BATCH * expected.macs


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
    with pytest.raises(SpecError, match="takes int tensors, but its input is float32"):
        archspec.load(spec)
    no_embedding = TOKENS.format(high=10).replace("  - {type: Embedding, num_embeddings: 10, embedding_dim: 4}\n", "")
    with pytest.raises(SpecError, match="takes float tensors, but its input is int64") as info:
        archspec.load(no_embedding)
    assert "Embedding" in str(info.value)
