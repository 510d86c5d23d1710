"""archspec's diagnostics as LSP diagnostics: the same code, message and hint, on the token the caret points at."""

from __future__ import annotations

import re

from lsprotocol import types

from archspec.errors import Diagnostic
from archspec.lsp.analysis import Analysis
from archspec.lsp.text import Lines, Pos, Span

_WORD = re.compile(r"[^\s,:{}\[\]#]+")
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def message_of(diagnostic: Diagnostic) -> str:
    """What ``archspec validate`` prints for it, less the file position and the source excerpt."""
    where = f" (in node '{diagnostic.node}')" if diagnostic.node else ""
    hint = f"\nhint: {diagnostic.hint}" if diagnostic.hint else ""
    return diagnostic.message + where + hint


def diagnostic_span(analysis: Analysis, lines: Lines, line: int, column: int) -> Span:
    """The token that starts at a 1-based ``line:column``; else the word there (a YAML error's place)."""
    start: Pos = (max(line - 1, 0), max(column - 1, 0))
    span = analysis.tokens.starting_at(start)
    if span is not None:
        if span.end[0] != start[0]:  # a block mapping or multi-line text: its first line
            return Span(start, (start[0], start[1] + len(lines.line(start[0])[start[1] :].rstrip())))
        return span
    match = _WORD.match(lines.line(start[0]), start[1])
    return Span(start, (start[0], match.end() if match else start[1] + 1))


def to_lsp(analysis: Analysis, lines: Lines) -> list[types.Diagnostic]:
    found = []
    for diagnostic in analysis.diagnostics:
        span = diagnostic_span(analysis, lines, diagnostic.line, diagnostic.column)
        found.append(
            types.Diagnostic(
                range=to_range(span, lines),
                message=message_of(diagnostic),
                severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Error),
                code=diagnostic.code,
                source="archspec",
            )
        )
    return found


def to_range(span: Span, lines: Lines) -> types.Range:
    start, end = lines.to_client(span.start), lines.to_client(span.end)
    return types.Range(types.Position(*start), types.Position(*end))
