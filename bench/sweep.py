"""Benchmark: points per second of `archspec sweep` on a ResNet-18-sized spec, against one compile per point.

The spec is specs/resnet18.yaml with its stage widths made a parameter (``width``, 64 in the
original). The grid is width x depths x num_classes (48 points, every one distinct). Prints, in
one run on this machine (medians over interleaved runs, each sweep starting from a fresh
``load_spec`` so no cache survives from the previous run):

  * sweep: load once, then ``LoadedSpec.compile`` per point (what ``archspec sweep`` does);
  * baseline: ``compile_spec`` per point (read, parse, validate and compile each time);
  * points/s of both, by wall clock and by this process's CPU time (on a shared machine the
    wall clock counts other people's work), and their ratio (target: sweep >= 200 points/s).

Run: .venv/bin/python bench/sweep.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GRID = {
    "width": [32, 48, 64, 96],
    "depths": [[1, 1, 1, 1], [2, 2, 2, 2], [3, 4, 6, 3], [2, 3, 4, 2]],
    "num_classes": [10, 100, 1000],
}


def wide_resnet18() -> str:
    """specs/resnet18.yaml with ``width`` for its stage widths (64, 128, 256, 512 = width x 1, 2, 4, 8)."""
    text = (ROOT / "specs" / "resnet18.yaml").read_text()
    text = text.replace("  depths: [2, 2, 2, 2]", "  depths: [2, 2, 2, 2]\n  width: 64")
    text = text.replace("out_channels: 64, kernel_size: 7", 'out_channels: "${width}", kernel_size: 7')
    for factor, channels in ((1, 64), (2, 128), (4, 256), (8, 512)):
        text = text.replace(f"channels: {channels},", f'channels: "${{width * {factor}}}",')
    assert text.count("${width") == 5, "specs/resnet18.yaml changed: update the bench"
    return text


def sweep_once(text: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, points) of one sweep, the spec loaded inside the timing."""
    from archspec.backends.sweep import run_sweep
    from archspec.compiler.pipeline import load_spec

    wall, cpu = time.perf_counter(), time.process_time()
    points = run_sweep(load_spec(text), GRID)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(p.kept for p in points), [p.reason for p in points if not p.kept]
    return wall, cpu, len(points)


def baseline_once(text: str) -> tuple[float, float, int]:
    from archspec.backends.sweep import grid_points
    from archspec.compiler.pipeline import compile_spec

    wall, cpu = time.perf_counter(), time.process_time()
    count = 0
    for overrides in grid_points(GRID):
        compile_spec(text, overrides=overrides)
        count += 1
    return time.perf_counter() - wall, time.process_time() - cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = wide_resnet18()
    sweep_once(text)  # warm: imports, layer validators
    baseline_once(text)
    runs: dict[str, list[tuple[float, float]]] = {"sweep": [], "baseline": []}
    for _ in range(args.runs):
        for name, once in (("sweep", sweep_once), ("baseline", baseline_once)):
            wall, cpu, points = once(text)
            runs[name].append((points / wall, points / cpu))
    rate = {name: [statistics.median(r[i] for r in samples) for i in (0, 1)] for name, samples in runs.items()}
    print(f"grid: {' x '.join(f'{k} ({len(v)})' for k, v in GRID.items())} = {points} points, ResNet-18 with width")
    print(f"median of {args.runs} interleaved runs; points/s by wall clock and by this process's CPU time")
    print("                                         wall       CPU")
    print(f"sweep (load once, compile per point): {rate['sweep'][0]:7.1f}   {rate['sweep'][1]:7.1f}")
    print(f"baseline (compile_spec per point):    {rate['baseline'][0]:7.1f}   {rate['baseline'][1]:7.1f}")
    ratio = rate["sweep"][0] / rate["baseline"][0]
    print(
        f"ratio (wall): {ratio:.2f}x   target sweep >= 200 points/s: {'met' if rate['sweep'][0] >= 200 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
