"""Hypothesis strategy: a shipped spec with one to three random edits (replace, delete, add)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

SPECS = sorted((Path(__file__).parent.parent / "specs").glob("*.yaml"))

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["same", "valid", "zeros", "reflect", "${x}", "${", "", "Conv2d", "ReLU", "x"]),
    st.lists(st.integers(-1, 4), max_size=4),
    st.dictionaries(
        st.sampled_from(["type", "layers", "use", "id"]), st.sampled_from(["ReLU", "Conv2d", "B"]), max_size=2
    ),
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


@cache
def _parsed(spec: Path) -> Any:
    """Each shipped spec parsed once per process: YAML parsing cost more than the mutations themselves."""
    return yaml.load(spec.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(_parsed(draw(st.sampled_from(SPECS))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(data)[1:]))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["kernel", "bias", "foo", "inline", "when", "repeat", "p", "dim"]))] = draw(
                VALUES
            )
    return data
