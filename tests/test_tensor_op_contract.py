"""The tensor-op contract: every functional and held-tensor type against torch, property-tested.

For each type with ``functional`` or ``stored`` set, Hypothesis draws arguments and inputs
(ranks, sizes, dtypes, batched or not: ``op_strategies.STRATEGIES``) and the test checks
archspec's static answer (through the elaborator's own dtype and batch checks) against torch
running the node's own :class:`~archspec.layers.base.Op` on a batch of :data:`BATCH`:

* torch raises if and only if archspec rejects, except where ``op_strategies.STRICTER`` (or the
  rule that only ``batch_free`` types take tensors without a batch dim) says archspec refuses
  on purpose: then archspec must reject, and torch is not asked;
* when both accept, the per-sample shape, dtype and batch dim of every output equal torch's,
  and the static FLOPs times the batch equal ``FlopCounterMode``'s count.

A functional or stored type without a strategy fails the test. Run more examples with
``ARCHSPEC_HYPOTHESIS_PROFILE=thorough pytest tests/test_tensor_op_contract.py`` (10x).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.control import currently_in_test_context, event  # noqa: E402
from hypothesis_profiles import examples  # noqa: E402
from op_strategies import STRATEGIES, STRICTER  # noqa: E402
from state_check import torch_state  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archspec.backends.torch_backend import _stored_tensor, run_op  # noqa: E402
from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.base import Layer, TensorType, prefixed  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

EXAMPLES = examples(200)
BATCH = 7
"""Larger than any drawn size (op_strategies.MAX_SIZE), so it never meets an equal size by chance."""

OPS = sorted(n for n, c in layer_types().items() if c.functional or c.stored)


pytestmark = pytest.mark.usefixtures("module_one_thread")


def sample(t: TensorType) -> Any:
    """A real tensor of this type (batch :data:`BATCH` when it is batched)."""
    full = (BATCH, *t.shape) if t.batched else t.shape
    dtype = getattr(torch, t.dtype)
    if t.dtype == "bool":
        return torch.rand(full) > 0.5
    if dtype.is_floating_point:
        return torch.randn(full).to(dtype)
    if t.high is not None:  # declared values (an index input): every value of [low, high) where there is room
        low = t.low or 0
        return (torch.arange(math.prod(full)) % (t.high - low) + low).reshape(full).to(dtype)
    return torch.randint(1, 5, full, dtype=dtype)


def observed(out: Any, batched: bool) -> TensorType:
    shape = tuple(out.shape[1:] if batched else out.shape)
    return TensorType(shape, str(out.dtype).removeprefix("torch."), batched)


def archspec_side(layer: Layer, inputs: list[TensorType]) -> tuple[Any, int] | LayerError:
    """(the output type, or a tuple of them for several outputs; per-sample FLOPs) or the rejection."""
    try:
        result, outputs = infer_types(layer, inputs)
    except LayerError as exc:
        return exc
    return outputs, result.flops


def torch_side(layer: Layer, inputs: list[TensorType]) -> tuple[Any, int] | Exception:
    """(torch's output, its FlopCounterMode count) running the layer's own Op, or what torch raised."""
    tensors = [sample(t) for t in inputs]
    try:
        with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
            warnings.simplefilter("ignore")
            if layer.stored:
                made = _stored_tensor(layer)
                out = made if layer.learned else made.tensor  # type: ignore[attr-defined]
            else:
                out = run_op(layer.call([t.layer_shape() for t in inputs]), tensors)
    except Exception as exc:  # torch raises RuntimeError, ValueError, TypeError, IndexError...
        return exc
    return out, counter.get_total_flops()


def stricter(name: str, cls: type[Layer], args: dict[str, Any], inputs: list[TensorType]) -> str | None:
    if not cls.batch_free and any(not t.batched for t in inputs):
        return "a tensor without a batch dim into an operation that is not elementwise"
    return STRICTER.get(name, lambda a, i: None)(args, inputs)


def outcome(label: str) -> None:
    if currently_in_test_context():
        event(label)


def check_case(name: str, args: dict[str, Any], inputs: list[TensorType]) -> str:
    """Compare archspec with torch on one case; return 'ok', 'both-reject' or 'stricter'."""
    cls = layer_types()[name]
    layer = cls.model_validate({"type": name, **args}, context={"resolved": True})
    case = f"{name}({args}) on {inputs}"
    expected = archspec_side(layer, inputs)
    if isinstance(expected, LayerError):
        assert expected.message and expected.hint, f"{case}: a rejection without message or hint: {expected}"
        assert expected.field is None or expected.field in cls.model_fields, f"{case}: unknown field {expected.field}"
    reason = stricter(name, cls, args, inputs)
    if reason is not None:
        assert isinstance(expected, LayerError), f"{case}: archspec must refuse ({reason}) but inferred {expected}"
        outcome("archspec stricter than torch")
        return "stricter"
    actual = torch_side(layer, inputs)
    if isinstance(actual, Exception):
        assert isinstance(expected, LayerError), f"{case}: torch raised {actual!r}\nbut archspec infers {expected}"
        outcome("both reject")
        return "both-reject"
    assert not isinstance(expected, LayerError), f"{case}: torch runs but archspec rejects: {expected}"
    outcome("both accept")
    (static, flops), (out, counted) = expected, actual
    if not isinstance(static, TensorType):  # several outputs
        assert isinstance(out, tuple | list), f"{case}: torch returned one tensor, archspec {len(static)}"
        got = tuple(observed(o, True) for o in out)
        assert got == static, f"{case}: torch {got}, archspec {static}"
    else:
        got = observed(out, static.batched)
        low, high = static.low, static.high  # values known statically (an index buffer): torch's lie within
        static = static._replace(low=None, high=None)
        assert got == static, f"{case}: torch {tuple(out.shape)} {out.dtype}, archspec {static}"
        if high is not None and out.numel():
            assert low <= out.min().item() and out.max().item() < high, f"{case}: values beyond [{low}, {high})"
    scale = BATCH if static_batched(static) else 1
    assert flops * scale == counted, f"{case}: FlopCounterMode counts {counted}, archspec {flops} per sample"
    state = list(prefixed("held", layer.state_entries([t.layer_shape() for t in inputs])).items())
    assert state == torch_state(holder(layer)), f"{case}: static state_dict entries {state}"
    return "ok"


def holder(layer: Layer) -> torch.nn.Module:
    """A module holding the node's tensor as ``held`` the way the builder does (a functional op: nothing)."""
    module = torch.nn.Module()
    if layer.stored:
        made = _stored_tensor(layer)
        if layer.learned:  # type: ignore[attr-defined]
            module.register_parameter("held", made)
        else:
            module.register_buffer("held", made.tensor, persistent=made.persistent)
    return module


def static_batched(static: Any) -> bool:
    return static.batched if isinstance(static, TensorType) else all(t.batched for t in static)


def test_every_tensor_op_has_a_strategy() -> None:
    missing = sorted(set(OPS) - set(STRATEGIES))
    assert not missing, f"functional or stored types without a strategy in tests/op_strategies.py: {missing}"
    stale = sorted(set(STRATEGIES) - set(OPS))
    assert not stale, f"strategies for types that are not functional or stored: {stale}"
    assert set(STRICTER) <= set(OPS)


@pytest.mark.parametrize("name", OPS)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_tensor_op_matches_torch(name: str, data: st.DataObject) -> None:
    if name not in STRATEGIES:
        pytest.fail(f"no strategy for '{name}': add one to tests/op_strategies.py")
    args, inputs = data.draw(STRATEGIES[name], label="args, inputs")
    check_case(name, args, inputs)
