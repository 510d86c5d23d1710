"""The text, markdown and JSON summaries of every shipped spec, pinned (tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden import GOLDEN, assert_golden

from archspec.backends.summary import summary_data, summary_markdown, summary_text
from archspec.compiler.pipeline import compile_spec
from archspec.jsontext import dumps

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
FORMATS = {
    "txt": summary_text,
    "md": summary_markdown,
    "json": lambda compiled: dumps(summary_data(compiled)) + "\n",
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_summaries_match_their_golden_files(spec: Path) -> None:
    compiled = compile_spec(spec)
    for suffix, render in FORMATS.items():
        assert_golden(GOLDEN / "summary" / f"{spec.stem}.{suffix}", render(compiled))


def test_every_golden_summary_belongs_to_a_shipped_spec() -> None:
    """A renamed or removed spec leaves no stale golden file behind."""
    stems = {spec.stem for spec in SPECS}
    assert {path.stem for path in (GOLDEN / "summary").iterdir()} == stems
