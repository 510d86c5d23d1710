"""Strict JSON for ``--format json``: what any JSON parser reads, including non-finite numbers.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which are not JSON (RFC 8259):
``jq``, JavaScript's ``JSON.parse`` and Go reject them. A float spec parameter may be
``.nan`` or ``.inf``, and a diverged run's loss is NaN, so non-finite floats are written
as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (the spelling JavaScript and
Protobuf's JSON mapping use), and the result is checked with ``allow_nan=False``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def plain(value: Any) -> Any:
    """``value`` with non-finite floats as strings, fractions as floats, tuples as lists, other objects as text."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float | Fraction):
        try:
            number = float(value)
        except OverflowError:  # a fraction beyond float range
            number = math.inf if value > 0 else -math.inf
        return number if math.isfinite(number) else NON_FINITE[repr(number)]
    return str(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (see the module docstring for non-finite numbers)."""
    import json  # here: only --format json needs it, and validate starts faster without

    return json.dumps(plain(value), indent=indent, allow_nan=False)
