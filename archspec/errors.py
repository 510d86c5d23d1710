"""One error hierarchy for archspec; every diagnostic points at the source.

Each exception class also inherits the builtin it specialises (like Lark's
``ConfigurationError(LarkError, ValueError)``), so callers that only know the
builtins still catch the right thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from archspec.jsontext import dumps
from archspec.safetext import escape_controls


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one spec, located at ``file:line:column`` (1-based)."""

    code: str
    message: str
    file: str = "<spec>"
    line: int = 1
    column: int = 1
    hint: str | None = None
    node: str | None = None
    severity: str = "error"
    source_line: str | None = field(default=None, compare=False)

    def format(self) -> str:
        """Render like a compiler: header, the source line, a caret, then the hint.

        Text from the spec is shown with control and bidi characters escaped (see
        :mod:`archspec.safetext`); the caret counts the escapes, so it stays under its column.
        """
        where = f" (in node '{escape_controls(self.node)}')" if self.node else ""
        head = f"{escape_controls(self.file)}:{self.line}:{self.column}: {self.severity}[{self.code}]: "
        lines = [head + escape_controls(self.message, keep="\n") + where]
        if self.source_line is not None:
            gutter = f"{self.line:>4} | "
            text, caret = _window(self.source_line, max(self.column - 1, 0))
            lines.append(gutter + escape_controls(text))
            lines.append(" " * (len(gutter) + len(escape_controls(text[:caret]))) + "^")
        if self.hint:
            lines.append("  = hint: " + escape_controls(self.hint, keep="\n"))
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("source_line")
        return data


def _window(line: str, column: int, width: int = 100) -> tuple[str, int]:
    """Cut very long source lines to ``width`` characters around the caret."""
    if len(line) <= width:
        return line, column
    start = max(0, min(column - width // 2, len(line) - width))
    prefix = "..." if start else ""
    suffix = "..." if start + width < len(line) else ""
    return prefix + line[start : start + width] + suffix, column - start + len(prefix)


class ArchspecError(Exception):
    """Base class of everything archspec raises on purpose."""

    def __init__(self, diagnostics: list[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(code="error", message=diagnostics)]
        self.diagnostics = list(diagnostics)
        super().__init__(self.format())

    def format(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)

    def to_json(self) -> str:
        return dumps([d.to_json() for d in self.diagnostics])


class SpecError(ArchspecError, ValueError):
    """The spec is invalid: the CLI exits 1."""


class ReadError(ArchspecError, OSError):
    """An input file could not be read (missing, a folder, a device, binary): the CLI exits 2."""


class WriteError(ArchspecError, OSError):
    """An output could not be written (no permission, a folder, an input's own path): the CLI exits 2."""


class UsageError(ArchspecError, ValueError):
    """The caller asked for something impossible (bad ``--set``, bad option): the CLI exits 2."""


class LayerError(ValueError):
    """Raised by a layer's shape rule; the compiler attaches file, line and node.

    ``field`` names the argument at fault so the caret lands on it.
    """

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field
