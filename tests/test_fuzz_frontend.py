"""Fuzzing the whole front-end through the CLI: spec text, ``--set`` values, paths.

The invariant, for ``validate`` and ``summary --format json`` run in-process by
``archspec.cli.main``: no exception escapes, the exit code is 0, 1 or 2 (never 3, an
internal error), and with ``--format json`` stdout is JSON.

The default run is small (100 per strategy, under a minute in all; 1,000 with
``make test-thorough``; ``ARCHSPEC_FUZZ_EXAMPLES`` sets the count). A big run::

    ARCHSPEC_FUZZ_EXAMPLES=5000 ARCHSPEC_FUZZ_FINDINGS=/tmp/findings pytest tests/test_fuzz_frontend.py

With ``ARCHSPEC_FUZZ_FINDINGS`` set, each violation is saved there (and the run goes on);
the ones worth keeping go to ``tests/fuzz_corpus/`` (``*.yaml``: spec text, ``*.set``:
a ``--set`` value for lenet5's ``num_classes``, ``*.expr``: an expression, ``*.args``: a
JSON list of CLI arguments, ``{workdir}`` standing for a folder of special files), which
:func:`test_corpus_replays` replays.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from archspec.cli import main

ROOT = Path(__file__).parent.parent
CORPUS = Path(__file__).parent / "fuzz_corpus"
SEEDS = [
    p.read_bytes()
    for p in sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "invalid").glob("*.yaml"))
]
LENET = str(ROOT / "specs" / "lenet5.yaml")
EXAMPLES = int(os.environ.get("ARCHSPEC_FUZZ_EXAMPLES", examples(100)))
FINDINGS = os.environ.get("ARCHSPEC_FUZZ_FINDINGS")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

TOKENS = [
    b"${",
    b"}",
    b"${x}",
    b"${i}",
    b"${[[0] * 100] * 100}",
    b"${(-1) ** 0.5}",
    b"${1e308 * 10}",
    b"${'%9d' % 1}",
    b"${round(1, -10**70)}",
    b"${stem.c}",
    b"${[c for c in range(3)]}",
    b"${{'a': 1}}",
    b"&a ",
    b"*a",
    b"<<: ",
    b"!!binary ",
    b"!!set ",
    b"!!omap ",
    b"!!python/object:os.system ",
    b"!!int ",
    b"!!str ",
    b"!custom ",
    b"---\n",
    b"...\n",
    b"\t",
    b"\x00",
    b"\x01",
    b"\x7f",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xc3",
    b"\xe2\x80\xa8",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b": ",
    b"- ",
    b"'",
    b'"',
    b"#",
    b"|\n",
    b">\n",
    b"? ",
    b"\n",
    b"  ",
    b"1e999",
    b".inf",
    b".nan",
    b"-0",
    b"0x1F",
    b"0o17",
    b"1_0",
    b"yes",
    b"~",
    b"null",
    b"2001-01-01",
    b"1:30",
    b"9" * 100,
    b"9" * 5000,
    b"repeat: 3",
    b"when: false",
    b"use: ",
    b"inputs: [input]",
    b"type: ",
    b"id: ",
    b"params:\n  x: 1\n",
    b"layers:\n",
    b"blocks:\n",
    b"archspec: 1\n",
]
YAMLISH = [*":-[]{},&*!|>'\"#?%@` \n\t$", "${", "a", "b", "0", "1", ".", "e", "x", "true", "\u00e9", "\u2028"]


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def check(args: list[str], *, keep: tuple[str, bytes] | None = None) -> None:
    """Run ``args`` (validate), then as ``summary --format json``, and check the invariant."""
    for command in (["validate"], ["summary", "--format", "json"]):
        try:
            code, out, err = run([*command, *args])
            problem = None if code in (0, 1, 2) else f"exit {code}: {err[-500:]}"
            if problem is None and command[0] == "summary" and code in (0, 1):
                json.loads(out)
            if problem is None and code == 1 and command[0] == "validate" and not err.strip():
                problem = "exit 1 without a diagnostic"
        except SystemExit as exc:  # argparse refusing the arguments is a usage error
            problem = None if exc.code == 2 else f"SystemExit({exc.code})"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            _report(problem, command, keep)


def _report(problem: str, command: list[str], keep: tuple[str, bytes] | None) -> None:
    if FINDINGS and keep:
        suffix, data = keep
        folder = Path(FINDINGS)
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(data).hexdigest()[:16]
        (folder / f"{name}{suffix}").write_bytes(data)
        (folder / f"{name}{suffix}.txt").write_text(f"{' '.join(command)}: {problem}\n")
        return
    raise AssertionError(f"{' '.join(command)}: {problem}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ----------------------------------------------------------------------------- spec text


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    """A shipped or invalid spec with byte and line edits: flips, token splices, line moves, cuts."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "token", "line", "truncate", "repeat"]))
        if edit == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif edit == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif edit == "line":
            lines = bytes(data).split(b"\n")
            source, target = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines)))
            lines.insert(target, lines[source])
            data = bytearray(b"\n".join(lines))
        elif edit == "truncate":
            del data[at:]
        elif edit == "repeat":
            data[at:at] = bytes(data[at : at + draw(st.integers(1, 60))]) * draw(st.integers(2, 20))
    return bytes(data)


def random_text() -> st.SearchStrategy[bytes]:
    yamlish = st.lists(st.sampled_from(YAMLISH), max_size=120).map(lambda parts: "".join(parts).encode())
    unicode = st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))
    return st.one_of(yamlish, unicode, st.binary(max_size=200))


@st.composite
def spec_with_expressions(draw: st.DrawFn) -> bytes:
    """A shipped spec with some numbers replaced by generated expressions over its parameters."""
    data = draw(st.sampled_from(SEEDS[:7]))
    numbers = [m.span() for m in re.finditer(rb"(?<=: )[0-9]+\b", data)]
    for _ in range(draw(st.integers(1, 3))):
        if not numbers:
            break
        start, end = draw(st.sampled_from(numbers))
        text = draw(expressions()).replace("xs", "[1, 2]").replace("big", "[[1] * 99] * 99")
        data = data[:start] + json.dumps("${" + text + "}").encode() + data[end:]
        numbers = [m.span() for m in re.finditer(rb"(?<=: )[0-9]+\b", data)]
    return data


@FUZZ
@given(text=st.one_of(mutated_text(), mutated_text(), random_text(), spec_with_expressions()))
def test_fuzz_spec_text(workdir: Path, text: bytes) -> None:
    path = workdir / "spec.yaml"
    path.write_bytes(text)
    check([str(path)], keep=(".yaml", text))


# ----------------------------------------------------------------------------- --set values

SET_TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from([*YAMLISH, "!!binary ", "&a ", "*a", "9" * 400, "${", "}", "**"]), max_size=40).map(
        "".join
    ),
)


@FUZZ
@given(value=SET_TEXT, key=st.sampled_from(["num_classes", "num_classes", "nope", "", " ", "a=b"]))
def test_fuzz_set_values(value: str, key: str) -> None:
    if "\x00" in value:  # a command line cannot hold NUL
        value = value.replace("\x00", "")
    check([LENET, "--set", f"{key}={value}"], keep=(".set", value.encode("utf-8", "surrogatepass")))


# ----------------------------------------------------------------------------- paths


def special_files(workdir: Path) -> None:
    """A FIFO, a symlink loop and a dangling symlink in ``workdir`` (once)."""
    if (workdir / "fifo.yaml").exists() or (workdir / "fifo.yaml").is_symlink():
        return
    os.mkfifo(workdir / "fifo.yaml")
    (workdir / "loop.yaml").symlink_to(workdir / "loop.yaml")
    (workdir / "dangling.yaml").symlink_to(workdir / "missing.yaml")


@pytest.fixture(scope="module")
def special_paths(workdir: Path) -> list[str]:
    special_files(workdir)
    fifo, loop, dangling = (workdir / name for name in ("fifo.yaml", "loop.yaml", "dangling.yaml"))
    devices = [d for d in ("/dev/zero", "/dev/urandom", "/dev/full") if os.path.exists(d)]
    return [str(fifo), str(loop), str(dangling), str(workdir), *devices, str(workdir / "missing.yaml"), LENET]


@FUZZ
@given(data=st.data())
def test_fuzz_paths(special_paths: list[str], workdir: Path, data: st.DataObject) -> None:
    paths = data.draw(st.lists(st.sampled_from(special_paths), min_size=1, max_size=3))
    suffix = data.draw(st.sampled_from(["", "/", "/x", "\x00", "/" + "a" * 300, "//", "/."]))
    paths[0] += suffix
    template = [p.replace(str(workdir), "{workdir}").replace(LENET, "{lenet}") for p in paths]
    check(paths, keep=(".args", json.dumps(template).encode()))


# ----------------------------------------------------------------------------- expressions

ATOMS = ["0", "1", "-1", "2", "7", "256", "10 ** 70", "1e308", "0.5", "-0.0", "1e-9", "True", "None", "'a'", "''"]
ATOMS += ["x", "xs", "m", "m.k", "m['xs']", "big", "deep", "s", "i", "range(3)", "range(9999)"]
BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
DEEP: list[object] = [0]
for _ in range(70):
    DEEP = [DEEP]
SCOPE = {
    "x": 3,
    "xs": [1, 2, 3],
    "m": {"k": 1, "xs": [1]},
    "big": [[0] * 100] * 99,
    "s": "abc",
    "i": 0,
    "deep": DEEP,
}


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.tuples(inner, inner)
        return st.one_of(
            st.sampled_from(ATOMS),
            st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "+", "not "]), inner).map("".join),
            st.tuples(st.sampled_from(["min", "max", "abs", "int", "round", "len", "range"]), pairs).map(
                lambda t: f"{t[0]}({t[1][0]}, {t[1][1]})"
            ),
            st.tuples(st.sampled_from(["abs", "int", "round", "len", "range", "min"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            pairs.map(lambda t: f"{t[0]}[{t[1]}]"),
            pairs.map(lambda t: f"{t[0]}[{t[1]}:]"),
            inner.map(lambda e: f"{e}.k"),
            pairs.map(lambda t: f"[{t[0]}, {t[1]}]"),
            pairs.map(lambda t: f"{{'k': {t[0]}, 'xs': {t[1]}}}"),
            st.tuples(inner, inner, inner).map(lambda t: f"[{t[0]} for x in {t[1]} if {t[2]}]"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} < {t[1]} == {t[2]})"),
        )

    return st.recursive(st.sampled_from(ATOMS), extend, max_leaves=12)


@FUZZ
@given(text=expressions())
def test_fuzz_expressions(text: str) -> None:
    """Generated expressions evaluate or raise ExpressionError, also when written into text."""
    from archspec.frontend.expressions import ExpressionError, evaluate, substitute

    for attempt in (lambda: evaluate(text, SCOPE), lambda: substitute(f"n${{{text}}}", SCOPE)):
        try:
            attempt()
        except ExpressionError:
            pass
        except Exception as exc:
            _report(f"{type(exc).__name__}: {exc}", ["evaluate"], (".expr", text.encode()))


# ----------------------------------------------------------------------------- the corpus


def corpus() -> Iterator[Path]:
    yield from sorted(p for p in CORPUS.glob("*") if p.suffix in (".yaml", ".set", ".expr", ".args"))


@pytest.mark.parametrize("case", list(corpus()), ids=lambda p: p.name)
def test_corpus_replays(case: Path, workdir: Path) -> None:
    """Inputs the big fuzz runs found (each once an internal error or a hang); they must stay fixed."""
    if case.suffix == ".set":
        value = case.read_bytes().decode("utf-8", "surrogatepass")
        check([LENET, "--set", f"num_classes={value}"])
    elif case.suffix == ".expr":
        test_fuzz_expressions.hypothesis.inner_test(text=case.read_text())
    elif case.suffix == ".args":  # paths, "{workdir}" standing for a folder of special files
        special_files(workdir)
        check([arg.format(workdir=workdir, lenet=LENET) for arg in json.loads(case.read_text())])
    else:
        check([str(case)])
