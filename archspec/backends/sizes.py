"""Valid input sizes: the smallest size along each spatial (or sequence) axis, and the sizes that divide exactly.

Found by the real static inference, not by a separate model of each layer: the spec is
elaborated again (from its :class:`~archspec.compiler.pipeline.LoadedSpec`, so nothing is
re-read) at other sizes of one axis, the other axes at their declared sizes.

* **smallest valid size**: the first size from 1 upward at which every node infers. Sizes
  are tried in order up to the declared size (which is valid), each probe stopping at its
  first error, so the answer is exact even where the valid sizes have gaps (a U-Net whose
  skips must match). A spec valid only at its declared size (ViT's fixed position
  embedding) says "none below N".
* **exact sizes** (no floor rounding): sizes at which every strided window (a conv or pool
  with stride ``s > 1``, read from :meth:`~archspec.layers.base.Layer.receptive`) maps
  ``n`` inputs to exactly ``n / s`` outputs. A window is exact for every multiple of its
  stride or for none (``floor((n + 2p - k) / s) + 1 = n / s`` iff ``k - s <= 2p < k``),
  so the exact sizes are one residue class modulo the **stride multiple** ``M``, the least
  common multiple over strided windows of their stride times the cumulative stride before
  them (32 for ResNet-18). The class is found from one exact size, and its first valid
  member by probing ``r, r + M, ...``; AlexNet's 11x11 stride-4 stem is exact nowhere.

A probe re-runs only shape inference over the declared size's nodes (:class:`_Replay`) while
nothing the expansion read has changed: each node's number of outputs, and the input shapes of
the block instances whose expressions mention ``in_shape``/``in_shapes`` (``in_channels``: the
channels only). Up to the first node that fails, that is exactly what a full elaboration
would do; where something the expansion read differs, the probe elaborates in full. A scan is
kept per spec text, parameter values and input shapes, so summaries and docs pages of the same
spec (loaded again or not) scan once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from archspec.compiler.elaborate import Elaborator
from archspec.compiler.ir import CompiledSpec, Node
from archspec.compiler.pipeline import LoadedSpec
from archspec.errors import ArchspecError, LayerError
from archspec.layers.base import Layer, LayerResult, Shape, TensorType
from archspec.layers.registry import registry_version
from archspec.safetext import escape_controls

MAX_MULTIPLE = 512
"""Stride multiples above this are reported, not searched for an exact size."""
SCAN_LIMIT = 1024
"""Sizes tried for the smallest valid one: 1 up to the declared size, at most this many."""
MAX_PROBE_NODES = 2_000_000
"""Work bound per axis: probes x the spec's nodes. A 20,000-node spec gets 100 probes; what they
did not reach is reported as not scanned, never guessed."""
SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class AxisSizes:
    """What one input axis accepts, the other axes at their declared sizes."""

    input: str
    axis: int
    """Index in the per-sample shape (the batched tensor's dim ``axis + 1``)."""
    name: str
    declared: int
    minimum: int | None
    """The smallest size at which every node is valid (at most ``declared``); None: none up to ``SCAN_LIMIT``."""
    multiple: int | None
    """The stride multiple ``M``; None when the exact sizes could not be found."""
    exact_from: int | None
    """The smallest valid size without floor rounding (then every ``M`` more); None: none found."""
    next_exact_valid: bool = True
    """Whether ``exact_from + multiple`` is valid too (False for a spec valid at one size only)."""
    inexact: str | None = None
    """Why no size is exact: the first strided node that rounds, at the declared size."""
    gap: int | None = None
    """A size between ``minimum`` and ``declared`` that is not valid (``minimum + 1``, the one probed), or None."""
    scanned: int = 0
    """The smallest-size scan tried 1 to this (the declared size, or less when bounded)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AxisSizes:
        return cls(
            data["input"],
            data["axis"],
            data["name"],
            data["declared"],
            data["min"],
            data["stride_multiple"],
            data["exact_from"],
            data["next_exact_valid"],
            data["inexact"],
            data.get("gap"),
            data.get("scanned", data["declared"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "axis": self.axis,
            "dim": self.axis + 1,
            "name": self.name,
            "declared": self.declared,
            "min": self.minimum,
            "none_below": self.none_below,
            "stride_multiple": self.multiple,
            "exact_from": self.exact_from,
            "next_exact_valid": self.next_exact_valid,
            "inexact": self.inexact,
            "gap": self.gap,
            "scanned": self.scanned,
        }

    @property
    def none_below(self) -> int | None:
        """N when no size below N was found valid but the declared size is (N: the declared size, or
        the scan's end + 1); None when a smaller size is valid."""
        if self.minimum is None:
            return self.scanned + 1
        return self.declared if self.minimum == self.declared and self.declared > 1 else None

    def text(self) -> str:
        """``input size H (dim 2): smallest valid 1; no floor rounding at multiples of 32 from 32``."""
        return escape_controls(f"input size {self.label()}: {self.valid_text()}; {self.exact_text()}")

    def valid_text(self) -> str:
        """``smallest valid 63``; ``smallest valid 8 (9 fails)``; ``valid at 224, none below``."""
        below = self.none_below
        if below is None:
            return f"smallest valid {self.minimum}" + (f" ({self.gap} fails)" if self.gap is not None else "")
        if below == self.declared:
            return f"valid at {self.declared}, none below"
        if below == 1:
            return f"valid at {self.declared}; smaller sizes not scanned (the spec is too large)"
        return f"valid at {self.declared}, none from 1 to {below - 1}"

    def label(self) -> str:
        return f"{self.name} (dim {self.axis + 1})"

    def exact_text(self) -> str:
        """``no floor rounding at multiples of 32 from 32``, or why there is none."""
        if self.exact_from is None:
            return f"no size avoids floor rounding ({self.inexact})" if self.inexact else "exact sizes not searched"
        start, step = self.exact_from, self.multiple or 1
        if step == 1:
            return "no floor rounding at any valid size"
        series = f"multiples of {step}" if start % step == 0 else f"{start}, {start + step}, {start + 2 * step}, ..."
        if not self.next_exact_valid:
            return f"no floor rounding at {start} ({series}; {start + step} fails)"
        return f"no floor rounding at {series} from {start}" if start % step == 0 else f"no floor rounding at {series}"


def sizes_lines(axes: list[dict[str, Any]]) -> list[str]:
    """Summary lines from :meth:`AxisSizes.to_json` records (what ``summary_data`` holds)."""
    return [AxisSizes.from_json(axis).text() for axis in axes]


def input_sizes(compiled: CompiledSpec) -> list[AxisSizes]:
    """Every scanned axis of every input; [] when the spec cannot be recompiled (no ``loaded``).

    Kept with the loaded spec per parameter values and input shapes: a summary and a docs page
    of the same spec scan once.
    """
    loaded = compiled.loaded
    if loaded is None or compiled.diagnostics:
        return []
    key = (
        loaded.source.text,
        loaded.budget,
        registry_version(),
        (SCAN_LIMIT, MAX_PROBE_NODES, MAX_MULTIPLE),
        tuple((k, repr(v)) for k, v in compiled.params.items()),
        _shapes(compiled.inputs),
    )
    found = _SCANS.get(key)
    if found is None:
        replay = _Replay(compiled)
        found = [_Axis(compiled, name, axis, label, replay).sizes() for name, axis, label in scanned_axes(compiled)]
        if len(_SCANS) >= MAX_KEPT_SCANS:
            _SCANS.pop(next(iter(_SCANS)))
        _SCANS[key] = found
    return list(found)


MAX_KEPT_SCANS = 64
"""Scans kept (the oldest goes first): a spec's text is its whole definition, so a key never goes stale."""
_SCANS: dict[tuple[Any, ...], list[AxisSizes]] = {}


def _shapes(inputs: dict[str, TensorType]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((name, value.shape) for name, value in inputs.items())


def scanned_axes(compiled: CompiledSpec) -> list[tuple[str, int, str]]:
    """``(input, axis, label)``: an image's spatial axes (H, W), every axis of a tensor input."""
    spec = compiled.spec
    axes: list[tuple[str, int, str]] = []
    for name, value in compiled.inputs.items():
        written = spec.input if spec.inputs is None else spec.inputs[name]
        rank = len(value.shape)
        if written.channels is not None:
            names = SPATIAL_NAMES.get(rank - 1) or tuple(f"axis {a}" for a in range(1, rank))
            axes += [(name, a, f"{_prefix(compiled, name)}{names[a - 1]}") for a in range(1, rank)]
        else:
            axes += [(name, a, f"{_prefix(compiled, name)}axis {a}") for a in range(rank)]
    return axes


def _prefix(compiled: CompiledSpec, name: str) -> str:
    return f"{name} " if len(compiled.inputs) > 1 else ""


class _Axis:
    """The probes along one axis of one input."""

    def __init__(self, compiled: CompiledSpec, name: str, axis: int, label: str, replay: _Replay) -> None:
        self.compiled, self.name, self.axis, self.label = compiled, name, axis, label
        self.loaded = compiled.loaded
        self.replay = replay
        self.declared = compiled.inputs[name].shape[axis]
        self.valid: dict[int, bool] = {self.declared: True}
        self.probes_left = max(1, MAX_PROBE_NODES // max(1, len(compiled.nodes)))

    def sizes(self) -> AxisSizes:
        minimum, scanned = self._smallest()
        found = AxisSizes(self.name, self.axis, self.label, self.declared, minimum, None, None, scanned=scanned)
        try:
            if minimum is not None and minimum < self.declared and not self.probe(minimum + 1):
                found = dataclasses.replace(found, gap=minimum + 1)
            return self._exact(found)
        except _Exhausted:
            return found

    def _smallest(self) -> tuple[int | None, int]:
        """The first valid size from 1 (None when none up to the scan's end), and how far the scan went."""
        top = min(self.declared, SCAN_LIMIT)
        for n in range(1, top + 1):
            try:
                if self.probe(n):
                    return n, n
            except _Exhausted:
                return None, n - 1
        return None, top

    def _exact(self, found: AxisSizes) -> AxisSizes:
        multiple = _stride_multiple(self.compiled, self.axis)
        found = dataclasses.replace(found, multiple=multiple)
        if multiple is None or multiple > MAX_MULTIPLE:
            return found
        seed = next((n for n in range(self.declared, self.declared + multiple) if self.exact(n)), None)
        if seed is None:  # one period has every residue: no size is exact
            return dataclasses.replace(found, inexact=_rounding(self.compiled, self.axis))
        start = next(n for n in range(seed % multiple or multiple, seed + 1, multiple) if self.exact(n))
        return dataclasses.replace(found, exact_from=start, next_exact_valid=self.probe(start + multiple))

    def exact(self, n: int) -> bool:
        compiled = self.compiled if n == self.declared else None if self.valid.get(n) is False else self.compile(n)
        return compiled is not None and _rounding(compiled, self.axis) is None

    def probe(self, n: int) -> bool:
        """Whether every node is valid with this axis at ``n``."""
        if n not in self.valid:
            self.compile(n)
        return self.valid[n]

    def compile(self, n: int) -> _Probed | CompiledSpec | None:
        """The spec's nodes with this axis at ``n``, or None where a node fails (stopping at the first)."""
        if self.probes_left <= 0:
            raise _Exhausted
        self.probes_left -= 1
        inputs = dict(self.compiled.inputs)
        shape = list(inputs[self.name].shape)
        shape[self.axis] = n
        inputs[self.name] = inputs[self.name]._replace(shape=tuple(shape))
        compiled: _Probed | CompiledSpec | None
        try:
            if not self.replay.worth_it:
                raise _Diverged
            compiled = self.replay.run(inputs)
        except _Diverged:
            try:
                compiled = self.loaded.elaborate(self.compiled.params, inputs, max_errors=0, reach=False)
            except ArchspecError:
                compiled = None
        self.valid[n] = compiled is not None
        return compiled


@dataclass
class _Probed:
    """What a probe found at a size where the replay reached every node (what :func:`_rounding` reads):
    the declared size's nodes, and per node its input types and result at this size."""

    input_shape: Shape
    nodes: list[Node]
    found: list[tuple[list[TensorType], LayerResult]]


class _Diverged(Exception):
    """The expansion read something that differs at this size: elaborate the probe in full."""


class _Recorder(Elaborator):
    """The elaboration pass, noting where each block instance binds its ``in_*`` variables."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries: list[tuple[int, str, list[str]]] = []
        """``(nodes made before it, block, the value paths of its inputs)`` per block instance."""

    def _block_vars(self, node: Any, path: Any, scope: Any, block: str, sources: list[Any]) -> dict[str, Any]:
        self.entries.append((len(self.nodes), block, [s.value or "" for s in sources]))
        return super()._block_vars(node, path, scope, block, sources)


class _Replay:
    """Shape inference alone over the nodes the declared size expanded to (see the module docstring)."""

    def __init__(self, compiled: CompiledSpec) -> None:
        self.compiled = compiled
        self.loaded: LoadedSpec = compiled.loaded
        self.nodes: list[Node] | None = None
        """Recorded at the first probe (a scan that probes nothing pays nothing)."""
        self.answered = self.diverged = 0

    @property
    def worth_it(self) -> bool:
        """False once most probes diverged (Swin reads its maps' sizes everywhere): elaborate in full."""
        return self.diverged < 2 or self.diverged <= self.answered

    def _record(self) -> list[Node]:
        compiled, loaded = self.compiled, self.loaded
        made: list[_Recorder] = []

        def recorder(*args: Any, **kwargs: Any) -> _Recorder:
            made.append(_Recorder(*args, **kwargs))
            return made[-1]

        dataclasses.replace(loaded, make_elaborator=recorder).elaborate(
            compiled.params, compiled.inputs, max_errors=0, reach=False
        )
        elaborated = made[-1]
        self.parts = [elaborated.parts.get(node.path) for node in elaborated.nodes]
        reads = _shape_reads(loaded)
        self.checks: dict[int, list[tuple[list[str], Any]]] = {}
        """Before node ``i``: the block inputs whose shapes (or channels) the expansion read, as declared."""
        for index, block, sources in elaborated.entries:
            read = reads.get(block)
            if read is not None:
                seen = _read(read, [elaborated.types[s] for s in sources])
                self.checks.setdefault(index, []).append((sources, (read, seen)))
        self.nodes = elaborated.nodes
        return self.nodes

    def run(self, inputs: dict[str, TensorType]) -> _Probed | None:
        """The nodes inferred at these inputs; None at the first node that fails.

        Raises _Diverged where a node's output count or a read block input differs from the declared size."""
        nodes = self._record() if self.nodes is None else self.nodes
        try:
            found = self._infer(nodes, inputs)
        except _Diverged:
            self.diverged += 1
            raise
        self.answered += 1
        return found

    def _infer(self, nodes: list[Node], inputs: dict[str, TensorType]) -> _Probed | None:
        types: dict[str, TensorType] = dict(inputs)
        found: list[tuple[list[TensorType], LayerResult]] = []
        for index, node in enumerate(nodes):
            self._check(index, types)
            read = [types[s] for s in node.sources]
            try:
                result, outputs = self.loaded.cache.infer(node.layer, read)
            except LayerError:
                return None
            parts = self.parts[index]
            if isinstance(outputs, TensorType):
                if parts is not None:
                    raise _Diverged
                types[node.path] = outputs
            else:
                if len(outputs) != parts:
                    raise _Diverged
                types.update((f"{node.path}.{i}", part) for i, part in enumerate(outputs))
            found.append((read, result))
        self._check(len(nodes), types)
        return _Probed(next(iter(inputs.values())).shape, nodes, found)

    def _check(self, index: int, types: dict[str, TensorType]) -> None:
        for sources, (read, seen) in self.checks.get(index, ()):
            if _read(read, [types[s] for s in sources]) != seen:
                raise _Diverged


def _read(what: str, types: list[TensorType]) -> Any:
    """What a block's expressions can read of its inputs: ``shapes`` (in_shape, in_shapes) or ``channels``."""
    return [t.shape for t in types] if what == "shapes" else types[0].shape[:1]


def _shape_reads(loaded: LoadedSpec) -> dict[str, str]:
    """Per block: ``shapes`` where a text in its definition mentions ``in_shape`` (or ``in_shapes``),
    else ``channels`` where one mentions ``in_channels``. Read from the typed definitions: a mention
    anywhere (a parameter default, a ``when``, an argument) counts."""
    reads: dict[str, str] = {}
    for name, definition in loaded.spec.blocks.items():
        texts = [t for t in _strings(definition.model_dump()) if "in_" in t]
        if any("in_shape" in t for t in texts):
            reads[str(name)] = "shapes"
        elif any("in_channels" in t for t in texts):
            reads[str(name)] = "channels"
    return reads


def _strings(value: Any) -> Iterator[str]:
    """Every string in a block definition's data, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class _Exhausted(Exception):
    """The axis used up its probes (:data:`MAX_PROBE_NODES`): report what was found so far."""


def _window(node: Node, rank: int, axis: int) -> tuple[int, int, int] | None:
    """``(input size, output size, stride)`` along ``axis`` when ``node`` is a strided window there."""
    return _strided(node.layer, node.result, node.input_shapes, rank, axis)


def _strided(
    layer: Layer, result: LayerResult | None, input_shapes: list[Shape] | None, rank: int, axis: int
) -> tuple[int, int, int] | None:
    if result is None or not input_shapes or axis < 1:
        return None
    rule = layer.receptive()
    if not isinstance(rule, tuple):
        return None
    shape_in, shape_out, stride = input_shapes[0], result.shape, rule[1]
    if len(shape_in) != rank or shape_out is None or len(shape_out) != rank or len(stride) != rank - 1:
        return None
    step = stride[axis - 1]
    return (shape_in[axis], shape_out[axis], step) if isinstance(step, int) and step > 1 else None


def _windows(compiled: CompiledSpec | _Probed, rank: int, axis: int) -> Iterator[tuple[str, tuple[int, int, int]]]:
    """``(node path, window)`` of each strided window along ``axis``, in node order."""
    if isinstance(compiled, _Probed):
        nodes: Iterator[tuple[Node, LayerResult | None, list[Shape] | None]] = (
            (node, result, [t.layer_shape() for t in read])
            for node, (read, result) in zip(compiled.nodes, compiled.found, strict=True)
        )
    else:
        nodes = ((node, node.result, node.input_shapes) for node in compiled.nodes)
    for node, result, input_shapes in nodes:
        window = _strided(node.layer, result, input_shapes, rank, axis)
        if window is not None:
            yield node.path, window


def _rounding(compiled: CompiledSpec | _Probed, axis: int) -> str | None:
    """The first strided window that rounds (``out * stride != in``), described; None: all exact."""
    for path, window in _windows(compiled, len(compiled.input_shape), axis):
        if window[1] * window[2] != window[0]:
            return f"'{path}' maps {window[0]} to {window[1]} at stride {window[2]}"
    return None


def _stride_multiple(compiled: CompiledSpec, axis: int) -> int | None:
    """lcm over strided windows of stride x the cumulative stride before them (1: nothing strided);
    None where upsampling makes a period fractional."""
    rank = len(compiled.input_shape)
    jumps: dict[str, Fraction] = {}
    multiple = 1
    for node in compiled.nodes:
        before = max((jumps.get(s, Fraction(1)) for s in node.sources), default=Fraction(1))
        rule = node.layer.receptive() if node.result else None
        step: Fraction | int = 1
        if isinstance(rule, tuple) and 1 <= axis <= len(rule[1]):
            step = rule[1][axis - 1]
        window = _window(node, rank, axis)
        if window is not None:
            period = before * window[2]
            if period.denominator != 1:
                return None
            multiple = math.lcm(multiple, int(period))
        after = before * step
        jumps[node.path] = after
        for index in range(len(node.result.parts or ()) if node.result else 0):
            jumps[f"{node.path}.{index}"] = after
    return multiple
