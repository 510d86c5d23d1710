"""Benchmark: points per second of `archspec sweep` on a ResNet-18-sized spec, against one compile per point.

The spec is specs/resnet18.yaml with its stage widths made a parameter (``width``, 64 in the
original). The grid is width x depths x num_classes (48 points, every one distinct). Prints, in
one run on this machine (medians over interleaved runs, each sweep starting from a fresh
``load_spec`` so no cache survives from the previous run):

  * sweep: load once, then ``LoadedSpec.compile`` per point (what ``archspec sweep`` does);
  * baseline: ``compile_spec`` per point (read, parse, validate and compile each time);
  * points/s of both and their ratio (target: sweep >= 200 points/s).

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


def sweep_once(text: str) -> tuple[float, int]:
    from archspec.backends.sweep import run_sweep

    started = time.perf_counter()
    from archspec.compiler.pipeline import load_spec

    points = run_sweep(load_spec(text), GRID)
    elapsed = time.perf_counter() - started
    assert all(p.kept for p in points), [p.reason for p in points if not p.kept]
    return elapsed, len(points)


def baseline_once(text: str) -> tuple[float, int]:
    from archspec.backends.sweep import grid_points
    from archspec.compiler.pipeline import compile_spec

    started = time.perf_counter()
    count = 0
    for overrides in grid_points(GRID):
        compile_spec(text, overrides=overrides)
        count += 1
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = wide_resnet18()
    sweep_once(text)  # warm: imports, layer validators
    baseline_once(text)
    sweeps, baselines = [], []
    for _ in range(args.runs):
        seconds, points = sweep_once(text)
        sweeps.append(points / seconds)
        seconds, points = baseline_once(text)
        baselines.append(points / seconds)
    fast, slow = statistics.median(sweeps), statistics.median(baselines)
    print(f"grid: {' x '.join(f'{k} ({len(v)})' for k, v in GRID.items())} = {points} points, ResNet-18 with width")
    print(f"sweep (load once, compile per point):     {fast:7.1f} points/s")
    print(f"baseline (compile_spec per point):        {slow:7.1f} points/s")
    print(f"ratio: {fast / slow:.2f}x   target >= 200 points/s: {'met' if fast >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
