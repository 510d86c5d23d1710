"""Sweeps: compile every point of a parameter grid statically, keep the valid ones within budget.

The spec is loaded once (:func:`~archspec.compiler.pipeline.load_spec`); each point only
re-binds parameters and re-elaborates, sharing the loaded spec's substitution plans,
validated layers and inference results, so a ResNet-18-sized grid compiles hundreds of
points a second (``bench/sweep.py``). No torch: parameters, mult-adds and FLOPs are the
static counts. The Pareto frontier is over (parameters, FLOPs), both minimised: a point is on
it when no other kept point has at most its parameters and at most its FLOPs, and fewer of one.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from archspec.compiler.pipeline import InputShapes, LoadedSpec
from archspec.errors import ArchspecError
from archspec.jsontext import dumps
from archspec.safetext import escape_controls

MAX_POINTS = 100_000
"""Grids above this many points are refused (raise it with ``--max-points``)."""
COUNTS = ("params", "macs", "flops")


@dataclass(frozen=True)
class Budgets:
    """Upper bounds on a kept point (None: no bound)."""

    params: int | None = None
    macs: int | None = None
    flops: int | None = None

    def over(self, values: Mapping[str, int]) -> str | None:
        """Why ``values`` break a bound (``params 11,689,512 > 5,000,000``), or None."""
        for name in COUNTS:
            bound = getattr(self, name)
            if bound is not None and values[name] > bound:
                return f"{_NAMES[name]} {values[name]:,} > {bound:,}"
        return None


_NAMES = {"params": "params", "macs": "mult-adds", "flops": "FLOPs"}


@dataclass
class Point:
    """One grid point: its overrides and what compiling it gave."""

    index: int
    overrides: dict[str, Any]
    status: str = "ok"
    """``ok``, ``invalid`` (a diagnostic) or ``over-budget``."""
    reason: str | None = None
    params: int = 0
    macs: int = 0
    flops: int = 0
    output: str = ""
    pareto: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    """Filled by ``--train``: the last epoch's validation metrics."""

    @property
    def kept(self) -> bool:
        return self.status == "ok"

    def label(self) -> str:
        """``width=64 depths=[2, 2, 2, 2]``."""
        return " ".join(f"{k}={_value(v)}" for k, v in self.overrides.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "overrides": self.overrides,
            "status": self.status,
            "reason": self.reason,
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "output": self.output,
            "pareto": self.pareto,
            **({"metrics": self.metrics} if self.metrics else {}),
        }


def grid_points(grid: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination, the first key varying slowest (like nested loops in the order written)."""
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


def grid_size(grid: Mapping[str, list[Any]]) -> int:
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


def run_sweep(
    loaded: LoadedSpec,
    grid: Mapping[str, list[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    budgets: Budgets = Budgets(),
    input_shapes: InputShapes | None = None,
) -> list[Point]:
    """Compile every grid point (``fixed`` overrides apply to all); mark the Pareto frontier of the kept ones."""
    points = []
    for index, overrides in enumerate(grid_points(grid)):
        point = Point(index, overrides)
        try:
            compiled = loaded.compile(overrides={**(fixed or {}), **overrides}, input_shapes=input_shapes, warn=False)
        except ArchspecError as exc:
            point.status, point.reason = "invalid", _first(exc)
            points.append(point)
            continue
        point.params, point.macs, point.flops = compiled.params_total, compiled.macs, compiled.flops
        point.output = " ".join(str(list(t.shape)) if t else "?" for t in compiled.outputs.values())
        reason = budgets.over({"params": point.params, "macs": point.macs, "flops": point.flops})
        if reason:
            point.status, point.reason = "over-budget", reason
        points.append(point)
    mark_pareto(points)
    return points


def _first(exc: ArchspecError) -> str:
    """The first diagnostic, one line: ``file:line:col: message``."""
    if not exc.diagnostics:
        return str(exc)
    first = exc.diagnostics[0]
    where = f"{first.file}:{first.line}:{first.column}: " if first.line else ""
    return escape_controls(f"{where}{first.message}").replace("\n", " ")


def mark_pareto(points: list[Point]) -> None:
    """Mark the kept points no other kept point dominates on (params, FLOPs); equal points are all kept."""
    kept = sorted((p for p in points if p.kept), key=lambda p: (p.params, p.flops))
    best_below: int | None = None  # the fewest FLOPs among points with fewer params
    for _, group in itertools.groupby(kept, key=lambda p: p.params):
        same = list(group)
        lowest = same[0].flops
        for point in same:
            point.pareto = point.flops == lowest and (best_below is None or lowest < best_below)
        best_below = lowest if best_below is None else min(best_below, lowest)


# -- tables ------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    """A grid value as written on a command line: ``[2, 2, 2, 2]``, ``64``, ``true``."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def _columns(points: list[Point]) -> list[str]:
    return list(points[0].overrides) if points else []


def _metric_names(points: list[Point]) -> list[str]:
    names: dict[str, None] = {}
    for point in points:
        names.update(dict.fromkeys(point.metrics))
    return list(names)


def sweep_text(points: list[Point]) -> str:
    """The kept points as a fixed-width table (``*`` marks the Pareto frontier), then a count."""
    kept = [p for p in points if p.kept]
    keys, metrics = _columns(points), _metric_names(kept)
    headers = ["#", *keys, "params", "mult-adds", "FLOPs", "output", "pareto", *metrics]
    rows = [
        [
            str(p.index),
            *(_value(p.overrides[k]) for k in keys),
            f"{p.params:,}",
            f"{p.macs:,}",
            f"{p.flops:,}",
            p.output,
            "*" if p.pareto else "",
            *(_metric(p.metrics.get(m)) for m in metrics),
        ]
        for p in kept
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    right = {0, len(keys) + 1, len(keys) + 2, len(keys) + 3}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line(headers), "-" * len(line(headers)), *(line(r) for r in rows)]
    dropped = len(points) - len(kept)
    frontier = sum(p.pareto for p in kept)
    lines.append(f"{len(kept)} of {len(points)} point(s) kept ({dropped} dropped), {frontier} on the Pareto frontier")
    return escape_controls("\n".join(lines), keep="\n") + "\n"


def _metric(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)


def sweep_csv(points: list[Point]) -> str:
    """Every point, kept or not, one row each (``status`` and ``reason`` say why one was dropped)."""
    keys, metrics = _columns(points), _metric_names(points)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", *keys, "status", "reason", "params", "macs", "flops", "output", "pareto", *metrics])
    for p in points:
        writer.writerow(
            [
                p.index,
                *(_value(p.overrides[k]) for k in keys),
                p.status,
                p.reason or "",
                p.params,
                p.macs,
                p.flops,
                p.output,
                int(p.pareto),
                *(p.metrics.get(m, "") for m in metrics),
            ]
        )
    return out.getvalue()


def sweep_json(points: list[Point], *, spec: str) -> str:
    kept = [p for p in points if p.kept]
    return dumps(
        {
            "spec": spec,
            "points": [p.to_json() for p in points],
            "kept": len(kept),
            "dropped": len(points) - len(kept),
            "pareto": [p.index for p in kept if p.pareto],
        }
    )


def dropped_lines(points: list[Point]) -> list[str]:
    """One line per dropped point: ``dropped #3 width=33: <why>``."""
    return [f"dropped #{p.index} {escape_controls(p.label())}: {p.reason}" for p in points if not p.kept]
