"""RNN, LSTM and GRU against torch's own modules (hypothesis: random arguments, sequence lengths, dtypes).

Each case is checked as the layer contract (``test_layer_contract.py``) checks single-output
layers, with a torch module built here with ``batch_first=True`` (archspec's layout):

* torch raises (constructing, or running on a batch of 2) if and only if archspec rejects,
  except where archspec refuses on purpose: ``batch_first: false`` (its shapes are batch-first)
  and a per-sample input of rank 1 (torch would read the batched 2-d tensor as one sequence);
* every part's static shape equals torch's: the output sequence, ``h_n`` and ``c_n`` read
  batch-first (``h_n.transpose(0, 1)``);
* initial states (``h_0``, ``c_0`` by role, batch-first as archspec reads ``h_n``) are checked as
  torch checks them, and torch runs on them transposed to its layout;
* parameters equal torch's; mult-adds equal torchinfo's; FLOPs equal FlopCounterMode's on the
  native CPU implementation (oneDNN off), and, wherever torch runs that implementation anyway
  (RNN, GRU, an LSTM with a projection), FlopCounterMode's plain count too;
* ``build()`` makes the same module: class, ``batch_first``, state_dict keys and shapes.

Run more examples with ``ARCHSPEC_HYPOTHESIS_PROFILE=thorough pytest tests/test_recurrent_contract.py`` (10x).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from pydantic import ValidationError

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
from state_check import assert_state_matches  # noqa: E402
from strategy_cache import sampled  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.base import Layer, LayerResult, TensorType  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

EXAMPLES = examples(200)
BATCH = 2
RECURRENT = ("RNN", "LSTM", "GRU")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16}

Case = tuple[str, dict[str, Any], tuple[int, ...], str, dict[str, tuple[int, ...]]]
"""(type, arguments, per-sample input shape, its dtype, initial states by role: per-sample shapes)."""


pytestmark = pytest.mark.usefixtures("module_one_thread")


def one_in(draw: st.DrawFn, n: int) -> bool:
    return draw(sampled(range(n))) == n - 1


@st.composite
def cases(draw: st.DrawFn, name: str) -> Case:
    hidden = draw(st.integers(1, 6))
    args: dict[str, Any] = {"hidden_size": hidden}
    if draw(st.booleans()):
        args["num_layers"] = draw(st.integers(1, 3))
    for key in ("bias", "bidirectional"):
        if draw(st.booleans()):
            args[key] = draw(st.booleans())
    if draw(st.booleans()):
        args["dropout"] = draw(sampled([0, 0.0, 0.25, 1, 1.0] + ([1.5] if one_in(draw, 8) else [])))
    if name == "RNN" and draw(st.booleans()):
        args["nonlinearity"] = draw(sampled(["tanh", "relu", "relu"] + (["gelu"] if one_in(draw, 8) else [])))
    if name == "LSTM" and draw(st.booleans()):
        args["proj_size"] = draw(st.integers(0, hidden + 1))
    if one_in(draw, 8):
        args["batch_first"] = draw(st.booleans())
    length, features = draw(st.integers(0 if one_in(draw, 10) else 1, 5)), draw(st.integers(1, 5))
    if one_in(draw, 5):
        args["input_size"] = draw(sampled([features, features, features + 1]))
    shape: tuple[int, ...] = (length, features)
    if one_in(draw, 12):
        shape = draw(sampled([(features,), (length, features, 2)]))
    dtype = "float32" if not one_in(draw, 10) else draw(sampled(["float64", "float16"]))
    return name, args, shape, dtype, draw(initial_states(name, args)) if one_in(draw, 3) else {}


@st.composite
def initial_states(draw: st.DrawFn, name: str, args: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """h_0 (and c_0) as the layer's final states are shaped, now and then one size off or one missing."""
    hidden = args["hidden_size"]
    out = args.get("proj_size") or hidden
    rows = (2 if args.get("bidirectional") else 1) * args.get("num_layers", 1)
    states = {"h_0": (rows, out)} | ({"c_0": (rows, hidden)} if name == "LSTM" else {})
    if one_in(draw, 4):
        role = draw(sampled(sorted(states)))
        rows, size = states[role]
        states[role] = draw(sampled([(rows + 1, size), (rows, size + 1), (size,)]))
    if name == "LSTM" and one_in(draw, 8):
        del states[draw(sampled(sorted(states)))]
    return states


def archspec_side(
    name: str, args: dict[str, Any], shape: tuple[int, ...], dtype: str, states: dict[str, tuple[int, ...]]
) -> tuple[Any, Any]:
    """(the layer or None, the inferred result or the rejection)."""
    try:
        layer = layer_types()[name].model_validate({"type": name, **args}, context={"resolved": True})
    except ValidationError as exc:
        return None, exc
    roles = ("input", *(r for r in layer.input_roles if r in states))  # the elaborator's canonical order
    types = [TensorType(shape, dtype), *(TensorType(states[r]) for r in roles[1:])]
    try:
        return layer, infer_types(layer.with_roles(roles) if states else layer, types)[0]
    except LayerError as exc:
        return layer, exc


def torch_module(name: str, args: dict[str, Any], shape: tuple[int, ...]) -> Any:
    kwargs = {"batch_first": True, **args}
    if "input_size" not in kwargs:
        kwargs["input_size"] = shape[-1]
    return getattr(torch.nn, name)(**kwargs).eval()


def torch_side(
    name: str, args: dict[str, Any], shape: tuple[int, ...], dtype: str, states: dict[str, tuple[int, ...]]
) -> tuple[Any, Any]:
    """(the module or None, its outputs batch-first or what torch raised)."""
    hx = tuple(torch.randn(BATCH, *states[r]).transpose(0, 1).contiguous() for r in ("h_0", "c_0") if r in states)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dropout with one layer: torch warns, archspec accepts
            module = torch_module(name, args, shape)
            x = torch.randn(BATCH, *shape).to(DTYPES[dtype])
            with torch.no_grad():
                output, state = module(x, hx if len(hx) > 1 else hx[0]) if hx else module(x)
    except Exception as exc:  # ValueError, RuntimeError, TypeError: whatever torch raises
        return None, exc
    states_out = state if isinstance(state, tuple) else (state,)
    return module, (output, *(s.transpose(0, 1) for s in states_out))


def counted_flops(module: Any, shape: tuple[int, ...], *, onednn: bool) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags warn about TF32 on Intel GPUs
        with torch.backends.mkldnn.flags(enabled=onednn), FlopCounterMode(display=False) as counter:
            module(torch.randn(BATCH, *shape))
    assert counter.get_total_flops() % BATCH == 0
    return counter.get_total_flops() // BATCH


def torchinfo_macs(module: Any, shape: tuple[int, ...]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=torch.randn(BATCH, *shape), verbose=0, device="cpu")
    assert stats.total_mult_adds % BATCH == 0
    return stats.total_mult_adds // BATCH


def check_case(
    name: str, args: dict[str, Any], shape: tuple[int, ...], dtype: str, states: dict[str, tuple[int, ...]]
) -> None:
    layer, result = archspec_side(name, args, shape, dtype, states)
    case = f"{name}({args}) on per-sample {dtype} input {list(shape)}, initial states {states}"
    rejected = isinstance(result, Exception)
    if isinstance(result, LayerError):
        assert result.message and result.hint, f"{case}: {result}"
        assert result.field is None or result.field in layer_types()[name].model_fields
    if args.get("batch_first") is False:
        assert rejected and "batch_first" in str(result), f"{case}: archspec must refuse batch_first: false"
        return
    if len(shape) == 1:  # torch would read the batched 2-d tensor as one unbatched sequence
        assert rejected, f"{case}: archspec must refuse a per-sample input of rank 1"
        return
    module, outputs = torch_side(name, args, shape, dtype, states)
    if module is None:
        assert rejected, f"{case}: torch raises {type(outputs).__name__}: {outputs}\nbut archspec infers {result}"
        return
    assert not rejected, f"{case}: torch runs it but archspec rejects: {result}"
    assert isinstance(result, LayerResult) and isinstance(layer, Layer)

    shapes = tuple(tuple(t.shape[1:]) for t in outputs)
    assert result.parts == shapes, f"{case}: torch's parts {shapes}, archspec {result.parts}"
    assert result.shape == shapes[0]
    params = sum(p.numel() for p in module.parameters())
    assert result.params == params, f"{case}: torch has {params} parameters, archspec {result.params}"
    macs = torchinfo_macs(module, shape)
    assert result.macs == macs, f"{case}: torchinfo counts {macs} mult-adds per sample, archspec {result.macs}"
    native = counted_flops(module, shape, onednn=False)
    assert result.flops == native, (
        f"{case}: FlopCounterMode counts {native} FLOPs (oneDNN off), archspec {result.flops}"
    )
    if name != "LSTM" or args.get("proj_size"):
        assert counted_flops(module, shape, onednn=True) == native, f"{case}: oneDNN changes the count"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = layer.build([shape])
    assert type(built) is type(module) and built.batch_first
    state = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in built.state_dict().items()} == state, f"{case}: build() differs"
    assert_state_matches(layer, [shape], module, case)


@pytest.mark.parametrize("name", RECURRENT)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_recurrent_layer_matches_torch(name: str, data: st.DataObject) -> None:
    check_case(*data.draw(cases(name), label="case"))


CORNER_CASES: list[tuple[str, dict[str, Any], tuple[int, ...], str]] = [
    ("LSTM", {"hidden_size": 4, "proj_size": 4}, (3, 2), "float32"),  # proj_size must be below hidden_size
    ("LSTM", {"hidden_size": 4, "proj_size": 3, "num_layers": 2, "bidirectional": True}, (3, 2), "float32"),
    ("GRU", {"hidden_size": 3}, (0, 2), "float32"),  # an empty sequence
    ("GRU", {"hidden_size": 3, "input_size": 3}, (4, 2), "float32"),
    ("RNN", {"hidden_size": 3}, (5,), "float32"),  # torch would take the batch as the sequence
    ("RNN", {"hidden_size": 3, "dropout": 0.5}, (4, 2), "float32"),  # torch warns (no effect), and runs
    ("RNN", {"hidden_size": 3, "nonlinearity": "relu", "bias": False}, (4, 2), "float32"),
    ("LSTM", {"hidden_size": 3}, (4, 2), "float64"),  # float32 weights
    ("LSTM", {"hidden_size": 3, "batch_first": True}, (4, 2), "float32"),
    ("LSTM", {"hidden_size": 3, "batch_first": False}, (4, 2), "float32"),
]


@pytest.mark.parametrize(("name", "args", "shape", "dtype"), CORNER_CASES)
def test_corner_case(name: str, args: dict[str, Any], shape: tuple[int, ...], dtype: str) -> None:
    check_case(name, args, shape, dtype, {})


STATE_CASES: list[tuple[str, dict[str, Any], dict[str, tuple[int, ...]]]] = [
    ("LSTM", {"hidden_size": 4, "num_layers": 2, "bidirectional": True}, {"h_0": (4, 4), "c_0": (4, 4)}),
    ("LSTM", {"hidden_size": 4, "proj_size": 2}, {"h_0": (1, 2), "c_0": (1, 4)}),
    ("LSTM", {"hidden_size": 4, "proj_size": 2}, {"h_0": (1, 4), "c_0": (1, 4)}),  # h_0 has proj_size
    ("LSTM", {"hidden_size": 4}, {"h_0": (1, 4)}),  # torch's hx is (h_0, c_0): both or neither
    ("GRU", {"hidden_size": 3, "num_layers": 3}, {"h_0": (3, 3)}),
    ("RNN", {"hidden_size": 3, "bidirectional": True}, {"h_0": (1, 3)}),
]


@pytest.mark.parametrize(("name", "args", "states"), STATE_CASES)
def test_initial_states(name: str, args: dict[str, Any], states: dict[str, tuple[int, ...]]) -> None:
    check_case(name, args, (5, 2), "float32", states)


def test_fused_lstm_is_invisible_to_flop_counter_mode() -> None:
    """Why archspec counts the native implementation: on CPU, torch runs a float32 LSTM without a
    projection as one oneDNN kernel that FlopCounterMode counts as 0. If torch starts counting
    it, this fails, and the docs' paragraph on recurrent FLOPs should say so."""
    module = torch.nn.LSTM(4, 8, batch_first=True)
    layer = layer_types()["LSTM"].model_validate({"type": "LSTM", "hidden_size": 8})
    assert counted_flops(module, (5, 4), onednn=True) in (0, layer.infer([(5, 4)]).flops)
    assert counted_flops(module, (5, 4), onednn=False) == layer.infer([(5, 4)]).flops == 2 * 5 * 32 * (4 + 8)


def test_batch_first_false_says_why() -> None:
    _, result = archspec_side("GRU", {"hidden_size": 3, "batch_first": False}, (4, 2), "float32", {})
    assert isinstance(result, ValidationError)
    assert "always built with batch_first=True" in str(result)
