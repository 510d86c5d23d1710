"""What the preview page shows for one spec file, as plain JSON-ready data.

One :func:`preview` call compiles the file with ``allow_errors`` (so a shape error still
gives the diagram up to the failing node), draws it with Graphviz, and gathers the summary
rows, the diagnostics with their source lines, the spec's text, and for every drawn box
the table rows and source lines it stands for (what a click highlights). Nothing here
raises on a bad spec: every failure becomes a diagnostic on the page.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspec.backends.graphviz import Diagram
from archspec.backends.summary import human_bytes, key_args
from archspec.backends.values import io_line, node_activation_bytes, node_text
from archspec.compiler.ir import CompiledSpec, Node
from archspec.compiler.pipeline import compile_spec
from archspec.errors import ArchspecError, Diagnostic, ReadError
from archspec.frontend.files import read_spec_file
from archspec.frontend.source import KeyPath, Source

DOT_SECONDS = 30
"""How long ``dot`` may take to lay out one diagram."""
NO_DOT = (
    "Graphviz's 'dot' program is not installed, so the diagram cannot be drawn here; "
    "install it ('apt-get install graphviz' or 'brew install graphviz') and save the spec again. "
    "The table and the diagnostics below are live without it."
)


@dataclass
class Preview:
    """The page's data for one spec: always a valid page, whatever the file holds."""

    file: str
    name: str
    ok: bool
    svg: str | None = None
    diagram_note: str | None = None
    io: str = ""
    totals: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    boxes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Drawn box id -> ``{"rows": [node paths], "lines": [[first, last], ...]}``."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def preview(path: Path, *, expand: bool = False) -> Preview:
    """Compile, draw and tabulate the spec at ``path``; errors become diagnostics, never exceptions.

    Even an archspec bug becomes a diagnostic (``internal``): the watcher thread must live on
    to rebuild the page at the next save.
    """
    try:
        return _preview(path, expand)
    except ArchspecError as exc:  # nothing to draw: YAML syntax, a missing file, a wrong version
        return _failed(path, exc)
    except Exception as exc:  # reported on the page, as the CLI reports it (exit 3)
        message = f"internal error: {type(exc).__name__}: {exc} (please report it)"
        return _failed(path, ArchspecError([Diagnostic("internal", message, str(path))]))


def _preview(path: Path, expand: bool) -> Preview:
    compiled = compile_spec(path, allow_errors=True)
    page = Preview(
        file=str(path),
        name=compiled.name,
        ok=compiled.ok,
        io=io_line(compiled),
        totals={
            "params": compiled.params_total,
            "macs": compiled.macs,
            "flops": compiled.flops,
            "layers": len(compiled.nodes),
            "activations": human_bytes(sum(node_activation_bytes(compiled, n) for n in compiled.nodes)),
        },
        rows=[_row(compiled, node) for node in compiled.nodes],
        diagnostics=[_diagnostic(d, compiled.source) for d in [*compiled.diagnostics, *compiled.warnings]],
        source=compiled.source.text.splitlines(),
    )
    diagram = Diagram(compiled, expand=expand)
    page.boxes = _boxes(compiled, diagram)
    page.svg, page.diagram_note = _svg(diagram)
    return page


def _failed(path: Path, exc: ArchspecError) -> Preview:
    page = Preview(file=str(path), name=path.stem, ok=False, diagram_note="nothing to draw: the spec does not load")
    page.diagnostics = [_diagnostic(d, None) for d in exc.diagnostics]
    if not isinstance(exc, ReadError):
        with contextlib.suppress(ArchspecError):
            page.source = read_spec_file(path).splitlines()
    return page


def _svg(diagram: Diagram) -> tuple[str | None, str | None]:
    """The diagram as inline SVG (without the XML prolog), or why there is none.

    ``dot`` runs with a time limit: a flat chain of thousands of layers can take minutes to
    lay out, and the page (whose table and diagnostics are ready) should not wait for it.
    """
    dot = shutil.which("dot")
    if dot is None:
        return None, NO_DOT
    try:
        source = diagram.build().source
        done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=DOT_SECONDS)
    except ArchspecError as exc:  # the graphviz Python package is missing
        return None, "; ".join(d.message for d in exc.diagnostics)
    except subprocess.TimeoutExpired:
        return (
            None,
            f"Graphviz took more than {DOT_SECONDS} s to lay the diagram out; the table and diagnostics are live",
        )
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"Graphviz's 'dot' failed (exit {done.returncode})" + (f": {detail[-1]}" if detail else "")
    svg = done.stdout.decode("utf-8", "replace")
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else svg), None


def _row(compiled: CompiledSpec, node: Node) -> dict[str, Any]:
    result = node.result
    return {
        "id": node.path,
        "type": node.type,
        "args": key_args(node),
        "shape": node_text(compiled, node),
        "params": result.params if result else None,
        "macs": result.macs if result else None,
        "flops": result.flops if result else None,
        "activations": human_bytes(node_activation_bytes(compiled, node)) if result else "?",
        "error": node.error is not None,
    }


def _diagnostic(d: Diagnostic, source: Source | None) -> dict[str, Any]:
    data = d.to_json()
    line = d.source_line if d.source_line is not None else (source.line_text(d.line) if source else None)
    data["source_line"] = line
    return data


def _boxes(compiled: CompiledSpec, diagram: Diagram) -> dict[str, dict[str, Any]]:
    """Every drawn box: the table rows it stands for and the spec lines that wrote them."""
    spans = _Spans(compiled.source)
    modules = {m.path: m for m in compiled.root.modules()}
    boxes: dict[str, dict[str, Any]] = {}
    for node in compiled.nodes:
        box = diagram.drawn.owner.get(node.path, node.path)
        entry = boxes.setdefault(box, {"rows": [], "lines": []})
        entry["rows"].append(node.path)
        if box == node.path:
            entry["lines"].append(spans.of(node.source_path))
    for box, entry in boxes.items():
        if box in modules:  # a folded or collapsed module: the line that uses (or repeats) its block
            entry["lines"].append(spans.of(modules[box].source_path))
        entry["lines"] = sorted({tuple(span) for span in entry["lines"]})
    return boxes


class _Spans:
    """First and last line of every located spec path (a node written over several lines)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.last: dict[KeyPath, int] = {}
        for table in (source.values, source.keys):
            for path, (line, _) in table.items():
                for cut in range(len(path) + 1):
                    prefix = path[:cut]
                    if self.last.get(prefix, 0) < line:
                        self.last[prefix] = line

    def of(self, path: KeyPath) -> list[int]:
        first = self.source.position(path)[0]
        last = self.last.get(path, first)
        return [first, max(first, _trim(self.source, first, last))]


def _trim(source: Source, first: int, last: int) -> int:
    """``last`` moved up past blank and comment-only lines."""
    while last > first and re.fullmatch(r"\s*(#.*)?", source.line_text(last) or ""):
        last -= 1
    return last
