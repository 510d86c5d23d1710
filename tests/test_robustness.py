"""No spec, however broken, makes archspec crash: it compiles or reports diagnostics.

Random edits of the shipped specs go through the whole static pipeline, strict and with
``allow_errors`` (how diagrams of broken specs are drawn), then summaries and diagrams.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from spec_mutations import mutated_specs

from archspec.backends.graphviz import Diagram
from archspec.backends.summary import summary_text
from archspec.compiler.pipeline import compile_spec
from archspec.errors import SpecError


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_a_mutated_spec_compiles_or_reports_diagnostics(data: Any) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        compiled = compile_spec(text)
    except SpecError as exc:
        assert exc.diagnostics
        assert all(d.code and d.message and d.line >= 1 for d in exc.diagnostics), exc.format()
        valid = False
    else:
        assert summary_text(compiled)
        valid = True
    try:
        partial = compile_spec(text, allow_errors=True)
    except SpecError:
        assert not valid  # only a spec broken outside its layers cannot be drawn at all
        return
    assert bool(partial.diagnostics) != valid
    Diagram(partial).build()
