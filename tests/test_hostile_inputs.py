"""Hostile inputs fail fast: exit 1 or 2, no traceback, bounded time and memory (issue 9, section 2).

Each case runs the real CLI in a subprocess; ``os.wait4`` gives that child's own CPU time
and peak memory, the memory compared with a child that validates a small valid spec. The
target is 2 s; the guard allows 10 s of CPU time, and kills a child after 60 s of wall time
(a hang, say on a FIFO, fails the case): on a loaded 2-core CI machine wall time is several
times the CPU time. Each case prints what it measured (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CPU_LIMIT_S = 10.0
KILL_AFTER_S = 60.0
MAX_EXTRA_MEMORY_MB = 200

HEAD = "archspec: 1\nname: hostile\n"
BODY = "input: {channels: 3, size: [8, 8]}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 3}\n"


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float


LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "archspec", *sys.argv[1:]])
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(f"\\n@@usage {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_cli(*args: str, timeout: float = KILL_AFTER_S) -> Run:
    """Run ``python -m archspec ARGS`` through a small launcher; kill both after ``timeout``.

    The launcher reports its child's CPU time and peak RSS from ``wait4``. Measuring the
    child of the test process directly would not do: Linux carries a process's peak RSS
    across fork and exec, so a child of a pytest worker that has imported torch starts
    with the worker's gigabyte.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        command = [sys.executable, "-c", LAUNCHER, *args]
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        killer = threading.Timer(timeout, os.killpg, (process.pid, 9))
        killer.start()
        try:
            process.wait()
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        error = err.read().decode(errors="replace")
        error, _, usage = error.rpartition("\n@@usage ")
        cpu, _, rss = usage.partition(" ")
        return Run(
            process.returncode,
            out.read().decode(errors="replace"),
            error,
            seconds,
            float(cpu or "nan"),
            int(rss or 0) / 1024,  # KiB on Linux
        )


@pytest.fixture(scope="module")
def baseline_mb(tmp_path_factory: pytest.TempPathFactory) -> float:
    spec = tmp_path_factory.mktemp("base") / "ok.yaml"
    spec.write_text(HEAD + BODY)
    run = run_cli("validate", str(spec))
    assert run.code == 0, run.err
    return run.max_rss_mb


def spec_with_params(params: dict[str, str]) -> str:
    lines = "".join(f"  {name}: {json.dumps(value)}\n" for name, value in params.items())
    return HEAD + "params:\n" + lines + BODY


def nested_params(count: int) -> dict[str, str]:
    """Each parameter 100 times the previous: 100, then 10,000 elements, then 1,000,000."""
    params = {"p0": "${[0] * 100}"}
    for index in range(1, count):
        params[f"p{index}"] = f"${{[p{index - 1}] * 100}}"
    return params


def deep_list_params(count: int) -> dict[str, str]:
    params = {"d0": "${[0]}"}
    for index in range(1, count):
        params[f"d{index}"] = f"${{[d{index - 1}]}}"
    params["cmp"] = f"${{d{count - 1} == d{count - 1}}}"
    return params


EXPRESSIONS: dict[str, tuple[dict[str, str], str]] = {
    "round-huge-digits": ({"x": "${round(1, -10**70)}"}, "round()'s digits must be an integer"),
    "percent-format-width": ({"x": "${'%2147483648d' % 1}"}, "string formatting with '%' is not supported"),
    "nested-repeat-through-params": (nested_params(4), "more than 10,000 elements"),
    "compare-huge-nested": (
        {"a": "${[[0] * 100] * 100}", "b": "${[a, a, a]}", "c": "${b == b}"},
        "more than 10,000 elements",
    ),
    "compare-deeply-nested": (deep_list_params(100), "nested deeper than 64 levels"),
    "interpolate-big-value": (
        {"a": "${[[1234567] * 100] * 50}", "s": "name${a}"},
        "the limit is 10,000",
    ),
    "nested-calls": ({"x": "${" + "min(" * 150 + "1" + ")" * 150 + "}"}, "nests deeper than 100 levels"),
    "chained-comparisons": ({"x": "${" + " == ".join(["[[0] * 99] * 99"] * 40) + "}"}, "steps"),
    "comprehension-steps": ({"x": "${[0 for i in range(9999) for j in range(9999) if 0]}"}, "steps"),
    "complex-power": ({"x": "${(-1) ** 0.5}"}, "complex number"),
    "float-overflow": ({"x": "${1e308 * 10}"}, "not a finite number"),
    "float-literal-infinity": ({"x": "${1e999}"}, "not a finite number"),
    "power-tower": ({"x": "${10 ** 10 ** 10}"}, "more than 256 bits"),
}


def assert_clean_failure(run: Run, baseline_mb: float, *, label: str) -> None:
    extra = run.max_rss_mb - baseline_mb
    print(
        f"{label}: exit {run.code} in {run.seconds:.2f} s ({run.cpu_seconds:.2f} s CPU), "
        f"peak RSS {run.max_rss_mb:.0f} MB (+{extra:.0f} MB)"
    )
    assert run.code in (1, 2), (run.code, run.out[-2000:], run.err[-2000:])
    assert "Traceback" not in run.err + run.out and "internal error" not in run.err + run.out, run.err[-2000:]
    assert run.cpu_seconds < CPU_LIMIT_S, f"{label} took {run.cpu_seconds:.1f} s of CPU time"
    assert extra < MAX_EXTRA_MEMORY_MB, f"{label} used {extra:.0f} MB more than a small spec"


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_hostile_expressions(name: str, tmp_path: Path, baseline_mb: float) -> None:
    params, message = EXPRESSIONS[name]
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(spec_with_params(params))
    run = run_cli("validate", str(spec))
    assert_clean_failure(run, baseline_mb, label=name)
    assert message in run.err


def test_complex_number_under_summary_json(tmp_path: Path, baseline_mb: float) -> None:
    spec = tmp_path / "complex.yaml"
    spec.write_text(HEAD + BODY.replace("out_channels: 4", 'out_channels: "${(-8) ** (1 / 3)}"'))
    run = run_cli("summary", str(spec), "--format", "json")
    assert_clean_failure(run, baseline_mb, label="complex-summary-json")
    (diagnostic,) = json.loads(run.out)
    assert diagnostic["code"] == "expression" and "complex number" in diagnostic["message"]


def make_fifo(tmp_path: Path) -> str:
    path = tmp_path / "spec.yaml"
    os.mkfifo(path)
    return str(path)


def big_spec(tmp_path: Path) -> str:
    """4 MiB of tiny values: refused after 200,000 values, not composed first."""
    path = tmp_path / "big.yaml"
    line = "  - {id: a, type: ReLU}\n"
    path.write_text(HEAD + "input: {channels: 3, size: [8, 8]}\nlayers:\n" + line * (4 * 2**20 // len(line) - 10))
    return str(path)


def alias_bomb_spec(tmp_path: Path) -> str:
    path = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n" + HEAD + BODY)
    return str(path)


PATHS: dict[str, tuple[Callable[[Path], str], str]] = {
    "fifo": (make_fifo, "is a named pipe (FIFO)"),
    "dev-zero": (lambda _: "/dev/zero", "is a character device"),
    "dev-urandom": (lambda _: "/dev/urandom", "is a character device"),
    "dev-full": (lambda _: "/dev/full", "is a character device"),
    "empty-directory": (lambda tmp: str(tmp), "is a folder with no *.yaml or *.yml files"),
    "name-too-long": (lambda tmp: str(tmp / ("a" * 300)), "File name too long"),
    "spec-of-4-mib": (big_spec, "more than 200,000 values"),
    "alias-bomb-spec": (alias_bomb_spec, "more than 200,000 values"),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_hostile_paths(name: str, tmp_path: Path, baseline_mb: float) -> None:
    make, message = PATHS[name]
    path = make(tmp_path)
    if path.startswith("/dev/") and not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    run = run_cli("validate", path)
    assert_clean_failure(run, baseline_mb, label=name)
    assert message in run.err


SET_VALUES: dict[str, tuple[str, str]] = {
    "recursive-yaml": ("&a [*a]", "anchors and aliases"),
    "alias-bomb": ("[&a [1, 1, 1, 1, 1, 1, 1, 1], &b [*a, *a, *a, *a, *a, *a, *a, *a], *b]", "anchors and aliases"),
    "binary": ("!!binary aGVsbG8=", "tags (!!binary) are not allowed"),
    "set": ("!!set {a, b}", "tags (!!set) are not allowed"),
    "date": ("!!timestamp 2001-12-14", "tags (!!timestamp) are not allowed"),
    "omap": ("!!omap [a: 1, b: 2]", "tags (!!omap) are not allowed"),
    "int-5000-digits": ("9" * 5000, "integer of 5,000 digits is larger than 256 bits"),
    "python-object": ("!!python/object/apply:os.system [echo hi]", "tags (!!python/object/apply:os.system)"),
}


@pytest.mark.parametrize("name", sorted(SET_VALUES))
def test_hostile_set_values(name: str, tmp_path: Path, baseline_mb: float) -> None:
    value, message = SET_VALUES[name]
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD + "params:\n  x: 4\n" + BODY)
    run = run_cli("validate", str(spec), "--set", f"x={value}")
    assert_clean_failure(run, baseline_mb, label=f"--set {name}")
    assert run.code == 2
    assert "--set x=" in run.err and message in run.err


def test_a_plain_date_is_a_string_refused_for_an_integer_parameter(tmp_path: Path, baseline_mb: float) -> None:
    """YAML 1.2 core schema: ``2001-12-14`` is text, so it does not fit an integer parameter (exit 2)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD + "params:\n  x: 4\n" + BODY.replace("out_channels: 4", 'out_channels: "${x}"'))
    run = run_cli("summary", str(spec), "--format", "json", "--set", "x=2001-12-14")
    assert_clean_failure(run, baseline_mb, label="--set plain date")
    (diagnostic,) = json.loads(run.out)
    assert run.code == 2 and diagnostic["message"].startswith("--set x=2001-12-14: expected an integer")
