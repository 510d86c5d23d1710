"""Benchmark: how long does ``archspec diagram`` take to write DOT for big specs?

Prints, for generated ResNet-like chains of 1,000 and 10,000 layers (the same generator
as ``bench/validate.py``), the in-process time to compile, to build the DOT (the
``graphviz`` package), and the two together plus the atomic write, as
``archspec diagram SPEC -o OUT.dot`` does (median of runs). Target: 1k layers < 2 s.
Laying the graph out with ``dot`` (SVG/PNG) is Graphviz's time, not measured here.

Run: .venv/bin/python bench/diagram.py [--runs 3] [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from validate import generated_spec  # noqa: E402

from archspec.backends.graphviz import Diagram, render  # noqa: E402
from archspec.compiler.pipeline import compile_spec  # noqa: E402
from archspec.fileio import write_bytes_atomic  # noqa: E402


def measure(layers: int, runs: int, folder: Path) -> tuple[float, float, float, int]:
    text = generated_spec(layers)
    spec = folder / f"generated_{layers}.yaml"
    spec.write_text(text)
    out = folder / f"generated_{layers}.dot"
    compile_spec(spec)  # warm caches
    compiles, builds, totals, size = [], [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        compiled = compile_spec(spec)
        compiled_at = time.perf_counter()
        data = render(Diagram(compiled).build(), "dot")
        built_at = time.perf_counter()
        write_bytes_atomic(out, data)
        done = time.perf_counter()
        compiles.append(compiled_at - started)
        builds.append(built_at - compiled_at)
        totals.append(done - started)
        size = len(data)
    return statistics.median(compiles), statistics.median(builds), statistics.median(totals), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"{'layers':>8}  {'compile':>9}  {'build DOT':>9}  {'total .dot':>10}  {'DOT size':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for layers in args.sizes:
            compile_s, build_s, total_s, size = measure(layers, args.runs, Path(tmp))
            print(f"{layers:>8,}  {compile_s:>8.3f}s  {build_s:>8.3f}s  {total_s:>9.3f}s  {size / 1024:>7,.0f} KiB")


if __name__ == "__main__":
    main()
