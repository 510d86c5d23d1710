"""What a run prints: a tqdm bar per epoch on a terminal, plain log lines otherwise (and in ``train.log``)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

PLAIN_INTERVAL_S = 30.0
"""Without a terminal, a progress line this often within long epochs (``ARCHSPEC_LOG_INTERVAL`` overrides)."""
POSTFIX_INTERVAL_S = 0.5


class Reporter:
    """Rank 0's voice; other ranks get a silent one (``enabled=False``)."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        log_file: Path | None = None,
        stream: TextIO | None = None,
        bar: bool | None = None,
    ) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.use_bar = enabled and (self.stream.isatty() if bar is None else bar)
        self.log_file = log_file
        self._bar: Any = None
        self._epoch_label = ""
        self._total = 0
        self._done = 0
        self._images = 0
        self.unit = "img"
        """What ``step`` counts, for the rate: ``img``, ``seq`` (sequences) or ``tok`` (predicted tokens)."""
        self._start = 0.0
        self._next_report = 0.0
        self._totals: Callable[[], tuple[float, float]] | None = None

    def info(self, message: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)
        if self.log_file is not None:
            with open(self.log_file, "a", encoding="utf-8") as handle:
                handle.write(time.strftime("%Y-%m-%d %H:%M:%S ") + message + "\n")

    # --- one epoch ---

    def start_epoch(self, label: str, total_batches: int) -> None:
        self._epoch_label, self._total, self._done, self._images = label, total_batches, 0, 0
        self._totals = None
        self._start = time.perf_counter()
        self._next_report = self._start + (POSTFIX_INTERVAL_S if self.use_bar else _plain_interval())
        if self.use_bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_batches, desc=label, unit="batch", file=self.stream, leave=False, dynamic_ncols=True
            )

    def track(self, totals: Callable[[], tuple[float, float]]) -> None:
        """``totals()`` returns the running (mean loss, accuracy); it is called only when the display refreshes."""
        self._totals = totals

    def step(self, images: int) -> None:
        """After each batch (the loop passes only an enabled reporter): cheap unless the display is due."""
        self._done += 1
        self._images += images
        if self._bar is not None:
            self._bar.update(1)
        now = time.perf_counter()
        if now < self._next_report:
            return
        loss, acc = self._totals() if self._totals else (float("nan"), float("nan"))
        rate = self._images / max(now - self._start, 1e-9)
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss {loss:.4f} acc {acc:.2%} {rate:,.0f} {self.unit}/s", refresh=False)
            self._next_report = now + POSTFIX_INTERVAL_S
        else:
            self.info(
                f"{self._epoch_label} [{self._done}/{self._total}] loss {loss:.4f} acc {acc:.2%} "
                f"{rate:,.0f} {self.unit}/s"
            )
            self._next_report = now + _plain_interval()

    def end_epoch(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._totals = None


def _plain_interval() -> float:
    try:
        return max(0.0, float(os.environ.get("ARCHSPEC_LOG_INTERVAL", PLAIN_INTERVAL_S)))
    except ValueError:
        return PLAIN_INTERVAL_S
