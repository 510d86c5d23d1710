"""``archspec diff``: what changed between two compiled specs, statically (no torch).

Nodes are matched by path, which is their state_dict prefix (``layer2.0.conv1``): a node is
``added`` (only in B), ``removed`` (only in A) or ``changed`` (its type, arguments, output
shape, parameters, mult-adds or FLOPs differ). Arguments are the torch constructor's as the
module is built (inferred ones such as ``in_channels`` included), so a wider stem shows up in
every layer it feeds. The list follows B's order, with A's removed nodes where they stood.
Totals compare the models' parameters, mult-adds and FLOPs. ``--weights-only`` is the
comparison of :mod:`archspec.backends.statecompare` with A's entries as the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from archspec.backends.statecompare import DIFF_LABELS, Comparison, compare, report_json, report_text, summary_line
from archspec.compiler.ir import CompiledSpec, Node
from archspec.layers.base import NODE_FIELDS

FIELDS = ("type", "args", "inputs", "shape", "params", "macs", "flops")
TOTALS = (("params", "params"), ("trainable_params", "trainable params"), ("macs", "mult-adds"), ("flops", "FLOPs"))


@dataclass(frozen=True)
class NodeFacts:
    """What the diff compares of one node."""

    type: str
    args: dict[str, Any]
    inputs: tuple[str, ...]
    """The value paths it reads: a node rewired to another input changes."""
    shape: tuple[int, ...] | None
    params: int
    macs: int
    flops: int

    @classmethod
    def of(cls, node: Node) -> NodeFacts:
        inputs = node.input_shapes or []
        written = {k: v for k, v in node.layer.model_dump().items() if k not in NODE_FIELDS}  # defaults included
        args = {**written, **(node.layer.inferred(inputs) if inputs else {})}
        result = node.result
        return cls(
            node.type,
            args,
            tuple(node.sources),
            node.shape,
            result.params if result else 0,
            result.macs if result else 0,
            result.flops if result else 0,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "args": self.args,
            "inputs": list(self.inputs),
            "shape": list(self.shape) if self.shape is not None else None,
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
        }


@dataclass(frozen=True)
class NodeChange:
    path: str
    status: Literal["added", "removed", "changed"]
    a: NodeFacts | None
    b: NodeFacts | None
    fields: tuple[str, ...] = ()


@dataclass
class SpecDiff:
    a: str
    b: str
    changes: list[NodeChange]
    totals: dict[str, tuple[int, int]]
    outputs: tuple[str, str]
    layers: tuple[int, int]
    weights: Comparison = field(repr=False, default_factory=lambda: Comparison([]))

    @property
    def equal(self) -> bool:
        return not self.changes and all(a == b for a, b in self.totals.values()) and self.outputs[0] == self.outputs[1]

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)


def diff_specs(a: CompiledSpec, b: CompiledSpec, *, a_label: str, b_label: str) -> SpecDiff:
    """Every node added, removed or changed from ``a`` to ``b``, the totals, and the weights comparison."""
    facts_a = {n.path: NodeFacts.of(n) for n in a.nodes}
    facts_b = {n.path: NodeFacts.of(n) for n in b.nodes}
    changes: list[NodeChange] = []
    position = {path: k for k, path in enumerate(facts_a)}
    paths_a = list(facts_a)
    i = 0
    for path, new in facts_b.items():
        if path not in position:
            changes.append(NodeChange(path, "added", None, new))
            continue
        changes += _removed(paths_a[i : position[path]], facts_a, facts_b)
        i = max(i, position[path] + 1)
        differ = tuple(name for name in FIELDS if getattr(facts_a[path], name) != getattr(new, name))
        if differ:
            changes.append(NodeChange(path, "changed", facts_a[path], new, differ))
    changes += _removed(paths_a[i:], facts_a, facts_b)
    totals = {key: (_total(a, key), _total(b, key)) for key, _ in TOTALS}
    weights = compare(b.state_entries(), a.state_entries(), current=True)
    return SpecDiff(
        a_label, b_label, changes, totals, (_outputs(a), _outputs(b)), (len(a.nodes), len(b.nodes)), weights
    )


def _removed(paths: list[str], facts_a: dict[str, NodeFacts], facts_b: dict[str, NodeFacts]) -> list[NodeChange]:
    return [NodeChange(p, "removed", facts_a[p], None) for p in paths if p not in facts_b]


def _total(compiled: CompiledSpec, key: str) -> int:
    return int(getattr(compiled, "params_total" if key == "params" else key))


def _outputs(compiled: CompiledSpec) -> str:
    from archspec.backends.values import named

    return named(compiled.outputs, "output")


# -- text, JSON and Markdown -----------------------------------------------------------------

SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _shape(shape: tuple[int, ...] | None) -> str:
    return "-" if shape is None else f"[{', '.join(map(str, shape))}]"


def _value(name: str, facts: NodeFacts) -> str:
    if name == "shape":
        return _shape(facts.shape)
    if name == "inputs":
        return "[" + ", ".join(facts.inputs) + "]"
    if name in ("params", "macs", "flops"):
        return f"{getattr(facts, name):,}"
    return str(getattr(facts, name))


def _args_change(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = [k for k in {**a, **b} if a.get(k, "-") != b.get(k, "-")]
    return ", ".join(f"{k} {a.get(k, '-')}->{b.get(k, '-')}" for k in keys)


def describe(change: NodeChange) -> str:
    """One line's detail: what the node is (added, removed) or what changed."""
    if change.status != "changed":
        facts = change.b or change.a
        assert facts is not None
        return f"{facts.type} {_shape(facts.shape)}, {facts.params:,} params, {facts.flops:,} FLOPs"
    assert change.a is not None and change.b is not None
    parts = []
    for name in change.fields:
        if name == "args" and "type" in change.fields:
            continue  # another layer type: its arguments are another set
        if name == "args":
            parts.append(_args_change(change.a.args, change.b.args))
        else:
            label = {"macs": "mult-adds", "flops": "FLOPs"}.get(name, name)
            parts.append(f"{label} {_value(name, change.a)}->{_value(name, change.b)}")
    return "; ".join(parts)


def delta(a: int, b: int) -> str:
    if a == b:
        return "="
    ratio = 100 * (b - a) / a if a else 0.0
    percent = "" if not a else f", {ratio:+.1f}%" if abs(ratio) >= 0.1 else f", {ratio:+.3f}%"
    return f"{b - a:+,}{percent}"


def totals_rows(result: SpecDiff) -> list[tuple[str, str, str, str]]:
    rows = [
        (label, f"{result.totals[k][0]:,}", f"{result.totals[k][1]:,}", delta(*result.totals[k])) for k, label in TOTALS
    ]
    rows.append(("layers", f"{result.layers[0]:,}", f"{result.layers[1]:,}", delta(*result.layers)))
    same = result.outputs[0] == result.outputs[1]
    rows.append(("output", result.outputs[0], result.outputs[1], "=" if same else "changed"))
    return rows


def node_counts(result: SpecDiff) -> str:
    return ", ".join(f"{result.count(s)} {s}" for s in ("added", "removed", "changed"))


def diff_text(result: SpecDiff) -> list[str]:
    lines = [f"diff A {result.a}", f"  -> B {result.b}"]
    width = max((len(c.path) for c in result.changes), default=0)
    lines += [f"{SIGN[c.status]} {c.path:<{width}}  {describe(c)}" for c in result.changes]
    lines.append(f"nodes: {node_counts(result)}")
    rows = totals_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines += [f"  {n:<{widths[0]}}  {a:>{widths[1]}} -> {b:>{widths[2]}}  ({d})" for n, a, b, d in rows]
    lines.append("equal" if result.equal else "differ")
    return lines


def diff_json(result: SpecDiff) -> dict[str, Any]:
    return {
        "a": result.a,
        "b": result.b,
        "equal": result.equal,
        "counts": {s: result.count(s) for s in ("added", "removed", "changed")},
        "totals": {k: {"a": a, "b": b, "delta": b - a} for k, (a, b) in result.totals.items()},
        "layers": {"a": result.layers[0], "b": result.layers[1]},
        "outputs": {"a": result.outputs[0], "b": result.outputs[1]},
        "nodes": [
            {
                "path": c.path,
                "status": c.status,
                "changed": list(c.fields),
                "a": c.a.to_json() if c.a else None,
                "b": c.b.to_json() if c.b else None,
            }
            for c in result.changes
        ],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def diff_markdown(result: SpecDiff, *, limit: int = 200) -> list[str]:
    """A pull-request comment: the totals table, then the nodes (folded when long)."""
    lines = [
        f"### archspec diff: {'no change' if result.equal else node_counts(result)}",
        "",
        f"A: `{_cell(result.a)}`  ",
        f"B: `{_cell(result.b)}`",
        "",
        "| | A | B | change |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {_cell(a)} | {_cell(b)} | {_cell(d)} |" for n, a, b, d in totals_rows(result)]
    if result.changes:
        shown = result.changes[:limit]
        lines += ["", f"<details><summary>{len(result.changes)} node(s)</summary>", ""]
        lines += ["| | node | detail |", "|---|---|---|"]
        lines += [f"| {SIGN[c.status]} | `{_cell(c.path)}` | {_cell(describe(c))} |" for c in shown]
        if len(result.changes) > limit:
            lines.append(f"| | ... | {len(result.changes) - limit} more (--format json lists every node) |")
        lines += ["", "</details>"]
    return lines


# -- --weights-only ----------------------------------------------------------------------------


def weights_equal(comparison: Comparison) -> bool:
    """Every entry of A loads into B unchanged (same keys, shapes and dtypes)."""
    return comparison.strict_ok and not any(k.cast for k in comparison.keys) and not comparison.where("filled")


def weights_text(result: SpecDiff) -> list[str]:
    lines = [f"weights A {result.a}", f"     -> B {result.b}"]
    lines += report_text(result.weights, labels=DIFF_LABELS)
    lines.append(summary_line(result.weights, DIFF_LABELS))
    lines.append("equal" if weights_equal(result.weights) else "differ")
    return lines


def weights_json(result: SpecDiff) -> dict[str, Any]:
    data = report_json(result.weights)
    data.pop("prefix_hint")
    return {"a": result.a, "b": result.b, "equal": weights_equal(result.weights), **data}


def weights_markdown(result: SpecDiff) -> list[str]:
    comparison = result.weights
    lines = [f"### archspec diff --weights-only: {summary_line(comparison, DIFF_LABELS)}", ""]
    lines += [f"A: `{_cell(result.a)}`  ", f"B: `{_cell(result.b)}`", ""]
    rows = [k for k in comparison.keys if k.status != "loads"]
    if rows:
        from archspec.backends.statecompare import key_line

        lines += ["| status | key | detail |", "|---|---|---|"]
        lines += ["| {} | `{}` | {} |".format(*(_cell(t) for t in key_line(k, DIFF_LABELS))) for k in rows]
    return lines
