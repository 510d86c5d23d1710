"""Export table: which sequence layers (issue 12) script, trace, export and go to ONNX.

Each case is a tiny spec around one layer (or one of its argument combinations), built with
``archspec.build`` in eval mode and run on ``example_inputs`` (batch 2); every check starts from
a fresh copy of the model. For each, on CPU:

* ``script``: ``torch.jit.script(model)``, outputs equal to the model's;
* ``export torchscript``: the archive ``archspec export --format torchscript`` writes (scripted;
  traced where scripting fails or a layer's ``export_limit`` says it computes something else),
  loaded back: "scripted" or "traced" when it computes the model's outputs;
* ``fx``: ``torch.fx.symbolic_trace``, outputs equal;
* ``torch.export``: with a dynamic batch, outputs equal;
* ``compile``: ``torch.compile(fullgraph=True, backend="eager")`` (with ``allow_rnn``), outputs equal;
* ``onnx``: torch's exporter as ``archspec.backends.export.onnx_bytes`` calls it, ``onnx.checker``
  with ``full_check``, and ONNX's reference evaluator computing the model's outputs (rtol 1e-4, atol 1e-5);
* ``export onnx``: what ``archspec export --format onnx`` does: the same, or a refusal where a layer
  knows torch's exporter gets it wrong (``Layer.export_limit``).

A failure prints the first line of what torch (or the checker) said. The ONNX exporter is slow
(tens of seconds per recurrent case on a 2-core machine).

Run: .venv/bin/python bench/sequence_exports.py [--threads 2] [--no-onnx] [--markdown] [-k SUBSTRING]
"""

from __future__ import annotations

import argparse
import copy
import io
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKENS = "input: {shape: [6], dtype: int64, range: [0, 20]}\n"
SEQUENCE = "input: {shape: [6, 8]}\n"
TWO = "inputs:\n  x: {shape: [6, 8]}\n  memory: {shape: [5, 8]}\n"
CAUSAL = "  - {id: causal, type: Buffer, shape: [6, 6], fill: triu, diagonal: 1, dtype: bool, persistent: false}\n"

CASES: dict[str, str] = {
    "Embedding": TOKENS + "layers:\n  - {type: Embedding, num_embeddings: 20, embedding_dim: 4}",
    "Embedding padding_idx": TOKENS
    + "layers:\n  - {type: Embedding, num_embeddings: 20, embedding_dim: 4, padding_idx: 0}",
    "Embedding max_norm": TOKENS
    + "layers:\n  - {type: Embedding, num_embeddings: 20, embedding_dim: 4, max_norm: 1.0}",
    "Embedding sparse, scale_grad_by_freq": TOKENS
    + "layers:\n  - {type: Embedding, num_embeddings: 20, embedding_dim: 4, sparse: true, scale_grad_by_freq: true}",
    "EmbeddingBag mean": TOKENS + "layers:\n  - {type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4}",
    "EmbeddingBag max_norm": TOKENS
    + "layers:\n  - {type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, max_norm: 1.0}",
    "EmbeddingBag max": TOKENS + "layers:\n  - {type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, mode: max}",
    "EmbeddingBag sum, per_sample_weights": "inputs:\n  ids: {shape: [6], dtype: int64, range: [0, 20]}\n"
    "  w: {shape: [6]}\n"
    "layers:\n  - {type: EmbeddingBag, num_embeddings: 20, embedding_dim: 4, mode: sum,"
    " inputs: {input: ids, per_sample_weights: w}}",
    "RNN relu, 2 layers": SEQUENCE
    + "layers:\n  - {id: r, type: RNN, hidden_size: 5, num_layers: 2, nonlinearity: relu}"
    "\noutput: [r.0, r.1]",
    "LSTM bidirectional, 2 layers": SEQUENCE
    + "layers:\n  - {id: r, type: LSTM, hidden_size: 5, num_layers: 2, bidirectional: true}\noutput: [r.0, r.1, r.2]",
    "LSTM proj_size": SEQUENCE
    + "layers:\n  - {id: r, type: LSTM, hidden_size: 5, proj_size: 3}\noutput: [r.0, r.1, r.2]",
    "GRU bidirectional": SEQUENCE
    + "layers:\n  - {id: r, type: GRU, hidden_size: 5, bidirectional: true}\noutput: [r.0, r.1]",
    "GRU h_0 from another GRU": SEQUENCE + "layers:\n  - {id: a, type: GRU, hidden_size: 5}\n"
    "  - {id: b, type: GRU, hidden_size: 5, inputs: {input: input, h_0: a.1}}\noutput: b.0",
    "MultiheadAttention self": SEQUENCE + "layers:\n  - {type: MultiheadAttention, num_heads: 2}",
    "MultiheadAttention cross, kdim/vdim": "inputs: {x: {shape: [6, 8]}, memory: {shape: [5, 3]}}\n"
    "layers:\n  - {type: MultiheadAttention, num_heads: 2, kdim: 3, vdim: 3, inputs: [x, memory]}",
    "MultiheadAttention masks, need_weights": TWO + "  pad: {shape: [5], dtype: bool}\n"
    "layers:\n  - {id: held, type: Buffer, shape: [6, 5], fill: triu, diagonal: 1, dtype: bool}\n"
    "  - {id: a, type: MultiheadAttention, num_heads: 2, need_weights: true,"
    " inputs: {query: x, key: memory, value: memory, key_padding_mask: pad, attn_mask: held}}\noutput: [a.0, a.1]",
    "MultiheadAttention causal, add_bias_kv": SEQUENCE
    + "layers:\n"
    + CAUSAL
    + "  - {type: MultiheadAttention, num_heads: 2, add_bias_kv: true, inputs: {query: input, attn_mask: causal},"
    " is_causal: true}",
    "scaled_dot_product_attention (heads, L, E), is_causal": "input: {shape: [2, 6, 4]}\n"
    "layers:\n  - {type: scaled_dot_product_attention, inputs: [input, input, input], is_causal: true}",
    "scaled_dot_product_attention (L, E), float mask": SEQUENCE
    + "layers:\n  - {id: m, type: Buffer, shape: [6, 6], fill: zeros}\n"
    "  - {type: scaled_dot_product_attention, inputs: {query: input, key: input, value: input, attn_mask: m}}",
    "TransformerEncoderLayer gelu, norm_first": SEQUENCE
    + "layers:\n  - {type: TransformerEncoderLayer, nhead: 2, dim_feedforward: 16, activation: gelu, norm_first: true}",
    "TransformerEncoder padding mask, norm": "inputs: {x: {shape: [6, 8]}, pad: {shape: [6], dtype: bool}}\n"
    "layers:\n  - {type: TransformerEncoder, nhead: 2, dim_feedforward: 16, num_layers: 2, norm: true,"
    " inputs: {src: x, src_key_padding_mask: pad}}",
    "TransformerDecoderLayer causal": TWO
    + "layers:\n"
    + CAUSAL
    + "  - {type: TransformerDecoderLayer, nhead: 2, dim_feedforward: 16,"
    " inputs: {tgt: x, memory: memory, tgt_mask: causal}, tgt_is_causal: true}",
    "TransformerDecoder": TWO + "layers:\n  - {type: TransformerDecoder, nhead: 2, dim_feedforward: 16, num_layers: 2,"
    " inputs: [x, memory]}",
    "Transformer": TWO + "layers:\n  - {type: Transformer, d_model: 8, nhead: 2, dim_feedforward: 16,"
    " num_encoder_layers: 1, num_decoder_layers: 1, inputs: {src: memory, tgt: x}}",
}


def flat(value: Any) -> list[Any]:
    return [t for v in value for t in flat(v)] if isinstance(value, tuple | list) else [value]


def close(actual: Any, expected: Any) -> None:
    import torch

    for a, e in zip(flat(actual), flat(expected), strict=True):
        torch.testing.assert_close(torch.as_tensor(a), e, rtol=1e-4, atol=1e-5)


def attempt(run: Callable[[], object]) -> str:
    try:
        result = run()
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return "FAIL: " + (text[0] if text else type(exc).__name__)[:110]
    return result if isinstance(result, str) else "ok"


def check(name: str, text: str, with_onnx: bool) -> dict[str, str]:
    import torch

    import archspec
    from archspec.backends.export import example_inputs, export_limits, io_names, onnx_bytes, torchscript_bytes

    compiled = archspec.load(f"archspec: 1\nname: case\n{text}\n")
    torch.manual_seed(0)
    pristine = archspec.build(compiled).eval()
    inputs = example_inputs(compiled, batch=2, seed=1)

    def fresh() -> Any:
        """A copy of the untouched model: a forward may change weights (Embedding's max_norm renormalises)."""
        return copy.deepcopy(pristine)

    with torch.no_grad():
        expected = fresh()(*inputs)
    row = {"case": name}

    def script() -> None:
        close(torch.jit.script(fresh())(*inputs), expected)

    def archive() -> str:
        data, how = torchscript_bytes(fresh(), inputs, trace=bool(export_limits(compiled, "torchscript")))
        close(torch.jit.load(io.BytesIO(data))(*inputs), expected)
        return how

    def fx() -> None:
        close(torch.fx.symbolic_trace(fresh())(*inputs), expected)

    def exported() -> None:
        batch = torch.export.Dim("batch")
        program = torch.export.export(fresh(), inputs, dynamic_shapes=tuple({0: batch} for _ in inputs))
        close(program.module()(*inputs), expected)

    def compiled_graph() -> None:
        torch._dynamo.reset()
        with torch._dynamo.config.patch(allow_rnn=True):  # docs/sequence-models.md: dynamo refuses RNNs without it
            close(torch.compile(fresh(), fullgraph=True, backend="eager")(*inputs), expected)

    def onnx_run() -> None:
        import onnx
        from onnx.reference import ReferenceEvaluator

        proto = onnx.load_from_string(onnx_bytes(fresh(), inputs, **io_names(compiled)))
        onnx.checker.check_model(proto, full_check=True)
        feeds = {i.name: t.numpy() for i, t in zip(proto.graph.input, inputs, strict=True)}
        close(ReferenceEvaluator(proto).run(None, feeds), expected)

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row["script"] = attempt(script)
        row["export torchscript"] = attempt(archive)
        row["fx"] = attempt(fx)
        row["torch.export"] = attempt(exported)
        row["compile"] = attempt(compiled_graph)
        row["onnx"] = attempt(onnx_run) if with_onnx else "-"
        limits = export_limits(compiled, "onnx")
        row["export onnx"] = "refused: " + limits[0].partition(": ")[2] if limits else row["onnx"]
    row["s"] = f"{time.perf_counter() - started:.0f}"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-onnx", action="store_true", help="skip the (slow) ONNX export")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("-k", default="", help="only the cases whose name contains this")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # torch's exporter and oneDNN notes: the table says what failed
    header = False
    for name, text in CASES.items():
        if args.k in name:
            row = check(name, text, not args.no_onnx)
            if args.markdown and not header:
                print("| " + " | ".join(row) + " |\n|" + "---|" * len(row))
                header = True
            if args.markdown:
                print("| " + " | ".join(row.values()) + " |", flush=True)
            else:
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
