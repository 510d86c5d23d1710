"""Every diagnostic class, from a directory of invalid specs paired with their expected diagnostics.

Each file in tests/invalid/ starts with ``# expect: CODE LINE:COLUMN`` lines; the
compiler must report exactly those (code, line, column) triples, nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import archspec
from archspec.compiler.pipeline import compile_spec
from archspec.errors import SpecError
from archspec.frontend.budget import Budget

INVALID = Path(__file__).parent / "invalid"
EXPECT = re.compile(r"^# expect: (\S+) (\d+):(\d+)$")
BUDGET = re.compile(r"^# budget: (\w+)=(\d+)$")


def budget(path: Path) -> Budget:
    """``# budget: max_errors=2`` lines set the compilation budget for that file."""
    limits = {m.group(1): int(m.group(2)) for line in path.read_text().splitlines() if (m := BUDGET.match(line))}
    return Budget(**limits)  # type: ignore[arg-type]


def expectations(path: Path) -> set[tuple[str, int, int]]:
    found = set()
    for line in path.read_text().splitlines():
        match = EXPECT.match(line)
        if match:
            found.add((match.group(1), int(match.group(2)), int(match.group(3))))
    return found


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_spec_reports_expected_diagnostics(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' line"
    with pytest.raises(SpecError) as info:
        compile_spec(path, budget=budget(path))
    got = {(d.code, d.line, d.column) for d in info.value.diagnostics}
    assert got == expected, info.value.format()
    for diagnostic in info.value.diagnostics:
        assert diagnostic.file == str(path)
        assert diagnostic.message
        formatted = diagnostic.format()
        assert formatted.startswith(f"{path}:{diagnostic.line}:{diagnostic.column}: error[{diagnostic.code}]: ")
        if diagnostic.source_line is not None and len(diagnostic.source_line) <= 100:
            caret_line = formatted.splitlines()[2]
            gutter = len(f"{diagnostic.line:>4} | ")
            assert caret_line.index("^") == gutter + diagnostic.column - 1


def load_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.load(text)
    return info.value


HEADER = "archspec: 1\nname: t\ninput: {channels: 3, size: [8, 8]}\n"


def test_did_you_mean_for_layer_type() -> None:
    error = load_error(HEADER + "layers: [{type: Conv2D, out_channels: 4, kernel_size: 3}]\n")
    assert error.diagnostics[0].hint == "did you mean 'Conv2d'?"


def test_did_you_mean_for_argument() -> None:
    error = load_error(HEADER + "layers: [{type: Conv2d, out_channels: 4, kernal_size: 3}]\n")
    assert "'kernel_size'" in (error.diagnostics[0].hint or "")


def test_did_you_mean_for_parameter_and_reference() -> None:
    error = load_error(
        HEADER
        + "params: {width: 8}\nlayers:\n"
        + "  - {id: stem, type: Conv2d, out_channels: '${widht}', kernel_size: 1}\n"
        + "  - {id: conv1, type: Conv2d, out_channels: 8, kernel_size: 1, inputs: [input]}\n"
        + "  - {type: add, inputs: [conv, input]}\n"
    )
    hints = [d.hint for d in error.diagnostics]
    assert "did you mean 'width'?" in hints
    assert any(h and "'conv1'" in h for h in hints)


def test_shape_error_shows_the_arithmetic() -> None:
    error = load_error(HEADER + "layers: [{type: Conv2d, out_channels: 4, kernel_size: 5, dilation: 2}]\n")
    message = error.diagnostics[0].message
    for fact in ("input 8", "padding 0+0", "2*(5-1)+1 = 9", "(8 - 9) // 1 + 1 = 0"):
        assert fact in message, message


def test_json_diagnostic_fields() -> None:
    error = load_error(HEADER + "layers: [{type: Conv2D, out_channels: 4, kernel_size: 3}]\n")
    record = error.diagnostics[0].to_json()
    assert {"file", "line", "column", "code", "message", "hint"} <= set(record)


def test_deep_nesting_is_rejected_without_recursion_error() -> None:
    text = HEADER + "layers: [{type: Identity, doc: " + "[" * 5000 + "]" * 5000 + "}]\n"
    error = load_error(text)
    assert error.diagnostics[0].code == "too-deep"
    assert error.diagnostics[0].line == 4


def test_deeply_nested_groups_are_rejected() -> None:
    body = "{type: Identity}"
    for _ in range(200):
        body = "{layers: [" + body + "]}"
    error = load_error(HEADER + f"layers: [{body}]\n")
    assert error.diagnostics[0].code == "too-deep"


def test_billion_laughs_is_rejected_before_expanding() -> None:
    """The alias budget stops it at the first alias over the limit (tests/test_hostile_inputs.py
    bounds its CPU time and memory in a subprocess)."""
    error = load_error((INVALID / "billion_laughs.yaml").read_text())
    assert error.diagnostics[0].code == "too-large"


def test_huge_repeat_is_rejected() -> None:
    error = load_error(HEADER + "layers: [{type: Identity, repeat: 2000000000}]\n")
    assert error.diagnostics[0].code == "too-large"


def test_errors_in_blocks_point_into_the_block_definition() -> None:
    text = (
        HEADER
        + "blocks:\n  B:\n    params: {k: 3}\n    layers:\n"
        + "      - {type: Conv2d, out_channels: 4, kernel_size: '${k}'}\n"
        + "layers:\n  - {use: B, k: 11}\n"
        + "  - {id: fine, use: B, inputs: [input]}\n  - {id: again, use: B, k: 9, inputs: [input]}\n"
    )
    error = load_error(text)
    # one diagnostic per failing instance, at the definition, each naming its instance
    assert [(d.code, d.line, d.node) for d in error.diagnostics] == [("shape", 8, "0.0"), ("shape", 8, "again.0")]
    assert "(in node 'again.0')" in error.diagnostics[1].format()


def test_reserved_ids_cover_torch_module_attributes() -> None:
    torch = pytest.importorskip("torch")
    from archspec.compiler.names import RESERVED_IDS

    public = {name for name in dir(torch.nn.Module()) if not name.startswith("_")}
    assert public <= RESERVED_IDS, sorted(public - RESERVED_IDS)


def test_warnings_for_unused_outputs_and_inplace_hazards(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from archspec.cli import main

    spec = tmp_path / "warn.yaml"
    spec.write_text(
        HEADER
        + "layers:\n"
        + "  - {id: stem, type: Conv2d, out_channels: 4, kernel_size: 1}\n"
        + "  - {id: dead, type: Conv2d, out_channels: 4, kernel_size: 1}\n"
        + "  - {id: act, type: ReLU, inplace: true, inputs: [stem]}\n"
        + "  - {id: sum, type: add, inputs: [act, stem]}\n"
    )
    compiled = archspec.load(spec)
    assert compiled.ok
    got = {(w.code, w.line, w.severity) for w in compiled.warnings}
    assert got == {("unused", 6, "warning"), ("inplace-hazard", 7, "warning")}
    assert main(["validate", str(spec)]) == 0
    err = capsys.readouterr().err
    assert f"{spec}:6:5: warning[unused]: the output of 'dead' is never used" in err


def test_a_node_read_through_one_of_its_outputs_is_used(tmp_path) -> None:
    """``halves.1`` reads ``halves``: no unused warning for it; one for a chunk nothing reads."""
    spec = tmp_path / "parts.yaml"
    spec.write_text(
        HEADER
        + "layers:\n"
        + "  - {id: halves, type: chunk, chunks: 2, dim: 1}\n"
        + "  - {id: thirds, type: chunk, chunks: 3, dim: 1, inputs: [input]}\n"
        + "  - {id: conv, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [halves.1]}\n"
    )
    compiled = archspec.load(spec)
    assert compiled.ok
    assert [(w.code, w.line) for w in compiled.warnings] == [("unused", 6)]


def test_shipped_specs_have_no_warnings() -> None:
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "specs").glob("*.yaml")):
        assert archspec.load(path).warnings == [], path
