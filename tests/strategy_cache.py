"""Strategies made once, for the composite strategies of the contract tests.

Hypothesis validates and labels a strategy object the first time it is drawn from, which costs
more than the draw itself: a composite that builds ``st.sampled_from([...])`` or ``a | b`` afresh
for every draw paid that on each of its draws, more than the torch comparison it feeds. These
helpers return one object per distinct argument; it draws exactly what a fresh one would (the
same choices, so the ``ci`` profile keeps drawing the same examples).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

_SAMPLED: dict[Any, st.SearchStrategy[Any]] = {}
_EITHER: dict[tuple[st.SearchStrategy[Any], ...], st.SearchStrategy[Any]] = {}


def _key(value: Any) -> Any:
    """A key that tells ``1``, ``1.0`` and ``True`` apart (equal in Python, and hashed alike), and ``0.0``
    from ``-0.0``."""
    if isinstance(value, tuple | list):
        return (type(value), tuple(_key(v) for v in value))
    return (type(value), repr(value) if isinstance(value, float) else value)


def sampled(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(values)``, made once per distinct sequence of values."""
    key = _key(values) if not isinstance(values, range) else values
    try:
        return _SAMPLED[key]
    except KeyError:
        strategy = _SAMPLED[key] = st.sampled_from(values)
        return strategy
    except TypeError:  # unhashable values: made afresh
        return st.sampled_from(values)


def either(*strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``st.one_of(*strategies)`` (what ``a | b`` makes), made once per tuple of strategies."""
    try:
        return _EITHER[strategies]
    except KeyError:
        strategy = _EITHER[strategies] = st.one_of(*strategies)
        return strategy
