"""Safe YAML loading that remembers where every value came from, with bounded work.

We build plain Python data straight from the parser's events (libyaml's when available),
so that every value (and every mapping key) has a ``(line, column)``, and so that work
stops at the budget *while* reading: a 4 MiB file of tiny values is refused after
``max_yaml_values`` values instead of first being composed into millions of nodes. The
same walk bounds what YAML allows but a spec never needs: exponential alias expansion
("billion laughs", each expansion counted), recursive aliases, deep nesting, duplicate and
merge keys, tags, integers of thousands of digits.

Plain scalars are resolved with the YAML 1.2 core schema (what the YAML language server
and most modern loaders use), not PyYAML's YAML 1.1 rules: ``yes``, ``no``, ``on``,
``off``, ``1_0``, ``1:30`` and dates stay strings, ``017`` is 17, and ``1e-5`` is a float.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from archspec.errors import Diagnostic, SpecError
from archspec.frontend.budget import DEFAULT_BUDGET, Budget
from archspec.frontend.files import decode_spec, read_spec_file

__all__ = ["KeyPath", "SetValue", "Source", "decode_spec", "parse_value", "parse_yaml", "read_spec_file"]

KeyPath = tuple[str | int, ...]
"""Where a value sits in the spec document: mapping keys and list indices from the root."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available: ~10x faster

_TAG = "tag:yaml.org,2002:"
_LINE_BREAK = re.compile("\\r\\n|[\\r\\n\\x85\\u2028\\u2029]")  # YAML's (and libyaml's marks') line breaks
_NOT_YAML_TEXT = yaml.reader.Reader.NON_PRINTABLE
"""Characters YAML does not allow: PyYAML's own pattern, compiled once (its charset takes tens of ms)."""

_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NOT_A_STRING = re.compile("|".join(p.pattern for p in (_CORE_NULL, _CORE_BOOL, _CORE_INT, _CORE_FLOAT)))


@dataclass(frozen=True)
class SetValue:
    """One ``--set KEY=VALUE``: the raw text after ``=`` and the value the loader read from it.

    String-typed parameters take ``text`` as it is (``--set version=1_0`` stays "1_0").
    """

    text: str
    value: Any


@dataclass
class Source:
    """A spec's text plus the position of every value (by data path)."""

    file: str
    text: str
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=lambda: [0], init=False, repr=False, compare=False)
    _breaks: Iterator[re.Match[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def position(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``, falling back to the nearest located ancestor."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))

    def _starts_through(self, line: int = -1, offset: int = -1) -> list[int]:
        """Line start offsets, scanned only as far as ``line`` (or ``offset``) needs and kept.

        Thousands of diagnostics stay linear, and one near the top of a 4 MiB file does
        not scan all of it.
        """
        starts = self._starts
        if self._breaks is None:
            self._breaks = _LINE_BREAK.finditer(self.text)
        while len(starts) <= line or starts[-1] <= offset:
            match = next(self._breaks, None)
            if match is None:
                break
            starts.append(match.end())
        return starts

    def line_text(self, line: int) -> str | None:
        """The text of a 1-based line (None past the last line)."""
        starts = self._starts_through(line=line)
        if not 0 < line <= len(starts) or (line == len(starts) and starts[-1] == len(self.text)):
            return None  # past the last line (after a final line break, or an empty text)
        end = starts[line] if line < len(starts) else len(self.text)
        return _LINE_BREAK.sub("", self.text[starts[line - 1] : end])

    def line_column(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        starts = self._starts_through(offset=offset)
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def diagnostic(
        self,
        code: str,
        message: str,
        path: KeyPath = (),
        *,
        hint: str | None = None,
        node: str | None = None,
        key: bool = False,
    ) -> Diagnostic:
        line, column = self.position(path, key=key)
        return self.at(line, column, code, message, hint=hint, node=node)

    def at(
        self, line: int, column: int, code: str, message: str, *, hint: str | None = None, node: str | None = None
    ) -> Diagnostic:
        """A diagnostic at an explicit position."""
        return Diagnostic(
            code=code,
            message=message,
            file=self.file,
            line=line,
            column=column,
            hint=hint,
            node=node,
            source_line=self.line_text(line),
        )


def parse_yaml(text: str, file: str = "<spec>", *, budget: Budget = DEFAULT_BUDGET) -> tuple[Any, Source]:
    """Parse YAML text into plain data plus a :class:`Source` with positions."""
    source = Source(file=file, text=text)
    root = _Builder(source, budget, plain=False).document()
    if root is _EMPTY:
        raise SpecError(
            [
                source.diagnostic(
                    "empty-spec", "the spec is empty", hint="start with 'archspec: 1', 'input:' and 'layers:'"
                )
            ]
        )
    return root, source


def parse_value(text: str, *, budget: Budget = DEFAULT_BUDGET) -> Any:
    """One value from the command line (``--set KEY=VALUE``), read like a spec's values but stricter.

    Plain scalars, and lists and mappings of them: no tags (``!!binary``, ``!!set``), no
    anchors or aliases (``&a [*a]``), no second document. Raises :class:`SpecError`
    whose diagnostic says what is wrong.
    """
    if not text.strip():
        return ""
    source = Source(file="<command line>", text=text)
    value = _Builder(source, budget, plain=True).document()
    if value is _EMPTY:
        raise SpecError([source.diagnostic("yaml-syntax", "the value is only a YAML comment", hint="quote it: '#...'")])
    return value


_EMPTY = object()  # a document with no node
_UNREADABLE = object()


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Builder:
    """Plain data from parser events, recording positions and counting values against the budget.

    ``plain`` (for ``--set``) also refuses anchors, aliases and every explicit tag.
    """

    def __init__(self, source: Source, budget: Budget, *, plain: bool) -> None:
        self.source = source
        self.budget = budget
        self.plain = plain
        self.count = 0
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, values it counts for)
        self.next_event: Callable[[], yaml.Event] = lambda: yaml.StreamEndEvent()

    def document(self) -> Any:
        """The one document's data, or ``_EMPTY``; every YAML error becomes a located SpecError."""
        parser = _Loader(self.source.text)
        try:
            self.next_event = parser.get_event  # one C call per event (yaml.parse's generator costs twice that)
            self.next_event()  # StreamStartEvent
            if isinstance(self.next_event(), yaml.StreamEndEvent):
                return _EMPTY
            root = self.node(self.next_event(), (), 0)
            self.next_event()  # DocumentEndEvent
            extra = self.next_event()
            if not isinstance(extra, yaml.StreamEndEvent):
                message = "the text holds more than one YAML document"
                raise SpecError([self.error(extra, "yaml-syntax", message, "remove the second '---' and what follows")])
            return root
        except yaml.MarkedYAMLError as exc:
            raise SpecError([_yaml_diagnostic(exc, self.source)]) from None
        except yaml.reader.ReaderError:
            raise SpecError([_control_character(self.source)]) from None
        except yaml.YAMLError as exc:
            raise SpecError([self.source.diagnostic("yaml-syntax", f"invalid YAML: {exc}")]) from None
        finally:
            parser.dispose()

    def node(self, event: yaml.Event, path: KeyPath, depth: int) -> Any:
        mark = event.start_mark
        self.source.values[path] = (mark.line + 1, mark.column + 1)
        kind = type(event)
        if kind is yaml.ScalarEvent and event.tag is None and not event.anchor:  # the common case, kept fast
            self.count += 1
            if self.count > self.budget.max_yaml_values:
                self.counted(0, path)
            text = event.value
            if not event.implicit[0] or _NOT_A_STRING.match(text) is None:
                return text  # quoted, or plain and not a number, boolean or null
            if len(text) < 19 and text.isascii() and text.isdigit():
                return int(text)
            return self.scalar(event)
        if depth > self.budget.max_depth:
            message = f"the spec nests deeper than {self.budget.max_depth} levels"
            raise SpecError([self.error(event, "too-deep", message, "use blocks and 'repeat' instead of deep nesting")])
        if kind is yaml.AliasEvent:
            return self.alias(event, path)
        before = self.count
        self.counted(1, path)
        if self.plain and (event.anchor or event.tag not in (None, "!")):
            raise SpecError([self.not_plain(event)])
        if kind is yaml.ScalarEvent:
            value = self.scalar(event)
        elif kind is yaml.SequenceStartEvent:
            value = self.sequence(event, path, depth)
        elif kind is yaml.MappingStartEvent:
            value = self.mapping(event, path, depth)
        else:  # the parser gives only these in a node's place
            raise SpecError([self.error(event, "yaml-syntax", "invalid YAML: expected a value here")])
        if event.anchor:
            self.anchors[event.anchor] = (value, self.count - before)
        return value

    def counted(self, values: int, path: KeyPath) -> None:
        self.count += values
        if self.count > self.budget.max_yaml_values:
            raise SpecError(  # at the top-level entry being read: a blow-up through aliases starts there
                [
                    self.source.diagnostic(
                        "too-large",
                        f"the spec holds (or its aliases expand to) more than {self.budget.max_yaml_values:,} values",
                        path[:1],
                        hint="use blocks and 'repeat' for repeated structure; avoid aliases of aliases",
                        key=True,
                    )
                ]
            )

    def alias(self, event: yaml.AliasEvent, path: KeyPath) -> Any:
        if self.plain:
            raise SpecError([self.not_plain(event)])
        if event.anchor not in self.anchors:
            message = f"alias '*{event.anchor}' refers to no anchor before it (or to the value that contains it)"
            raise SpecError(
                [self.error(event, "yaml-syntax", message, "define '&name' on a value before '*name', outside it")]
            )
        value, size = self.anchors[event.anchor]
        self.counted(size, path)  # each expansion counts: a billion laughs stops here, in milliseconds
        return _copy(value)

    def sequence(self, event: yaml.SequenceStartEvent, path: KeyPath, depth: int) -> list[Any]:
        self.check_tag(event, "seq")
        items: list[Any] = []
        child = self.next_event()
        while type(child) is not yaml.SequenceEndEvent:
            items.append(self.node(child, (*path, len(items)), depth + 1))
            child = self.next_event()
        return items

    def mapping(self, event: yaml.MappingStartEvent, path: KeyPath, depth: int) -> dict[str, Any]:
        self.check_tag(event, "map")
        result: dict[str, Any] = {}
        key_event = self.next_event()
        while type(key_event) is not yaml.MappingEndEvent:
            key = self.key(key_event)
            if key in result:
                message = f"duplicate key '{key}'"
                raise SpecError(
                    [self.error(key_event, "duplicate-key", message, "each key may appear once per mapping")]
                )
            self.source.keys[(*path, key)] = (key_event.start_mark.line + 1, key_event.start_mark.column + 1)
            result[key] = self.node(self.next_event(), (*path, key), depth + 1)
            key_event = self.next_event()
        return result

    def key(self, event: yaml.Event) -> str:
        if type(event) is yaml.ScalarEvent and event.tag is None and not event.anchor:  # fast: a plain name
            text = event.value
            if text != "<<" and _NOT_A_STRING.match(text) is None:
                return text
        if not isinstance(event, yaml.ScalarEvent) or event.anchor:
            raise SpecError([self.error(event, "bad-key", "mapping keys must be plain names")])
        if event.value == "<<" and not event.style and event.tag is None:
            raise SpecError(
                [
                    self.error(
                        event,
                        "yaml-syntax",
                        "YAML merge keys ('<<') are not supported",
                        "write the keys out, or put the shared layers in a block (blocks: ...) and use it with 'use:'",
                    )
                ]
            )
        if self.plain and event.tag not in (None, "!"):
            raise SpecError([self.not_plain(event)])
        key = self.scalar(event)
        if not isinstance(key, str | int | float) or isinstance(key, bool):
            raise SpecError([self.error(event, "bad-key", "mapping keys must be plain names")])
        return str(key)

    def check_tag(self, event: yaml.CollectionStartEvent, kind: str) -> None:
        if event.tag not in (None, "!", _TAG + kind):
            raise SpecError([self.unsupported_tag(event, event.tag)])

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        """A scalar by the YAML 1.2 core schema; other tags (dates, binary, Python objects) are refused."""
        tag = _resolve(event)
        reader = _SCALARS.get(tag)
        if reader is None:
            raise SpecError([self.unsupported_tag(event, tag)])
        bits = self.budget.max_int_bits
        # more digits than bits + 2 is more bits than allowed in any base: not worth converting
        too_long = tag == _TAG + "int" and len(event.value.lstrip("+-")) > bits + 2
        value = None if too_long else reader(event.value)
        if value is _UNREADABLE:
            raise SpecError([self.error(event, "bad-value", f"cannot read '{event.value[:40]}' as {_tag_name(tag)}")])
        if too_long or (isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > bits):
            digits = len(event.value.lstrip("+-"))
            message = f"integer of {digits:,} digits is larger than {bits} bits"
            raise SpecError([self.error(event, "too-large", message, "sizes and counts are far smaller; check it")])
        return value

    def unsupported_tag(self, event: yaml.Event, tag: str) -> Diagnostic:
        return self.error(
            event,
            "yaml-syntax",
            f"unsupported YAML tag '{_tag_name(tag)}'",
            "archspec reads plain YAML values (numbers, strings, booleans, null, lists, mappings): remove the tag",
        )

    def not_plain(self, event: yaml.Event) -> Diagnostic:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return self.error(event, "yaml-syntax", "YAML anchors and aliases (&name, *name) are not allowed here")
        return self.error(event, "yaml-syntax", f"YAML tags ({_tag_name(event.tag)}) are not allowed here")

    def error(self, event: yaml.Event, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return self.source.at(event.start_mark.line + 1, event.start_mark.column + 1, code, message, hint=hint)


def _resolve(event: yaml.ScalarEvent) -> str:
    """The tag of a scalar: explicit, or by the core schema for a plain (unquoted, untagged) one."""
    if event.tag not in (None, "!"):
        return str(event.tag)
    value = event.value
    if event.tag == "!" or not event.implicit[0] or _NOT_A_STRING.match(value) is None:
        return _TAG + "str"
    for tag, pattern in (("null", _CORE_NULL), ("bool", _CORE_BOOL), ("int", _CORE_INT), ("float", _CORE_FLOAT)):
        if pattern.match(value):
            return _TAG + tag
    return _TAG + "str"


def _copy(value: Any) -> Any:
    """An alias's own copy of the anchored data (callers may change one expansion, not all)."""
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def _control_character(source: Source) -> Diagnostic:
    """YAML text may not contain control characters; say which one, and where."""
    match = _NOT_YAML_TEXT.search(source.text)
    offset = match.start() if match else 0
    character = source.text[offset] if match else "?"
    line, column = source.line_column(offset)
    return source.at(
        line,
        column,
        "yaml-syntax",
        f"control character U+{ord(character):04X} is not allowed in YAML text",
        hint="delete it; inside a double-quoted string it can be written as an escape like \\t or \\x01",
    )


def _yaml_diagnostic(exc: yaml.MarkedYAMLError, source: Source) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return source.at(
        line,
        column,
        "too-deep" if "depth" in problem else "yaml-syntax",
        f"invalid YAML: {problem}{context}",
        hint="check indentation, colons and quoting on this line",
    )


def _read_int(text: str) -> Any:
    body = text.lstrip("+-")
    if not _CORE_INT.match(text):
        return _UNREADABLE
    if body.startswith(("0o", "0x")):
        return int(body[2:], 8 if body[1] == "o" else 16)
    return int(text, 10)


def _read_float(text: str) -> Any:
    if not _CORE_FLOAT.match(text) and not _CORE_INT.match(text):
        return _UNREADABLE
    lowered = text.lower()
    if lowered.endswith((".inf", ".nan")):
        return float(lowered.replace(".", ""))
    return float(text)


_SCALARS: dict[str, Callable[[str], Any]] = {
    _TAG + "str": lambda text: text,
    _TAG + "null": lambda text: None if _CORE_NULL.match(text) else _UNREADABLE,
    _TAG + "bool": lambda text: text.lower() == "true" if _CORE_BOOL.match(text) else _UNREADABLE,
    _TAG + "int": _read_int,
    _TAG + "float": _read_float,
}
