"""The elaboration pass: bind parameters, expand blocks and repeats, infer shapes.

Expansion and inference walk the spec together, node by node, because a block
may choose its structure from its input (``in_channels``: BasicBlock adds its
projection only when the channels change) -- the way an HDL elaborates a design.
Each node's output shape is known before the next node is expanded.

Errors do not stop the walk: a failed node's output is unknown, nodes that
depend on it are skipped silently, and every independent error is reported.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from pydantic import ValidationError

from archspec.compiler.ir import INPUT, Module, Node
from archspec.errors import Diagnostic, LayerError
from archspec.layers.base import Layer, LayerResult, Shape
from archspec.layers.registry import layer_types
from archspec.spec.expressions import ExpressionError, substitute
from archspec.spec.models import BlockUse, node_kind
from archspec.spec.source import Path_, Source
from archspec.spec.suggest import did_you_mean
from archspec.spec.validate import pydantic_diagnostics

MAX_LAYERS = 1_000_000
MAX_TENSOR_ELEMENTS = 2**63 - 1
MAX_BLOCK_DEPTH = 32
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_IDS = frozenset(
    {
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
        "input",
    }
)
"""Names torch's ``nn.Module`` already uses (``add_module`` refuses them), plus ``input``."""

_CONTROL_KEYS = {"repeat", "when", "inputs", "id"}


@dataclass(frozen=True)
class Ref:
    """A value as seen from one scope: its sibling name there, and its global value path."""

    local: str
    value: str | None
    """None when the producing node failed: dependents are skipped without new errors."""


FAILED = Ref("<failed>", None)


@dataclass
class Scope:
    """Where nodes are being added: a module, the names visible there, the variables."""

    module: Module
    refs: dict[str, Ref]
    last: Ref
    vars: dict[str, Any]
    blocks: tuple[str, ...] = ()
    later_ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    """Attribute names already taken in ``module`` (shared by inline scopes of the same module)."""

    def define(self, name: str | None, ref: Ref) -> None:
        if name is not None:
            self.refs[name] = ref
        self.last = ref


class _Skip(Exception):
    """Abandon the current node; its diagnostic (if any) is already recorded."""


class Elaborator:
    def __init__(
        self, source: Source, blocks: dict[str, Any], params: dict[str, Any], input_shape: Shape, *, skip: set[Path_]
    ) -> None:
        self.source = source
        self.skip = skip
        """Nodes that failed validation (already reported): treated as failed, silently."""
        self.blocks = blocks
        self.params = params
        self.diagnostics: list[Diagnostic] = []
        self.nodes: list[Node] = []
        self.values: dict[str, Shape | None] = {INPUT: input_shape}
        self.block_stack: list[str] = []
        self.block_inputs: dict[str, list[str] | None] = {}
        """Checked input names per block (None: invalid, already reported)."""

    # -- entry point -------------------------------------------------------------------------
    def run(self, layers: list[Any], output: str | None) -> Module:
        root = Module(name="", path="", kind="root")
        scope = Scope(root, {INPUT: Ref(INPUT, INPUT)}, Ref(INPUT, INPUT), dict(self.params))
        self.sequence(layers, ("layers",), scope)
        result = scope.last
        if output is not None:
            result = self.lookup(output, ("output",), scope, self_name=None)
        root.output, root.output_value = result.local, result.value or ""  # "" : the output failed
        return root

    # -- reporting ---------------------------------------------------------------------------
    def error(self, code: str, message: str, path: Path_, hint: str | None = None, *, key: bool = False) -> None:
        self.diagnostics.append(self.source.diagnostic(code, message, path, hint=hint, key=key))

    def evaluate(self, value: Any, vars: dict[str, Any], path: Path_) -> Any:
        try:
            return substitute(value, vars)
        except ExpressionError as exc:
            self.error("expression", str(exc), path, exc.hint)
            raise _Skip from None

    # -- sequences and nodes -----------------------------------------------------------------
    def sequence(self, items: list[Any], path: Path_, scope: Scope) -> None:
        outer_later = scope.later_ids
        ids: set[str] = {item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)}
        scope.later_ids = ids | outer_later  # ids not yet in refs are defined later
        for index, item in enumerate(items):
            self.node(item, (*path, index), scope)
        scope.later_ids = outer_later

    def node(self, raw: dict[str, Any], path: Path_, scope: Scope) -> None:
        written_id = raw.get("id") if isinstance(raw, dict) else None  # a non-mapping node failed validation
        literal_id = written_id if isinstance(written_id, str) and "${" not in written_id else None
        if path in self.skip:
            scope.define(literal_id, FAILED)
            return
        try:
            keep = raw.get("when")
            if keep is not None and not self._flag(keep, scope.vars, (*path, "when")):
                source = self.inputs(raw, path, scope, literal_id)[0]
                if literal_id is not None:
                    scope.refs[literal_id] = source  # a dropped node stands for its input
                return
            count = raw.get("repeat")
            if count is None:
                self.single(raw, path, scope)
            else:
                self.repeated(raw, self._count(count, scope.vars, (*path, "repeat")), path, scope)
        except _Skip:
            scope.define(literal_id, FAILED)

    def _flag(self, value: Any, vars: dict[str, Any], path: Path_) -> bool:
        flag = self.evaluate(value, vars, path)
        if not isinstance(flag, bool):
            self.error("bad-value", f"'when' must be true or false, got {flag!r}", path)
            raise _Skip
        return flag

    def _count(self, value: Any, vars: dict[str, Any], path: Path_) -> int:
        count = self.evaluate(value, vars, path)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.error("bad-value", f"'repeat' must be a positive integer, got {count!r}", path)
            raise _Skip
        if count + len(self.nodes) > MAX_LAYERS:
            self.error("too-large", f"repeat {count:,} makes the model larger than {MAX_LAYERS:,} layers", path)
            raise _Skip
        return count

    def repeated(self, raw: dict[str, Any], count: int, path: Path_, scope: Scope) -> None:
        """``repeat: N``: N copies in place, or inside a group named by ``id`` (like ResNet's layer1)."""
        grouped = raw.get("id") is not None and not self._inline(raw, scope.vars, path)
        listed = raw.get("inputs")
        if isinstance(listed, list) and len(listed) > 1 and (grouped or count > 1):
            self.error(
                "bad-inputs",
                f"a repeated node takes one input (each copy feeds the next), got {len(listed)}",
                (*path, "inputs"),
                "write the copies out, or repeat a node that takes one input",
            )
            raise _Skip
        body = {k: v for k, v in raw.items() if k != "repeat"}
        if grouped:
            group = {"id": raw["id"], "layers": [], **({"inputs": raw["inputs"]} if "inputs" in raw else {})}
            copy = {k: v for k, v in body.items() if k not in ("id", "inputs")}
            self.module(group, path, scope, lambda inner: self._copies(copy, count, path, inner))
            return
        self._copies(body, count, path, scope)

    def _copies(self, body: dict[str, Any], count: int, path: Path_, scope: Scope) -> None:
        outer_vars = scope.vars
        for index in range(count):
            scope.vars = {**outer_vars, "i": index}
            self.single(body if index == 0 else {k: v for k, v in body.items() if k != "inputs"}, path, scope)
        scope.vars = outer_vars

    def single(self, raw: dict[str, Any], path: Path_, scope: Scope) -> None:
        kind = node_kind(raw)
        if kind == "layer":
            self.layer(raw, path, scope)
        elif kind == "group":
            self.group(raw, path, scope)
        else:
            self.block_use(raw, path, scope)

    # -- names and references ----------------------------------------------------------------
    def name(self, raw: dict[str, Any], path: Path_, scope: Scope) -> tuple[str, str | None]:
        """(module attribute name, spec id): an explicit id, or the next index like nn.Sequential."""
        if raw.get("id") is None:
            return str(len(scope.module.children)), None
        name = self.evaluate(raw["id"], scope.vars, (*path, "id"))
        where = (*path, "id")
        if not isinstance(name, str) or not ID_PATTERN.match(name):
            self.error(
                "bad-id",
                f"id {name!r} is not a valid name",
                where,
                "ids start with a letter and contain letters, digits and '_' (they become module attribute names)",
            )
            raise _Skip
        if _reserved(name):
            self.error(
                "bad-id", f"id '{name}' is reserved (torch's nn.Module uses it)", where, f"rename it, e.g. '{name}_'"
            )
            raise _Skip
        if name in scope.refs or name in scope.names:
            self.error(
                "duplicate-id", f"id '{name}' is already used in this scope", where, "ids must be unique per scope"
            )
            raise _Skip
        return name, name

    def inputs(self, raw: dict[str, Any], path: Path_, scope: Scope, self_name: str | None) -> list[Ref]:
        names = raw.get("inputs")
        if names is None:
            return [scope.last]
        if not names:
            self.error(
                "bad-value", "'inputs' is empty", (*path, "inputs"), "list at least one earlier node, or omit 'inputs'"
            )
            raise _Skip
        names = self.evaluate(names, scope.vars, (*path, "inputs"))
        return [self.lookup(n, (*path, "inputs", i), scope, self_name) for i, n in enumerate(names)]

    def lookup(self, name: Any, path: Path_, scope: Scope, self_name: str | None) -> Ref:
        if isinstance(name, str) and name in scope.refs:
            return scope.refs[name]
        hint: str | None
        if name == self_name:
            message, hint = f"node '{name}' refers to itself", "a node's inputs must be earlier nodes"
        elif name in scope.later_ids:
            message, hint = f"'{name}' is defined later", "a node can only take inputs from earlier nodes (no cycles)"
        else:
            message, hint = f"unknown node '{name}'", did_you_mean(str(name), scope.refs, what="node")
        self.error("unknown-reference", message, path, hint)
        raise _Skip

    # -- layers ------------------------------------------------------------------------------
    def layer(self, raw: dict[str, Any], path: Path_, scope: Scope) -> None:
        cls = layer_types()[raw["type"]]
        name, spec_id = self.name(raw, path, scope)
        sources = self.inputs(raw, path, scope, spec_id)
        resolved = {k: self.evaluate(v, scope.vars, (*path, k)) for k, v in raw.items() if k not in _CONTROL_KEYS}
        try:
            layer = cls.model_validate(resolved, context={"resolved": True})
        except ValidationError as exc:
            self.diagnostics.extend(pydantic_diagnostics(exc, resolved, self.source, base=path))
            raise _Skip from None
        self._check_arity(layer, len(sources), path)
        shapes = [self.values.get(s.value) if s.value else None for s in sources]
        node = Node(
            name=name,
            path=_join(scope.module.path, name),
            layer=layer,
            inputs=[s.local for s in sources],
            sources=[s.value or "" for s in sources],
            input_shapes=None if None in shapes else shapes,  # type: ignore[arg-type]
            result=None,
            source_path=path,
            blocks=scope.blocks,
        )
        if node.input_shapes is not None:
            self._infer(node, raw, path)
        scope.module.children.append(node)
        scope.names.add(name)
        self.nodes.append(node)
        self.values[node.path] = node.shape
        scope.define(spec_id, Ref(name, node.path if node.result else None))

    def _check_arity(self, layer: Layer, count: int, path: Path_) -> None:
        low, high = layer.min_inputs, layer.max_inputs
        if count < low or (high is not None and count > high):
            wanted = f"exactly {low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
            self.error(
                "bad-inputs",
                f"'{layer.type_name()}' takes {wanted} input(s), got {count}",
                (*path, "inputs") if count else path,
                "list the inputs with 'inputs: [a, b]'" if high is None else "give one input",
            )
            raise _Skip

    def _infer(self, node: Node, raw: dict[str, Any], path: Path_) -> None:
        try:
            node.result = _within_torch_sizes(node.layer.infer(node.input_shapes or []))
        except LayerError as exc:
            shapes = ", ".join(str(list(s)) for s in node.input_shapes or [])
            where = (*path, exc.field) if exc.field in raw else path
            node.error = self.source.diagnostic(
                "shape", f"{node.type}: {exc.message} (input {shapes})", where, hint=exc.hint, node=node.path
            )
            self.diagnostics.append(node.error)

    # -- groups and blocks -------------------------------------------------------------------
    def _inline(self, raw: dict[str, Any], vars: dict[str, Any], path: Path_) -> bool:
        return self._flag(raw.get("inline", False), vars, (*path, "inline"))

    def group(self, raw: dict[str, Any], path: Path_, scope: Scope) -> None:
        layers_path = (*path, "layers")
        self.module(raw, path, scope, lambda inner: self.sequence(raw["layers"], layers_path, inner))

    def module(self, raw: dict[str, Any], path: Path_, scope: Scope, body: Any, block: str | None = None) -> None:
        """A group or block instance: a child module, or spliced in place with ``inline: true``."""
        inline = self._inline(raw, scope.vars, path)
        name, spec_id = (None, raw.get("id")) if inline else self.name(raw, path, scope)
        sources = self.inputs(raw, path, scope, spec_id)
        input_names = self._input_names(block) if block else [INPUT]
        if len(sources) != len(input_names):
            self._input_count_error(block, input_names, len(sources), path)
        vars = self._block_vars(raw, path, scope, block, sources) if block else scope.vars
        if inline or name is None:
            refs = {INPUT: sources[0], **dict(zip(input_names, sources, strict=True))}
            inner = Scope(scope.module, refs, sources[0], vars, scope.blocks, names=scope.names)
            body(inner)
            scope.define(spec_id, inner.last)
            return
        module = Module(name, _join(scope.module.path, name), "block" if block else "group")
        module.inputs, module.input_names = [s.local for s in sources], input_names
        module.block, module.source_path = block, path
        module.block_args = {
            k: v for k, v in vars.items() if k in (self.blocks.get(block or "", {}).get("params") or {})
        }
        scope.module.children.append(module)
        scope.names.add(name)
        blocks = (*scope.blocks, module.path) if block else scope.blocks
        refs = {n: Ref(n, s.value) for n, s in zip(input_names, sources, strict=True)}
        first = refs[INPUT] = refs[input_names[0]]
        inner = Scope(module, refs, first, vars, blocks)
        body(inner)
        module.output, module.output_value = inner.last.local, inner.last.value or ""
        self.values[module.path] = self.values.get(inner.last.value) if inner.last.value else None
        scope.define(spec_id, Ref(name, inner.last.value))

    def _input_names(self, block: str) -> list[str]:
        """A block's declared input names, checked once per definition (the model checks only their pattern)."""
        if block not in self.block_inputs:
            self.block_inputs[block] = self._check_input_names(block, self.blocks[block].get("inputs"))
        names = self.block_inputs[block]
        if names is None:
            raise _Skip  # reported at the definition, once
        return names

    def _check_input_names(self, block: str, declared: list[str] | None) -> list[str] | None:
        if declared is None:
            return [INPUT]
        for index, name in enumerate(declared):
            where = ("blocks", block, "inputs", index)
            if _reserved(name):
                self.error("bad-id", f"input name '{name}' is reserved", where, f"rename it, e.g. '{name}_'")
                return None
            if name in declared[:index]:
                self.error("duplicate-id", f"input name '{name}' is listed twice", where, "input names must be unique")
                return None
        return list(declared)

    def _input_count_error(self, block: str | None, input_names: list[str], count: int, path: Path_) -> NoReturn:
        where = (*path, "inputs")
        if block is None:
            hint = "to combine several inputs in a module, define a block with 'inputs: [a, b]'"
            self.error("bad-inputs", f"a group takes exactly one input, got {count}", where, hint)
        elif input_names == [INPUT]:
            hint = "declare the block's inputs under its definition, e.g. 'inputs: [x, skip]'"
            self.error("bad-inputs", f"block '{block}' takes 1 input, got {count}", where, hint)
        else:
            wanted = f"{len(input_names)} inputs ({', '.join(input_names)})"
            hint = f"list them in order: 'inputs: [{', '.join(input_names)}]'"
            self.error("bad-inputs", f"block '{block}' takes {wanted}, got {count}", where, hint)
        raise _Skip

    def block_use(self, raw: dict[str, Any], path: Path_, scope: Scope) -> None:
        block_name = raw["use"]
        definition = self.blocks.get(block_name)
        if definition is None:
            hint = did_you_mean(block_name, self.blocks, what="block") or "define it under 'blocks:'"
            self.error("unknown-block", f"unknown block '{block_name}'", (*path, "use"), hint)
            raise _Skip
        if block_name in self.block_stack or len(self.block_stack) >= MAX_BLOCK_DEPTH:
            chain = " -> ".join([*self.block_stack, block_name])
            self.error(
                "recursive-block",
                f"block '{block_name}' uses itself ({chain})",
                (*path, "use"),
                "blocks cannot nest recursively",
            )
            raise _Skip
        body_path = ("blocks", block_name, "layers")
        self.block_stack.append(block_name)
        try:
            self.module(
                raw, path, scope, lambda inner: self.sequence(definition["layers"], body_path, inner), block_name
            )
        finally:
            self.block_stack.pop()

    def _block_vars(
        self, raw: dict[str, Any], path: Path_, scope: Scope, block: str, sources: list[Ref]
    ) -> dict[str, Any]:
        """Global params, then ``in_channels``, ``in_shape`` and ``in_shapes``, then the block params."""
        shapes = [self.values.get(s.value) if s.value else None for s in sources]
        if any(shape is None for shape in shapes):
            raise _Skip  # an input failed; already reported
        declared: dict[str, Any] = self.blocks[block].get("params") or {}
        args = {k: v for k, v in raw.items() if k not in BlockUse.model_fields}
        for key in args:
            if key not in declared:
                hint = (
                    did_you_mean(key, declared, what="parameter")
                    or f"block '{block}' takes: {', '.join(declared) or 'nothing'}"
                )
                self.error(
                    "unknown-argument", f"block '{block}' has no parameter '{key}'", (*path, key), hint, key=True
                )
                raise _Skip
        in_shapes = [list(s) for s in shapes if s is not None]
        vars = {**self.params, "in_channels": in_shapes[0][0], "in_shape": in_shapes[0], "in_shapes": in_shapes}
        for key, default in declared.items():
            if key in args:
                vars[key] = self.evaluate(args[key], scope.vars, (*path, key))
            elif default is None:
                self.error("missing-argument", f"block '{block}' needs parameter '{key}'", path, f"add '{key}: ...'")
                raise _Skip
            else:
                vars[key] = self.evaluate(default, vars, ("blocks", block, "params", key))
        return vars


def _reserved(name: str) -> bool:
    """Names a child module cannot take: ``nn.Module``'s own attributes, ``input`` and Python keywords."""
    return name in RESERVED_IDS or keyword.iskeyword(name)


def _within_torch_sizes(result: LayerResult) -> LayerResult:
    """torch sizes tensors with int64: an output with more elements per sample cannot exist.

    Checked after every node, so runaway growth (a repeated stride-2 transposed conv) stops
    at the first node that overflows, while its numbers are still printable.
    """
    elements = math.prod(result.shape)
    if elements > MAX_TENSOR_ELEMENTS:
        raise LayerError(
            f"the output shape {list(result.shape)} has {elements:,} elements per sample, "
            f"more than torch's int64 sizes allow ({MAX_TENSOR_ELEMENTS:,})",
            hint="check the sizes that grow here: strides, scale factors, repeats",
        )
    return result


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
