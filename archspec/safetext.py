"""Text from a spec made safe to show: control and bidirectional-override characters as visible escapes.

YAML's double-quoted strings can hold any character (``"a\\e[2J"`` is ESC ``[2J``), so an id,
a doc string or a file name could clear the terminal when a diagnostic prints it, or, with a
right-to-left override (U+202E), read differently from what it is ("Trojan Source",
CVE-2021-42574). Everything archspec shows a person -- diagnostics, diagram labels, docs
pages -- passes spec text through :func:`escape_controls`; machine formats (JSON) escape on
their own.
"""

from __future__ import annotations

import re

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL, the bidirectional marks, embeddings, overrides and isolates, and the
Unicode line and paragraph separators."""


def escape_char(char: str) -> str:
    """``"\\x1b"`` -> the four characters ``\\x1b``; ``"\\u202e"`` -> ``\\u202e`` (Python's spelling)."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with every unsafe character but those in ``keep`` (e.g. ``"\\n"``) written as an escape."""
    return UNSAFE.sub(lambda m: m.group() if m.group() in keep else escape_char(m.group()), text)
