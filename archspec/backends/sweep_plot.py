"""``pareto.png``: a sweep's kept points, parameters against FLOPs, the Pareto frontier marked (Agg).

matplotlib comes with the ``train`` extra; it is imported only here, when a plot is asked for.
"""

from __future__ import annotations

import io

from archspec.backends.sweep import Point
from archspec.errors import Diagnostic, UsageError

MAX_LABELS = 40
"""Points are labelled with their index when there are at most this many."""


def pareto_png(points: list[Point], title: str = "") -> bytes:
    """The plot as PNG bytes; UsageError naming the extra when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        message = "matplotlib is not installed, so the Pareto plot cannot be drawn"
        hint = "install it with: pip install 'archspec[train]' (the table is written without it)"
        raise UsageError([Diagnostic("missing-dependency", message, file="<sweep>", hint=hint)]) from None
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    kept = [p for p in points if p.kept]
    frontier = sorted((p for p in kept if p.pareto), key=lambda p: p.params)
    figure = Figure(figsize=(7, 5), dpi=100)
    ax = figure.subplots()
    ax.scatter([p.params for p in kept], [p.flops for p in kept], s=18, color="#9aa5b1", label="kept points")
    ax.plot(
        [p.params for p in frontier],
        [p.flops for p in frontier],
        marker="o",
        color="#d1495b",
        drawstyle="steps-post",
        label="Pareto frontier",
    )
    if len(kept) <= MAX_LABELS:
        for p in kept:
            ax.annotate(f"#{p.index}", (p.params, p.flops), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("parameters")
    ax.set_ylabel("FLOPs per sample")
    if kept and max(p.params for p in kept) > 10 * max(1, min(p.params for p in kept)):
        ax.set_xscale("log")
    if kept and max(p.flops for p in kept) > 10 * max(1, min(p.flops for p in kept)):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
