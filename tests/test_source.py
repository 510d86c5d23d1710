"""The spec loader: which files it reads, how it reads YAML, and `--set` values."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from archspec.commands import parse_overrides
from archspec.errors import ReadError, SpecError, UsageError
from archspec.frontend.budget import Budget
from archspec.frontend.source import SetValue, Source, parse_value, parse_yaml, read_spec_file

VALID = "archspec: 1\nname: t\ninput: {channels: 1, size: [4, 4]}\nlayers: [{type: Flatten}]\n"


def io_message(path: str | Path, **kwargs: object) -> str:
    with pytest.raises(ReadError) as info:
        read_spec_file(path, **kwargs)  # type: ignore[arg-type]
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "io"
    return diagnostic.format()


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)  # nobody writes: opening it for reading would block forever
    assert "is a named pipe (FIFO), not a spec file" in io_message(fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/full"])
def test_devices_are_refused(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    assert "is a character device, not a spec file" in io_message(device)


def test_directories_sockets_and_symlink_loops_are_refused(tmp_path: Path) -> None:
    assert "is a directory, not a spec file" in io_message(tmp_path)
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert "cannot read" in io_message(loop) and "symbolic links" in io_message(loop)
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert "is a socket, not a spec file" in io_message(path)
    finally:
        server.close()


def test_size_limit(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text(VALID)
    assert read_spec_file(spec, budget=Budget(max_bytes=len(VALID))) == VALID
    message = io_message(spec, budget=Budget(max_bytes=len(VALID) - 1))
    assert f"is larger than {len(VALID) - 1:,} bytes" in message and "raise the limit" in message


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
    ],
)
def test_utf16_and_utf32_are_named(tmp_path: Path, encoding: str, name: str) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_bytes(VALID.encode(encoding))
    message = io_message(spec)
    assert f"is {name} text, not UTF-8" in message and "re-save it as UTF-8" in message


def test_utf8_bom_is_dropped_and_binary_is_named(tmp_path: Path) -> None:
    spec = tmp_path / "bom.yaml"
    spec.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert read_spec_file(spec) == VALID
    spec.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\x00")
    assert "is a binary file" in io_message(spec)
    spec.write_bytes(b"name: caf\xe9\n")
    assert "is not UTF-8 text (byte 9)" in io_message(spec)


def test_a_control_character_is_reported_at_its_position() -> None:
    text = "archspec: 1\nname: caf\u00e9 \x07x\n"
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "s.yaml")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("yaml-syntax", 2, 12)
    assert "control character U+0007 is not allowed" in diagnostic.message


def test_merge_keys_get_their_own_message() -> None:
    text = "base: &b {kernel_size: 3}\nconv:\n  <<: *b\n  stride: 2\n"
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (3, 3)
    assert "merge keys ('<<') are not supported" in diagnostic.message and "block" in (diagnostic.hint or "")
    assert parse_yaml("'<<': 1\n")[0] == {"<<": 1}  # a quoted key is just a string


def test_plain_scalars_follow_the_yaml_1_2_core_schema() -> None:
    data, _ = parse_yaml(
        "[yes, no, on, off, 1_0, '1:30', 1:30, 2001-01-01, 017, 0o17, 0x1F, 1e-5, .5, 1., -.inf, null, ~, "
        "true, False, +4, !!float 1, !!str 12, !!int '7']\n"
    )
    head = ["yes", "no", "on", "off", "1_0", "1:30", "1:30", "2001-01-01", 17, 15, 31, 1e-5, 0.5, 1.0]
    assert data == [*head, float("-inf"), None, None, True, False, 4, 1.0, "12", 7]


@pytest.mark.parametrize(
    ("text", "code", "message", "column"),
    [
        ("a: !!binary aGk=\n", "yaml-syntax", "unsupported YAML tag '!!binary'", 4),
        ("a: !!set {x}\n", "yaml-syntax", "unsupported YAML tag '!!set'", 4),
        ("a: !!omap [b: 1]\n", "yaml-syntax", "unsupported YAML tag '!!omap'", 4),
        ("a: !!timestamp 2001-01-01\n", "yaml-syntax", "unsupported YAML tag '!!timestamp'", 4),
        ("a: !custom x\n", "yaml-syntax", "unsupported YAML tag '!custom'", 4),
        ("a: !!int x\n", "bad-value", "cannot read 'x' as !!int", 4),
        ("a: " + "9" * 5000 + "\n", "too-large", "integer of 5,000 digits is larger than 256 bits", 4),
        ("a: " + "2" * 78 + "\n", "too-large", "integer of 78 digits is larger than 256 bits", 4),
        (
            "a: &x [*x]\n",
            "yaml-syntax",
            "alias '*x' refers to no anchor before it (or to the value that contains it)",
            8,
        ),
        ("a: *y\n", "yaml-syntax", "alias '*y' refers to no anchor before it", 4),
        ("a: {<<: 1}\n", "yaml-syntax", "merge keys", 5),
        ("a: {[1]: 2}\n", "bad-key", "mapping keys must be plain names", 5),
    ],
)
def test_what_the_loader_refuses(text: str, code: str, message: str, column: int) -> None:
    with pytest.raises(SpecError) as info:
        parse_yaml(text)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == code and message in diagnostic.message
    assert (diagnostic.line, diagnostic.column) == (1, column)


@pytest.mark.parametrize("text", ["a\nb\r\nc\rd\n", "", "x", "x\n\ny\n", "é\u2028ü\x85z\u2029", "trailing\n\n"])
def test_line_text_and_line_column(text: str) -> None:
    source = Source("f", text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    lines = lines.replace("\x85", "\n").replace("\u2029", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assert [source.line_text(n) for n in range(1, len(lines) + 1)] == lines
    assert source.line_text(len(lines) + 1) is None and source.line_text(0) is None
    assert source.line_column(0) == (1, 1)


def test_line_column_counts_characters() -> None:
    source = Source("f", "ab\ncdé\nfg")
    assert source.line_column(4) == (2, 2)
    assert source.line_column(8) == (3, 2)


# ----------------------------------------------------------------------------- --set values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100", 100),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("true", True),
        ("1_0", "1_0"),
        ("yes", "yes"),
        ("2001-01-01", "2001-01-01"),
        ("[1, 2]", [1, 2]),
        ("{a: 1, b: [x, 2]}", {"a": 1, "b": ["x", 2]}),
        ("", ""),
        ("null", None),
        ("'${w * 2}'", "${w * 2}"),
    ],
)
def test_set_values(text: str, value: object) -> None:
    assert parse_overrides([f"k={text}"]) == {"k": SetValue(text, value)}
    assert parse_value(text) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("&a [*a]", "anchors and aliases"),
        ("[&a [1, 2], *a, *a]", "anchors and aliases"),
        ("!!binary aGk=", "tags (!!binary) are not allowed"),
        ("!!set {a}", "tags (!!set) are not allowed"),
        ("!!omap [a: 1]", "tags (!!omap) are not allowed"),
        ("!!timestamp 2001-01-01", "tags (!!timestamp) are not allowed"),
        ("!!python/object:os.system x", "tags (!!python/object:os.system) are not allowed"),
        ("9" * 5000, "integer of 5,000 digits is larger than 256 bits"),
        ("[1, 2", "invalid YAML"),
        ("a\n---\nb", "more than one YAML document"),
        ("#c", "only a YAML comment"),
        ("[" * 70 + "]" * 70, "nests deeper than 64 levels"),
        ("a\x07", "control character U+0007"),
    ],
)
def test_set_refusals_are_usage_errors_naming_the_option(value: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_overrides(["keep=1", f"k={value}"])
    (diagnostic,) = info.value.diagnostics
    shown = f"k={value}" if len(value) < 50 else f"k={value[:55]}..."
    assert diagnostic.message.startswith(f"--set {shown}: ")
    assert message in diagnostic.message


def test_set_without_equals_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--set expects KEY=VALUE, got 'nonsense'"):
        parse_overrides(["nonsense"])
