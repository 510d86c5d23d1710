"""Where each YAML token of a buffer starts and ends, by data path; and LSP positions.

The spec loader (:mod:`archspec.frontend.source`) keeps where values start, which is all a
diagnostic's caret needs; an editor underlines a range. One more pass over the parser's
events gives every scalar's extent (quotes included), every collection's, and the data path
of each, so a diagnostic at ``3:7`` underlines the token that starts there and a cursor maps
to the key or value under it. It stops quietly where the YAML stops parsing: a half-typed
buffer still has tokens up to its first error.

Positions are 0-based ``(line, character)`` pairs, characters counted as code points (as
libyaml's marks count them); :class:`Lines` converts them to the client's units (UTF-16 by
default in LSP).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import yaml

from archspec.frontend.source import KeyPath

Pos = tuple[int, int]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LSP_BREAK = re.compile(r"\r\n|\r|\n")
_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


@dataclass(frozen=True)
class Span:
    start: Pos
    end: Pos

    def contains(self, pos: Pos) -> bool:
        """The cursor is in the token or right after its last character (where typing goes on)."""
        return self.start <= pos <= self.end


@dataclass(frozen=True)
class Token:
    """One scalar (or alias) of the buffer: a mapping key or a value."""

    path: KeyPath
    key: bool
    span: Span
    text: str | None
    """The scalar's value as the parser read it (None for an alias)."""
    quoted: bool = False


@dataclass
class Tokens:
    scalars: list[Token] = field(default_factory=list)
    values: dict[KeyPath, Span] = field(default_factory=dict)
    """The extent of every value, collections included (a mapping from its first character to its last)."""
    keys: dict[KeyPath, Span] = field(default_factory=dict)
    complete: bool = True
    """False when the YAML stopped parsing (the tokens cover the text up to there)."""
    _starts: list[Pos] = field(default_factory=list, repr=False)
    _by_start: dict[Pos, Span] = field(default_factory=dict, repr=False)
    _value_tokens: dict[KeyPath, Token] = field(default_factory=dict, repr=False)

    def finish(self) -> Tokens:
        self._starts = [t.span.start for t in self.scalars]
        self._by_start = {span.start: span for span in self.values.values()}
        self._by_start.update({t.span.start: t.span for t in self.scalars})
        self._value_tokens = {t.path: t for t in self.scalars if not t.key}
        return self

    def at(self, pos: Pos) -> Token | None:
        """The scalar under the cursor, the later one where two touch (``a,|b``)."""
        index = bisect_right(self._starts, pos) - 1
        for token in self.scalars[max(index - 1, 0) : index + 1][::-1]:
            if token.span.contains(pos):
                return token
        return None

    def starting_at(self, pos: Pos) -> Span | None:
        """The token (scalar or collection) that starts exactly here: what a diagnostic's caret points at."""
        return self._by_start.get(pos)

    def value_token(self, path: KeyPath) -> Token | None:
        """The scalar at ``path`` (None for a collection or a path the text does not have)."""
        return self._value_tokens.get(path)


@dataclass
class _Frame:
    path: KeyPath
    start: Pos
    mapping: bool
    index: int = 0
    key: str | None = None


def index_tokens(text: str, *, limit: int = 1_000_000) -> Tokens:
    """Every token of ``text`` with its span and path, as far as the YAML parses (at most ``limit`` events)."""
    tokens = Tokens()
    parser = _Loader(text)
    frames: list[_Frame] = []
    try:
        for _ in range(limit):
            event = parser.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            _step(event, frames, tokens)
    except yaml.YAMLError:
        tokens.complete = False
    finally:
        parser.dispose()
    return tokens.finish()


def _step(event: Any, frames: list[_Frame], tokens: Tokens) -> None:
    start = (event.start_mark.line, event.start_mark.column)
    if isinstance(event, yaml.CollectionEndEvent):
        frame = frames.pop()
        tokens.values[frame.path] = Span(frame.start, (event.end_mark.line, event.end_mark.column))
        return
    if not isinstance(event, _NODE_EVENTS):
        return  # stream and document boundaries
    top = frames[-1] if frames else None
    is_key = top is not None and top.mapping and top.key is None
    path = _path_of(event, top, is_key)
    span = Span(start, (event.end_mark.line, event.end_mark.column))
    if is_key:
        tokens.keys[path] = span
    if isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
        text = event.value if isinstance(event, yaml.ScalarEvent) else None
        quoted = isinstance(event, yaml.ScalarEvent) and event.style in ("'", '"')
        tokens.scalars.append(Token(path, is_key, span, text, quoted))
        if not is_key:
            tokens.values[path] = span
        return
    frames.append(_Frame(path, start, isinstance(event, yaml.MappingStartEvent)))


def _path_of(event: Any, top: _Frame | None, is_key: bool) -> KeyPath:
    """The data path of the node this event starts, advancing the enclosing collection's state."""
    if top is None:
        return ()
    if is_key:
        top.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        return (*top.path, top.key)
    if top.mapping:
        key, top.key = top.key or "?", None
        return (*top.path, key)
    top.index += 1
    return (*top.path, top.index - 1)


class Lines:
    """A text's lines as LSP counts them (``\\r\\n``, ``\\r``, ``\\n``), converting columns to the client's units."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.lines = _LSP_BREAK.split(text)
        self.encoding = encoding

    def line(self, number: int) -> str:
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def to_client(self, pos: Pos) -> tuple[int, int]:
        """Code points -> client units; positions past the text are clamped."""
        line, column = pos
        if line >= len(self.lines):
            return len(self.lines) - 1, self._units(self.lines[-1])
        text = self.lines[max(line, 0)]
        return max(line, 0), self._units(text[: max(column, 0)])

    def from_client(self, line: int, units: int) -> Pos:
        """Client units -> code points (a position inside a surrogate pair rounds down)."""
        text = self.line(line)
        if self.encoding == "utf-32" or text.isascii():
            return line, min(units, len(text))
        count = 0
        for index, character in enumerate(text):
            count += self._units(character)
            if count > units:
                return line, index
        return line, len(text)

    def _units(self, text: str) -> int:
        if self.encoding == "utf-32" or text.isascii():
            return len(text)
        if self.encoding == "utf-8":
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text.encode("utf-16-le", "surrogatepass")) // 2


def value_at(data: Any, path: KeyPath) -> Any:
    """The value at ``path`` in a buffer's data, or None where the (half-typed) data has no such place."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data
