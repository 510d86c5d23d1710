"""Benchmark: how long do `archspec compat` and `archspec diff` take on ResNet-18 and VGG-16?

Prints, in one run on this machine:
  * `archspec compat SPEC WEIGHTS` against torchvision's resnet18() and vgg16() state dicts
    (45 MB and 528 MB files written to a temporary folder, deleted afterwards): the wall time of
    a fresh process (torch's import included) and the in-process time of read + compare, with
    the process's peak RSS growth while reading the file, which memory mapping keeps far below
    the file's size;
  * `archspec diff SPEC --set-b ...` (ResNet-18 against depths [3,4,6,3], VGG-16 against
    num_classes 10), with and without --weights-only: fresh-process wall time and in-process time.

Run: .venv/bin/python bench/analysis.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "resnet18": ("specs/resnet18.yaml", "resnet18", ["--set-b", "depths=[3,4,6,3]"]),
    "vgg16": ("specs/vgg16.yaml", "vgg16", ["--set-b", "num_classes=10"]),
}


def wall(command: list[str], runs: int) -> float:
    """Median wall time of a fresh process (the exit code is the verdict: 0 or 1 both count)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - started)
        assert result.returncode in (0, 1), result.stderr.decode()
    return statistics.median(samples)


def in_process(call: Callable[[], object], runs: int) -> float:
    call()  # warm: imports, layer validators
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


PROBE = """
import resource, sys, contextlib, io
import torch
from archspec.cli import main
import archspec.backends.weights
if len(sys.argv) > 1:
    with contextlib.redirect_stdout(io.StringIO()):
        main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss(argv: list[str] | None) -> int:
    """A fresh process's peak resident memory (KiB) after running ``argv`` (None: imports only)."""
    result = subprocess.run([sys.executable, "-c", PROBE, *(argv or [])], capture_output=True, text=True, cwd=ROOT)
    return int(result.stdout.split()[-1])


def quiet(argv: list[str]) -> Callable[[], object]:
    from archspec.cli import main

    def run() -> object:
        with contextlib.redirect_stdout(io.StringIO()):
            return main(argv)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    import torch
    import torchvision

    exe = [sys.executable, "-m", "archspec"]
    with tempfile.TemporaryDirectory() as folder:
        for name, (spec, builder, change) in CASES.items():
            weights = Path(folder) / f"{name}.pt"
            torch.save(getattr(torchvision.models, builder)().state_dict(), weights)
            size = weights.stat().st_size
            compat_in = in_process(quiet(["compat", spec, str(weights)]), runs)
            compat_wall = wall([*exe, "compat", spec, str(weights)], runs)
            grown = peak_rss(["compat", spec, str(weights)]) - peak_rss(None)
            print(
                f"compat {name}: {compat_wall * 1000:.0f} ms per process, {compat_in * 1000:.1f} ms in process "
                f"(file {size / 2**20:.0f} MiB; peak RSS {grown / 1024:+.0f} MiB over importing torch and archspec)"
            )
            weights.unlink()
            for extra in ([], ["--weights-only"]):
                argv = ["diff", spec, *change, *extra]
                label = " ".join(["diff", name, *change, *extra])
                print(
                    f"{label}: {wall([*exe, *argv], runs) * 1000:.0f} ms per process, "
                    f"{in_process(quiet(argv), runs) * 1000:.1f} ms in process"
                )


if __name__ == "__main__":
    main()
