"""``archspec sweep SPEC --grid KEY=[...]``: every point of a parameter grid, compiled statically.

Invalid points and points over a budget are dropped (one line each on stderr, saying why);
the kept ones are printed as a table (text, CSV or JSON), and with ``-o DIR`` written to
``sweep.csv``, ``sweep.json`` and ``pareto.png`` there. ``--train`` then runs ``archspec
train`` on each kept point in turn, in ``DIR/point-NNN``. The sweep itself never imports
torch (training runs in its own process).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from archspec.backends.sweep import (
    MAX_POINTS,
    Budgets,
    Point,
    dropped_lines,
    grid_size,
    run_sweep,
    sweep_csv,
    sweep_json,
    sweep_text,
)
from archspec.commands import (
    add_budget_options,
    add_input_option,
    add_set_option,
    budget_from,
    parse_input_shapes,
    parse_overrides,
)
from archspec.compiler.pipeline import load_spec
from archspec.errors import Diagnostic, SpecError, UsageError
from archspec.fileio import check_output_dir, check_outputs, make_dir, write_text_atomic
from archspec.frontend.source import parse_value
from archspec.safetext import escape_controls

COUNT = re.compile(r"(\d+(?:\.\d+)?(?:e[+-]?\d{1,3})?)\s*([kmgt]?)", re.IGNORECASE)
UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sweep",
        help="compile every point of a parameter grid; keep the valid ones within budget; table and Pareto plot",
        description="Compile every combination of the --grid values statically (no torch), drop invalid points and "
        "points over budget, print a table and, with -o, write sweep.csv, sweep.json and pareto.png.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        required=True,
        metavar="KEY=[V1,V2,...]",
        help="a parameter and the values to try, as a YAML list: width=[32,64,128], depths=[[2,2,2,2],[3,4,6,3]] "
        "(repeatable: the grid is every combination)",
    )
    parser.add_argument("--max-params", metavar="N", help="drop points with more parameters (5M, 2.5e6, 500k)")
    parser.add_argument("--max-macs", metavar="N", help="drop points with more mult-adds per sample (300M, 2G)")
    parser.add_argument("--max-flops", metavar="N", help="drop points with more FLOPs per sample (2G)")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text", help="what stdout gets")
    parser.add_argument("-o", "--output", metavar="DIR", help="write sweep.csv, sweep.json and pareto.png here")
    parser.add_argument(
        "--max-points", type=int, default=MAX_POINTS, metavar="N", help=f"refuse larger grids (default {MAX_POINTS:,})"
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="then train each kept point with 'archspec train' (needs -o; each in DIR/point-NNN)",
    )
    parser.add_argument(
        "--train-args",
        default="",
        metavar="ARGS",
        help="options for every 'archspec train' run, quoted: --train-args='--epochs 1 --data fake:64'",
    )
    add_set_option(parser)
    add_input_option(parser)
    add_budget_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    grid = parse_grid(args.grid)
    size = grid_size(grid)
    if size > args.max_points:
        raise _usage(f"the grid has {size:,} points, more than --max-points {args.max_points:,}")
    if args.train and not args.output:
        raise _usage("--train needs -o DIR: each point trains in DIR/point-NNN")
    train_args = shlex.split(args.train_args) if args.train else []
    budgets = Budgets(
        params=parse_count("--max-params", args.max_params),
        macs=parse_count("--max-macs", args.max_macs),
        flops=parse_count("--max-flops", args.max_flops),
    )
    out = Path(args.output) if args.output else None
    if out is not None:
        check_output_dir(out, "-o")
        check_outputs([out / "sweep.csv", out / "sweep.json", out / "pareto.png"], inputs=[args.spec])
    fixed = parse_overrides(args.overrides)
    loaded = load_spec(Path(args.spec), budget=budget_from(args))
    points = run_sweep(loaded, grid, fixed=fixed, budgets=budgets, input_shapes=parse_input_shapes(args.input_shapes))
    for line in dropped_lines(points):
        print(line, file=sys.stderr)
    worst = 0
    if args.train and out is not None:
        worst = train_points(args.spec, points, args.overrides, train_args, out)
    if out is not None:
        _write(points, out, args.spec, loaded.spec.name)
    print(_table(points, args.format, args.spec), end="")
    return worst


def _table(points: list[Point], fmt: str, spec: str) -> str:
    if fmt == "csv":
        return sweep_csv(points)
    if fmt == "json":
        return sweep_json(points, spec=spec) + "\n"
    return sweep_text(points)


def _write(points: list[Point], out: Path, spec: str, name: str) -> None:
    from archspec.backends.sweep_plot import pareto_png
    from archspec.fileio import write_bytes_atomic

    make_dir(out, "-o")
    write_text_atomic(out / "sweep.csv", sweep_csv(points))
    write_text_atomic(out / "sweep.json", sweep_json(points, spec=spec) + "\n")
    try:
        write_bytes_atomic(out / "pareto.png", pareto_png(points, title=f"{name}: parameters vs FLOPs"))
    except UsageError as exc:  # no matplotlib: the tables are still useful
        print(exc.format(), file=sys.stderr)
        return
    print(f"wrote {escape_controls(str(out))}/sweep.csv, sweep.json, pareto.png", file=sys.stderr)


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["width=[32, 64]"]`` -> ``{"width": [32, 64]}``; each value list read as YAML, like ``--set``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise _usage(f"--grid expects KEY=[V1,V2,...], got '{item[:60]}'")
        try:
            values = parse_value(text)
        except SpecError as exc:
            raise _usage(f"--grid {item[:60]}: {exc.diagnostics[0].message}") from None
        if not isinstance(values, list) or not values:
            raise _usage(f"--grid {item[:60]}: the values must be a non-empty list, e.g. {key}=[32, 64]")
        if key in grid:
            raise _usage(f"--grid {key} is given twice; put all its values in one list")
        grid[key] = values
    return grid


def parse_count(flag: str, text: str | None) -> int | None:
    """``5M`` -> 5,000,000; ``2.5G``, ``1e9``, ``500k``; None: no bound."""
    if text is None:
        return None
    match = COUNT.fullmatch(text.strip().replace("_", "").replace(",", ""))
    if match is None:
        raise _usage(f"{flag} '{text[:40]}': expected a count such as 5M, 2.5G, 500k or 1e9")
    value = Fraction(match.group(1)) * UNITS[match.group(2).lower()]
    return int(value)


def _usage(message: str) -> UsageError:
    return UsageError([Diagnostic("usage", message, file="<command line>")])


# -- --train -----------------------------------------------------------------------------------


def train_points(spec: str, points: list[Point], fixed: list[str], train_args: list[str], out: Path) -> int:
    """``archspec train`` on each kept point in turn (``DIR/point-NNN``); its last epoch's metrics join the table.

    Returns 1 when a run failed (the sweep still trains the rest), 130 when one was interrupted.
    """
    worst = 0
    for point in (p for p in points if p.kept):
        folder = out / f"point-{point.index:03d}"
        sets = [f"--set={item}" for item in fixed] + [f"--set={k}={_set_text(v)}" for k, v in point.overrides.items()]
        command = [sys.executable, "-m", "archspec", "train", spec, *sets, "--out", str(folder), *train_args]
        print(f"training #{point.index} {escape_controls(point.label())} in {folder}", file=sys.stderr)
        code = subprocess.run(command, check=False).returncode
        if code == 130:
            return 130
        if code != 0:
            print(f"archspec sweep: training #{point.index} failed (exit {code})", file=sys.stderr)
            worst = 1
            continue
        point.metrics = last_metrics(folder / "metrics.jsonl")
    return worst


def _set_text(value: Any) -> str:
    """A value as ``--set`` reads it back: text as it is (string parameters take it verbatim), else JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def last_metrics(path: Path) -> dict[str, Any]:
    """The last epoch's validation numbers from a run's ``metrics.jsonl`` ({} when absent)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        last = json.loads(lines[-1]) if lines else {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in last.items() if k.startswith("val_") and isinstance(v, int | float)}
