"""Benchmark: images/s of archspec's training loop against a bare hand-written loop, and LeNet-5's accuracy.

Throughput: the same model (LeNet-5 from specs/lenet5.yaml, the same initial weights),
the same data (mnist5k's 4,000 training digits, normalised the same way), batch size 64,
Adam lr 1e-3 and CrossEntropyLoss, one epoch at a time, interleaved (bare, archspec,
archspec, bare, ...) so that drift in machine load hits both alike:

* bare: the seed's loop -- a DataLoader(TensorDataset, batch_size=64, shuffle=True),
  forward, loss, backward, step, and per batch ``loss.item()`` and the accuracy;
* archspec: ``archspec.train.loop.train_one_epoch`` with the trainer's own loader and
  its progress reporter (plain mode), exactly what ``archspec train`` runs per epoch.

Prints the median images/s of each and their ratio (target >= 0.95).

Accuracy (``--accuracy``): ``archspec train specs/lenet5.yaml --epochs 10`` with the
default settings (mnist5k, Adam 1e-3, batch 64, seed 0); prints the best validation
accuracy (target >= 96%).

Run: .venv/bin/python bench/train.py [--rounds 10] [--threads N] [--accuracy]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import archspec  # noqa: E402
from archspec.train.config import resolve  # noqa: E402
from archspec.train.data import make_loader, open_data, train_sampler  # noqa: E402
from archspec.train.loop import train_one_epoch  # noqa: E402
from archspec.train.progress import Reporter  # noqa: E402

SPEC = ROOT / "specs" / "lenet5.yaml"
BATCH = 64


def bare_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer) -> tuple[int, float]:
    """The seed's loop, as written by hand."""
    criterion = nn.CrossEntropyLoss()
    model.train()
    seen = correct = 0
    total_loss = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * labels.size(0)
        correct += (outputs.argmax(1) == labels).sum().item()
        seen += labels.size(0)
    return seen, correct / seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="epochs of each loop (default 10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--accuracy", action="store_true", help="also train LeNet-5 for 10 epochs (default settings)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    compiled = archspec.load(SPEC)
    data = open_data(resolve(None, {}), compiled)
    images, labels = data.train[list(range(len(data.train)))]  # the same preprocessed tensors for both loops
    bare_loader = DataLoader(
        TensorDataset(images, labels), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    sampler = train_sampler(data.train, 0)
    archspec_loader = make_loader(data.train, BATCH, batched=data.batched, sampler=sampler)

    torch.manual_seed(0)
    bare_model = archspec.build(compiled)
    archspec_model = archspec.build(compiled)
    archspec_model.load_state_dict(bare_model.state_dict())
    bare_opt = torch.optim.Adam(bare_model.parameters(), lr=1e-3)
    archspec_opt = torch.optim.Adam(archspec_model.parameters(), lr=1e-3)
    reporter = Reporter(stream=io.StringIO(), bar=False)
    device = torch.device("cpu")

    def run_bare() -> float:
        start = time.perf_counter()
        seen, _ = bare_epoch(bare_model, bare_loader, bare_opt)
        return seen / (time.perf_counter() - start)

    def run_archspec(epoch: int) -> float:
        sampler.set_epoch(epoch)
        reporter.start_epoch(f"epoch {epoch}", len(archspec_loader))
        start = time.perf_counter()
        totals = train_one_epoch(archspec_model, archspec_loader, archspec_opt, device, reporter=reporter)
        seen = totals[2].item()  # the epoch's statistics, as the trainer reads them
        rate = seen / (time.perf_counter() - start)
        reporter.end_epoch()
        return rate

    print(
        f"LeNet-5 on mnist5k ({len(data.train):,} images/epoch), batch {BATCH}, Adam 1e-3, CPU, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    run_bare(), run_archspec(0)  # warm-up (allocator, first-call overheads)
    bare_rates: list[float] = []
    archspec_rates: list[float] = []
    for round_ in range(1, args.rounds + 1):
        if round_ % 2:
            bare_rates.append(run_bare())
            archspec_rates.append(run_archspec(round_))
        else:
            archspec_rates.append(run_archspec(round_))
            bare_rates.append(run_bare())
        print(f"  round {round_}: bare {bare_rates[-1]:8,.0f} img/s   archspec {archspec_rates[-1]:8,.0f} img/s")
    bare, ours = statistics.median(bare_rates), statistics.median(archspec_rates)
    pairs = statistics.median(a / b for a, b in zip(archspec_rates, bare_rates, strict=True))
    print(f"median: bare {bare:,.0f} img/s, archspec train loop {ours:,.0f} img/s")
    print(f"ratio archspec/bare: {ours / bare:.3f} (median of per-round ratios {pairs:.3f}; target >= 0.95)")
    status = 0 if ours / bare >= 0.95 else 1

    if args.accuracy:
        from archspec.cli import main as cli

        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            code = cli(["train", str(SPEC), "--epochs", "10", "--out", folder])
            seconds = time.perf_counter() - start
            import json

            rows = [json.loads(line) for line in (Path(folder) / "metrics.jsonl").read_text().splitlines()]
        best = max(rows, key=lambda row: row["val_acc"])
        print(
            f"LeNet-5, archspec train specs/lenet5.yaml --epochs 10 (defaults): best validation accuracy "
            f"{best['val_acc']:.2%} at epoch {best['epoch']}, final {rows[-1]['val_acc']:.2%} "
            f"({seconds:.0f} s; target >= 96%)"
        )
        status |= 0 if code == 0 and best["val_acc"] >= 0.96 else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
