"""One compile of one editor buffer, and what the editor features read from it.

The buffer is compiled exactly as ``archspec validate`` compiles a file (same pipeline, same
budget, errors and warnings alike), with the partial result kept (``allow_errors``) so hover and
inlay hints still show every shape inferred before an error. A recording elaborator keeps what
each ``${...}`` evaluated to, per data path, for hovers. Nothing raised by the compile escapes:
an archspec bug becomes one ``internal`` diagnostic, so the server answers every buffer.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from archspec.compiler.elaborate import Elaborator
from archspec.compiler.ir import CompiledSpec, Node, Subgraph
from archspec.compiler.pipeline import compile_text
from archspec.errors import ArchspecError, Diagnostic
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.source import KeyPath, parse_yaml
from archspec.lsp.text import Tokens, index_tokens

MAX_RECORDED = 64
"""Values kept per expression (a block used 1,000 times shows the first ones)."""
_SPEC_KEY = re.compile(r"""^(?:archspec|"archspec"|'archspec')[ \t]*:""", re.MULTILINE)

_LSP_BREAK = re.compile(r"\r\n|\r|\n")

Instance = Node | Subgraph


@dataclass
class Analysis:
    """A buffer's text, its diagnostics, and the compiled result (None where compiling stopped early)."""

    text: str
    file: str
    is_spec: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    compiled: CompiledSpec | None = None
    recorded: list[tuple[KeyPath, Any]] = field(default_factory=list)
    """Each ``${...}`` evaluation, in order: the data path it was written at, and its value."""
    instances: dict[KeyPath, list[Instance]] = field(default_factory=dict)
    """The nodes and modules each spec node became, by its data path (a block's nodes: one per use)."""
    internal_error: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    """What the features derive from the analysis once (the index of names)."""

    @cached_property
    def tokens(self) -> Tokens:
        """Every token's span and path: diagnostics' ranges, and where the cursor is (made on first use)."""
        return index_tokens(self.text, limit=2 * DEFAULT_BUDGET.max_yaml_values) if self.is_spec else Tokens()

    @cached_property
    def evaluated(self) -> dict[KeyPath, list[Any]]:
        """What each ``${...}`` evaluated to, by data path: one value per instance (the first :data:`MAX_RECORDED`)."""
        found: dict[KeyPath, list[Any]] = {}
        for path, value in self.recorded:
            kept = found.setdefault(path, [])
            if len(kept) < MAX_RECORDED:
                kept.append(value)
        return found

    def warm(self) -> Analysis:
        """Make what the features read, off the event loop (after the diagnostics went out)."""
        _ = self.tokens, self.data, self.evaluated, self.text_lines
        return self

    @cached_property
    def data(self) -> Any:
        """The plain YAML data (None when the YAML does not parse); read when a feature first needs it."""
        return _parse(self.text, self.file)

    @cached_property
    def text_lines(self) -> list[str]:
        """The text's lines as LSP counts them."""
        return _LSP_BREAK.split(self.text)


class RecordingElaborator(Elaborator):
    """The elaboration pass, remembering each evaluated expression's value by data path."""

    def __init__(self, *args: Any, record: list[tuple[KeyPath, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep = record.append

    def evaluate(self, value: Any, vars: dict[str, Any], path: KeyPath) -> Any:
        result = super().evaluate(value, vars, path)
        self.keep((path, result))  # bounded: the budget bounds evaluations
        return result


def is_spec_text(text: str) -> bool:
    """An archspec spec: a mapping with an ``archspec`` key. A line that starts with ``archspec:`` says so
    without parsing, also while the rest is half-typed (a spec being typed keeps its diagnostics)."""
    if _SPEC_KEY.search(text):
        return True
    data = _parse(text, "<buffer>")
    return isinstance(data, dict) and "archspec" in data


def _parse(text: str, file: str) -> Any:
    try:
        return parse_yaml(text, file)[0]
    except ArchspecError:
        return None


def analyze(text: str, file: str, *, budget: Budget = DEFAULT_BUDGET) -> Analysis:
    """Compile ``text`` (named ``file`` in diagnostics) like ``archspec validate``; never raises."""
    try:
        return _analyze(text, file, budget)
    except Exception as exc:  # an archspec bug: one diagnostic, and the server goes on
        return _internal(text, file, exc)


def _analyze(text: str, file: str, budget: Budget) -> Analysis:
    analysis = Analysis(text, file, is_spec_text(text))
    if not analysis.is_spec:
        return analysis
    try:
        compiled = compile_text(text, file, allow_errors=True, budget=budget, elaborator=_recorder(analysis.recorded))
    except ArchspecError as exc:
        analysis.diagnostics = exc.diagnostics
        return analysis
    analysis.compiled = compiled
    analysis.diagnostics = [*compiled.diagnostics, *compiled.warnings]
    analysis.instances = _instances(compiled)
    return analysis


def _recorder(record: list[tuple[KeyPath, Any]]) -> Any:
    def make(*args: Any, **kwargs: Any) -> Elaborator:
        return RecordingElaborator(*args, record=record, **kwargs)

    return make


def _instances(compiled: CompiledSpec) -> dict[KeyPath, list[Instance]]:
    found: dict[KeyPath, list[Instance]] = {}
    for module in compiled.root.modules():
        if module.kind != "root":
            found.setdefault(module.source_path, []).append(module)
        for child in module.children:
            if isinstance(child, Node):
                found.setdefault(child.source_path, []).append(child)
    return found


def _internal(text: str, file: str, exc: BaseException) -> Analysis:
    message = f"internal error: {type(exc).__name__}: {exc} (please report it with this spec)"
    return Analysis(
        text,
        file,
        True,
        diagnostics=[Diagnostic("internal", message, file=file)],
        internal_error="".join(traceback.format_exception(exc)),
    )
