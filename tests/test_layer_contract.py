"""The layer contract, checked against torch itself for every registered layer type.

For each single-input type in the registry, Hypothesis draws arguments and a per-sample
input shape (``layer_strategies.STRATEGIES``) and the test checks archspec's static
answer against a torch module built here (the class named by the layer's ``torch_module`` and
``torch_name``: ``torch.nn``, or ``torchvision.ops``), independently of the layer's own ``build()``:

* torch raises (constructing the module or running it on a batch of 2, in eval mode and
  under ``no_grad``) if and only if archspec rejects (a pydantic ValidationError, or a
  LayerError from ``infer``), except where ``STRICTER`` says archspec rejects on purpose;
* when both accept: the output's per-sample shape equals the inferred shape, the parameter
  count equals torch's, the mult-adds equal torchinfo's count divided by the batch, and the
  FLOPs equal ``torch.utils.flop_counter.FlopCounterMode``'s count of that forward pass divided
  by the batch (its formulas are linear in the batch, so the division is exact);
* ``build()`` makes the same module (type, parameter and buffer shapes, output shape);
* ``state_entries()`` are the module's ``state_dict()``: keys, shapes, dtypes, kinds, order.

A registered single-input type without a strategy fails the test. Run more examples with
``ARCHSPEC_HYPOTHESIS_PROFILE=thorough pytest tests/test_layer_contract.py`` (10x).
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torchinfo
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event
from hypothesis_profiles import examples
from layer_strategies import INFERRED_FROM_SHAPE, STRATEGIES, STRICTER, Case, Shape
from pydantic import ValidationError
from state_check import assert_state_matches
from torch.utils.flop_counter import FlopCounterMode

from archspec.backends.graphviz import FAMILY_COLORS
from archspec.errors import LayerError
from archspec.layers.base import Layer, LayerResult
from archspec.layers.registry import layer_types

EXAMPLES = examples(200)
BATCH = 2

ALL_TYPES = sorted(layer_types())
COVERED_ELSEWHERE = {
    "Embedding": "test_embedding.py",
    "EmbeddingBag": "test_embedding.py",
    "RNN": "test_recurrent_contract.py",
    "LSTM": "test_recurrent_contract.py",
    "GRU": "test_recurrent_contract.py",
    **dict.fromkeys(
        [
            "TransformerEncoderLayer",
            "TransformerDecoderLayer",
            "TransformerEncoder",
            "TransformerDecoder",
            "Transformer",
        ],
        "test_transformer_contract.py",  # sequences and masks by role
    ),
    "MultiheadAttention": "test_attention_contract.py",
}
"""Module types with several or non-float inputs or several outputs, and the file whose torch contract covers each."""


pytestmark = pytest.mark.usefixtures("module_one_thread")


def single_input(cls: type[Layer]) -> bool:
    # Merge nodes (add, concat, mul) take several inputs (max_inputs != 1) and are functions in
    # the generated forward, not torch modules: this single-input contract does not cover them;
    # tensor operations and held tensors have their own (tests/test_tensor_ops.py), and layers that
    # take integer ids (Embedding) theirs (tests/test_embedding.py), and recurrent layers (several
    # outputs) theirs (tests/test_recurrent_contract.py).
    return (
        cls.max_inputs == 1
        and not cls.functional
        and not cls.stored
        and "float" in cls.accepts
        and cls.type_name() not in COVERED_ELSEWHERE
    )


# -- the two sides ---------------------------------------------------------------------------


def archspec_side(name: str, args: dict[str, Any], shape: Shape) -> tuple[Layer | None, LayerResult | Exception]:
    """(the validated layer or None, the inferred result or the rejection)."""
    cls = layer_types()[name]
    try:
        layer = cls.model_validate({"type": name, **args}, context={"resolved": True})
    except ValidationError as exc:
        return None, exc
    try:
        return layer, layer.infer([shape])
    except LayerError as exc:
        return layer, exc


def torch_kwargs(name: str, args: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """The constructor arguments: the written ones, plus inferred ones read off the shape."""
    kwargs: dict[str, Any] = {}
    for field in layer_types()[name].inferred_fields:
        assert field in INFERRED_FROM_SHAPE, f"{name} infers '{field}': teach INFERRED_FROM_SHAPE how torch reads it"
        if args.get(field) is None and shape:
            kwargs[field] = INFERRED_FROM_SHAPE[field](shape)
    kwargs.update({k: tuple(v) if isinstance(v, list) else v for k, v in args.items()})
    return kwargs


def torch_side(name: str, args: dict[str, Any], shape: Shape) -> tuple[torch.nn.Module | None, Any]:
    """(the module or None, its output or what torch raised), constructed with torch directly."""
    cls = layer_types()[name]
    torch_class = getattr(
        importlib.import_module(cls.torch_module), cls.torch_name or name
    )  # torch.nn, or torchvision.ops
    x = torch.randn(BATCH, *shape)
    try:
        # torch warnings (e.g. InstanceNorm's num_features mismatch) are not errors
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch_class(**torch_kwargs(name, args, shape))
            module.eval()
            with torch.no_grad():
                out = module(x)
    except Exception as exc:  # torch raises RuntimeError, ValueError, TypeError, IndexError, ...
        return None, exc
    if not isinstance(out, torch.Tensor):
        # e.g. return_indices=True: a tuple cannot feed the next layer, so archspec must reject it
        return None, TypeError(f"returned {type(out).__name__}, not one tensor")
    return module, out


def counted_flops(module: torch.nn.Module, shape: Shape) -> int:
    """FlopCounterMode's count for one forward pass, per sample, with autograd on as in ``test_flops.py``."""
    with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        module(torch.randn(BATCH, *shape))
    flops = counter.get_total_flops()
    assert flops % BATCH == 0
    return flops // BATCH


def torchinfo_macs(module: torch.nn.Module, shape: Shape) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = torchinfo.summary(module, input_data=torch.randn(BATCH, *shape), verbose=0, device="cpu")
    assert stats.total_mult_adds % BATCH == 0
    return stats.total_mult_adds // BATCH


def outcome(label: str) -> None:
    """Count outcomes in Hypothesis' statistics (``--hypothesis-show-statistics``)."""
    if currently_in_test_context():
        event(label)


def rejection(exc: Any) -> str:
    """A short label of why archspec rejected, for Hypothesis' statistics."""
    if isinstance(exc, ValidationError):
        return "schema " + ".".join(str(p) for p in exc.errors()[0]["loc"][:1])
    return f"shape rule {exc.field}"


# -- the contract ----------------------------------------------------------------------------


def check_case(name: str, args: dict[str, Any], shape: Shape) -> None:
    layer, result = archspec_side(name, args, shape)
    case = f"{name}({args}) on per-sample input {list(shape)}"
    rejected = isinstance(result, Exception)
    if isinstance(result, LayerError):
        assert result.message, f"{case}: LayerError without a message"
        assert result.hint, f"{case}: LayerError without a hint: {result.message}"
        fields = layer_types()[name].model_fields
        assert result.field is None or result.field in fields, f"{case}: LayerError names unknown field {result.field}"

    reason = STRICTER.get(name, lambda a, s: None)(args, shape)
    if reason is not None:
        assert rejected, f"{case}: archspec must reject ({reason}) but inferred {result}"
        outcome("archspec stricter than torch")
        return

    module, out = torch_side(name, args, shape)
    if module is None:
        assert rejected, f"{case}: torch raises {type(out).__name__}: {out}\nbut archspec infers {result}"
        outcome(f"both reject: {rejection(result)}")
        return
    assert not rejected, f"{case}: torch gives output {list(out.shape)} but archspec rejects: {result}"
    assert isinstance(result, LayerResult) and layer is not None
    outcome("both accept")

    assert tuple(out.shape[1:]) == result.shape, f"{case}: torch shape {list(out.shape[1:])}, archspec {result.shape}"
    params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert result.params == params, f"{case}: torch has {params} parameters, archspec {result.params}"
    assert result.trainable == trainable, f"{case}: torch has {trainable} trainable, archspec {result.trainable}"
    macs = torchinfo_macs(module, shape)
    assert result.macs == macs, f"{case}: torchinfo counts {macs} mult-adds per sample, archspec {result.macs}"
    flops = counted_flops(module, shape)
    assert result.flops == flops, f"{case}: FlopCounterMode counts {flops} FLOPs per sample, archspec {result.flops}"

    # the layer's own build() must make the same module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = layer.build([shape]).eval()
        with torch.no_grad():
            built_out = built(torch.randn(BATCH, *shape))
    assert type(built) is type(module), f"{case}: build() made {type(built).__name__}"
    state = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    built_state = {k: tuple(v.shape) for k, v in built.state_dict().items()}
    assert built_state == state, f"{case}: build() state_dict {built_state}, torch {state}"
    assert_state_matches(layer, [shape], module, case)
    assert built_out.shape == out.shape, f"{case}: build() output {list(built_out.shape)}, torch {list(out.shape)}"


def test_every_layer_type_has_a_strategy() -> None:
    missing = sorted(n for n in ALL_TYPES if single_input(layer_types()[n]) and n not in STRATEGIES)
    assert not missing, f"layer types without a contract strategy in tests/layer_strategies.py: {missing}"
    stale = sorted(set(STRATEGIES) - set(ALL_TYPES))
    assert not stale, f"strategies for layer types that are not registered: {stale}"


MODULE_TYPES = [name for name in ALL_TYPES if single_input(layer_types()[name])]
"""The types this contract covers; the others are covered by test_tensor_op_contract.py
(functional and held types) and the files named in COVERED_ELSEWHERE."""


def test_every_layer_type_is_covered_by_a_contract() -> None:
    types = layer_types()
    rest = {n for n in ALL_TYPES if n not in MODULE_TYPES and not types[n].functional and not types[n].stored}
    assert rest == set(COVERED_ELSEWHERE), (
        f"layer types no contract test covers: {sorted(rest - COVERED_ELSEWHERE.keys())}"
    )
    for name, test_file in COVERED_ELSEWHERE.items():
        text = (Path(__file__).parent / test_file).read_text()
        assert re.search(rf"\b{name}\b", text), f"{test_file} does not test {name}"


@pytest.mark.parametrize("name", MODULE_TYPES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_layer_matches_torch(name: str, data: st.DataObject) -> None:
    if name not in STRATEGIES:
        pytest.fail(f"no contract strategy for layer type '{name}': add one to tests/layer_strategies.py")
    args, shape = data.draw(STRATEGIES[name], label="args, shape")
    check_case(name, args, shape)


# -- label() and build() on one valid example per type ---------------------------------------


def valid_example(name: str) -> Case:
    """A case that both archspec and torch accept."""

    def accepted(case: Case) -> bool:
        args, shape = case
        _, result = archspec_side(name, args, shape)
        return isinstance(result, LayerResult) and torch_side(name, args, shape)[0] is not None

    # no shrinking: any accepted case will do, and shrinking would cost seconds per type
    quick = settings(max_examples=2000, database=None, phases=[Phase.generate])
    return find(STRATEGIES[name], accepted, settings=quick)


@pytest.mark.parametrize("name", MODULE_TYPES)
def test_label_and_build(name: str) -> None:
    cls = layer_types()[name]
    if name not in STRATEGIES:
        pytest.fail(f"no contract strategy for layer type '{name}': add one to tests/layer_strategies.py")
    args, shape = valid_example(name)
    layer = cls.model_validate({"type": name, **args}, context={"resolved": True})
    assert isinstance(layer.label(), str)
    assert isinstance(layer.build([shape]), torch.nn.Module)
    assert cls.family in FAMILY_COLORS and cls.family != "other", f"'{name}' needs its own family"


# -- torch's corner cases, pinned ------------------------------------------------------------

CORNER_CASES = [
    # ceil_mode: a last window that would start in the right padding is dropped (aten pooling_output_shape)
    ("MaxPool2d", {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True}, (1, 5, 5), (1, 2, 2)),
    ("AvgPool1d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}, (1, 5), (1, 3)),
    # padding is bounded by half the kernel, not half the dilated kernel
    ("MaxPool2d", {"kernel_size": 3, "padding": 2, "dilation": 2}, (1, 9, 9), None),
    ("MaxPool2d", {"kernel_size": 2, "padding": 1, "dilation": 3}, (1, 5, 4), (1, 2, 2)),
    ("MaxPool1d", {"kernel_size": 4, "stride": 2}, (1, 3), None),
    # AvgPool3d compares the raw input with the kernel (padding not counted); AvgPool2d does not
    ("AvgPool3d", {"kernel_size": 3, "padding": 1}, (1, 2, 5, 5), None),
    ("AvgPool2d", {"kernel_size": 3, "padding": 1}, (1, 2, 5), (1, 1, 2)),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": 0}, (1, 4, 4), None),
    ("MaxPool2d", {"kernel_size": 2, "return_indices": True}, (1, 4, 4), None),
    ("AdaptiveAvgPool2d", {"output_size": [None, 3]}, (2, 5, 4), (2, 5, 3)),
    ("AdaptiveMaxPool1d", {"output_size": 9}, (2, 5), (2, 9)),
    ("Conv2d", {"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": "same"}, (1, 6, 6), None),
    ("Conv2d", {"out_channels": 2, "kernel_size": 4, "dilation": 2, "padding": "same"}, (1, 6, 6), (2, 6, 6)),
    ("Conv1d", {"out_channels": 2, "kernel_size": 3, "padding": 4, "padding_mode": "reflect"}, (1, 4), None),
    ("Conv1d", {"out_channels": 2, "kernel_size": 3, "padding": 3, "padding_mode": "reflect"}, (1, 4), (2, 8)),
    ("Conv1d", {"out_channels": 2, "kernel_size": 3, "padding": 4, "padding_mode": "circular"}, (1, 4), (2, 10)),
    ("Conv2d", {"out_channels": 4, "kernel_size": 1, "groups": 4}, (6, 3, 3), None),
    ("ConvTranspose1d", {"out_channels": 1, "kernel_size": 3, "stride": 2, "output_padding": 2}, (1, 4), None),
    ("ConvTranspose1d", {"out_channels": 1, "kernel_size": 3, "stride": 2, "output_padding": 1}, (1, 4), (1, 10)),
    ("BatchNorm1d", {}, (4,), (4,)),
    ("BatchNorm2d", {"num_features": 4}, (3, 2, 2), None),
    ("GroupNorm", {"num_groups": 4}, (6, 2), None),
    ("GroupNorm", {"num_groups": 3}, (6,), (6,)),
    ("LayerNorm", {"normalized_shape": [2, 3]}, (4, 2, 3), (4, 2, 3)),
    ("LayerNorm", {"normalized_shape": 4}, (4, 2, 3), None),
    ("InstanceNorm1d", {}, (3, 1), None),
]


@pytest.mark.parametrize(("name", "args", "shape", "expected"), CORNER_CASES)
def test_corner_case(name: str, args: dict[str, Any], shape: Shape, expected: Shape | None) -> None:
    _, result = archspec_side(name, args, shape)
    if expected is None:
        assert isinstance(result, Exception), f"{name}({args}) on {list(shape)} must be rejected, got {result}"
    else:
        assert isinstance(result, LayerResult) and result.shape == expected, f"{name}({args}): {result}"
    check_case(name, args, shape)
