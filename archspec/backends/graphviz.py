"""Graphviz diagrams of a compiled spec (the ``graphviz`` package builds the DOT; no torch import).

Every layer is a box showing its id, type, key arguments and output shape, coloured by
its layer family; block instances and named groups are labelled clusters. Edges carry
only what the boxes do not already say: the part of a several-output node (``[1]``), an
attention input's role (``query``), ``?`` after a failed node; the shape a tensor has is
in the box that makes it. Repeated blocks fold into one box by default (``layer1:
BasicBlock x2``, with the shapes at the fold's input and output; :mod:`.folds`);
``expand=True`` draws every copy. With ``depth``, modules nested deeper collapse into
one box with their input and output shapes and parameter total (and nothing folds).
An encoder-decoder with skips across is drawn as a U (:mod:`.ushape`). A partial result
(``compile_spec(..., allow_errors=True)``) draws its failing nodes in red with their
error messages, and the nodes after them dashed.

Each model input is its own box (named, with its dtype when not float32), and so is each
output (named for a dict, numbered for a tuple). An edge from one part of a node with
several outputs (``chunk.1``) leaves that node, labelled with the part's index and shape.
Held tensors (``Parameter``, ``Buffer``) are cylinders: they read no input.

Edges are resolved from each node's *local* input names through the module tree rather
than from the global ``sources``, so that an edge from a failed node (whose value has no
path) is still drawn.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.backends.folds import Fold, find_folds
from archspec.backends.summary import key_args, shape_text
from archspec.backends.ushape import ULayout, spatial_size, u_layout
from archspec.backends.values import dtype_suffix, io_line, node_text, type_text
from archspec.compiler.ir import INPUT, CompiledSpec, Node, Subgraph
from archspec.errors import Diagnostic, UsageError
from archspec.layers.base import Shape, TensorType
from archspec.safetext import escape_controls

if TYPE_CHECKING:
    import graphviz

INPUT_ID, OUTPUT_ID, NOTE_ID = "_input", "_output", "_diagnostics"
"""Ids of the extra boxes; spec ids start with a letter, so no layer or module can take them.
Several inputs and outputs are ``_input_<name>`` and ``_output_<name>``."""
STORED_FILL = {True: "#e5d8bd", False: "#f2f2f2"}
"""Fill of held tensors: learned (``Parameter``) and fixed (``Buffer``)."""

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats, chosen by the output file's extension."""

FAMILY_COLORS = {
    "conv": "#80b1d3",
    "pool": "#b3de69",
    "norm": "#ffffb3",
    "activation": "#fdb462",
    "linear": "#bebada",
    "dropout": "#d9d9d9",
    "shape": "#fccde5",
    "merge": "#8dd3c7",
    "tensor": "#ccebc5",
    "recurrent": "#ffed6f",
    "attention": "#bc80bd",
    "other": "#ffffff",
}
"""Fill colour of each layer family (ColorBrewer Set3); layers of unknown families use ``other``."""

ERROR_FILL, ERROR_LINE = "#fb8072", "#c0001a"
MODULE_FILL = "#eceff4"
FOLD_FILL = "#dfe6f0"
BLOCK_FILL = "#f6f8fb"
INSTALL_HINT = (
    "install Graphviz: 'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) "
    "or see https://graphviz.org/download/; or {instead}"
)
WRAP = 48
"""Error messages in node labels wrap at this many characters."""


def dot_available() -> bool:
    """True when Graphviz's ``dot`` program is on the PATH."""
    return shutil.which("dot") is not None


def output_format(path: str) -> str:
    """The format named by an output file's extension; UsageError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "gv":
        return "dot"
    if suffix not in FORMATS:
        message = f"cannot tell the diagram format from '{path}'"
        raise UsageError(
            [
                Diagnostic(
                    "usage", message, "<command line>", hint="end the output file name in .svg, .png, .pdf or .dot"
                )
            ]
        )
    return suffix


def require_dot(fmt: str, instead: str = "write a .dot file instead") -> None:
    """UsageError (exit 2) with install instructions when ``fmt`` needs ``dot`` and it is missing."""
    if fmt != "dot" and not dot_available():
        message = f"Graphviz's 'dot' program is not installed (needed for .{fmt} output)"
        raise UsageError([Diagnostic("graphviz", message, "<command line>", hint=INSTALL_HINT.format(instead=instead))])


def edge_text(shape: Shape | None, dtype: str | None = None) -> str:
    """The compact form on edges: ``64x56x56``, ``5 int64``."""
    if shape is None:
        return "?"
    return ("x".join(map(str, shape)) if shape else "scalar") + dtype_suffix(dtype)


def _lines(*lines: str) -> str:
    """A DOT label from text lines (user text escaped, so backslashes stay backslashes)."""
    return "\\n".join(_escape(line) for line in lines if line)


def _escape(text: str) -> str:
    """Backslashes and quotes as DOT reads them (the graphviz package leaves ``\\"`` alone).

    Control characters are shown as escapes first: a NUL makes ``dot`` fail, and an ESC or
    a bidi override would garble the label.
    """
    return escape_controls(text).replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class _Drawn:
    """What the walk learns: who draws each value, and each drawn box's incoming values."""

    owner: dict[str, str] = field(default_factory=dict)
    """Leaf value path -> the id of the box that draws it (itself, or a collapsed module)."""
    sources: dict[Node, list[str | None]] = field(default_factory=dict)
    """Each leaf's input value paths, resolved from its local input names (None: unresolvable)."""
    module_input: dict[str, str] = field(default_factory=dict)
    module_output: dict[str, str] = field(default_factory=dict)
    results: list[str] = field(default_factory=list)
    """The root's output values, in order (several for ``output: [a, b]`` or a dict)."""


class Diagram:
    """Builds the ``graphviz.Digraph`` of one compiled spec."""

    def __init__(
        self, compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB", expand: bool = False
    ) -> None:
        if rankdir not in ("TB", "LR", "BT", "RL"):
            raise UsageError(
                [Diagnostic("usage", f"unknown rankdir '{rankdir}'", "<command line>", hint="use TB or LR")]
            )
        if depth is not None and depth < 0:
            raise UsageError([Diagnostic("usage", f"--depth must be >= 0, got {depth}", "<command line>")])
        self.compiled = compiled
        self.depth = depth
        self.rankdir = rankdir
        self.folds: dict[str, Fold] = {} if expand or depth is not None else find_folds(compiled.root)
        self.input_boxes = self._input_boxes()
        self.drawn = _Drawn(dict(self.input_boxes))
        first = next(iter(compiled.inputs), INPUT)
        self._walk(compiled.root, {INPUT: first, **{name: name for name in compiled.inputs}}, 0, None)
        self.layout = self._u_layout()

    def _input_boxes(self) -> dict[str, str]:
        """Input value path -> its box: ``_input`` for the one unnamed input, else ``_input_<name>``."""
        names = list(self.compiled.inputs) or [INPUT]
        if names == [INPUT]:
            return {INPUT: INPUT_ID}
        return {name: f"{INPUT_ID}_{name}" for name in names}

    # -- resolving values through the module tree -------------------------------------------
    def _walk(self, module: Subgraph, input_values: dict[str, str], depth: int, collapsed: str | None) -> None:
        """Resolve every local name in ``module`` (children come in definition order)."""
        children = {child.name: child for child in module.children}

        def resolve(local: str) -> str | None:
            if local in input_values:
                return input_values[local]
            base, dot, part = local.partition(".")
            child = children.get(base if dot else local)
            if child is None:
                return None
            if isinstance(child, Subgraph):
                return self.drawn.module_output.get(child.path)
            return f"{child.path}.{part}" if dot else child.path

        for child in module.children:
            if isinstance(child, Subgraph):
                child_inputs = {
                    name: resolve(outer) or "" for name, outer in zip(child.input_names, child.inputs, strict=True)
                }
                child_depth = depth + 1
                inner = collapsed
                if inner is None and child.path in self.folds:
                    inner = self.folds[child.path].box
                elif inner is None and self.depth is not None and child_depth > self.depth:
                    inner = child.path
                self.drawn.module_input[child.path] = next(iter(child_inputs.values()), "")
                self._walk(child, child_inputs, child_depth, inner)
            else:
                self.drawn.owner[child.path] = collapsed or child.path
                for index in range(len(child.result.parts or ()) if child.result else 0):
                    self.drawn.owner[f"{child.path}.{index}"] = collapsed or child.path
                self.drawn.sources[child] = [resolve(name) for name in child.inputs]
        output = resolve(module.output) if module.output else None
        self.drawn.module_output[module.path] = output or ""
        if module.kind == "root":
            self.drawn.results = [resolve(name) or "" for name in module.outputs if name]

    def box(self, value: str | None) -> str | None:
        """The id of the box that draws ``value``."""
        return self.drawn.owner.get(value) if value else None

    def shape_of(self, value: str | None) -> Shape | None:
        return self.compiled.values.get(value) if value else None

    def type_of(self, value: str | None) -> TensorType | None:
        return self.compiled.types.get(value) if value else None

    def edge_label(self, value: str | None) -> str:
        """``[1]`` for part 1 of a several-output node whose box is drawn; else nothing.

        The shape (and dtype) is already in the box the edge leaves: a layer shows its
        output, a collapsed or folded module its input and output, an input box its own.
        """
        part = self.compiled.part_of(value) if value else None
        return f"[{part[1]}]" if part and self.box(value) == part[0] else ""

    def box_value(self, box: str) -> str | None:
        """The value a box's outgoing edges carry: a layer's own, a collapsed module's output."""
        if self.drawn.owner.get(box) == box and box in self.compiled.by_path:
            return box
        for value, input_box in self.input_boxes.items():
            if input_box == box:
                return value
        fold = self.folds.get(box)
        module = fold.last.path if fold else box
        return self.drawn.module_output.get(module)

    def _u_layout(self) -> ULayout | None:
        """The U of an encoder-decoder (see :mod:`.ushape`); None for every other network."""
        order = dict.fromkeys(self.input_boxes.values())  # boxes in first-drawn order, each once
        for node in self.compiled.nodes:
            box = self.drawn.owner.get(node.path)
            if box is not None:
                order.setdefault(box)
        order.update(dict.fromkeys(box for box, _, _ in self._output_boxes()))
        sizes = {box: spatial_size(self.shape_of(self.box_value(box))) for box in order}
        edges = [(tail, head) for tail, head, _ in self._edge_list()]
        return u_layout(list(order), sizes, edges)

    # -- building the graph -----------------------------------------------------------------
    def build(self) -> graphviz.Digraph:
        try:
            import graphviz
        except ImportError:  # pragma: no cover - graphviz is a declared extra
            raise UsageError(
                [
                    Diagnostic(
                        "graphviz",
                        "the 'graphviz' Python package is not installed",
                        "<command line>",
                        hint="pip install 'archspec[diagram]'",
                    )
                ]
            ) from None
        c = self.compiled
        graph = graphviz.Digraph(name=_dot_id(c.name), strict=False)
        graph.attr(
            "graph",
            label=_lines(*self.title()),
            labelloc="t",
            fontsize="16",
            fontname="Helvetica",
            rankdir=self.rankdir,
            nodesep="0.25",
            ranksep="0.3",
            newrank="true",
        )
        graph.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.08,0.04")
        graph.attr("edge", fontname="Helvetica", fontsize="8", fontcolor="#555555", color="#555555", arrowsize="0.6")
        self._inputs(graph)
        self._module(graph, c.root, 0)
        self._outputs(graph)
        self._edges(graph)
        loose = self.loose_diagnostics()
        if loose:
            text = [f"{len(loose)} of {len(c.diagnostics)} error(s) not on a drawn node:"]
            for d in loose:
                text += textwrap.wrap(f"line {d.line}: {d.message}", 80)
            graph.node(NOTE_ID, _lines(*text), shape="note", fillcolor=ERROR_FILL, color=ERROR_LINE)
        return graph

    def _inputs(self, graph: graphviz.Digraph) -> None:
        """One box per model input: its name, shape, dtype and declared value range."""
        for value, box in self.input_boxes.items():
            found = self.compiled.inputs.get(value)
            bounds = f"values in [{found.low}, {found.high})" if found and found.low is not None else ""
            graph.node(box, _lines(value, type_text(found), bounds), shape="invhouse", fillcolor="#ffffff")

    def _output_boxes(self) -> list[tuple[str, str, str]]:
        """``(box id, label, value)`` per output: ``_output`` for a single one, else one per name or position."""
        results = self.drawn.results or [self.drawn.module_output.get("", "")]
        names = self.compiled.root.result_names
        if len(results) == 1 and names is None:
            return [(OUTPUT_ID, "output", results[0])]
        keys = names or [str(i) for i in range(len(results))]
        label = "" if names else "output "
        return [(f"{OUTPUT_ID}_{k}", f"{label}{k}", v) for k, v in zip(keys, results, strict=False)]

    def _outputs(self, graph: graphviz.Digraph) -> None:
        """One box per output (its edge is drawn with the others)."""
        for box, label, value in self._output_boxes():
            graph.node(box, _lines(label, type_text(self.type_of(value))), shape="house", fillcolor="#ffffff")

    def title(self) -> list[str]:
        c = self.compiled
        lines = [
            c.name,
            io_line(c),  # a failed output is ``?``
            f"{c.params_total:,} params  |  {c.macs:,} mult-adds  |  {c.flops:,} FLOPs",
        ]
        if c.diagnostics:
            lines.append(f"INVALID: {len(c.diagnostics)} error(s), drawn up to the failing node(s)")
        return lines

    def loose_diagnostics(self) -> list[Diagnostic]:
        """Diagnostics that belong to no drawn node (a bad reference, an unknown block...)."""
        attached = {id(node.error) for node in self.compiled.nodes if node.error is not None}
        return [d for d in self.compiled.diagnostics if id(d) not in attached]

    def _module(self, graph: graphviz.Digraph, module: Subgraph, depth: int) -> None:
        for child in module.children:
            if isinstance(child, Node):
                self._node(graph, child)
            elif child.path in self.folds:
                if self.folds[child.path].first is child:
                    self._fold(graph, self.folds[child.path])
            elif self.depth is not None and depth + 1 > self.depth:
                self._collapsed(graph, child)
            else:
                with _cluster(graph, child) as sub:
                    self._module(sub, child, depth + 1)

    def _node(self, graph: graphviz.Digraph, node: Node) -> None:
        head = f"{node.type} {key_args(node)}".strip()
        attrs: dict[str, str] = {"fillcolor": FAMILY_COLORS.get(node.layer.family, FAMILY_COLORS["other"])}
        if node.error is not None:
            message = node.error.message
            prefix = f"{node.type}: "
            message = message[len(prefix) :] if message.startswith(prefix) else message
            wrapped = textwrap.wrap(f"error (line {node.error.line}): {message}", WRAP)
            if node.error.hint:
                wrapped += textwrap.wrap(f"hint: {node.error.hint}", WRAP)
            label = _lines(node.path, head, *wrapped)
            attrs.update(fillcolor=ERROR_FILL, color=ERROR_LINE, penwidth="2", fontcolor="#000000")
        elif node.result is None:
            label = _lines(node.path, head, "(not inferred: an input failed)")
            attrs.update(style="rounded,dashed", fontcolor="#777777", color="#999999")
        else:
            label = _lines(node.path, head, node_text(self.compiled, node))
        if node.layer.stored and node.error is None:  # a tensor the module holds: no input, drawn as a store
            learned = bool(getattr(node.layer, "learned", False))
            attrs.update(shape="cylinder", style="filled", fillcolor=STORED_FILL[learned])
        if node.layer.doc:
            attrs["tooltip"] = _escape(node.layer.doc)
        graph.node(node.path, label, **attrs)

    def _collapsed(self, graph: graphviz.Digraph, module: Subgraph) -> None:
        leaves = list(module.leaves())
        params = sum(n.result.params for n in leaves if n.result)
        errors = [n for n in leaves if n.error is not None]
        what = _module_kind(module)
        input_shape = self.shape_of(self.drawn.module_input.get(module.path))
        output_shape = self.shape_of(self.drawn.module_output.get(module.path))
        lines = [
            module.path,
            f"{what} ({len(leaves)} layers)",
            f"{shape_text(input_shape)} -> {shape_text(output_shape)}",
            f"{params:,} params",
        ]
        attrs = {"shape": "box3d", "style": "filled", "fillcolor": MODULE_FILL, "margin": "0.15,0.1"}
        if errors:
            lines += textwrap.wrap(f"error in {errors[0].path}: {errors[0].error.message}", WRAP)  # type: ignore[union-attr]
            attrs.update(fillcolor=ERROR_FILL, color=ERROR_LINE, penwidth="2")
        graph.node(module.path, _lines(*lines), **attrs)

    def _fold(self, graph: graphviz.Digraph, fold: Fold) -> None:
        """A run of copies of one block as one box: the copies, the shapes in and out, the total parameters."""
        leaves = [leaf for member in fold.members for leaf in member.leaves()]
        params = sum(n.result.params for n in leaves if n.result)
        input_shape = self.shape_of(self.drawn.module_input.get(fold.first.path))
        output_shape = self.shape_of(self.drawn.module_output.get(fold.last.path))
        lines = [fold.title, f"{shape_text(input_shape)} -> {shape_text(output_shape)}", f"{params:,} params"]
        attrs = {"shape": "box3d", "style": "filled", "fillcolor": FOLD_FILL, "margin": "0.15,0.1"}
        attrs["tooltip"] = _escape(f"{len(fold.members)} copies of {fold.members[0].block}; --expand draws each one")
        errors = [n for n in leaves if n.error is not None]
        if errors:
            lines += textwrap.wrap(f"error in {errors[0].path}: {errors[0].error.message}", WRAP)  # type: ignore[union-attr]
            attrs.update(fillcolor=ERROR_FILL, color=ERROR_LINE, penwidth="2")
        graph.node(fold.box, _lines(*lines), **attrs)

    def _edges(self, graph: graphviz.Digraph) -> None:
        for tail, head, attrs in self._edge_list():
            self._edge(graph, tail, head, attrs)
        for a, b in self.layout.same_rank if self.layout else ():
            graph.body.append(f"\t{{rank=same; {_quoted(a)}; {_quoted(b)};}}\n")

    def _edge(self, graph: graphviz.Digraph, tail: str, head: str, attrs: dict[str, str]) -> None:
        """One edge; up the decoder of a U it is written reversed (``dir=back``) so it ranks upwards."""
        attrs = {k: v for k, v in attrs.items() if v}
        if self.layout and self.layout.reversed(tail, head):
            graph.edge(head, tail, dir="back", **attrs)
        else:
            graph.edge(tail, head, **attrs)

    def _edge_list(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every edge between drawn boxes, as ``(tail, head, attributes)``, outputs last."""
        edges: list[tuple[str, str, dict[str, str]]] = []
        seen: set[tuple[str, str]] = set()
        for node in self.compiled.nodes:
            target = self.drawn.owner.get(node.path)
            if target is None:
                continue
            collapsed = target != node.path
            roles = node.layer.roles if len(node.layer.roles) > 1 else ()
            for index, value in enumerate(self.drawn.sources.get(node, [])):
                source = self.box(value)
                if source is None or (collapsed and source == target):
                    continue
                if collapsed:  # a collapsed module: one edge per distinct outside value
                    if (value, target) in seen:
                        continue
                    seen.add((value, target))  # type: ignore[arg-type]
                shape = self.shape_of(value)
                if shape is None and value not in self.input_boxes:
                    edges.append((source, target, {"label": "?", "style": "dashed", "color": ERROR_LINE}))
                else:
                    role = roles[index] if roles and not collapsed else ""
                    edges.append((source, target, {"label": " ".join(filter(None, (role, self.edge_label(value))))}))
        for box, _, value in self._output_boxes():
            source = self.box(value)
            if source:
                edges.append((source, box, {"label": self.edge_label(value)}))
        return edges


@contextmanager
def _cluster(graph: graphviz.Digraph, module: Subgraph) -> Iterator[graphviz.Digraph]:
    with graph.subgraph(name="cluster_" + module.path) as sub:
        label = module.path if module.kind != "block" else f"{module.path}: {_module_kind(module)}"
        if module.kind == "block":
            sub.attr(style="rounded,filled", fillcolor=BLOCK_FILL, color="#8a99ad")
        else:
            sub.attr(style="rounded,dashed", color="#999999")
        sub.attr(label=_lines(label), labeljust="l", fontsize="11", fontname="Helvetica", margin="6")
        yield sub


def _module_kind(module: Subgraph) -> str:
    if module.kind != "block":
        return "group"
    args = ", ".join(f"{k}={_compact(v)}" for k, v in module.block_args.items())
    return f"{module.block}({args})"


def _compact(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value)


def _quoted(name: str) -> str:
    return '"' + _escape(name) + '"'


def _dot_id(name: str) -> str:
    return name or "archspec"


def diagram(
    compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB", expand: bool = False
) -> graphviz.Digraph:
    """The ``graphviz.Digraph`` of a compiled (possibly partial) spec."""
    return Diagram(compiled, depth=depth, rankdir=rankdir, expand=expand).build()


def dot_source(compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB", expand: bool = False) -> str:
    """The diagram as DOT text."""
    return diagram(compiled, depth=depth, rankdir=rankdir, expand=expand).source


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    """The diagram in ``fmt`` (``svg``, ``png``, ``pdf`` or ``dot``); runs ``dot`` except for ``dot``."""
    if fmt == "dot":
        return graph.source.encode("utf-8")
    require_dot(fmt)
    import graphviz

    try:
        return graph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise UsageError(
            [
                Diagnostic(
                    "graphviz",
                    "Graphviz's 'dot' program was not found",
                    "<command line>",
                    hint=INSTALL_HINT.format(instead="write a .dot file instead"),
                )
            ]
        ) from None
    except (graphviz.CalledProcessError, subprocess.CalledProcessError) as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        message = f"Graphviz's 'dot' failed (exit {exc.returncode})" + (f": {detail[-1]}" if detail else "")
        raise UsageError([Diagnostic("graphviz", message, "<command line>")]) from None
