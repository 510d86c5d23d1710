"""The transformer family against torch itself, property-tested.

Hypothesis draws a type (``TransformerEncoderLayer``, ``TransformerDecoderLayer``, the stacks,
``Transformer``), its arguments (d_model, nhead, dim_feedforward, activation, norm_first, bias,
layer_norm_eps, num_layers, the final norm), sequence lengths, and masks by role: attention
masks held (no batch dim) or batched, key padding masks, each ``bool`` or float (sometimes of
the wrong dtype, shape or batch layout), and the ``is_causal`` flags. Then:

* torch (a module made here from ``torch.nn``, independently of ``build()``) raises if and only
  if archspec rejects (``infer_types``: the elaborator's dtype and batch checks, then the
  layer's rules). torch is run in eval mode twice, with autograd on (the reference mode of
  ``tests/test_flops.py``) and under ``no_grad`` (where the encoder layer takes torch's fast
  path, which checks less): a case either run refuses counts as refused;
* when both accept: the output's per-sample shape and dtype, the parameter count, torchinfo's
  mult-adds and ``FlopCounterMode``'s FLOPs (autograd on) per sample equal archspec's;
* ``build()`` makes a module of the same class, state_dict keys and shapes, and output shape.

The batch is 7, longer than any drawn sequence, so no size equals the batch by chance (torch
reads a 3-d attention mask as ``(batch * nhead, L, S)`` and a rank-2 sequence as unbatched).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import torchinfo  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.control import currently_in_test_context, event  # noqa: E402
from hypothesis_profiles import examples  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from state_check import assert_state_matches  # noqa: E402
from strategy_cache import sampled  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archspec.compiler.elaborate import infer_types  # noqa: E402
from archspec.errors import LayerError  # noqa: E402
from archspec.layers.base import Layer, LayerResult, TensorType  # noqa: E402
from archspec.layers.registry import layer_types  # noqa: E402
from archspec.layers.transformer import ATTENTION_MASKS  # noqa: E402

EXAMPLES = examples(200)
BATCH = 7
TYPES = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
]
LAYER_ARGS = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "norm_first", "bias")
FLAGS = {
    "TransformerEncoderLayer": ("is_causal",),
    "TransformerEncoder": ("is_causal",),
    "TransformerDecoderLayer": ("tgt_is_causal", "memory_is_causal"),
    "TransformerDecoder": ("tgt_is_causal", "memory_is_causal"),
    "Transformer": ("src_is_causal", "tgt_is_causal", "memory_is_causal"),
}
Inputs = dict[str, TensorType]
Case = tuple[str, dict[str, Any], Inputs]


pytestmark = pytest.mark.usefixtures("module_one_thread")


# -- the strategy ----------------------------------------------------------------------------


def flag_mask(name: str, flag: str) -> str:
    """The mask a causal flag describes."""
    if flag == "is_causal":
        return "mask" if name == "TransformerEncoder" else "src_mask"
    return flag.removesuffix("_is_causal") + "_mask"


def _lengths(name: str, roles: tuple[str, ...], target: int, source: int) -> dict[str, int]:
    """Each sequence role's length: the target's for tgt, the source's for src and memory."""
    if name.startswith("TransformerEncoder"):
        return {"src": target}
    return {role: target if role == "tgt" else source for role in ("src", "tgt", "memory") if role in roles}


def _mask_lengths(name: str, role: str, lengths: dict[str, int]) -> tuple[int, int]:
    if name.startswith("TransformerEncoder") or role.startswith("src"):
        return lengths["src"], lengths["src"]
    own = "tgt" if role.startswith("tgt") else "memory" if "memory" in lengths else "src"
    return lengths["tgt"], lengths[own]


@st.composite
def transformer_case(draw: st.DrawFn) -> Case:
    name = draw(sampled(TYPES))
    cls = layer_types()[name]
    nhead = draw(sampled([1, 1, 2, 3, 4]))
    width = nhead * draw(st.integers(1, 3)) if draw(st.integers(0, 9)) else draw(st.integers(1, 8))
    args: dict[str, Any] = {"nhead": nhead}
    if draw(st.integers(0, 5)) == 0:
        args["d_model"] = draw(sampled([width, width + 1]))
    args["dim_feedforward"] = draw(st.integers(1, 12))
    for key, values in {
        "activation": sampled(["relu", "gelu"]),
        "norm_first": st.booleans(),
        "bias": st.booleans(),
        "layer_norm_eps": sampled([1e-5, 1e-3, 0.5]),
        "dropout": sampled([0.0, 0.1, 0.5]),
    }.items():
        if draw(st.booleans()):
            args[key] = draw(values)
    if name in ("TransformerEncoder", "TransformerDecoder"):
        args["num_layers"] = draw(st.integers(1, 3))
        if draw(st.booleans()):
            args["norm"] = draw(st.booleans())
    if name == "TransformerEncoder" and draw(st.booleans()):
        args["enable_nested_tensor"] = draw(st.booleans())
    if name == "Transformer":
        args["num_encoder_layers"] = draw(st.integers(1, 2))
        args["num_decoder_layers"] = draw(st.integers(1, 2))
    for flag in FLAGS[name]:
        if draw(st.integers(0, 3)) == 0:
            args[flag] = draw(sampled([False, True, True]))

    roles = cls.input_roles
    lengths = _lengths(name, roles, draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    dtype = "float64" if draw(st.integers(0, 24)) == 0 else "float32"
    inputs: Inputs = {}
    for role, length in lengths.items():
        shape: tuple[int, ...] = (length, width)
        edit = draw(st.integers(0, 40))
        if edit == 0:
            shape = (length, width + 1)
        elif edit == 1:
            shape = (length, 2, width)
        elif edit == 4:
            shape = (width,)
        inputs[role] = TensorType(shape, "int64" if edit == 2 else dtype, batched=edit != 3)
    causal = {flag_mask(name, flag) for flag in FLAGS[name] if args.get(flag) is True}
    for role in roles:
        if role in lengths or (draw(st.integers(0, 2)) and (role not in causal or not draw(st.integers(0, 9)))):
            continue
        target, source = _mask_lengths(name, role, lengths)
        mask_dtype = draw(sampled(["bool"] * 6 + [dtype] * 6 + ["float64", "int64"]))
        if role in ATTENTION_MASKS:
            wrong = [(target, source + 1), (source,), (nhead, target, source)]
            shape = draw(sampled([(target, source)] * 24 + wrong))
            batched = draw(st.integers(0, 9)) == 0
        else:
            shape = draw(sampled([(source,)] * 24 + [(source + 1,), (target, source)]))
            batched = draw(st.integers(0, 15)) != 0
        inputs[role] = TensorType(shape, mask_dtype, batched)
    return name, args, inputs


# -- the two sides ---------------------------------------------------------------------------


def archspec_side(name: str, args: dict[str, Any], inputs: Inputs) -> tuple[Layer | None, Any]:
    """(the layer, (its result, the output type)) or (the layer or None, the rejection)."""
    cls = layer_types()[name]
    try:
        layer = cls.model_validate({"type": name, **args}, context={"resolved": True})
    except ValidationError as exc:
        return None, exc
    layer = layer.with_roles(tuple(inputs))
    try:
        return layer, infer_types(layer, list(inputs.values()))
    except LayerError as exc:
        return layer, exc


def sample(t: TensorType, mask: bool = False) -> Any:
    """A tensor of this type; a mask masks some keys but never the first (a fully masked row is NaN,
    and torch's nested-tensor path refuses a batch that is all padding: values, not shapes)."""
    full = (BATCH, *t.shape) if t.batched else t.shape
    dtype = getattr(torch, t.dtype)
    if not mask:
        return torch.randn(full, dtype=dtype) if dtype.is_floating_point else torch.randint(0, 2, full, dtype=dtype)
    masked = torch.rand(full) > 0.7
    if masked.dim():
        masked[..., 0] = False
    if t.dtype == "bool":
        return masked
    return masked.to(dtype) * -1.0 if dtype.is_floating_point else masked.to(dtype)


def samples(inputs: Inputs) -> dict[str, Any]:
    return {role: sample(t, mask=role.endswith("mask")) for role, t in inputs.items()}


def torch_module(name: str, args: dict[str, Any], width: int) -> nn.Module:
    """The torch module, made from ``torch.nn`` directly (a stack from a layer instance)."""
    kwargs = {k: v for k, v in args.items() if k in LAYER_ARGS}
    kwargs.setdefault("d_model", width)
    kwargs["batch_first"] = True
    if name == "Transformer":
        counts = {k: args[k] for k in ("num_encoder_layers", "num_decoder_layers")}
        return nn.Transformer(**kwargs, **counts)
    if not name.endswith("Layer") and name != "Transformer":
        layer = getattr(nn, name + "Layer")(**kwargs)
        eps, bias = kwargs.get("layer_norm_eps", 1e-5), kwargs.get("bias", True)
        norm = nn.LayerNorm(kwargs["d_model"], eps=eps, bias=bias) if args.get("norm") else None
        extra = {k: args[k] for k in ("enable_nested_tensor",) if k in args}
        return getattr(nn, name)(layer, args["num_layers"], norm=norm, **extra)
    return getattr(nn, name)(**kwargs)


def call(module: nn.Module, name: str, args: dict[str, Any], tensors: dict[str, Any]) -> Any:
    sequences = [v for k, v in tensors.items() if k in ("src", "tgt", "memory")]
    named = {k: v for k, v in tensors.items() if k not in ("src", "tgt", "memory")}
    flags = {k: args[k] for k in FLAGS[name] if k in args}
    return module(*sequences, **named, **flags)


def torch_side(name: str, args: dict[str, Any], inputs: Inputs) -> tuple[nn.Module | None, Any]:
    """(the module and its output, autograd on) or (None, what torch raised in either mode)."""
    first = next(iter(inputs.values()))
    tensors = samples(inputs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch_module(name, args, first.shape[-1] if first.shape else 1).eval()
            if first.kind == "float":  # a model in float64 is the float32 one moved with .to()
                module = module.to(getattr(torch, first.dtype))
            with torch.no_grad():
                call(module, name, args, tensors)  # the fast path
            out = call(module, name, args, tensors)
    except Exception as exc:  # torch raises AssertionError, RuntimeError, ValueError, IndexError...
        return None, exc
    return module, out


def flops_and_macs(module: nn.Module, name: str, args: dict[str, Any], inputs: Inputs) -> tuple[int, int]:
    tensors = samples(inputs)
    with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        call(module, name, args, tensors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequences = [v for k, v in tensors.items() if k in ("src", "tgt", "memory")]
        named = {k: v for k, v in tensors.items() if k not in ("src", "tgt", "memory")}
        flags = {k: args[k] for k in FLAGS[name] if k in args}
        # train mode: in eval, torchinfo's no_grad lets TransformerEncoder pack a padded batch into a
        # nested tensor, which torchinfo's hooks cannot size; the hooks count the same modules either way
        stats = torchinfo.summary(module, input_data=sequences, verbose=0, device="cpu", mode="train", **named, **flags)
    return counter.get_total_flops(), stats.total_mult_adds


# -- where archspec is stricter than torch on purpose ----------------------------------------


def stricter(name: str, args: dict[str, Any], inputs: Inputs) -> str | None:
    """A reason archspec refuses a case torch may run, or None."""
    for role, t in inputs.items():
        if role in ("src", "tgt", "memory") and len(t.shape) == 1:
            return "a rank-1 sequence per sample: torch reads the batched tensor as one unbatched sequence"
        if role in ("src", "tgt", "memory") and not t.batched:
            return "a held sequence: torch runs it as one unbatched sequence; archspec's sequences have a batch"
    for flag in FLAGS[name]:
        if args.get(flag) is True and flag_mask(name, flag) in inputs:
            return "a causal hint: torch may drop the mask unchecked (the hint replaces it on some paths)"
    return None


def outcome(label: str) -> None:
    if currently_in_test_context():
        event(label)


# -- the contract ----------------------------------------------------------------------------


def check_case(name: str, args: dict[str, Any], inputs: Inputs) -> None:
    layer, result = archspec_side(name, args, inputs)
    case = f"{name}({args}) on {inputs}"
    rejected = isinstance(result, Exception)
    if isinstance(result, LayerError):
        assert result.message and result.hint, f"{case}: a LayerError needs a message and a hint: {result}"
        assert result.field is None or result.field in layer_types()[name].model_fields, case
    module, out = torch_side(name, args, inputs)
    if module is None:
        assert rejected, f"{case}: torch raises {type(out).__name__}: {out}\nbut archspec infers {result}"
        outcome(f"both reject: {str(result)[:60]}")
        return
    if rejected and (reason := stricter(name, args, inputs)):
        outcome(f"archspec stricter: {reason[:30]}")
        return
    assert not rejected, f"{case}: torch gives {list(out.shape)} but archspec rejects: {result}"
    assert layer is not None
    static, output = result
    assert isinstance(static, LayerResult) and isinstance(output, TensorType)
    outcome("both accept")
    assert tuple(out.shape[1:]) == static.shape and out.shape[0] == BATCH, f"{case}: torch {list(out.shape)}"
    assert str(out.dtype).removeprefix("torch.") == output.dtype, f"{case}: torch {out.dtype}, archspec {output.dtype}"
    assert static.params == sum(p.numel() for p in module.parameters()), case
    flops, macs = flops_and_macs(module, name, args, inputs)
    assert static.flops * BATCH == flops, f"{case}: FlopCounterMode {flops / BATCH}, archspec {static.flops}"
    assert static.macs * BATCH == macs, f"{case}: torchinfo {macs / BATCH}, archspec {static.macs}"

    shapes = [t.layer_shape() for t in inputs.values()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = layer.build(shapes).eval().to(out.dtype)
        built_out = call(built, name, args, samples(inputs))
    assert type(built) is type(module), f"{case}: build() made {type(built).__name__}"
    state = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in built.state_dict().items()} == state, f"{case}: build() state_dict"
    assert built_out.shape == out.shape, case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = torch_module(name, args, next(iter(inputs.values())).shape[-1])  # float32, as archspec builds
    assert_state_matches(layer, shapes, fresh, case)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=transformer_case())
def test_transformer_matches_torch(case: Case) -> None:
    check_case(*case)


# -- torch's errors, pinned ------------------------------------------------------------------

SEQ = TensorType((5, 8))
MEM = TensorType((3, 8))
ONE = {"nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1}
BOOL_55, BOOL_5, INT_5 = TensorType((5, 5), "bool"), TensorType((5,), "bool"), TensorType((5,), "int64")
PINNED: list[tuple[str, dict[str, Any], Inputs, str]] = [
    ("TransformerEncoderLayer", {"nhead": 3}, {"src": SEQ}, "divisible by nhead"),
    ("TransformerEncoderLayer", {"nhead": 2, "d_model": 6}, {"src": SEQ}, "d_model is 6"),
    ("TransformerEncoderLayer", {"nhead": 2, "is_causal": True}, {"src": SEQ}, "no src_mask"),
    ("TransformerEncoderLayer", {"nhead": 2}, {"src": SEQ, "src_mask": BOOL_55}, "batch"),
    ("TransformerEncoderLayer", {"nhead": 2}, {"src": TensorType((5, 8), "int64")}, "src must be a float"),
    ("TransformerEncoderLayer", {"nhead": 2}, {"src": SEQ, "src_mask": TensorType((5, 4), "bool", False)}, "(5, 5)"),
    ("TransformerEncoderLayer", {"nhead": 2}, {"src": SEQ, "src_key_padding_mask": INT_5}, "must be bool"),
    ("TransformerEncoder", {"nhead": 2, "num_layers": 2},
     {"src": SEQ, "mask": TensorType((5, 5), "float64", False)}, "float32"),
    ("TransformerDecoderLayer", {"nhead": 2}, {"tgt": SEQ, "memory": TensorType((3, 4))}, "memory has 4"),
    ("TransformerDecoder", {"nhead": 2, "num_layers": 1},
     {"tgt": SEQ, "memory": MEM, "memory_key_padding_mask": BOOL_5}, "(3,)"),
    ("Transformer", ONE, {"src": MEM, "tgt": TensorType((5, 4, 8))}, "rank 3"),
    ("Transformer", ONE, {"src": MEM, "tgt": SEQ, "memory_mask": TensorType((5, 5), "bool", False)}, "(5, 3)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "inputs", "words"), PINNED, ids=[f"{p[0]}-{p[3]}" for p in PINNED])
def test_pinned_refusals(name: str, args: dict[str, Any], inputs: Inputs, words: str) -> None:
    """Each refusal says what is wrong; torch refuses the same case."""
    _, result = archspec_side(name, args, inputs)
    assert isinstance(result, LayerError) and words in result.message, result
    module, out = torch_side(name, args, inputs)
    assert module is None, f"torch runs {name}({args}) on {inputs}: {list(out.shape)}"


def test_batched_mask_with_one_head_is_torchs_3d_mask() -> None:
    """A batched (L, S) attention mask is torch's (batch * nhead, L, S) when nhead is 1."""
    check_case("TransformerEncoderLayer", {"nhead": 1}, {"src": SEQ, "src_mask": TensorType((5, 5), "bool")})


def test_a_rank_one_sequence_is_refused_where_torch_reads_it_unbatched() -> None:
    """Per sample (d_model,): torch takes the batched (batch, d_model) as one unbatched sequence."""
    _, result = archspec_side("TransformerEncoderLayer", {"nhead": 2}, {"src": TensorType((8,))})
    assert isinstance(result, LayerError) and "(rank 1)" in result.message
    module, out = torch_side("TransformerEncoderLayer", {"nhead": 2}, {"src": TensorType((8,))})
    assert module is not None and tuple(out.shape) == (BATCH, 8)
    assert stricter("TransformerEncoderLayer", {"nhead": 2}, {"src": TensorType((8,))})
