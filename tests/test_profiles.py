"""The hypothesis profiles: one variable sets the depth of every property test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
PROBE = (
    "import hypothesis_profiles as h\n"
    "from hypothesis import settings\n"
    "print(h.load(), settings().max_examples, h.examples(200), settings().deadline, settings().derandomize)\n"
)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [(None, "ci 100 200 None True"), ("ci", "ci 100 200 None True"), ("thorough", "thorough 1000 2000 None False")],
)
def test_profiles_scale_every_count(profile: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARCHSPEC_HYPOTHESIS_PROFILE"}
    if profile:
        env["ARCHSPEC_HYPOTHESIS_PROFILE"] = profile
    env["PYTHONPATH"] = str(TESTS)
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == expected


def test_an_unknown_profile_is_refused() -> None:
    env = {**os.environ, "ARCHSPEC_HYPOTHESIS_PROFILE": "fast", "PYTHONPATH": str(TESTS)}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "choose one of ci, thorough" in result.stderr
