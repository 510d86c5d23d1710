"""The limits of one compilation: every figure that bounds archspec's work on an input.

A spec is untrusted text: YAML aliases, repeats and expressions can each ask for far more
work than the text's size suggests. Every pass takes a :class:`Budget` and stops with a
``too-large`` (or I/O) error naming the limit when an input would exceed it, so any input
fails in bounded time and memory. The defaults are far above what real networks need
(ResNet-152 expands to ~500 nodes) and are documented in ``docs/performance.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Limits of one compilation; raise one with ``dataclasses.replace(DEFAULT_BUDGET, ...)``."""

    max_bytes: int = 4 * 2**20
    """Size of a spec file; a bigger one is refused before parsing (4 MiB parse in ~1 s)."""
    max_yaml_values: int = 200_000
    """Values the YAML document expands to, each alias expansion counted again (billion laughs)."""
    max_depth: int = 64
    """Nesting of YAML collections and of values built by expressions."""
    max_nodes: int = 100_000
    """Layer nodes after expanding blocks and repeats."""
    max_errors: int = 100
    """Diagnostics reported for one spec; the rest are counted, not listed."""
    max_expression_length: int = 1_000
    """Characters in one ``${...}`` expression."""
    max_expression_steps: int = 100_000
    """Work of one expression evaluation: syntax nodes visited plus elements built, compared or copied."""
    max_value_size: int = 10_000
    """Elements in one value built by an expression, counted through nested lists and mappings
    (a shared list counts each time it appears) and characters in a string."""
    max_int_bits: int = 256
    """Bits of an integer (about 77 decimal digits), in a spec, a ``--set`` value or a result."""


DEFAULT_BUDGET = Budget()
