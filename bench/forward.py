"""Benchmark: is a built ResNet-18 as fast as torchvision's?

Prints, in one run on this machine (CPU, ``torch.set_num_threads(2)`` by default):
  * forward (eval, no grad) and forward+backward (train) time of ``archspec.build``'s
    ResNet-18 against torchvision's ``resnet18`` with the same weights, batch 8 at
    224x224, measured in interleaved pairs (the order alternates), as the median of the
    per-pair ratios (targets <= 1.03);
  * build time: ``archspec.build`` (from the compiled spec, and from the file, which adds
    parsing and shape inference) against ``torchvision.models.resnet18()``, interleaved,
    median ratio (target <= 1.2).

Run: .venv/bin/python bench/forward.py [--pairs 15] [--threads 2] [--batch 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "specs" / "resnet18.yaml"


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def interleaved(ours: Callable[[], object], theirs: Callable[[], object], pairs: int, warmup: int = 2) -> dict:
    """Median of per-pair ratios ours/theirs; each pair runs both, alternating which goes first."""
    for _ in range(warmup):
        ours()
        theirs()
    ratios, ours_times, their_times = [], [], []
    for index in range(pairs):
        if index % 2:
            b, a = timed(theirs), timed(ours)
        else:
            a, b = timed(ours), timed(theirs)
        ours_times.append(a)
        their_times.append(b)
        ratios.append(a / b)
    return {
        "ratio": statistics.median(ratios),
        "ours": statistics.median(ours_times),
        "theirs": statistics.median(their_times),
    }


def report(label: str, result: dict, target: float) -> bool:
    ok = result["ratio"] <= target
    print(
        f"{label:<34} archspec {result['ours'] * 1000:8.1f} ms   torchvision {result['theirs'] * 1000:8.1f} ms   "
        f"median ratio {result['ratio']:.3f}  (target <= {target}) {'ok' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    import torch
    import torchvision

    import archspec

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {args.threads} threads, CPU")

    reference = torchvision.models.resnet18()
    model = archspec.build(SPEC)
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(args.batch, 3, 224, 224)

    reference.eval()
    model.eval()
    with torch.no_grad():
        assert (model(x) - reference(x)).abs().max().item() <= 1e-4

        def forward(net: torch.nn.Module) -> Callable[[], object]:
            return lambda: net(x)

        results = [("forward (eval, no_grad)", interleaved(forward(model), forward(reference), args.pairs), 1.03)]

    reference.train()
    model.train()

    def step(net: torch.nn.Module) -> Callable[[], object]:
        def run() -> None:
            net.zero_grad(set_to_none=True)
            net(x).sum().backward()

        return run

    results.append(("forward+backward (train)", interleaved(step(model), step(reference), args.pairs), 1.03))

    compiled = archspec.load(SPEC)
    build_pairs = max(args.pairs, 10)
    results.append(
        (
            "build from compiled spec",
            interleaved(lambda: archspec.build(compiled), torchvision.models.resnet18, build_pairs),
            1.2,
        )
    )
    results.append(
        (
            "build from file (parse + infer)",
            interleaved(lambda: archspec.build(SPEC), torchvision.models.resnet18, build_pairs),
            1.2,
        )
    )
    print(f"batch {args.batch} at 224x224, {args.pairs} interleaved pairs (build: {build_pairs})")
    ok = [report(label, result, target) for label, result, target in results]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
