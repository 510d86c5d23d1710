"""The limits of one compilation: whatever the input, the work done is bounded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Every documented limit of compiling one spec (see docs/performance.md)."""

    max_bytes: int = 4 * 1024 * 1024
    max_yaml_values: int = 200_000
    max_depth: int = 64
    max_nodes: int = 100_000
    max_errors: int = 100
    max_expression_steps: int = 10_000
    max_value_size: int = 100_000
    max_int_bits: int = 256


DEFAULT_BUDGET = Budget()
