"""Golden files: what users see, pinned, and regenerated on purpose.

``assert_golden(path, text)`` compares ``text`` with the committed file and fails with a
unified diff. ``ARCHSPEC_UPDATE_GOLDEN=1 pytest ...`` rewrites the files instead, so a change
in output is one command plus a reviewed diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

UPDATE = os.environ.get("ARCHSPEC_UPDATE_GOLDEN") == "1"
GOLDEN = Path(__file__).parent / "golden"


def assert_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"no golden file {path}: run with ARCHSPEC_UPDATE_GOLDEN=1 to create it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True), text.splitlines(keepends=True), str(path), "now", n=2
        )
        raise AssertionError(
            f"{path.name} differs from its golden file (ARCHSPEC_UPDATE_GOLDEN=1 to accept):\n" + "".join(diff)[:6000]
        )
