"""MultiheadAttention against torch's ``nn.MultiheadAttention``, property-tested.

Hypothesis draws the constructor arguments (embed dims that heads may not divide, ``kdim``/``vdim``,
``bias``, ``add_bias_kv``, ``add_zero_attn``), the forward options (``need_weights``,
``average_attn_weights``, ``is_causal``) and the inputs by role: self-attention, a key shared
with the value, or three tensors, and masks of both dtypes (bool, float; now and then float64 or
int64), batched or not, of the right or a wrong shape. archspec's answer (``infer_types``: the
elaborator's own dtype and batch checks) is checked against torch's module built here, run on a
batch of :data:`BATCH` in eval mode with autograd on (the FLOPs convention of ``test_flops.py``):

* torch raises if and only if archspec rejects, except where :func:`stricter` says archspec
  refuses on purpose;
* when both accept: every output's per-sample shape and dtype, the parameter count, torchinfo's
  mult-adds and ``FlopCounterMode``'s FLOPs (per sample) are archspec's;
* the layer's own ``build()`` makes a module with torch's state_dict keys and shapes, and its static
  ``state_entries()`` are that state_dict (keys, shapes, dtypes, kinds, order).

A per-sample ``attn_mask`` of shape ``(num_heads, L, S)`` is handed to torch as the
``(N * num_heads, L, S)`` it takes (``mask.flatten(0, 1)``, what archspec's forward writes).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import torchinfo  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.control import event  # noqa: E402
from hypothesis_profiles import examples  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from state_check import assert_state_matches  # noqa: E402
from strategy_cache import sampled  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.attention import MultiheadAttention  # noqa: E402
from archspec.layers.base import LayerResult, TensorType  # noqa: E402

EXAMPLES = examples(150)
BATCH = 2
DTYPES = {"bool": torch.bool, "float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


@dataclass
class Mask:
    dtype: str
    shape: tuple[int, ...]
    batched: bool


@dataclass
class Case:
    args: dict[str, Any]
    query: tuple[int, int]
    key: tuple[int, int] | None
    """None: self-attention (key and value are the query)."""
    value: tuple[int, int] | None
    """None: the key is the value too."""
    masks: dict[str, Mask]

    def roles(self) -> list[str]:
        roles = ["query"] + (["key"] if self.key else []) + (["value"] if self.value else [])
        return roles + [r for r in ("key_padding_mask", "attn_mask") if r in self.masks]

    def types(self) -> list[TensorType]:
        shapes = [self.query] + ([self.key] if self.key else []) + ([self.value] if self.value else [])
        types = [TensorType(s) for s in shapes]
        return types + [TensorType(m.shape, m.dtype, m.batched) for m in self.masks.values()]


def rare(draw: st.DrawFn, every: int = 10) -> bool:
    """True about once in ``every`` draws: an edge case where torch raises."""
    return draw(sampled(range(every))) == every - 1  # shrinks towards False


@st.composite
def cases(draw: st.DrawFn) -> Case:
    heads = draw(st.integers(1, 4))
    embed = heads * draw(st.integers(1, 3)) + (draw(st.integers(1, heads - 1)) if heads > 1 and rare(draw) else 0)
    length, source = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    mode = draw(sampled(["self", "shared", "three"]))
    args: dict[str, Any] = {"num_heads": heads, "need_weights": draw(st.booleans())}
    for key, values in (
        ("bias", st.booleans()),
        ("add_bias_kv", st.booleans()),
        ("add_zero_attn", st.booleans()),
        ("average_attn_weights", st.booleans()),
        ("dropout", sampled([0.0, 0.25])),
    ):
        if draw(st.booleans()):
            args[key] = draw(values)
    if mode != "self" or rare(draw):
        for key in ("kdim", "vdim"):
            if draw(st.booleans()):
                args[key] = draw(st.integers(1, 6))
        if mode == "shared" and "kdim" in args and not rare(draw):
            args["vdim"] = args["kdim"]  # one tensor is key and value
        elif mode == "shared" and "vdim" in args and not rare(draw):
            args["kdim"] = args["vdim"]
    if rare(draw):
        args["embed_dim"] = draw(sampled([embed, embed + 1]))
    kdim, vdim = args.get("kdim", embed), args.get("vdim", embed)
    if rare(draw):
        kdim = draw(st.integers(1, 6))  # a key whose features may not match
    key = None if mode == "self" else (source, kdim)
    value = (source + int(rare(draw)), vdim) if mode == "three" else None
    if mode == "self":
        source = length
    masks: dict[str, Mask] = {}
    if draw(st.booleans()):
        wrong = rare(draw)
        batched = not wrong or draw(st.booleans())
        masks["key_padding_mask"] = Mask(mask_dtype(draw), (source + int(wrong),), batched)
    if draw(st.booleans()):
        per_sample = draw(st.booleans())
        shape = (heads, length, source) if per_sample else (length, source)
        if rare(draw):
            shape = (*shape[:-1], shape[-1] + 1)
        masks["attn_mask"] = Mask(mask_dtype(draw), shape, per_sample)
    if ("attn_mask" in masks and draw(st.booleans())) or rare(draw, 20):
        args["is_causal"] = True
    return Case(args, (length, embed), key, value, masks)


def mask_dtype(draw: st.DrawFn) -> str:
    return "float64" if rare(draw, 20) else "int64" if rare(draw, 20) else draw(sampled(["bool", "float32"]))


# -- the two sides ---------------------------------------------------------------------------


def archspec_side(case: Case) -> tuple[MultiheadAttention | None, Any]:
    try:
        layer = MultiheadAttention.model_validate({"type": "MultiheadAttention", **case.args})
    except ValidationError as exc:
        return None, exc
    layer = layer.with_roles(tuple(case.roles()))
    try:
        return layer, infer_types(layer, case.types())
    except LayerError as exc:
        return layer, exc


def torch_inputs(case: Case) -> tuple[list[Any], dict[str, Any]]:
    query = torch.randn(BATCH, *case.query)
    key = query if case.key is None else torch.randn(BATCH, *case.key)
    value = key if case.value is None else torch.randn(BATCH, *case.value)
    kwargs: dict[str, Any] = {}
    for role, mask in case.masks.items():
        dtype = DTYPES[mask.dtype]
        shape = (BATCH, *mask.shape) if mask.batched else mask.shape
        tensor = torch.rand(shape) > 0.7 if dtype == torch.bool else torch.randn(shape).to(dtype)
        kwargs[role] = tensor.flatten(0, 1) if role == "attn_mask" and mask.batched else tensor
    for option in ("need_weights", "average_attn_weights", "is_causal"):
        kwargs[option] = case.args.get(option, MultiheadAttention.model_fields[option].default)
    return [query, key, value], kwargs


def torch_module(case: Case) -> torch.nn.Module:
    kwargs = {k: v for k, v in case.args.items() if k not in ("need_weights", "average_attn_weights", "is_causal")}
    kwargs.setdefault("embed_dim", case.query[-1])
    return torch.nn.MultiheadAttention(**kwargs, batch_first=True).eval()


def torch_side(case: Case) -> tuple[torch.nn.Module | None, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch_module(case)
            args, kwargs = torch_inputs(case)
            out = module(*args, **kwargs)
    except Exception as exc:  # torch raises AssertionError, RuntimeError, ValueError
        return None, exc
    return module, out


def stricter(case: Case) -> str | None:
    """Where archspec refuses on purpose what torch runs."""
    mask = case.masks.get("attn_mask")
    causal_ignores_mask = (
        case.args.get("is_causal") and not case.args.get("need_weights") and "key_padding_mask" not in case.masks
    )
    if mask and causal_ignores_mask and mask.dtype in ("bool", "float32", "float64"):
        expected = (case.args["num_heads"], case.query[0], source_length(case))
        if mask.shape != (expected if mask.batched else expected[1:]) or mask.dtype == "float64":
            return "is_causal without need_weights or padding mask: torch ignores attn_mask, archspec checks it"
    return None


def source_length(case: Case) -> int:
    return case.query[0] if case.key is None else case.key[0]


# -- the contract ----------------------------------------------------------------------------


def check(case: Case) -> None:
    layer, result = archspec_side(case)
    rejected = isinstance(result, Exception)
    if isinstance(result, LayerError):
        assert result.message and result.hint
        assert result.field is None or result.field in MultiheadAttention.model_fields
    reason = stricter(case)
    if reason is not None:
        assert rejected, f"{case}: archspec must reject ({reason})"
        event("archspec stricter")
        return
    module, out = torch_side(case)
    if module is None:
        assert rejected, f"{case}: torch raises {type(out).__name__}: {out}\nbut archspec infers {result}"
        event("both reject: " + (str(result.message)[:40] if isinstance(result, LayerError) else type(result).__name__))
        return
    assert not rejected, f"{case}: torch runs but archspec rejects: {result}"
    assert layer is not None
    event("both accept" + (" with weights" if case.args.get("need_weights") else ""))
    info, types = result
    outputs = [out[0]] + ([out[1]] if case.args.get("need_weights") else [])
    types = [types] if isinstance(types, TensorType) else list(types)
    assert [tuple(o.shape[1:]) for o in outputs] == [t.shape for t in types], f"{case}: torch {out}, archspec {types}"
    assert all(str(o.dtype).removeprefix("torch.") == t.dtype for o, t in zip(outputs, types, strict=True))
    check_counts(case, module, layer, info)


def check_counts(case: Case, module: torch.nn.Module, layer: MultiheadAttention, info: LayerResult) -> None:
    params = sum(p.numel() for p in module.parameters())
    assert info.params == params, f"{case}: torch has {params} parameters, archspec {info.params}"
    args, kwargs = torch_inputs(case)
    with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        module(*args, **kwargs)
    assert info.flops * BATCH == counter.get_total_flops(), f"{case}: FlopCounterMode {counter.get_flop_counts()}"
    shapes = [tuple(t.shape[1:]) for t in case.types()]
    built = layer.build(shapes)
    assert {k: v.shape for k, v in built.state_dict().items()} == {k: v.shape for k, v in module.state_dict().items()}
    assert built.batch_first
    assert_state_matches(layer, shapes, module, str(case))


@pytest.mark.parametrize(
    "args", [{"num_heads": 2}, {"num_heads": 2, "kdim": 3, "vdim": 5}, {"num_heads": 1, "need_weights": True}]
)
def test_torchinfo_counts_no_mult_adds(args: dict[str, Any]) -> None:
    """torchinfo sums leaf modules; nn.MultiheadAttention is none (its out_proj is never called): 0 mult-adds."""
    case = Case(args, (3, 4), (5, args.get("kdim", 4)), (5, args.get("vdim", 4)), {})
    _, (info, _) = archspec_side(case)
    module, _ = torch_side(case)
    assert module is not None and info.params > 0
    tensors, kwargs = torch_inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=tensors, verbose=0, device="cpu", **kwargs)
    assert stats.total_params == info.params
    assert info.macs == stats.total_mult_adds == 0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],  # one_thread: set once
)
@given(case=cases())
def test_multihead_attention_matches_torch(case: Case, one_thread: None) -> None:
    check(case)
