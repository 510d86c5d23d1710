"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we build plain Python data from them
ourselves so that every value (and every mapping key) has a ``(line, column)``.
Our own walk also lets us bound what YAML allows but a spec never needs:
exponential alias expansion ("billion laughs"), deep nesting, duplicate keys,
tags, merge keys, integers of thousands of digits.

Plain scalars are resolved with the YAML 1.2 core schema (what the YAML language server
and most modern loaders use), not PyYAML's YAML 1.1 rules: ``yes``, ``no``, ``on``,
``off``, ``1_0``, ``1:30`` and dates stay strings, ``017`` is 17, and ``1e-5`` is a float.
"""

from __future__ import annotations

import os
import re
import stat
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Diagnostic, SpecError, SpecIOError
from archspec.spec.budget import DEFAULT_BUDGET, Budget

Path_ = tuple[str | int, ...]

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

_TAG = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {_TAG + "map", _TAG + "seq"}
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML (and libyaml's marks) count as a new line
_NOT_YAML_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _CoreLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader with YAML 1.2 core schema resolution of plain scalars."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 -- PyYAML's own class-level table


for _tag, _pattern, _first in (  # order matters: the first match wins, so int before float
    ("null", _CORE_NULL, ["~", "n", "N", ""]),
    ("bool", _CORE_BOOL, list("tTfF")),
    ("int", _CORE_INT, list("-+0123456789")),
    ("float", _CORE_FLOAT, list("-+0123456789.")),
):
    _CoreLoader.add_implicit_resolver(_TAG + _tag, _pattern, _first)


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
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``, falling back to the nearest located ancestor."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(match.end() for match in _LINE_BREAK.finditer(self.text))]

    def line_text(self, line: int) -> str | None:
        """The text of a 1-based line, in O(1) after one scan (thousands of diagnostics stay linear)."""
        starts = self._line_starts
        if not 0 < line <= len(starts) or (line == len(starts) and starts[-1] == len(self.text)):
            return None  # past the last line (after a final line break, or an empty text)
        end = starts[line] if line < len(starts) else len(self.text)
        return _LINE_BREAK.sub("", self.text[starts[line - 1] : end])

    def line_column(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        starts = self._line_starts
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def diagnostic(
        self,
        code: str,
        message: str,
        path: Path_ = (),
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


# ----------------------------------------------------------------------------- reading files

_KINDS = (
    (stat.S_ISDIR, "a directory", "validate the spec files in it: archspec validate DIR/*.yaml"),
    (stat.S_ISFIFO, "a named pipe (FIFO)", "pass a regular file; to read a pipe, save its output to a file first"),
    (stat.S_ISCHR, "a character device", "pass a regular .yaml file"),
    (stat.S_ISBLK, "a block device", "pass a regular .yaml file"),
    (stat.S_ISSOCK, "a socket", "pass a regular .yaml file"),
)


def read_spec_file(path: str | Path, *, budget: Budget = DEFAULT_BUDGET) -> str:
    """Read a spec file as UTF-8 text, turning every OS-level failure into SpecIOError.

    Only a regular file is opened (a FIFO would block, ``/dev/zero`` never ends), and at
    most ``budget.max_bytes`` of it are read.
    """
    name = str(path)
    try:
        _check_regular(os.stat(path).st_mode, name)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            _check_regular(os.fstat(descriptor).st_mode, name)  # replaced between stat and open?
            with os.fdopen(descriptor, "rb", closefd=False) as stream:
                data = stream.read(budget.max_bytes + 1)
        finally:
            os.close(descriptor)
    except SpecIOError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecIOError([Diagnostic("io", f"cannot read '{name}': {reason}", file=name)]) from None
    if len(data) > budget.max_bytes:
        raise SpecIOError(
            [
                Diagnostic(
                    "io",
                    f"'{name}' is larger than {budget.max_bytes:,} bytes, the limit for a spec file",
                    file=name,
                    hint="split it into smaller specs, or raise the limit (--max-bytes)",
                )
            ]
        )
    return decode_spec(data, name)


def _check_regular(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind, hint = next(((kind, hint) for test, kind, hint in _KINDS if test(mode)), ("not a regular file", None))
    raise SpecIOError([Diagnostic("io", f"'{name}' is {kind}, not a spec file", file=name, hint=hint)])


_UTF16_32_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """'UTF-16' or 'UTF-32' for text saved in those encodings (a BOM, or ASCII interleaved with NULs)."""
    for bom, encoding in _UTF16_32_BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:400]
    if len(head) >= 8:
        if head[1::4].count(0) == head[2::4].count(0) == head[3::4].count(0) == len(head) // 4 and head[0]:
            return "UTF-32"
        if head[::4].count(0) == head[1::4].count(0) == head[2::4].count(0) == len(head) // 4 and head[3]:
            return "UTF-32"
        for zeros, text in ((head[1::2], head[::2]), (head[::2], head[1::2])):
            if zeros.count(0) >= 0.9 * len(zeros) and text.count(0) == 0:
                return "UTF-16"
    return None


def decode_spec(data: bytes, name: str) -> str:
    """Bytes -> text: UTF-8 (a BOM is dropped); UTF-16/32 and binary files are refused with the fix."""
    wide = _wide_encoding(data)
    if wide:
        raise SpecIOError(
            [
                Diagnostic(
                    "io",
                    f"'{name}' is {wide} text, not UTF-8",
                    file=name,
                    hint="re-save it as UTF-8 (in most editors: 'Save with encoding' -> UTF-8)",
                )
            ]
        )
    if b"\x00" in data:
        raise SpecIOError([Diagnostic("io", f"'{name}' is a binary file, not a YAML spec", file=name)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecIOError(
            [
                Diagnostic(
                    "io", f"'{name}' is not UTF-8 text (byte {exc.start})", file=name, hint="save the spec as UTF-8"
                )
            ]
        ) from None


def parse_yaml(text: str, file: str = "<spec>", *, budget: Budget = DEFAULT_BUDGET) -> tuple[Any, Source]:
    """Parse YAML text into plain data plus a :class:`Source` with positions."""
    source = Source(file=file, text=text)
    root = _compose(text, source)
    if root is None:
        raise SpecError(
            [
                source.diagnostic(
                    "empty-spec", "the spec is empty", hint="start with 'archspec: 1', 'input:' and 'layers:'"
                )
            ]
        )
    return _Builder(source, budget).build(root, (), 0), source


def parse_value(text: str, *, budget: Budget = DEFAULT_BUDGET) -> Any:
    """One value from the command line (``--set KEY=VALUE``), read like a spec's values but stricter.

    Plain scalars, and lists and mappings of them: no tags (``!!binary``, ``!!set``), no
    anchors or aliases (``&a [*a]``), no second document. Raises :class:`SpecError`
    whose diagnostic says what is wrong.
    """
    if not text.strip():
        return ""
    source = Source(file="<command line>", text=text)
    try:
        for event in yaml.parse(text, Loader=_CoreLoader):
            _check_plain_event(event, source)
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_yaml_diagnostic(exc, source)]) from None
    except yaml.reader.ReaderError:
        raise SpecError([_control_character(source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([source.diagnostic("yaml-syntax", f"invalid YAML: {exc}")]) from None
    root = _compose(text, source)
    if root is None:
        raise SpecError([source.diagnostic("yaml-syntax", "the value is only a YAML comment", hint="quote it: '#...'")])
    return _Builder(source, budget).build(root, (), 0)


def _check_plain_event(event: yaml.Event, source: Source) -> None:
    line, column = event.start_mark.line + 1, event.start_mark.column + 1
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        raise SpecError(
            [source.at(line, column, "yaml-syntax", "YAML anchors and aliases (&name, *name) are not allowed here")]
        )
    tag = getattr(event, "tag", None)
    if tag not in (None, "!"):
        raise SpecError([source.at(line, column, "yaml-syntax", f"YAML tags ({_tag_name(tag)}) are not allowed here")])


def _compose(text: str, source: Source) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_CoreLoader)
    except RecursionError:
        raise SpecError([source.diagnostic("too-deep", "the spec nests too deeply to read")]) from None
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_yaml_diagnostic(exc, source)]) from None
    except yaml.reader.ReaderError:
        raise SpecError([_control_character(source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([source.diagnostic("yaml-syntax", f"invalid YAML: {exc}")]) from None


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


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Builder:
    """Turns composed YAML nodes into plain data, recording positions and counting against the budget."""

    def __init__(self, source: Source, budget: Budget) -> None:
        self.source = source
        self.budget = budget
        self.count = 0

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > self.budget.max_depth:
            raise SpecError(
                [
                    self._at(
                        node,
                        "too-deep",
                        f"the spec nests deeper than {self.budget.max_depth} levels",
                        "use blocks and 'repeat' instead of deep nesting",
                    )
                ]
            )
        self.count += 1
        if self.count > self.budget.max_yaml_values:
            raise SpecError(  # at the top-level entry being expanded: aliases point elsewhere
                [
                    self.source.diagnostic(
                        "too-large",
                        f"the spec expands to more than {self.budget.max_yaml_values:,} values (YAML aliases?)",
                        path[:1],
                        hint="avoid aliases of aliases; use blocks and 'repeat' for repeated structure",
                        key=True,
                    )
                ]
            )
        self.source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:
            raise SpecError([self._unsupported_tag(node)])
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, index), depth + 1) for index, child in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key == "<<" and not key_node.style:
                raise SpecError([self._merge_key(key_node)])
            if not isinstance(key, str | int | float | bool) or isinstance(key, bool):
                raise SpecError([self._at(key_node, "bad-key", "mapping keys must be plain names")])
            key = str(key)
            if key in result:
                raise SpecError(
                    [
                        self._at(
                            key_node,
                            "duplicate-key",
                            f"duplicate key '{key}'",
                            hint="each key may appear once per mapping",
                        )
                    ]
                )
            self.source.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _scalar(self, node: yaml.Node) -> Any:
        """A scalar by the YAML 1.2 core schema; other tags (dates, binary, Python objects) are refused."""
        reader = _SCALARS.get(node.tag)
        if reader is None:
            raise SpecError([self._unsupported_tag(node)])
        value = reader(node.value)
        if value is _UNREADABLE:
            raise SpecError([self._at(node, "bad-value", f"cannot read '{node.value[:40]}' as {_tag_name(node.tag)}")])
        too_large = (
            isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > self.budget.max_int_bits
        )
        if value is _TOO_LONG or too_large:
            raise SpecError(
                [
                    self._at(
                        node,
                        "too-large",
                        f"integer of {len(node.value.lstrip('+-')):,} digits is larger than "
                        f"{self.budget.max_int_bits} bits",
                        "sizes and counts are far smaller; check the number",
                    )
                ]
            )
        return value

    def _unsupported_tag(self, node: yaml.Node) -> Diagnostic:
        return self._at(
            node,
            "yaml-syntax",
            f"unsupported YAML tag '{_tag_name(node.tag)}'",
            hint="archspec reads plain YAML values (numbers, strings, booleans, null, lists, mappings): remove the tag",
        )

    def _merge_key(self, node: yaml.Node) -> Diagnostic:
        return self._at(
            node,
            "yaml-syntax",
            "YAML merge keys ('<<') are not supported",
            hint="write the keys out, or put the shared layers in a block (blocks: ...) and use it with 'use:'",
        )

    def _at(self, node: yaml.Node, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return self.source.at(node.start_mark.line + 1, node.start_mark.column + 1, code, message, hint=hint)


_UNREADABLE = object()
_TOO_LONG = object()


def _read_int(text: str) -> Any:
    body = text.lstrip("+-")
    if len(body) > 400:  # far beyond any budget's bits: not worth converting
        return _TOO_LONG
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


_SCALARS: dict[str, Any] = {
    _TAG + "str": lambda text: text,
    _TAG + "null": lambda text: None if _CORE_NULL.match(text) else _UNREADABLE,
    _TAG + "bool": lambda text: text.lower() == "true" if _CORE_BOOL.match(text) else _UNREADABLE,
    _TAG + "int": _read_int,
    _TAG + "float": _read_float,
}
