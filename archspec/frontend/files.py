"""Reading a spec file: only regular files, at most ``budget.max_bytes``, UTF-8 text.

A path may name anything: a FIFO (opening it blocks until a writer comes), ``/dev/zero``
or ``/dev/urandom`` (never end), ``/dev/full``, a directory, a socket. We ``stat`` before
opening, open without blocking, check the opened file again, and read one byte more than
the limit so a file that grows meanwhile is refused too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from archspec.errors import Diagnostic, ReadError
from archspec.frontend.budget import DEFAULT_BUDGET, Budget

_KINDS = (
    (stat.S_ISDIR, "a directory", "validate the spec files in it: archspec validate DIR/*.yaml"),
    (stat.S_ISFIFO, "a named pipe (FIFO)", "pass a regular file; to read a pipe, save its output to a file first"),
    (stat.S_ISCHR, "a character device", "pass a regular .yaml file"),
    (stat.S_ISBLK, "a block device", "pass a regular .yaml file"),
    (stat.S_ISSOCK, "a socket", "pass a regular .yaml file"),
)


def read_spec_file(path: str | Path, *, budget: Budget = DEFAULT_BUDGET) -> str:
    """Read a spec file as UTF-8 text, turning every OS-level failure into ReadError.

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
    except ReadError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ReadError([Diagnostic("io", f"cannot read '{name}': {reason}", file=name)]) from None
    if len(data) > budget.max_bytes:
        raise ReadError(
            [
                Diagnostic(
                    "io",
                    f"'{name}' is larger than {budget.max_bytes:,} bytes, the limit for a spec file",
                    file=name,
                    hint="split it into smaller specs (blocks and repeat keep specs short), or raise the limit",
                )
            ]
        )
    return decode_spec(data, name)


def _check_regular(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind, hint = next(((kind, hint) for test, kind, hint in _KINDS if test(mode)), ("not a regular file", None))
    raise ReadError([Diagnostic("io", f"'{name}' is {kind}, not a spec file", file=name, hint=hint)])


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
        raise ReadError(
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
        raise ReadError([Diagnostic("io", f"'{name}' is a binary file, not a YAML spec", file=name)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(
            [
                Diagnostic(
                    "io", f"'{name}' is not UTF-8 text (byte {exc.start})", file=name, hint="save the spec as UTF-8"
                )
            ]
        ) from None
