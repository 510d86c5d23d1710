"""Will these weights load? One comparison of two sets of state_dict entries, without torch.

``compare(expected, found)`` says, key by key, what a strict ``module.load_state_dict(found)``
does to a module whose ``state_dict()`` is ``expected``: the key ``loads``, has a ``shape``
mismatch, is ``missing`` from ``found`` or ``unexpected`` in it. It follows torch's rules
(``nn.Module._load_from_state_dict``), quirks included:

* dtypes never fail: ``param.copy_(input)`` casts (the report notes the cast);
* a 0-d entry takes a 1-d tensor of one element (loading 0.3-era files);
* a missing ``num_batches_tracked`` is filled with 0 by the batch norms when the file's
  ``_metadata`` gives that module no version, or one below 2 (files saved before the buffer
  existed; a plain dict has no metadata): ``filled``, which loads.

Missing and unexpected keys are paired as renames (did you mean ``head.weight``?) when they
have the same shape and the same last name (``weight``, ``running_mean``), closest names
first. ``archspec compat`` compares a spec with a file; ``archspec diff --weights-only``
compares spec A's entries (found) with spec B's (expected): one comparison, two reports.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

from archspec.layers.base import StateEntry

Status = Literal["loads", "filled", "shape", "missing", "unexpected"]
RENAME_SIMILARITY = 0.5
"""How alike (difflib's ratio) a missing and an unexpected key's names must be to be called a rename."""


@dataclass(frozen=True)
class KeyReport:
    """One key: what a strict load does with it."""

    key: str
    status: Status
    expected: StateEntry | None
    """The module's entry (None: the key is unexpected)."""
    found: StateEntry | None
    """The file's entry (None: missing)."""
    rename: str | None = None
    """For a missing or unexpected key: the unexpected or missing key it was probably renamed to or from."""

    @property
    def cast(self) -> bool:
        """The tensor loads, converted to the module's dtype."""
        return (
            self.status == "loads"
            and self.expected is not None
            and self.found is not None
            and (self.expected.dtype != self.found.dtype)
        )


@dataclass
class Comparison:
    """Every key of both sides, in the module's order, then the file's unexpected keys."""

    keys: list[KeyReport]
    prefix_hint: str | None = field(default=None)
    """Where the file's keys all carry (or lack) one prefix, e.g. DataParallel's ``module.``."""

    def where(self, *statuses: Status) -> list[KeyReport]:
        return [k for k in self.keys if k.status in statuses]

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.where(status)) for status in ("loads", "filled", "shape", "missing", "unexpected")}

    @property
    def strict_ok(self) -> bool:
        """A strict ``load_state_dict`` succeeds."""
        return not self.where("shape", "missing", "unexpected")

    @property
    def expected_count(self) -> int:
        return sum(1 for k in self.keys if k.expected is not None)

    @property
    def loadable(self) -> int:
        """Keys a non-strict load (skipping shape mismatches) fills."""
        return len(self.where("loads"))


def compare(
    expected: dict[str, StateEntry],
    found: dict[str, StateEntry],
    *,
    versions: dict[str, Any] | None = None,
    current: bool = False,
) -> Comparison:
    """What a strict load of ``found`` into a module holding ``expected`` does, key by key.

    ``versions``: the file's ``state_dict._metadata`` (module prefix -> ``{"version": n}``), or None.
    ``current``: ``found`` comes from a model of today's torch (``diff --weights-only``), whose
    ``state_dict()`` records every module's current version: nothing is filled in.
    """
    keys = [_judge(key, entry, found.get(key), versions, current) for key, entry in expected.items()]
    keys += [KeyReport(key, "unexpected", None, entry) for key, entry in found.items() if key not in expected]
    keys = _pair_renames(keys)
    return Comparison(keys, _prefix_hint(keys))


def _judge(
    key: str, expected: StateEntry, found: StateEntry | None, versions: dict[str, Any] | None, current: bool
) -> KeyReport:
    if found is None:
        filled = not current and _filled(key, expected, versions)
        return KeyReport(key, "filled" if filled else "missing", expected, None)
    if found.shape == expected.shape or (expected.shape == () and found.shape == (1,)):
        return KeyReport(key, "loads", expected, found)
    return KeyReport(key, "shape", expected, found)


def _filled(key: str, expected: StateEntry, versions: dict[str, Any] | None) -> bool:
    """torch's batch norms fill a missing ``num_batches_tracked`` for files older than their version 2."""
    module, _, leaf = key.rpartition(".")
    if leaf != "num_batches_tracked" or expected != StateEntry((), "int64", "buffer"):
        return False
    local = (versions or {}).get(module, {})
    version = local.get("version") if isinstance(local, dict) else None
    return version is None or (isinstance(version, int) and version < 2)


def _pair_renames(keys: list[KeyReport]) -> list[KeyReport]:
    """Pair missing with unexpected keys of the same shape and last name, most alike first."""
    missing = [k for k in keys if k.status == "missing"]
    unexpected = [k for k in keys if k.status == "unexpected"]
    if not missing or not unexpected:
        return keys
    by_shape: dict[tuple[tuple[int, ...], str], list[KeyReport]] = {}
    for item in unexpected:
        assert item.found is not None
        by_shape.setdefault((item.found.shape, _leaf(item.key)), []).append(item)
    pairs = []
    for item in missing:
        assert item.expected is not None
        for other in by_shape.get((item.expected.shape, _leaf(item.key)), []):
            score = difflib.SequenceMatcher(None, item.key, other.key).ratio()
            if score >= RENAME_SIMILARITY:
                pairs.append((-score, item.key, other.key))
    renamed: dict[str, str] = {}
    for _, a, b in sorted(pairs):
        if a not in renamed and b not in renamed:
            renamed[a], renamed[b] = b, a
    return [KeyReport(k.key, k.status, k.expected, k.found, renamed.get(k.key)) for k in keys]


def _leaf(key: str) -> str:
    return key.rpartition(".")[2]


def _prefix_hint(keys: list[KeyReport]) -> str | None:
    """The file's keys are the module's with one prefix added (``module.``: saved from DataParallel) or removed."""
    absent = {k.key for k in keys if k.status in ("missing", "filled")}
    missing = [k.key for k in keys if k.status == "missing"]
    unexpected = {k.key for k in keys if k.status == "unexpected"}
    if not missing or not unexpected:
        return None
    first = missing[0]
    for other in unexpected:
        if other.endswith("." + first) and _renamed_by(other[: -len(first)], absent, missing, unexpected):
            prefix = other[: -len(first)]
            strip = f"{{k.removeprefix('{prefix}'): v ...}}"
            return f"every key of the file has the extra prefix '{prefix}': strip it, e.g. {strip}"
        if first.endswith("." + other) and _renamed_by(
            first[: -len(other)], unexpected, list(unexpected), set(missing)
        ):
            prefix = first[: -len(other)]
            return f"the file's keys lack the spec's prefix '{prefix}': add it, e.g. {{'{prefix}' + k: v ...}}"
    return None


def _renamed_by(prefix: str, shorter: set[str], needed: list[str], longer: set[str]) -> bool:
    """``needed`` keys are all in ``longer`` with ``prefix``; every ``longer`` key is a ``shorter`` one prefixed."""
    return all(prefix + key in longer for key in needed) and all(
        key.startswith(prefix) and key[len(prefix) :] in shorter for key in longer
    )


# -- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """How a report names the two sides and the statuses: a spec and a file, or spec A and spec B."""

    expected: str = "spec"
    found: str = "file"
    status: tuple[tuple[str, str], ...] = (
        ("loads", "loads"),
        ("filled", "filled"),
        ("shape", "shape mismatch"),
        ("missing", "missing"),
        ("unexpected", "unexpected"),
    )

    counted: tuple[tuple[str, str], ...] = (
        ("loads", "load"),
        ("shape", "shape mismatches"),
        ("missing", "missing"),
        ("unexpected", "unexpected"),
    )

    def word(self, status: str) -> str:
        return dict(self.status)[status]


COMPAT_LABELS = Labels()
DIFF_LABELS = Labels(
    "B",
    "A",
    (
        ("loads", "unchanged"),
        ("filled", "filled"),
        ("shape", "changes shape"),
        ("missing", "new in B"),
        ("unexpected", "gone in B"),
    ),
    (("loads", "unchanged"), ("shape", "change shape"), ("missing", "new in B"), ("unexpected", "gone in B")),
)


def shape_text(entry: StateEntry | None) -> str:
    if entry is None:
        return "-"
    return f"[{', '.join(map(str, entry.shape))}]" + ("" if entry.dtype == "float32" else f" {entry.dtype}")


def key_line(item: KeyReport, labels: Labels) -> tuple[str, str, str]:
    """(status word, key, details) for a text or Markdown row."""
    word = labels.word(item.status)
    if item.status == "shape":
        detail = f"{labels.expected} {shape_text(item.expected)}, {labels.found} {shape_text(item.found)}"
    elif item.status == "missing":
        detail = f"{shape_text(item.expected)} not in {labels.found}"
    elif item.status == "unexpected":
        detail = f"{shape_text(item.found)} not in {labels.expected}"
    elif item.status == "filled":
        detail = "not in the file: torch fills it with 0 (saved before BatchNorm's version 2)"
    else:
        detail = shape_text(item.expected)
        if item.cast and item.found is not None and item.expected is not None:
            detail += f" (cast from {item.found.dtype})"
        elif item.found is not None and item.expected is not None and item.found.shape != item.expected.shape:
            detail += f" (from {shape_text(item.found)}: torch reads its one element)"
    if item.rename:
        detail += f"; did you mean {item.rename}?"
    return word, item.key, detail


def summary_line(comparison: Comparison, labels: Labels = COMPAT_LABELS) -> str:
    """``120 load, 2 shape mismatches, 0 missing, 0 unexpected`` (filled entries load)."""
    counts = comparison.counts
    words = dict(labels.counted)
    parts = [f"{counts['loads'] + counts['filled']} {words['loads']}"]
    parts += [f"{counts[s]} {words[s]}" for s in ("shape", "missing", "unexpected")]
    return ", ".join(parts)


def cast_note(comparison: Comparison) -> str | None:
    """``102 entries load converted from float16 to float32`` (torch's ``copy_`` casts; nothing fails)."""
    casts: dict[tuple[str, str], int] = {}
    for item in comparison.keys:
        if item.cast and item.found is not None and item.expected is not None:
            pair = (item.found.dtype, item.expected.dtype)
            casts[pair] = casts.get(pair, 0) + 1
    if not casts:
        return None
    return "; ".join(f"{n:,} entries load converted from {a} to {b}" for (a, b), n in sorted(casts.items()))


def verdict(comparison: Comparison) -> str:
    """One line: whether a strict load succeeds, and what a non-strict one would load."""
    total = comparison.expected_count
    if comparison.strict_ok:
        return f"loads: a strict load_state_dict succeeds ({total} of {total} entries)"
    counts = comparison.counts
    problems = [
        f"{counts[s]} {word}"
        for s, word in (("shape", "shape mismatches"), ("missing", "missing"), ("unexpected", "unexpected"))
        if counts[s]
    ]
    return (
        f"does not load: a strict load_state_dict fails ({', '.join(problems)}); "
        f"--no-strict loads {comparison.loadable} of {total} entries"
    )


def report_text(
    comparison: Comparison,
    *,
    labels: Labels = COMPAT_LABELS,
    every: bool = False,
    only: tuple[Status, ...] | None = None,
) -> list[str]:
    """Rows for the keys that do not simply load (all with ``every``; ``only`` these statuses), aligned."""
    rows = [
        key_line(k, labels)
        for k in comparison.keys
        if (k.status in only if only is not None else every or k.status != "loads")
    ]
    if not rows:
        return []
    width = [max(len(r[i]) for r in rows) for i in (0, 1)]
    return [f"  {w:<{width[0]}}  {k:<{width[1]}}  {d}".rstrip() for w, k, d in rows]


def report_json(comparison: Comparison) -> dict[str, Any]:
    def entry(value: StateEntry | None, kind: bool) -> dict[str, Any] | None:
        if value is None:
            return None
        data: dict[str, Any] = {"shape": list(value.shape), "dtype": value.dtype}
        if kind:
            data["kind"] = value.kind
        return data

    return {
        "strict_load": comparison.strict_ok,
        "counts": comparison.counts,
        "loadable": comparison.loadable,
        "expected_entries": comparison.expected_count,
        "prefix_hint": comparison.prefix_hint,
        "keys": [
            {
                "key": k.key,
                "status": k.status,
                "expected": entry(k.expected, True),
                "found": entry(k.found, False),
                "did_you_mean": k.rename,
            }
            for k in comparison.keys
        ],
    }
