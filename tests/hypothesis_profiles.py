"""Hypothesis profiles, chosen with ``ARCHSPEC_HYPOTHESIS_PROFILE`` (loaded by conftest.py).

* ``ci`` (the default, what ``make test`` runs): the example counts written in the tests, drawn
  deterministically, so a CI run passes or fails the same way every time;
* ``thorough`` (``make test-thorough``): ten times as many examples everywhere, drawn at random
  (new cases each run), for a release or after changing a layer's rules.

A test that needs its own count writes ``max_examples=examples(200)``: 200 under ``ci``, scaled
with the profile, so one variable sets the depth of every property test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

BASE_EXAMPLES = 100
PROFILES = {"ci": 1, "thorough": 10}
"""Each profile's multiple of the examples the tests ask for."""

for _name, _scale in PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=BASE_EXAMPLES * _scale,
        derandomize=_name == "ci",
        deadline=None,  # torch's first calls and xdist's shared cores make timings meaningless
        suppress_health_check=[HealthCheck.too_slow],
    )


def load() -> str:
    """Load the profile the environment names (``ci`` when it names none); returns its name."""
    name = os.environ.get("ARCHSPEC_HYPOTHESIS_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"ARCHSPEC_HYPOTHESIS_PROFILE={name!r}: choose one of {', '.join(PROFILES)}")
    settings.load_profile(name)
    return name


def examples(count: int) -> int:
    """``count`` examples under the ``ci`` profile, scaled like the loaded profile's default."""
    return count * settings().max_examples // BASE_EXAMPLES
