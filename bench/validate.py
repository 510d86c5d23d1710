"""Benchmark: how fast is static validation, next to merely importing torch?

Prints, in one run on this machine:
  * wall time of `archspec validate specs/*.yaml` (a fresh interpreter, median of runs, archspec
    byte-compiled first as an installed package is) against `python -c "import torch"` (same, runs
    interleaved), and their ratio (target < 0.15), with the CPU time (user + sys) of each, and the
    part no archspec change can remove: importing pydantic (``pydantic.fields`` too: every model
    field is a ``Field``) and PyYAML;
  * in-process compile time (load + validate + expand + infer) of generated specs of
    1,000, 10,000 and 20,000 layers (target: 10k < 2 s; 20k/10k < 2.3).

Run: .venv/bin/python bench/validate.py [--runs 5] [--startup-only] [--baseline DIR]
(``--baseline``: another checkout, e.g. ``git worktree add DIR REV``, whose validate is timed in the
same runs; CPU times and instruction counts are the steadier before/after figures on a busy machine.)
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generated_spec(layers: int) -> str:
    """A ResNet-like chain: conv-bn-relu triples with a residual add every 4 nodes."""
    lines = ["archspec: 1", f"name: generated_{layers}", "input: {channels: 8, size: [16, 16]}", "layers:"]
    pattern = [
        "  - {{id: c{i}, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1, bias: false}}",
        "  - {{id: b{i}, type: BatchNorm2d}}",
        "  - {{id: r{i}, type: ReLU}}",
        "  - {{id: a{i}, type: add, inputs: [r{i}, {skip}]}}",
    ]
    previous = "input"
    for i in range(layers):
        line = pattern[i % 4].format(i=i // 4, skip=previous)
        if i % 4 == 3:
            previous = f"a{i // 4}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def walls(commands: list[tuple[list[str], Path]], runs: int) -> list[tuple[float, float]]:
    """Median wall and CPU (user + sys) time of each command (run in its folder) in a fresh process;
    runs interleave so drift hits all alike. CPU time is the steadier figure on a shared machine."""
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # each tree imports its own archspec
    for _ in range(runs):
        for (command, cwd), samples in zip(commands, times, strict=True):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=cwd, env=env)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            samples.append((wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))
    return [(statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)) for samples in times]


def compile_times(texts: dict[int, str], runs: int) -> dict[int, float]:
    """Median in-process compile time per spec; runs interleave sizes so drift hits all alike."""
    from archspec.compiler.pipeline import compile_spec

    compile_spec(texts[min(texts)])  # warm caches (layer validators, schema validator)
    times: dict[int, list[float]] = {layers: [] for layers in texts}
    for _ in range(runs):
        for layers, text in texts.items():
            started = time.perf_counter()
            compiled = compile_spec(text)
            times[layers].append(time.perf_counter() - started)
            assert compiled.ok
            del compiled
    return {layers: statistics.median(samples) for layers, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--startup-only", action="store_true", help="skip the generated specs' compile times")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout (git worktree add DIR REV): time its validate in the same runs"
    )
    args = parser.parse_args()
    specs = [str(p) for p in sorted((ROOT / "specs").glob("*.yaml"))]
    trees = [ROOT] if args.baseline is None else [ROOT, args.baseline.resolve()]
    # Byte-compile archspec as pip does when it installs a package (torch's bytecode is in site-packages):
    # with PYTHONDONTWRITEBYTECODE set, a source checkout would otherwise be compiled again on every run.
    for tree in trees:
        compileall.compile_dir(tree / "archspec", quiet=1)
    validates = [([sys.executable, "-m", "archspec", "validate", *specs], tree) for tree in trees]
    measured = walls(
        [
            *validates,
            ([sys.executable, "-c", "import torch"], ROOT),
            ([sys.executable, "-c", "import pydantic.main, pydantic.fields, yaml"], ROOT),
        ],
        args.runs,
    )
    (validate, validate_cpu), (torch_import, torch_cpu), (floor, floor_cpu) = measured[0], *measured[-2:]
    print(f"archspec validate {len(specs)} shipped specs: {validate:.3f} s (median of {args.runs})")
    print(f"  CPU time (user + sys):           {validate_cpu:.3f} s")
    print(f"python -c 'import torch':          {torch_import:.3f} s (CPU {torch_cpu:.3f} s)")
    print(f"ratio validate / import torch:     {validate / torch_import:.3f}  (target < 0.15, issue 9)")
    print(f"  CPU time ratio:                  {validate_cpu / torch_cpu:.3f}")
    print(f"  of which importing pydantic (and its Field) and yaml: {floor:.3f} s (CPU {floor_cpu:.3f} s)")
    if args.baseline is not None:
        base, base_cpu = measured[1]
        print(
            f"baseline {args.baseline}: validate {base:.3f} s (CPU {base_cpu:.3f} s), ratio {base / torch_import:.3f}"
        )
    if args.startup_only:
        return
    results = compile_times({layers: generated_spec(layers) for layers in (1_000, 10_000, 20_000)}, args.runs)
    for layers in results:
        print(f"compile {layers:>6,} layers: {results[layers]:.3f} s  ({results[layers] / layers * 1e6:.0f} us/layer)")
    print(f"10k layers: {results[10_000]:.3f} s (target < 2 s)")
    print(f"growth 20k / 10k: {results[20_000] / results[10_000]:.2f}x (target < 2.3x)")


if __name__ == "__main__":
    main()
