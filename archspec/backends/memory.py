"""Training and inference memory of a compiled spec, without torch (``archspec summary --memory``).

One pass over the compiled graph, in execution order, follows the storage behind every value:

* a layer whose output shares its input's storage (a view, an ``inplace`` op, an identity:
  :meth:`~archspec.layers.base.Layer.output_alias`) adds no storage; any other output is a new one;
* each layer's :meth:`~archspec.layers.base.Layer.saved` names what its backward keeps: one of its
  inputs, its output, or a tensor it makes (a dropout mask, a norm's statistics). Those resolve to
  storages, and every storage counts once however many layers save it (a conv's output that the
  next ReLU and a view of it keep too). Parameters and buffers that calls save count as
  parameters, not here. That total is what ``torch.autograd.graph.saved_tensors_hooks`` sees in a
  train-mode forward, deduplicated by storage (``tests/test_memory.py`` checks it on every shipped spec);
* autograd records a call only when an operand requires grad, so the pass also tracks which values
  depend on a trainable parameter: a parameter-free layer before the first conv keeps nothing.

The **training peak** is an estimate for one step (see docs/analysis.md, "Training memory"):
parameters + gradients + optimizer state + saved activations + the largest gradient pair in
backward (one node's output and input gradients at once). The **inference peak** is the largest
set of outputs alive at once in a forward under ``no_grad`` in eval mode (each value freed after its
last use, the input held throughout), plus the parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from archspec.backends import pysource
from archspec.compiler.ir import CompiledSpec, Node
from archspec.layers.base import DTYPE_BYTES, Layer, Saved, Saving, TensorType
from archspec.layers.layout import Strides, contiguous, follow
from archspec.safetext import escape_controls

OPTIMIZERS: dict[str, tuple[int, str]] = {
    "sgd": (0, "torch.optim.SGD(momentum=0): no state"),
    "sgd-momentum": (1, "SGD(momentum>0): momentum_buffer"),
    "adam": (2, "Adam: exp_avg, exp_avg_sq"),
    "adamw": (2, "AdamW: exp_avg, exp_avg_sq"),
    "adam-amsgrad": (3, "Adam(amsgrad=True): exp_avg, exp_avg_sq, max_exp_avg_sq"),
    "adamax": (2, "Adamax: exp_avg, exp_inf"),
    "nadam": (2, "NAdam: exp_avg, exp_avg_sq"),
    "radam": (2, "RAdam: exp_avg, exp_avg_sq"),
    "adagrad": (1, "Adagrad: sum"),
    "adadelta": (2, "Adadelta: square_avg, acc_delta"),
    "rmsprop": (1, "RMSprop: square_avg"),
    "rmsprop-momentum": (2, "RMSprop(momentum>0): square_avg, momentum_buffer"),
}
"""Per-parameter tensors of each optimizer's state (``optimizer.state[p]``), each the parameter's
shape and dtype; the 0-d ``step`` counters (a few bytes per parameter tensor) are left out."""

DTYPE_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
"""``--dtype`` spellings."""


@dataclass
class NodeMemory:
    """One node's share, in bytes for the whole batch."""

    path: str
    type: str
    params: int = 0
    grads: int = 0
    optimizer: int = 0
    saved: int = 0
    """Storages this node is the first to save (so the column sums to the total)."""
    output: int = 0
    """Its output's new storage; 0 when the output is a view of, or written into, its input."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MemoryReport:
    """Memory of one training step and one inference forward, in bytes."""

    batch: int
    dtype: str
    amp: bool
    optimizer: str
    device: str
    nodes: list[NodeMemory] = field(default_factory=list)
    input: int = 0
    transient: int = 0
    """The largest output + input gradient pair of one node, alive together in backward."""
    inference_activations: int = 0
    """The largest set of values alive at once in an eval-mode forward under ``no_grad``."""

    @property
    def params(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def grads(self) -> int:
        return sum(n.grads for n in self.nodes)

    @property
    def optimizer_state(self) -> int:
        return sum(n.optimizer for n in self.nodes)

    @property
    def saved(self) -> int:
        """Bytes of the storages a training forward keeps for backward (the input included)."""
        return sum(n.saved for n in self.nodes)

    @property
    def train_peak(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.saved + self.transient

    @property
    def inference_peak(self) -> int:
        return self.params + self.inference_activations

    def totals(self) -> dict[str, int]:
        return {
            "params": self.params,
            "grads": self.grads,
            "optimizer_state": self.optimizer_state,
            "saved_activations": self.saved,
            "backward_transient": self.transient,
            "train_peak": self.train_peak,
            "inference_activations": self.inference_activations,
            "inference_peak": self.inference_peak,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch,
            "dtype": self.dtype,
            "amp": self.amp,
            "optimizer": self.optimizer,
            "optimizer_states_per_param": OPTIMIZERS[self.optimizer][0],
            "device": self.device,
            "input": self.input,
            **self.totals(),
            "nodes": [n.to_json() for n in self.nodes],
        }


def memory_report(
    compiled: CompiledSpec,
    *,
    batch_size: int = 1,
    dtype: str = "float32",
    amp: bool = False,
    optimizer: str = "adam",
    device: str = "cuda",
) -> MemoryReport:
    """Parameters, gradients, optimizer state, saved activations and peaks for ``batch_size`` samples.

    ``dtype`` is the model's (``model.to(dtype)``), or with ``amp`` the autocast dtype while the
    parameters stay float32. ``device`` picks the kernels (``cpu`` or ``cuda``) where they differ
    in what they keep (a dropout mask is float on CPU, bool on CUDA).
    """
    dtype = DTYPE_NAMES.get(dtype, dtype)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{optimizer}': expected one of {', '.join(OPTIMIZERS)}")
    if dtype not in ("float32", "bfloat16", "float16", "float64") or (amp and dtype in ("float32", "float64")):
        raise ValueError(f"dtype '{dtype}': expected fp32, bf16 or fp16 (with amp: bf16 or fp16)")
    if device not in ("cpu", "cuda") or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"expected device 'cpu' or 'cuda' and a batch_size >= 1, got {device!r}, {batch_size!r}")
    report = MemoryReport(batch_size, dtype, amp, optimizer, device)
    trace = _Trace(compiled, report, training=True)
    trace.run()
    report.transient = trace.transient
    report.input = trace.input_bytes
    report.inference_activations = _Trace(compiled, MemoryReport(batch_size, dtype, amp, optimizer, device)).peak()
    return report


def _in_place_sums(compiled: CompiledSpec) -> dict[str, int]:
    """The ``add`` nodes the generated forward computes in place (``out += identity``), by path: the
    operand that takes the sum (:func:`~archspec.backends.pysource.in_place_operand`)."""
    found: dict[str, int] = {}
    for module in compiled.root.modules():
        if module.is_chain:
            continue
        children = pysource.live_children(module)
        uses = pysource.value_uses(module, children)
        for child in children:
            if isinstance(child, Node) and child.layer.in_place_sum:
                index = pysource.in_place_operand(module, child, uses)
                if index is not None:
                    found[child.path] = index
    return found


class _Trace:
    """The storage behind each value, and what each node saves, in one walk over the nodes."""

    def __init__(self, compiled: CompiledSpec, report: MemoryReport, *, training: bool = False) -> None:
        self.compiled, self.report, self.training = compiled, report, training
        self.root: dict[str, str] = {}
        """value path -> its storage's name (the value that made it)."""
        self.size: dict[str, int] = {}
        """storage -> bytes; parameters and buffers are absent (never counted as activations)."""
        self.grad: dict[str, bool] = {}
        self.types: dict[str, TensorType] = {}
        self.strides: dict[str, Strides] = {}
        self.in_place = _in_place_sums(compiled)
        self.casts: dict[int, str] = {}
        self.kept: set[str] = set()
        self.transient = 0
        self.input_bytes = 0
        for name, value in compiled.inputs.items():
            self._value(name, self._cast(value), name, grad=False)
            self.input_bytes += self.size[name]
        if "input" not in self.root and compiled.inputs:
            self.root["input"] = self.root[next(iter(compiled.inputs))]

    def _cast(self, value: TensorType) -> TensorType:
        """A float value at the model's dtype (with AMP, parameters and inputs stay float32)."""
        if value.kind != "float" or self.report.amp:
            return value
        return value._replace(dtype=self.report.dtype)

    def bytes(self, value: TensorType) -> int:
        count = math.prod(value.shape) * DTYPE_BYTES[value.dtype]
        return count * self.report.batch if value.batched else count

    def full(self, value: TensorType) -> tuple[int, ...]:
        return (self.report.batch, *value.shape) if value.batched else value.shape

    def _value(self, path: str, value: TensorType, root: str | None, *, grad: bool) -> None:
        self.types[path] = value
        self.strides.setdefault(path, contiguous(self.full(value)))
        self.grad[path] = grad and value.kind == "float"
        if root is None or root == path:
            self.root[path] = path
            self.size[path] = self.bytes(value)
        else:
            self.root[path] = self.root[root]

    def outputs(self, node: Node, inputs: list[TensorType] | None = None) -> list[tuple[str, TensorType]]:
        """The node's values and types; under autocast, a float output takes the dtype the call
        computes in (its cast, or its inputs' promotion)."""
        assert node.result is not None
        paths = (
            [node.path] if node.result.parts is None else [f"{node.path}.{i}" for i in range(len(node.result.parts))]
        )
        types = [self._cast(self.compiled.types[p]) for p in paths]
        if self.report.amp and inputs is not None and not node.layer.stored:
            dtype = self._amp_dtype(node, inputs)
            types = [t._replace(dtype=dtype) if t.kind == "float" and dtype else t for t in types]
        return list(zip(paths, types, strict=True))

    def _amp_dtype(self, node: Node, inputs: list[TensorType]) -> str | None:
        if self.casts:
            return next(iter(self.casts.values()))
        floats = [t for t in inputs if t.kind == "float"]
        if not floats:
            return None
        try:
            return node.layer.output_dtype(inputs)
        except Exception:  # a layer that insists on float32 inputs (recurrent): its own dtype
            return None

    def _autocast(self, node: Node, inputs: list[TensorType]) -> dict[int, str]:
        """Under ``--amp``, the inputs autocast converts, by position, to the dtype it converts them to."""
        policy = node.layer.autocast if self.report.amp else "keep"
        if policy == "keep" or (policy == "float32" and self.report.device != "cuda"):
            return {}
        target = self.report.dtype if policy == "lower" else "float32"
        return {i: target for i, t in enumerate(inputs) if t.kind == "float" and t.dtype != target}

    def run(self) -> None:
        for node in self.compiled.nodes:
            self.step(node)

    def step(self, node: Node) -> NodeMemory:
        assert node.result is not None, "memory needs an error-free compiled spec"
        report = self.report
        entry = NodeMemory(node.path, node.type)
        report.nodes.append(entry)
        trainable = node.result.trainable
        param_bytes = DTYPE_BYTES["float32" if report.amp else report.dtype]
        entry.params = node.result.params * param_bytes
        entry.grads = trainable * param_bytes
        entry.optimizer = trainable * param_bytes * OPTIMIZERS[report.optimizer][0]
        if node.layer.stored:
            for path, value in self.outputs(node):
                self.types[path] = value
                self.strides[path] = contiguous(self.full(value))
                self.root[path] = f"param:{path}"
                self.grad[path] = trainable > 0
            return entry
        if node.path in self.compiled.unreachable:
            return entry  # the generated forward never computes it
        inputs = [self.types[s] for s in node.sources]
        grads = tuple(self.grad[s] for s in node.sources)
        strides = [self.strides[s] for s in node.sources]
        self.casts = self._autocast(node, inputs)
        inputs = [t._replace(dtype=self.casts.get(i, t.dtype)) for i, t in enumerate(inputs)]
        outputs = self.outputs(node, inputs)
        alias = self._layout(node, inputs, strides, outputs)
        records = trainable > 0 or any(grads)
        for path, value in outputs:
            self._value(path, value, None if alias is None else node.sources[alias], grad=records)
            if alias is None:
                entry.output += self.size[path]
        if self.training:
            lower = report.dtype if report.amp and node.layer.autocast == "lower" else None
            call = Saving(
                inputs, outputs[0][1], grads, trainable > 0, report.device, report.batch, lower, tuple(strides)
            )
            entry.saved = sum(self._keep(node, saved, index) for index, saved in enumerate(node.layer.saved(call)))
            if records:
                pair = self.bytes(outputs[0][1]) + sum(self.bytes(t) for t, g in zip(inputs, grads, strict=True) if g)
                self.transient = max(self.transient, pair)
        return entry

    def _layout(
        self, node: Node, inputs: list[TensorType], strides: list[Strides], outputs: list[tuple[str, TensorType]]
    ) -> int | None:
        """The input whose storage the output shares (None: a new one), and every output's strides."""
        layer, shapes = node.layer, [self.full(t) for t in inputs]
        alias = self.in_place.get(node.path, layer.output_alias(inputs, training=self.training))
        full = [self.full(value) for _, value in outputs]
        found = None if alias is None else layer.view_strides(shapes, strides, full)
        if alias is not None and found is None:
            alias = None  # torch copies: a reshape no view can express
        if found is None and layer.keeps_layout and not self.in_place.get(node.path):
            found = [follow(full[0], list(zip(shapes, strides, strict=True)))] * len(full)
        for (path, _), layout in zip(outputs, found or [contiguous(f) for f in full], strict=True):
            self.strides[path] = layout
        return alias

    def _keep(self, node: Node, saved: Saved, index: int) -> int:
        """Bytes of a saved tensor's storage the first time it is kept; 0 after, or for a parameter."""
        if saved.source == "input" and saved.slot in self.casts:
            return self.bytes(self.types[node.sources[saved.slot]]._replace(dtype=self.casts[saved.slot]))
        if saved.source == "new":
            value = TensorType((saved.elements,), saved.dtype or self.types[node.sources[0]].dtype, saved.batched)
            return self.bytes(value)
        path = node.sources[saved.slot] if saved.source == "input" else self.outputs(node)[saved.slot][0]
        root = self.root[path]
        if root in self.kept or root not in self.size:
            return 0
        self.kept.add(root)
        return self.size[root]

    def peak(self) -> int:
        """The most bytes alive at once in a ``no_grad`` forward: each storage lives from the node that
        makes it to the last node reading a value on it (the model's outputs and inputs to the end)."""
        nodes = [n for n in self.compiled.nodes if n.result is not None]
        last: dict[str, int] = {}
        order: list[list[str]] = []
        for step, node in enumerate(nodes):
            self.step(node)
            order.append([self.root[p] for p, _ in self.outputs(node) if self.root[p] == p])
            for source in node.sources:
                last[self.root[source]] = step
        kept = {self.root[v] for v in self.compiled.root.result_values or [self.compiled.root.output_value]}
        kept |= {self.root[name] for name in self.compiled.inputs}
        alive = {r for r in kept if r in self.compiled.inputs}
        peak = sum(self.size.get(r, 0) for r in alive)
        for step, made in enumerate(order):
            alive |= {r for r in made if r in self.size}
            peak = max(peak, sum(self.size[r] for r in alive))
            alive = {r for r in alive if r in kept or last.get(r, -1) > step}
        return peak


# -- outputs ---------------------------------------------------------------------------------

HEADERS = ("id", "type", "params", "grads", "optimizer", "saved", "output")


def _rows(report: MemoryReport) -> list[tuple[str, ...]]:
    from archspec.backends.summary import human_bytes

    return [
        (
            escape_controls(n.path),
            escape_controls(n.type),
            *(human_bytes(v) if v else "-" for v in (n.params, n.grads, n.optimizer, n.saved, n.output)),
        )
        for n in report.nodes
    ]


def memory_totals(report: MemoryReport) -> list[str]:
    """The totals lines: training step, then inference."""
    from archspec.backends.summary import human_bytes

    t = report.totals()
    dtype = f"autocast {report.dtype}, float32 parameters" if report.amp else report.dtype
    states = OPTIMIZERS[report.optimizer][0]
    return [
        f"batch {report.batch}, {dtype}, optimizer {report.optimizer} ({states} state(s) per parameter), "
        f"{report.device} kernels",
        f"parameters: {human_bytes(t['params'])}, gradients: {human_bytes(t['grads'])}, "
        f"optimizer state: {human_bytes(t['optimizer_state'])}",
        f"saved for backward: {human_bytes(t['saved_activations'])} (each storage once; the input "
        f"({human_bytes(report.input)}) too where a layer keeps it)",
        f"training step peak: {human_bytes(t['train_peak'])} (all of the above + the largest gradient pair, "
        f"{human_bytes(t['backward_transient'])}: an estimate, see docs/analysis.md)",
        f"inference peak: {human_bytes(t['inference_peak'])} (parameters + {human_bytes(t['inference_activations'])} "
        "of live activations, eval mode under no_grad)",
    ]


def memory_text(compiled: CompiledSpec, report: MemoryReport) -> str:
    """A fixed-width table, one row per node, then the totals."""
    rows = _rows(report)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    rule = "-" * len(line(HEADERS))
    out = [f"{escape_controls(compiled.name)}: training and inference memory", rule, line(HEADERS), rule]
    out += [line(r) for r in rows]
    return "\n".join([*out, rule, *memory_totals(report)]) + "\n"


def memory_markdown(compiled: CompiledSpec, report: MemoryReport) -> str:
    """A GitHub-flavoured Markdown table, then the totals as a list."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|---|---|--:|--:|--:|--:|--:|"]
    for row in _rows(report):
        cells = (f"`{row[0]}`", *row[1:])
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join([*lines, "", *(f"- {t}" for t in memory_totals(report))]) + "\n"


def memory_data(compiled: CompiledSpec, report: MemoryReport) -> dict[str, Any]:
    """The report as plain data (bytes), with the spec's name."""
    return {"name": compiled.name, **report.to_json()}


def call_saved(
    layer: Layer, inputs: list[TensorType], *, grads: tuple[bool, ...], batch: int, device: str = "cpu"
) -> int:
    """Bytes one call of ``layer`` keeps for backward, each input being its own contiguous tensor:
    the unit the layer contract tests check against torch (``tests/test_memory_contract.py``)."""
    from archspec.compiler.elaborate import infer_types

    result, typed = infer_types(layer, inputs)
    outputs = [typed] if isinstance(typed, TensorType) else list(typed)
    full = [(batch, *t.shape) if t.batched else t.shape for t in inputs]
    strides = [contiguous(shape) for shape in full]
    alias = layer.output_alias(inputs, training=True)
    out_full = [(batch, *t.shape) if t.batched else t.shape for t in outputs]
    if alias is not None and layer.view_strides(full, strides, out_full) is None:
        alias = None
    call = Saving(inputs, outputs[0], grads, result.trainable > 0, device, batch, None, tuple(strides))

    def size(value: TensorType) -> int:
        return math.prod(value.shape) * DTYPE_BYTES[value.dtype] * (batch if value.batched else 1)

    kept: dict[object, int] = {}
    for saved in layer.saved(call):
        if saved.source == "new":
            value = TensorType((saved.elements,), saved.dtype or inputs[0].dtype, saved.batched)
            kept[object()] = size(value)
        elif saved.source == "input" or alias is not None:
            slot = saved.slot if saved.source == "input" else alias
            kept[("input", slot)] = size(inputs[slot])  # type: ignore[index]
        else:
            kept[("output", saved.slot)] = size(outputs[saved.slot])
    return sum(kept.values())
