"""specs/gpt_decoder.yaml against a hand-written GPT in the style of nanoGPT's ``model.py``.

The reference below is nanoGPT's model (Karpathy), trimmed to what the spec describes: the same
module names (so the same state_dict keys), ``F.scaled_dot_product_attention(is_causal=True)``
with dropout in training mode only, and logits for every position (nanoGPT's training path; its
generation path keeps the last position only). Checked: strict ``load_state_dict`` of the
reference's weights into the built model, logits equal within 1e-5 in eval mode (defaults and
overrides, biases on and off), the static shape and dtype of every node equal the tensor torch
computes there, parameters equal, static FLOPs equal ``FlopCounterMode``'s count of the reference.
"""

from __future__ import annotations

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.export import example_inputs  # noqa: E402
from archspec.compiler.ir import CompiledSpec  # noqa: E402

SPEC = Path(__file__).parent.parent / "specs" / "gpt_decoder.yaml"


@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig, tie_weights: bool = False) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if tie_weights:
            self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            torch.nn.init.normal_(module.bias, std=0.02)  # nanoGPT zeroes them; random ones test more
        if isinstance(module, nn.LayerNorm):
            torch.nn.init.normal_(module.weight, mean=1.0, std=0.1)
            if module.bias is not None:
                torch.nn.init.normal_(module.bias, std=0.1)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        _, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def reference(**overrides: Any) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**overrides))


def tokens(compiled: CompiledSpec, batch: int = 3) -> torch.Tensor:
    return example_inputs(compiled, batch=batch, seed=1)[0]


OVERRIDES = [
    {},
    {"bias": True, "n_layer": 2, "n_head": 8, "n_embd": 64, "vocab_size": 50, "block_size": 16},
    {"dropout": 0.2, "n_layer": 1, "n_head": 2, "n_embd": 32, "vocab_size": 20, "block_size": 8},
]


@pytest.mark.parametrize("overrides", OVERRIDES, ids=["defaults", "bias-8-heads", "dropout"])
def test_reference_weights_load_strictly_and_give_the_same_logits(overrides: dict[str, Any]) -> None:
    ref = reference(**overrides)
    compiled = archspec.load(SPEC, **overrides)
    model = archspec.build(compiled)
    assert list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict(ref.state_dict(), strict=True)
    idx = tokens(compiled)
    assert idx.dtype == torch.int64 and int(idx.max()) < ref.config.vocab_size
    with torch.no_grad():
        expected = ref.eval()(idx)
        actual = model.eval()(idx)
    assert actual.shape == expected.shape == (3, ref.config.block_size, ref.config.vocab_size)
    assert (actual - expected).abs().max().item() <= 1e-5


def test_state_dict_keys_are_nanogpts() -> None:
    keys = list(archspec.build(SPEC, n_layer=1, bias=True).state_dict())
    assert keys[:3] == ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight"]
    assert "transformer.h.0.attn.c_attn.weight" in keys and "transformer.h.0.mlp.c_proj.bias" in keys
    assert keys[-1] == "lm_head.weight" and not any(k.endswith("pos") for k in keys)  # arange: not persistent


def test_training_mode_drops_like_the_reference() -> None:
    """Same weights and seed: in training mode the dropout masks (embeddings, attention weights,
    residual branches) and so the logits are the reference's; one step gives the same gradients."""
    overrides = {"dropout": 0.3, "n_layer": 2, "n_head": 2, "n_embd": 32, "vocab_size": 20, "block_size": 8}
    ref = reference(**overrides)
    compiled = archspec.load(SPEC, **overrides)
    model = archspec.build(compiled)
    model.load_state_dict(ref.state_dict(), strict=True)
    idx = tokens(compiled)
    losses = []
    for net in (ref, model):
        torch.manual_seed(5)
        logits = net.train()(idx)
        loss = F.cross_entropy(logits.flatten(0, 1), idx.roll(-1, 1).flatten())
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    for (name, a), (_, b) in zip(ref.named_parameters(), model.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)
    with torch.no_grad():
        assert not torch.equal(model.train()(idx), model.eval()(idx))  # the dropout is live in training mode


def observed_values(model: nn.Module, idx: torch.Tensor) -> dict[str, Any]:
    """Every value torch computes in the built model, by spec path: module outputs (forward hooks)
    and the locals of generated forwards (a trace function, before the forward deletes them)."""
    paths = {id(module): name for name, module in model.named_modules()}
    seen: dict[str, Any] = {}

    def hook(name: str) -> Any:
        def record(_module: nn.Module, _args: Any, output: Any) -> None:
            seen.setdefault(name, output)

        return record

    def local_tracer(frame: FrameType, event: str, arg: Any) -> Any:
        prefix = paths[id(frame.f_locals["self"])]
        for key, value in frame.f_locals.items():
            if isinstance(value, torch.Tensor | tuple) and key not in ("self", "x"):
                seen.setdefault(f"{prefix}.{key}" if prefix else key, value)
        return local_tracer

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        generated = frame.f_code.co_filename.startswith("<archspec-generated")
        return local_tracer if generated and frame.f_code.co_name == "forward" else None

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    sys.settrace(tracer)
    try:
        with torch.no_grad():
            model.eval()(idx)
    finally:
        sys.settrace(None)
        for handle in handles:
            handle.remove()
    return seen


@pytest.mark.parametrize("overrides", OVERRIDES[:2], ids=["defaults", "bias-8-heads"])
def test_static_types_equal_the_tensors_torch_computes_at_every_node(overrides: dict[str, Any]) -> None:
    compiled = archspec.load(SPEC, **overrides)
    model = archspec.build(compiled)
    seen = observed_values(model, tokens(compiled, batch=2))
    buffers = dict(model.named_buffers())
    for node in compiled.nodes:
        if node.path in buffers:  # the arange positions: a buffer, read as is
            real: Any = buffers[node.path]
        else:
            assert node.path in seen, f"no tensor observed for node {node.path}"
            real = seen[node.path]
        parts = real if isinstance(real, tuple) else (real,)
        names = [f"{node.path}.{i}" for i in range(len(parts))] if isinstance(real, tuple) else [node.path]
        for name, tensor in zip(names, parts, strict=True):
            static = compiled.types[name]
            shape = tuple(tensor.shape[1:]) if static.batched else tuple(tensor.shape)
            assert (shape, f"torch.{static.dtype}") == (static.shape, str(tensor.dtype)), name
    ref = reference(**overrides)
    assert compiled.params_total == sum(p.numel() for p in ref.parameters())


@pytest.mark.parametrize("overrides", OVERRIDES[:2], ids=["defaults", "bias-8-heads"])
def test_static_flops_equal_flop_counter_mode_on_the_reference(overrides: dict[str, Any]) -> None:
    """CPU, eval mode: the attention takes torch's fused flash kernel, which FlopCounterMode counts as 0;
    the Linears count 2 * tokens * in * out each."""
    compiled = archspec.load(SPEC, **overrides)
    ref = reference(**overrides).eval()
    with FlopCounterMode(display=False) as counter:
        ref(tokens(compiled, batch=1))
    assert compiled.flops == counter.get_total_flops() > 0
    c, t, v, n = ref.config.n_embd, ref.config.block_size, ref.config.vocab_size, ref.config.n_layer
    assert compiled.flops == 2 * t * (n * 12 * c * c + c * v)


def masked_variant(tmp_path: Path) -> Path:
    """The spec with a tril mask buffer instead of is_causal (docs/sequence-models.md's second form)."""
    text = SPEC.read_text()
    causal = "inputs: {query: q, key: k, value: v}, is_causal: true,"
    assert causal in text
    buffer = (
        '- {id: causal, type: Buffer, shape: ["${in_shape[0]}", "${in_shape[0]}"], fill: tril, dtype: bool, '
        "persistent: false}\n      "
    )
    text = text.replace(
        "- {id: y, type: scaled_dot_product_attention,", buffer + "- {id: y, type: scaled_dot_product_attention,"
    )
    text = text.replace(causal, "inputs: {query: q, key: k, value: v, attn_mask: causal},")
    path = tmp_path / "gpt_masked.yaml"
    path.write_text(text)
    return path


def test_a_tril_mask_buffer_is_the_same_as_is_causal(tmp_path: Path) -> None:
    ref = reference()
    compiled = archspec.load(masked_variant(tmp_path))
    assert compiled.node("transformer.h.0.attn.y").sources[-1].endswith("causal")
    model = archspec.build(compiled)
    model.load_state_dict(ref.state_dict(), strict=True)  # the mask is not persistent
    idx = tokens(compiled)
    with torch.no_grad():
        assert (model.eval()(idx) - ref.eval()(idx)).abs().max().item() <= 1e-5
    with FlopCounterMode(display=False) as counter:
        model(tokens(compiled, batch=1))
    assert compiled.flops == counter.get_total_flops() == archspec.load(SPEC).flops  # a 2-d mask: fused


def test_the_token_range_follows_the_parameters() -> None:
    """``range: [0, "${vocab_size}"]``: an override moves the declared ids with the table."""
    assert archspec.load(SPEC, vocab_size=20).inputs["idx"].high == 20
    assert archspec.load(SPEC).inputs["idx"][:3] == ((64,), "int64", True)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('[0, "${vocab_size / 2}"]', "must be two integers low < high"),
        ('["${vocab_size}", 3]', "must be two integers low < high"),
        ('[0, "${vocab}"]', "vocab"),
        ('[0, "${vocab_size + 1}"]', "do not fit a table of 65"),
    ],
)
def test_a_bad_range_expression_is_a_clear_error(tmp_path: Path, written: str, message: str) -> None:
    text = SPEC.read_text().replace('range: [0, "${vocab_size}"]', f"range: {written}")
    path = tmp_path / "bad_range.yaml"
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "range:" in row or "id: wte" in row)
    with pytest.raises(archspec.SpecError) as caught:
        archspec.load(path)
    (diagnostic,) = caught.value.diagnostics
    assert message in diagnostic.message and diagnostic.file == str(path) and diagnostic.line >= line


def test_params_and_mult_adds_equal_torchinfo_on_the_reference() -> None:
    """torchinfo counts each weight once per sample, and the position table once per position (its
    output (T, C) has no batch dim, so torchinfo reads T as the batch): archspec's ``macs`` agree."""
    torchinfo = pytest.importorskip("torchinfo")
    compiled = archspec.load(SPEC)
    stats = torchinfo.summary(reference(), input_data=tokens(compiled, batch=1), verbose=0)
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds) == (812_416, 1_328_512)


def test_a_tied_reference_loads_strictly_and_gives_the_same_logits() -> None:
    """nanoGPT ties ``lm_head.weight`` to ``transformer.wte.weight``; its state_dict lists both keys (the
    same tensor), so it loads into the spec's untied head strictly and computes the same logits."""
    torch.manual_seed(0)
    ref = GPT(GPTConfig(), tie_weights=True)
    state = ref.state_dict()
    assert state["lm_head.weight"].data_ptr() == state["transformer.wte.weight"].data_ptr()
    compiled = archspec.load(SPEC)
    model = archspec.build(compiled)
    model.load_state_dict(state, strict=True)
    idx = tokens(compiled)
    with torch.no_grad():
        assert (model.eval()(idx) - ref.eval()(idx)).abs().max().item() <= 1e-5


SMALL = {"n_layer": 2, "n_head": 2, "n_embd": 16, "block_size": 8, "vocab_size": 20}


def test_scripts_traces_exports_and_compiles() -> None:
    """TorchScript (scripted), torch.fx, torch.export with a dynamic batch and
    torch.compile(fullgraph=True) compute what the built decoder computes."""
    from archspec.backends.export import torchscript_bytes

    compiled = archspec.load(SPEC, **SMALL)
    model = archspec.build(compiled).eval()
    idx = tokens(compiled)
    with torch.no_grad():
        expected = model(idx)
        data, how = torchscript_bytes(model, (idx,))
        assert how == "scripted"
        torch.testing.assert_close(torch.jit.load(io.BytesIO(data))(idx), expected)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(idx), expected)
        program = torch.export.export(model, (idx,), dynamic_shapes=({0: torch.export.Dim("batch")},))
        more = tokens(compiled, batch=5)
        torch.testing.assert_close(program.module()(more), model(more))
        torch._dynamo.reset()
        torch.testing.assert_close(torch.compile(model, fullgraph=True, backend="eager")(idx), expected)


@pytest.mark.slow
def test_exports_to_onnx() -> None:
    """Through torch.export to ONNX (the causal attention as ONNX's Attention or its decomposition):
    checked, and computing the same logits."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    from archspec.backends.export import io_names, onnx_bytes

    compiled = archspec.load(SPEC, **SMALL)
    model = archspec.build(compiled).eval()
    idx = tokens(compiled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = onnx.load_from_string(onnx_bytes(model, (idx,), **io_names(compiled)))
    onnx.checker.check_model(proto, full_check=True)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: idx.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(actual), model(idx), rtol=1e-4, atol=1e-5)
