"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we build plain Python data from them
ourselves so that every value (and every mapping key) has a ``(line, column)``.
Our own walk also lets us bound what YAML allows but a spec never needs:
exponential alias expansion ("billion laughs"), deep nesting, duplicate keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Diagnostic, SpecError, SpecIOError

Path_ = tuple[str | int, ...]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

_STANDARD_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"}

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SetValue:
    """A ``--set KEY=VALUE`` value: the text as typed and its parsed value (a string parameter takes the text)."""

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

    def line_text(self, line: int) -> str | None:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None

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


def read_spec_file(path: str | Path) -> str:
    """Read a spec file as UTF-8 text, turning every OS-level failure into SpecIOError."""
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise SpecIOError([Diagnostic("io", f"'{name}' is a directory, not a spec file", file=name)])
        data = path.read_bytes()
    except SpecIOError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SpecIOError([Diagnostic("io", f"cannot read '{name}': {reason}", file=name)]) from None
    if len(data) > MAX_BYTES:
        raise SpecIOError(
            [Diagnostic("io", f"'{name}' is {len(data):,} bytes; specs are limited to {MAX_BYTES:,}", file=name)]
        )
    if b"\x00" in data:
        raise SpecIOError([Diagnostic("io", f"'{name}' is a binary file, not a YAML spec", file=name)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecIOError(
            [
                Diagnostic(
                    "io", f"'{name}' is not UTF-8 text (byte {exc.start})", file=name, hint="save the spec as UTF-8"
                )
            ]
        ) from None


def parse_yaml(text: str, file: str = "<spec>") -> tuple[Any, Source]:
    """Parse YAML text into plain data plus a :class:`Source` with positions."""
    source = Source(file=file, text=text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        raise SpecError([source.diagnostic("too-deep", "the spec nests too deeply to read")]) from None
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_yaml_diagnostic(exc, source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([source.diagnostic("yaml-syntax", f"invalid YAML: {exc}")]) from None
    if root is None:
        raise SpecError(
            [
                source.diagnostic(
                    "empty-spec", "the spec is empty", hint="start with 'archspec: 1', 'input:' and 'layers:'"
                )
            ]
        )
    builder = _Builder(source)
    return builder.build(root, (), 0), source


def _yaml_diagnostic(exc: yaml.MarkedYAMLError, source: Source) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return Diagnostic(
        code="too-deep" if "depth" in problem else "yaml-syntax",
        message=f"invalid YAML: {problem}{context}",
        file=source.file,
        line=line,
        column=column,
        hint="check indentation, colons and quoting on this line",
        source_line=source.line_text(line),
    )


class _Builder:
    """Turns composed YAML nodes into plain data, recording positions."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SpecError(
                [
                    self._at(
                        node,
                        "too-deep",
                        f"the spec nests deeper than {MAX_DEPTH} levels",
                        "use blocks and 'repeat' instead of deep nesting",
                    )
                ]
            )
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(  # at the top-level entry being expanded: aliases point elsewhere
                [
                    self.source.diagnostic(
                        "too-large",
                        f"the spec expands to more than {MAX_NODES:,} values (YAML aliases?)",
                        path[:1],
                        hint="avoid aliases of aliases; use blocks and 'repeat' for repeated structure",
                        key=True,
                    )
                ]
            )
        self.source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _STANDARD_TAGS:
            raise SpecError(
                [self._at(node, "yaml-syntax", f"unsupported YAML tag '{node.tag}'", hint="remove the tag")]
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, index), depth + 1) for index, child in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        try:
            self.constructor.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            raise SpecError([_yaml_diagnostic(exc, self.source)]) from None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
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
        if node.tag == "tag:yaml.org,2002:str":
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise SpecError([_yaml_diagnostic(exc, self.source)]) from None
        except (ValueError, OverflowError) as exc:
            raise SpecError([self._at(node, "bad-value", f"cannot read this value: {exc}")]) from None

    def _at(self, node: yaml.Node, code: str, message: str, hint: str | None = None) -> Diagnostic:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        return Diagnostic(code, message, self.source.file, line, column, hint, source_line=self.source.line_text(line))
