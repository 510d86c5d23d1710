"""No spec, however broken, makes archspec crash: it compiles or reports diagnostics.

Random edits of the shipped specs go through the whole static pipeline, strict and with
``allow_errors`` (how diagrams of broken specs are drawn), then summaries and diagrams.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis_profiles import examples
from spec_mutations import mutated_specs

from archspec.backends.graphviz import Diagram
from archspec.backends.summary import summary_text
from archspec.compiler.pipeline import compile_spec, load_spec
from archspec.errors import SpecError

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's safe dumper where PyYAML has it: the same YAML as the pure-Python one, several times faster."""


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_a_mutated_spec_compiles_or_reports_diagnostics(data: Any) -> None:
    text = yaml.dump(data, Dumper=DUMPER, sort_keys=False)
    try:  # compile_spec(text) in two steps: the loaded spec compiles again below
        loaded = load_spec(text)
    except SpecError as exc:
        reported(exc)
        with pytest.raises(SpecError):  # only a spec broken outside its layers cannot be drawn at all
            compile_spec(text, allow_errors=True)
        return
    try:
        compiled = loaded.compile()
    except SpecError as exc:
        reported(exc)
        valid = False
    else:
        assert summary_text(compiled)
        valid = True
    try:
        partial = loaded.compile(allow_errors=True)
    except SpecError:
        assert not valid
        return
    assert bool(partial.diagnostics) != valid
    Diagram(partial).build()


def reported(exc: SpecError) -> None:
    assert exc.diagnostics
    assert all(d.code and d.message and d.line >= 1 for d in exc.diagnostics), exc.format()


def test_runaway_growth_stops_at_torchs_int64_sizes() -> None:
    spec = (
        "archspec: 1\nname: t\ninput: {channels: 1, size: [4, 4]}\n"
        "layers:\n  - {id: up, type: ConvTranspose2d, out_channels: 1, kernel_size: 2, stride: 2, repeat: 5000}\n"
    )
    with pytest.raises(SpecError) as info:
        compile_spec(spec)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "shape" and diagnostic.node == "up.29"  # copy 29: (4 * 2**30) ** 2 = 2**64 elements
    assert "more than torch's int64 sizes allow" in diagnostic.format()
    Diagram(compile_spec(spec, allow_errors=True)).build()
