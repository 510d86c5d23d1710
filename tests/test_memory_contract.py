"""Saved-for-backward bytes, layer by layer, against torch (``torch.autograd.graph.saved_tensors_hooks``).

For every single-input module type (``layer_strategies.STRATEGIES``) and every functional tensor
operation (``op_strategies.STRATEGIES``), Hypothesis draws arguments and inputs; where both
archspec and torch accept them, one training-mode call on real tensors (each input its own
tensor, float inputs requiring grad or not) keeps exactly the bytes that
:func:`archspec.backends.memory.call_saved` predicts from :meth:`Layer.saved`, counted by
storage (``tests/saved_tensors.py``), parameters and buffers apart. Recurrent layers and
attention are checked on fixed cases below (their shipped specs too, in ``test_memory.py``).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from layer_strategies import STRATEGIES as MODULE_STRATEGIES  # noqa: E402
from op_strategies import STRATEGIES as OP_STRATEGIES  # noqa: E402
from saved_tensors import measure  # noqa: E402
from test_layer_contract import MODULE_TYPES, archspec_side, torch_side  # noqa: E402
from test_tensor_op_contract import OPS, sample, stricter  # noqa: E402

from archspec.backends.memory import call_saved  # noqa: E402
from archspec.backends.torch_backend import run_op  # noqa: E402
from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.base import LayerResult, TensorType  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402

EXAMPLES = int(os.environ.get("ARCHSPEC_HYPOTHESIS_EXAMPLES", "10"))
"""Fewer than the other contracts: each example builds and runs a module with autograd (40 per type pass too)."""
BATCH = 2

pytestmark = pytest.mark.usefixtures("module_one_thread")


class _Call(torch.nn.Module):
    """A functional layer's operation as a module, so ``measure`` can run it in training mode."""

    def __init__(self, op: Any) -> None:
        super().__init__()
        self.op = op

    def forward(self, *tensors: Any) -> Any:
        return run_op(self.op, list(tensors), training=True)


def _inputs(types: list[TensorType], grads: tuple[bool, ...]) -> list[Any]:
    """Real tensors: a float input that requires grad is a non-leaf (in-place layers refuse leaves)."""
    tensors = []
    for t, grad in zip(types, grads, strict=True):
        if not t.batched:
            x = sample(t)
        elif t.kind == "float":
            x = torch.randn(BATCH, *t.shape).to(getattr(torch, t.dtype))
        else:  # sample() would give the tensor-op contract's batch
            x = sample(t._replace(batched=False, shape=(BATCH, *t.shape)))
        tensors.append(x.requires_grad_().clone() if grad else x)
    return tensors


@pytest.mark.parametrize("name", MODULE_TYPES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_module_saves_what_torch_saves(name: str, data: st.DataObject) -> None:
    args, shape = data.draw(MODULE_STRATEGIES[name], label="args, shape")
    layer, result = archspec_side(name, args, shape)
    if not isinstance(result, LayerResult) or layer is None or torch_side(name, args, shape)[0] is None:
        return  # the contract test checks that both refuse; nothing runs
    grad = data.draw(st.booleans(), label="input requires grad")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = layer.build([shape])
        got = measure(module, *_inputs([TensorType(shape)], (grad,))).activations
    expected = call_saved(layer, [TensorType(shape)], grads=(grad,), batch=BATCH)
    assert expected == got, (
        f"{name}({args}) on {list(shape)}, grad={grad}: torch keeps {got} bytes, archspec {expected}"
    )


FUNCTIONAL = [name for name in OPS if not layer_types()[name].stored]
HALF_ON_CPU = {
    "scaled_dot_product_attention": "CPU's kernels for float16/bfloat16 attention keep float32 copies that "
    "archspec does not model (docs/analysis.md, 'Training memory'); float32 is exact, and CUDA's flash "
    "kernels keep what the rule says"
}
"""Operations whose saved bytes are exact for float32 only, and why."""


def _sums_first(equation: str) -> bool:
    """Whether torch's einsum sums an index of one operand away before the product (``bij,bkl->b``
    sums ``ij`` and ``kl`` first), and keeps those sums instead of the operands: archspec's rule
    covers products whose every index meets the other operand or the output."""
    operands, _, output = equation.replace(" ", "").partition("->")
    terms = operands.split(",")
    return len(terms) == 2 and any(
        i not in terms[1 - k] and i not in output for k, term in enumerate(terms) for i in term
    )


@pytest.mark.parametrize("name", FUNCTIONAL)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_operation_saves_what_torch_saves(name: str, data: st.DataObject) -> None:
    args, inputs = data.draw(OP_STRATEGIES[name], label="args, inputs")
    if name in HALF_ON_CPU and inputs[0].dtype in ("float16", "bfloat16"):
        return  # approximate by design (HALF_ON_CPU)
    if name == "einsum" and (_sums_first(args["equation"]) or len({t.shape for t in inputs}) > 1):
        return  # approximate by design (_sums_first; broadcast dims of size 1 are summed first too)
    if name == "scaled_dot_product_attention" and inputs[2].shape[:-2] != inputs[0].shape[:-2]:
        return  # approximate: a value broadcast over the query's leading dims (docs/analysis.md, what it leaves out)
    cls = layer_types()[name]
    layer = cls.model_validate({"type": name, **args}, context={"resolved": True})
    if stricter(name, cls, args, inputs) is not None:
        return
    try:
        infer_types(layer, inputs)
    except LayerError:
        return
    grads = tuple(
        t.kind == "float" and data.draw(st.booleans(), label=f"input {i} requires grad") for i, t in enumerate(inputs)
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = measure(_Call(layer.call([t.layer_shape() for t in inputs])), *_inputs(inputs, grads)).activations
    except Exception:  # torch refuses what archspec accepts: the tensor-op contract reports it
        return
    expected = call_saved(layer, inputs, grads=grads, batch=BATCH)
    assert expected == got, f"{name}({args}) on {inputs}, grads={grads}: torch keeps {got} bytes, archspec {expected}"


RECURRENT = [
    ("GRU", {"hidden_size": 6, "num_layers": 2, "dropout": 0.5}, (7, 3)),
    ("GRU", {"hidden_size": 5, "bidirectional": True}, (4, 3)),
    ("RNN", {"hidden_size": 4, "num_layers": 2, "nonlinearity": "relu"}, (5, 3)),
    ("RNN", {"hidden_size": 4, "bidirectional": True, "num_layers": 2, "dropout": 0.2}, (6, 2)),
    ("LSTM", {"hidden_size": 8, "num_layers": 2, "bidirectional": True, "dropout": 0.3}, (9, 5)),
    ("LSTM", {"hidden_size": 40, "num_layers": 1}, (30, 17)),
    ("LSTM", {"hidden_size": 6, "proj_size": 3, "num_layers": 2}, (5, 4)),
    ("MultiheadAttention", {"num_heads": 4}, (7, 16)),
    ("MultiheadAttention", {"num_heads": 2, "dropout": 0.1}, (5, 8)),
]


@pytest.mark.parametrize(("name", "args", "shape"), RECURRENT, ids=lambda v: str(v))
@pytest.mark.parametrize("grad", [False, True])
def test_sequence_layers_save_what_torch_saves(
    name: str, args: dict[str, Any], shape: tuple[int, ...], grad: bool
) -> None:
    layer = layer_types()[name].model_validate({"type": name, **args}, context={"resolved": True})
    types = [TensorType(shape)]
    module = layer.build([shape])
    call = layer.forward_call([shape])
    wrapped = _Call(call) if call is not None else module
    if call is not None:
        wrapped.op = call
        wrapped.module = module  # type: ignore[assignment]
        wrapped.forward = lambda x: run_op(call, [x], module, training=True)  # type: ignore[method-assign]
    got = measure(wrapped, *_inputs(types, (grad,))).activations
    assert call_saved(layer, types, grads=(grad,), batch=BATCH) == got
