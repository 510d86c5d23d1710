"""``curves.png``: loss and accuracy (and a language model's perplexity) per epoch, train and validation (Agg)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from archspec.fileio import write_bytes_atomic


def write_curves(path: str | Path, history: list[dict[str, Any]], title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    epochs = [row["epoch"] for row in history]
    panels = [("loss", "loss"), ("acc", "accuracy")]
    if all("val_ppl" in row for row in history):  # a next-token model: perplexity, and next-token accuracy
        panels = [("loss", "loss per token"), ("ppl", "perplexity"), ("acc", "next-token accuracy")]
    figure = Figure(figsize=(5 * len(panels), 4), dpi=100)
    for ax, (key, label) in zip(figure.subplots(1, len(panels)), panels, strict=True):
        ax.plot(epochs, [row[f"train_{key}"] for row in history], marker="o", label="train")
        ax.plot(epochs, [row[f"val_{key}"] for row in history], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        if epochs:
            ax.set_xticks(epochs if len(epochs) <= 20 else epochs[:: max(1, len(epochs) // 10)])
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_bytes_atomic(path, buffer.getvalue())


class Board:
    """TensorBoard scalars beside ``metrics.jsonl``: ``OUT/tensorboard``, one point per epoch (``--tensorboard``).

    Like ``curves.png`` it follows ``last.pt``: a run (fresh or resumed) starts the folder again from the
    checkpoint's history, so an epoch that a kill cut short never shows twice.
    """

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        for old in folder.glob("events.out.tfevents.*"):
            old.unlink()
        self.writer = SummaryWriter(log_dir=str(folder))
        self.logged = 0

    def write(self, history: list[dict[str, Any]]) -> None:
        """The rows not logged yet: ``train_loss`` as ``loss/train`` (train and validation on one chart), ``lr``..."""
        for row in history[self.logged :]:
            for key, value in row.items():
                split, _, metric = key.partition("_")
                if key != "epoch":
                    self.writer.add_scalar(f"{metric}/{split}" if metric else key, value, row["epoch"])
        self.logged = len(history)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
