"""Spec text reaches terminals, diagrams, docs and generated Python with its control characters escaped;
``--format json`` is strict JSON, failures included (issue 10)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from archspec.backends.graphviz import dot_available
from archspec.cli import main
from archspec.errors import Diagnostic
from archspec.jsontext import dumps
from archspec.safetext import UNSAFE, escape_controls

ROOT = Path(__file__).parent.parent
LENET = str(ROOT / "specs" / "lenet5.yaml")

# YAML double-quoted escapes: \e is ESC, \0 is NUL, \u202e is RIGHT-TO-LEFT OVERRIDE
HOSTILE = r"""archspec: 1
name: hostile
description: "top\0desc\e[2J and \u202ereversed"
input: {channels: 1, size: [8, 8]}
params: {tag: "p\0q\e]0;title\a"}
blocks:
  head:
    doc: "block\0doc \u2066isolate"
    params: {label: "z"}
    layers:
      - {type: Linear, out_features: 3, doc: "x\0y\e[31m"}
layers:
  - {type: Flatten}
  - {use: head, label: "a\0b\u202e"}
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    return path


def _clean(text: str) -> None:
    """No control character but newline and tab, and no bidi character, survives."""
    assert UNSAFE.search(text.replace("\n", "").replace("\t", "")) is None, repr(text)


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# -- escaping --------------------------------------------------------------------------------


def test_escape_controls() -> None:
    assert escape_controls("a\x1b[2Jb\x00\u202ec\x85") == "a\\x1b[2Jb\\x00\\u202ec\\x85"
    assert escape_controls("line\nnext\t", keep="\n") == "line\nnext\\x09"
    assert escape_controls("plain é 中") == "plain é 中"


def test_diagnostic_format_escapes_every_field_and_keeps_the_caret_aligned() -> None:
    d = Diagnostic(
        "bad",
        "unknown type 'X\x1b[2J'",
        file="f\x1b.yaml",
        line=3,
        column=11,
        hint="did you mean\x07 'Y'?",
        node="a\u202eb",
        source_line="  - {a: \x1b\x1b, type: X}",
    )
    text = d.format()
    _clean(text)
    header, source, caret, hint = text.splitlines()
    assert header == "f\\x1b.yaml:3:11: error[bad]: unknown type 'X\\x1b[2J' (in node 'a\\u202eb')"
    assert source == "   3 |   - {a: \\x1b\\x1b, type: X}"
    assert source[caret.index("^")] == ","  # column 11 is the comma after the two ESCs
    assert hint == "  = hint: did you mean\\x07 'Y'?"


def test_cli_diagnostics_escape_spec_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(HOSTILE.replace("{type: Flatten}", '{type: "Fl\\e[2Jatten\\u202e"}'))
    assert main(["validate", str(spec)]) == 1
    err = capsys.readouterr().err
    _clean(err)
    assert "unknown layer type 'Fl\\x1b[2Jatten\\u202e'" in err


def test_summary_and_docs_escape_spec_text(hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "markdown"):
        assert main(["summary", str(hostile), "--format", fmt]) == 0
        _clean(capsys.readouterr().out)
    out = tmp_path / "docs"
    assert main(["docs", str(hostile), "-o", str(out), "--no-diagrams"]) == 0
    page = (out / "hostile.md").read_text()
    _clean(page)
    assert "top\\x00desc\\x1b[2J and \\u202ereversed" in page
    _clean((out / "index.md").read_text())


@pytest.mark.parametrize("suffix", [".dot", ".svg"])
def test_diagram_of_nul_and_escape_characters(hostile: Path, tmp_path: Path, suffix: str) -> None:
    if suffix == ".svg" and not dot_available():
        pytest.skip("Graphviz's dot is not installed")
    out = tmp_path / f"d{suffix}"
    assert main(["diagram", str(hostile), "-o", str(out)]) == 0  # dot failed on the NUL before
    text = out.read_text()
    _clean(text)
    assert "x\\\\x00y" in text if suffix == ".dot" else "x\\x00y" in text


def test_codegen_of_nul_and_escape_characters_compiles(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    assert main(["codegen", str(hostile), "-o", str(out)]) == 0
    source = out.read_text()
    _clean(source)
    namespace: dict[str, Any] = {}
    pytest.importorskip("torch")
    exec(compile(source, str(out), "exec"), namespace)
    assert namespace["Hostile"].__doc__.startswith("top\x00desc\x1b[2J and \u202ereversed")


def test_codegen_never_writes_a_file_that_does_not_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from archspec.backends import codegen

    monkeypatch.setattr(codegen, "_root_doc", lambda compiled: 'broken """ quote\x00')
    monkeypatch.setattr(codegen, "_docstring", lambda text, indent: ['"""' + text + '"""'])  # a writer bug
    out = tmp_path / "model.py"
    assert main(["codegen", LENET, "-o", str(out)]) == 3
    assert "internal error: SyntaxError" in capsys.readouterr().err
    assert not out.exists()


# -- JSON -----------------------------------------------------------------------------------


def test_dumps_encodes_non_finite_numbers_as_strings() -> None:
    data = {"a": math.nan, "b": [math.inf, -math.inf], "c": 1.5, "d": (1, 2)}
    assert strict_json(dumps(data)) == {"a": "NaN", "b": ["Infinity", "-Infinity"], "c": 1.5, "d": [1, 2]}


def test_summary_json_is_strict_with_non_finite_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "nan.yaml"
    spec.write_text(
        "archspec: 1\nname: nan\ninput: {channels: 1, size: [8, 8]}\n"
        "params: {a: .nan, b: -.inf, c: [.inf, 2.5]}\nlayers:\n  - {type: Flatten}\n"
    )
    assert main(["summary", str(spec), "--format", "json"]) == 0
    data = strict_json(capsys.readouterr().out)
    assert data["params_values"] == {"a": "NaN", "b": "-Infinity", "c": ["Infinity", 2.5]}


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (["summary", str(ROOT / "tests" / "invalid" / "add_mismatch.yaml"), "--format", "json"], "shape", 1),
        (["summary", "missing.yaml", "--format", "json"], "io", 2),
        (["summary", LENET, "--format=json", "--bogus"], "usage", 2),
        (["summary", LENET, "--format", "json", "--set", "nokey"], "usage", 2),
        (["validate", "--format", "json"], "usage", 2),
        (["evaluate", LENET, "--checkpoint", "missing.pt", "--format", "json", "--workers", "-1"], "usage", 2),
    ],
)
def test_failures_under_format_json_are_json_on_stdout(
    capsys: pytest.CaptureFixture[str], args: list[str], code: str, exit_code: int
) -> None:
    assert main(args) == exit_code
    captured = capsys.readouterr()
    records = strict_json(captured.out)
    assert records and records[0]["code"] == code and records[0]["severity"] == "error"
    assert captured.err == ""


def test_internal_errors_under_format_json_are_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from archspec.commands import summary

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(summary, "summary_data", boom)
    assert main(["summary", LENET, "--format", "json"]) == 3
    [record] = strict_json(capsys.readouterr().out)
    assert record["code"] == "internal" and "RuntimeError: a bug" in record["message"]


def test_usage_errors_in_text_mode_look_like_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", LENET, "--format", "yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: archspec summary")
    assert "archspec summary: error: argument --format: invalid choice: 'yaml'" in err


def test_file_names_are_escaped_in_progress_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "net\x1b[2J.yaml"
    spec.write_text(Path(LENET).read_text())
    assert main(["validate", str(spec)]) == 0
    assert main(["codegen", str(spec), "-o", str(tmp_path / "m\x1b[31m.py")]) == 0
    assert main(["diagram", str(spec), "-o", str(tmp_path / "d\u202e.dot")]) == 0
    assert main(["docs", str(spec), "-o", str(tmp_path / "docs\x07"), "--no-diagrams"]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert "net\\x1b[2J.yaml" in out and "m\\x1b[31m.py" in out and "d\\u202e.dot" in out and "docs\\x07" in out
