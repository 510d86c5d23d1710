"""Graphviz diagrams of a compiled spec (the ``graphviz`` package builds the DOT; no torch import).

Every layer is a box showing its id, type, key arguments and output shape, coloured by
its layer family; every edge carries the shape of the tensor it moves; block instances
and named groups are labelled clusters. Modules nested deeper than ``depth`` collapse
into one box with their input and output shapes and parameter total. A partial result
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

from archspec.backends.summary import key_args, shape_text
from archspec.backends.values import dtype_suffix, io_line, node_text, type_text
from archspec.compiler.ir import INPUT, CompiledSpec, Module, Node
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

    def __init__(self, compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB") -> None:
        if rankdir not in ("TB", "LR", "BT", "RL"):
            raise UsageError(
                [Diagnostic("usage", f"unknown rankdir '{rankdir}'", "<command line>", hint="use TB or LR")]
            )
        if depth is not None and depth < 0:
            raise UsageError([Diagnostic("usage", f"--depth must be >= 0, got {depth}", "<command line>")])
        self.compiled = compiled
        self.depth = depth
        self.rankdir = rankdir
        self.input_boxes = self._input_boxes()
        self.drawn = _Drawn(dict(self.input_boxes))
        first = next(iter(compiled.inputs), INPUT)
        self._walk(compiled.root, {INPUT: first, **{name: name for name in compiled.inputs}}, 0, None)

    def _input_boxes(self) -> dict[str, str]:
        """Input value path -> its box: ``_input`` for the one unnamed input, else ``_input_<name>``."""
        names = list(self.compiled.inputs) or [INPUT]
        if names == [INPUT]:
            return {INPUT: INPUT_ID}
        return {name: f"{INPUT_ID}_{name}" for name in names}

    # -- resolving values through the module tree -------------------------------------------
    def _walk(self, module: Module, input_values: dict[str, str], depth: int, collapsed: str | None) -> None:
        """Resolve every local name in ``module`` (children come in definition order)."""
        children = {child.name: child for child in module.children}

        def resolve(local: str) -> str | None:
            if local in input_values:
                return input_values[local]
            base, dot, part = local.partition(".")
            child = children.get(base if dot else local)
            if child is None:
                return None
            if isinstance(child, Module):
                return self.drawn.module_output.get(child.path)
            return f"{child.path}.{part}" if dot else child.path

        for child in module.children:
            if isinstance(child, Module):
                child_inputs = {
                    name: resolve(outer) or "" for name, outer in zip(child.input_names, child.inputs, strict=True)
                }
                child_depth = depth + 1
                inner = collapsed
                if inner is None and self.depth is not None and child_depth > self.depth:
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
        """``8x12``; ``[1] 8x12`` for part 1 of a several-output node; the dtype when not float32."""
        found = self.type_of(value)
        text = edge_text(self.shape_of(value), found.dtype if found else None)
        part = self.compiled.part_of(value) if value else None
        return f"[{part[1]}] {text}" if part else text

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
        self._edges(graph)
        self._outputs(graph)
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

    def _outputs(self, graph: graphviz.Digraph) -> None:
        """One box per output (``_output`` for a single one), each with the edge from its node."""
        results = self.drawn.results or [self.drawn.module_output.get("", "")]
        names = self.compiled.root.result_names
        if len(results) == 1 and names is None:
            boxes = [(OUTPUT_ID, "output", results[0])]
        else:
            keys = names or [str(i) for i in range(len(results))]
            label = "" if names else "output "
            boxes = [(f"{OUTPUT_ID}_{k}", f"{label}{k}", v) for k, v in zip(keys, results, strict=False)]
        for box, label, value in boxes:
            graph.node(box, _lines(label, type_text(self.type_of(value))), shape="house", fillcolor="#ffffff")
            source = self.box(value)
            if source:
                graph.edge(source, box, label=self.edge_label(value))

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

    def _module(self, graph: graphviz.Digraph, module: Module, depth: int) -> None:
        for child in module.children:
            if isinstance(child, Node):
                self._node(graph, child)
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

    def _collapsed(self, graph: graphviz.Digraph, module: Module) -> None:
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

    def _edges(self, graph: graphviz.Digraph) -> None:
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
                    if (value, target) in seen:  # type: ignore[comparison-overlap]
                        continue
                    seen.add((value, target))  # type: ignore[arg-type]
                shape = self.shape_of(value)
                if shape is None and value not in self.input_boxes:
                    graph.edge(source, target, label="?", style="dashed", color=ERROR_LINE)
                else:
                    role = f"{roles[index]}: " if roles and not collapsed else ""
                    graph.edge(source, target, label=role + self.edge_label(value))


@contextmanager
def _cluster(graph: graphviz.Digraph, module: Module) -> Iterator[graphviz.Digraph]:
    with graph.subgraph(name="cluster_" + module.path) as sub:
        label = module.path if module.kind != "block" else f"{module.path}: {_module_kind(module)}"
        if module.kind == "block":
            sub.attr(style="rounded,filled", fillcolor=BLOCK_FILL, color="#8a99ad")
        else:
            sub.attr(style="rounded,dashed", color="#999999")
        sub.attr(label=_lines(label), labeljust="l", fontsize="11", fontname="Helvetica", margin="6")
        yield sub


def _module_kind(module: Module) -> str:
    if module.kind != "block":
        return "group"
    args = ", ".join(f"{k}={_compact(v)}" for k, v in module.block_args.items())
    return f"{module.block}({args})"


def _compact(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value)


def _dot_id(name: str) -> str:
    return name or "archspec"


def diagram(compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB") -> graphviz.Digraph:
    """The ``graphviz.Digraph`` of a compiled (possibly partial) spec."""
    return Diagram(compiled, depth=depth, rankdir=rankdir).build()


def dot_source(compiled: CompiledSpec, *, depth: int | None = None, rankdir: str = "TB") -> str:
    """The diagram as DOT text."""
    return diagram(compiled, depth=depth, rankdir=rankdir).source


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
