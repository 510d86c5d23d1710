"""Benchmark table: archspec's saved-for-backward bytes against torch, for every shipped spec.

For each spec in ``specs/``, one train-mode forward on CPU of ``archspec.build(spec)`` under
``torch.autograd.graph.saved_tensors_hooks`` (``tests/saved_tensors.py``: each storage once,
parameters and buffers apart) against ``archspec.memory(spec, device="cpu")``, in float32, and
with ``--amp`` under bf16 autocast too. Also times the static analysis (no torch) per spec.

Run: .venv/bin/python bench/memory.py [--batch 2] [--amp] [--markdown]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast instead of float32")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    import torch
    from saved_tensors import measure
    from test_memory import inputs

    import archspec

    torch.set_num_threads(1)
    rows = []
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        compiled = archspec.load(path)
        started = time.perf_counter()
        report = archspec.memory(
            compiled, batch_size=args.batch, device="cpu", amp=args.amp, dtype="bf16" if args.amp else "fp32"
        )
        static_ms = (time.perf_counter() - started) * 1000
        torch.manual_seed(0)
        model = archspec.build(compiled, max_param_bytes=None)
        try:
            autocast = torch.bfloat16 if args.amp else None
            measured = measure(model, *inputs(compiled, args.batch), autocast=autocast).activations
        except RuntimeError as exc:  # torch's own refusal (oneDNN's LSTM under CPU autocast)
            failed = f"torch fails: {str(exc)[:40]}"
            rows.append((path.stem, f"{report.saved:,}", failed, "-", f"{static_ms:.0f} ms"))
            continue
        error = (report.saved - measured) / measured * 100
        rows.append((path.stem, f"{report.saved:,}", f"{measured:,}", f"{error:+.3f}%", f"{static_ms:.0f} ms"))
        print(*rows[-1], sep="\t", file=sys.stderr, flush=True)
    headers = ("spec", "archspec (bytes)", "torch saved_tensors_hooks (bytes)", "error", "static analysis")
    if args.markdown:
        print("| " + " | ".join(headers) + " |")
        print("|---|--:|--:|--:|--:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        for row in [headers, *rows]:
            print(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )


if __name__ == "__main__":
    main()
