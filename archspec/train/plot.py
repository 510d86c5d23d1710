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
