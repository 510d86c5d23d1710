"""The elaboration pass: the typed spec -> the IR, expanding blocks and repeats and inferring shapes.

Expansion and inference walk the spec together, node by node, because a block
may choose its structure from its input (``in_channels``: BasicBlock adds its
projection only when the channels change) -- the way an HDL elaborates a design.
Each node's output shape is known before the next node is expanded.

Layers were validated once by the validation pass; an instance is validated again
only for the arguments that held expressions, after substitution. Errors do not stop
the walk: a failed node's output is unknown, nodes that depend on it are skipped
silently, and every independent error is reported. The work is bounded by a
:class:`~archspec.frontend.budget.Budget`: expanded nodes (a repeat is projected from its
first copy, so ``repeat: 999999`` fails at once) and errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

from pydantic import BaseModel, ValidationError

from archspec.compiler.ir import INPUT, Node, Subgraph
from archspec.compiler.names import id_problem
from archspec.compiler.params import Declared, coerce, declare
from archspec.errors import Diagnostic, LayerError
from archspec.frontend import quick
from archspec.frontend.budget import Budget
from archspec.frontend.expressions import (
    ExpressionError,
    has_expression,
    is_expression,
    names_in,
    names_mentioned,
    substitute,
)
from archspec.frontend.models import BlockDef, BlockUse, DeferredLayer, Group, InvalidNode
from archspec.frontend.source import KeyPath, Source
from archspec.frontend.suggest import did_you_mean
from archspec.frontend.validate import pydantic_diagnostics
from archspec.layers.base import DTYPES, Layer, LayerResult, Repeat, TensorType
from archspec.layers.registry import layer_types

MAX_TENSOR_ELEMENTS = 2**63 - 1
RESOLVED = {"resolved": True}
"""Validation context of substituted layer arguments (an expression left over is an error then)."""
MAX_BLOCK_DEPTH = 64
CONTROL_FIELDS = frozenset({"id", "inputs", "repeat", "when"})
ValidNode = Layer | DeferredLayer | Group | BlockUse
TypedNode = ValidNode | InvalidNode


class Ref(NamedTuple):
    """A value as seen from one scope: its sibling name there, and its global value path.

    The compile's private classes are named tuples and plain classes rather than dataclasses:
    a dataclass costs about a millisecond to create (it compiles each method it generates),
    paid at every ``validate``'s start, and one ``Ref`` is made per node."""

    local: str
    value: str | None
    """None when the producing node failed: dependents are skipped without new errors."""


FAILED = Ref("<failed>", None)


class Scope:
    """Where nodes are being added: a module, the names visible there, the variables."""

    def __init__(
        self,
        module: Subgraph,
        refs: dict[str, Ref],
        last: Ref,
        vars: dict[str, Any],
        blocks: tuple[str, ...] = (),
        names: set[str] | None = None,
    ) -> None:
        self.module = module
        self.refs = refs
        self.last = last
        self.vars = vars
        self.blocks = blocks
        self.sequences: tuple[list[TypedNode], ...] = ()
        """The node lists being walked in this scope, outermost first."""
        self.names = set() if names is None else names
        """Attribute names already taken in ``module`` (shared by inline scopes of the same module)."""

    def later_ids(self) -> set[str]:
        """The literal ids of :attr:`sequences`, for "defined later" errors (so worked out only for one)."""
        return {i for items in self.sequences for item in items if (i := _literal_id(item)) is not None}

    def define(self, name: str | None, ref: Ref) -> None:
        if name is not None:
            self.refs[name] = ref
        self.last = ref


class _RepeatFrame:
    """An active ``repeat`` for the node budget's projection."""

    def __init__(self, path: KeyPath, count: int) -> None:
        self.path = path
        self.count = count
        self.remaining = self.start = self.first_copy = 0

    def projected(self, done: int) -> int:
        """Nodes its remaining copies will add, each as large as the first (or this one so far)."""
        return self.remaining * max(self.first_copy, done - self.start)


class _Skip(Exception):
    """Abandon the current node; its diagnostic (if any) is already recorded."""


class _Stop(Exception):
    """Abandon the whole spec: a budget is exhausted (already reported)."""


class ElaborationCache:
    """Work that depends only on the typed spec and the values substituted into it: shared by every
    compile of one :class:`~archspec.compiler.pipeline.LoadedSpec` (sweeps, the input-size scan).
    Keys hold ``id()`` of typed nodes, so the cache must not outlive the typed spec."""

    def __init__(self) -> None:
        self.plans: dict[int, _Plan] = {}
        """How to substitute each typed layer, worked out once."""
        self.layers: dict[tuple[Any, ...], Layer] = {}
        """Validated layers by typed layer and substituted values (layers are frozen: nodes share them)."""
        self.names: dict[str, tuple[str, ...]] = {}
        """The free names of each expression text."""
        self.values: dict[tuple[Any, ...], Any] = {}
        """Scalar expression results by text and the values of its free names."""
        self.variants: dict[tuple[int, str], Any] = {}
        """Derived copies of typed nodes (a repeat's first and later copies), made once."""
        self.inferred: dict[tuple[Any, ...], tuple[Layer, LayerResult, Any]] = {}
        """Inference results by layer and input types (a layer repeated on the same input infers once).
        Keyed by ``id(layer)``; the entry holds the layer, so that id is not reused while it is cached."""

    def remember(self, key: tuple[Any, ...], layer: Layer) -> None:
        if len(self.layers) >= MAX_CACHED_LAYERS:
            self.layers.clear()
        self.layers[key] = layer

    def substitute(self, value: Any, vars: dict[str, Any], budget: Budget) -> Any:
        """:func:`substitute`, each string (also inside lists and mappings: ``kernel_size: [${k}, 1]``)
        remembered by the values of every name it mentions when the result is a scalar or a list
        (expressions are pure; a caller gets a copy of a list, so none shares one)."""
        kind = type(value)
        if kind is not str:
            if kind in _SCALARS:  # most values: skip the isinstance tests
                return value
            if isinstance(value, list):
                return [self.substitute(item, vars, budget) for item in value]
            if isinstance(value, dict):
                return {key: self.substitute(item, vars, budget) for key, item in value.items()}
            if not isinstance(value, str):
                return value
        if "${" not in value:
            return value
        names = self.names.get(value)
        if names is None:
            names = self.names[value] = tuple(sorted(names_mentioned(value)))
        try:
            key = (value, *[_frozen(vars.get(name, _UNBOUND)) for name in names])
            found = self.values.get(key, _UNBOUND)
        except TypeError:  # an unhashable value
            return substitute(value, vars, budget=budget)
        if found is not _UNBOUND:
            return _fresh(found) if type(found) is list else found
        result = substitute(value, vars, budget=budget)
        if result is None or isinstance(result, int | float | str) or type(result) is list:
            if len(self.values) >= MAX_CACHED_LAYERS:
                self.values.clear()
            self.values[key] = result
            if type(result) is list:
                return _fresh(result)
        return result

    def infer(self, layer: Layer, types: list[TensorType]) -> tuple[LayerResult, TensorType | tuple[TensorType, ...]]:
        """:func:`infer_types`, once per layer and input types (results are frozen, so nodes share them)."""
        key = (id(layer), *types)
        found = self.inferred.get(key)
        if found is not None and found[0] is layer:
            return found[1], found[2]
        result, outputs = infer_types(layer, types)
        if len(self.inferred) >= MAX_CACHED_LAYERS:
            self.inferred.clear()
        self.inferred[key] = (layer, result, outputs)
        return result, outputs


MAX_CACHED_LAYERS = 100_000
_UNBOUND = object()


class _Plan(NamedTuple):
    """What substituting one layer model needs, worked out once per model."""

    fixed: dict[str, Any]
    expressions: dict[str, Any]
    static: Layer | None


class Elaborator:
    def __init__(
        self,
        source: Source,
        blocks: dict[str, BlockDef],
        params: dict[str, Any],
        inputs: dict[str, TensorType],
        *,
        budget: Budget,
        named_inputs: bool = False,
        cache: ElaborationCache | None = None,
    ) -> None:
        self.source = source
        self.blocks = blocks
        self.params = params
        self.budget = budget
        self.diagnostics: list[Diagnostic] = []
        self.nodes: list[Node] = []
        self.model_inputs = inputs
        self.named_inputs = named_inputs
        self.types: dict[str, TensorType] = dict(inputs)
        """Every value that inference reached; a node with several outputs has ``path.0``... only."""
        self.parts: dict[str, int] = {}
        """Value paths of nodes with several outputs, and how many."""
        self.block_stack: list[str] = []
        self.block_inputs: dict[str, list[str] | None] = {}
        """Checked input names per block (None: invalid, already reported)."""
        self.block_params: dict[str, dict[str, Declared]] = {}
        self.repeats: list[_RepeatFrame] = []
        self.cache = ElaborationCache() if cache is None else cache

    # -- entry point -------------------------------------------------------------------------
    def run(self, layers: list[TypedNode], output: str | list[str] | dict[str, str] | None) -> Subgraph:
        root = Subgraph(name="", path="", kind="root")
        first = next(iter(self.model_inputs))
        refs = {INPUT: Ref(first, first), **{name: Ref(name, name) for name in self.model_inputs}}
        if self.named_inputs:
            root.input_names = list(self.model_inputs)
        scope = Scope(root, refs, refs[INPUT], dict(self.params))
        try:
            self.sequence(layers, ("layers",), scope)
            results = [scope.last]
            if isinstance(output, str):
                results = [self.lookup(output, ("output",), scope, self_name=None)]
            elif output is not None:
                named: Any = output.items() if isinstance(output, dict) else enumerate(output)
                results = [self.lookup(v, ("output", k), scope, self_name=None) for k, v in named]
                root.result_names = list(output) if isinstance(output, dict) else None
                root.results = [r.local for r in results]
                root.result_values = [r.value or "" for r in results]
        except (_Stop, _Skip):
            results = [FAILED]
            root.results = root.result_values = root.result_names = None
        root.output, root.output_value = results[0].local, results[0].value or ""  # "" : the output failed
        return root

    # -- reporting ---------------------------------------------------------------------------
    def error(self, code: str, message: str, path: KeyPath, hint: str | None = None, *, key: bool = False) -> None:
        self.record(self.source.diagnostic(code, message, path, hint=hint, key=key))

    def record(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)
        if len(self.diagnostics) > self.budget.max_errors:
            raise _Stop

    def evaluate(self, value: Any, vars: dict[str, Any], path: KeyPath) -> Any:
        try:
            return self.cache.substitute(value, vars, self.budget)
        except ExpressionError as exc:
            self.error("expression", str(exc), path, exc.hint)
            raise _Skip from None

    # -- sequences and nodes -----------------------------------------------------------------
    def sequence(self, items: list[TypedNode], path: KeyPath, scope: Scope) -> None:
        outer = scope.sequences
        scope.sequences = (*outer, items)
        for index, item in enumerate(items):
            self.node(item, (*path, index), scope)
        scope.sequences = outer

    def node(self, node: TypedNode, path: KeyPath, scope: Scope) -> None:
        if isinstance(node, InvalidNode):
            scope.define(_literal_id(node), FAILED)  # reported by the validation pass
            return
        try:
            if node.when is not None and not self._flag(node.when, scope.vars, (*path, "when")):
                self._dropped(node, path, scope)
            elif node.repeat is None:
                self.single(node, path, scope)
            else:
                self.repeated(node, path, scope)
        except _Skip:
            scope.define(_literal_id(node), FAILED)

    def _dropped(self, node: ValidNode, path: KeyPath, scope: Scope) -> None:
        """A dropped node passes its first input through, for explicit and implicit readers alike."""
        source = self.inputs(node, path, scope, None)[0][0]  # the first one written
        if node.id is None or node.repeat is not None:
            name = _literal_id(node)  # a repeat's id may name copies by an index that is not bound here
        else:
            name = self._evaluated_id(node, scope, path)
        scope.define(name, source)

    def _flag(self, value: Any, vars: dict[str, Any], path: KeyPath) -> bool:
        flag = self.evaluate(value, vars, path)
        if not isinstance(flag, bool):
            self.error("bad-value", f"'when' must be true or false, got {flag!r}", path)
            raise _Skip
        return flag

    def _repeat(self, repeat: Any, vars: dict[str, Any], path: KeyPath) -> tuple[int, str]:
        """The copy count and the index variable's name."""
        count, index = (repeat.count, repeat.index) if isinstance(repeat, Repeat) else (repeat, "i")
        where = (*path, "repeat", "count") if isinstance(repeat, Repeat) else (*path, "repeat")
        count = self.evaluate(count, vars, where)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.error("bad-value", f"'repeat' must be a positive integer, got {count!r}", where)
            raise _Skip
        if count > self.budget.max_nodes:
            self._too_many(
                where, f"'repeat' of {count:,} copies is more than the budget of {self.budget.max_nodes:,} layer nodes"
            )
        return count, index

    def repeated(self, node: ValidNode, path: KeyPath, scope: Scope) -> None:
        """``repeat: N``: N copies in place, or inside a group named by ``id`` (like ResNet's layer1)."""
        count, index = self._repeat(node.repeat, scope.vars, path)
        named_copies = is_expression(node.id) and index in names_in(node.id)
        grouped = node.id is not None and not named_copies and not self._inline(node, scope.vars, path)
        listed = node.inputs
        if isinstance(listed, list) and len(listed) > 1 and (grouped or count > 1):
            self.error(
                "bad-inputs",
                f"a repeated node takes one input (each copy feeds the next), got {len(listed)}",
                (*path, "inputs"),
                "write the copies out, or repeat a node that takes one input",
            )
            raise _Skip
        if grouped:
            group = self._variant(node, "group", lambda: Group.model_construct(id=node.id, inputs=node.inputs))
            self.module(group, path, scope, lambda inner: self._copies(node, count, index, path, inner, True))
            return
        self._copies(node, count, index, path, scope, False)

    def _copies(self, node: ValidNode, count: int, index: str, path: KeyPath, scope: Scope, grouped: bool) -> None:
        strip = {"repeat": None, **({"id": None, "inputs": None} if grouped else {})}
        first = self._variant(node, "first" + str(grouped), lambda: node.model_copy(update=strip))
        rest = self._variant(node, "rest" + str(grouped), lambda: node.model_copy(update={**strip, "inputs": None}))
        frame = _RepeatFrame(path, count)
        self.repeats.append(frame)
        outer_vars = scope.vars
        try:
            for copy in range(count):
                frame.remaining, frame.start = count - copy - 1, len(self.nodes)
                scope.vars = {**outer_vars, index: copy}
                self.single(first if copy == 0 else rest, path, scope)
                if copy == 0:
                    frame.first_copy = len(self.nodes) - frame.start
                    self._check_node_budget(path)
        finally:
            scope.vars = outer_vars
            self.repeats.pop()

    def _variant(self, node: ValidNode, kind: str, make: Callable[[], Any]) -> Any:
        """A derived copy of a typed node, made once per node (so layer plans are reused)."""
        key = (id(node), kind)
        variants = self.cache.variants
        if key not in variants:
            variants[key] = make()
        return variants[key]

    def single(self, node: ValidNode, path: KeyPath, scope: Scope) -> None:
        if isinstance(node, Group):
            self.group(node, path, scope)
        elif isinstance(node, BlockUse):
            self.block_use(node, path, scope)
        else:
            self.layer(node, path, scope)

    # -- the node budget ---------------------------------------------------------------------
    def _check_node_budget(self, path: KeyPath) -> None:
        done = projected = len(self.nodes)
        for frame in self.repeats:  # every node of a repeat comes here: a loop, not sum() over a generator
            projected += frame.projected(done)
        if projected <= self.budget.max_nodes:
            return
        if not self.repeats:
            self._too_many(path, f"the spec expands to more than {self.budget.max_nodes:,} layer nodes here")
        frame = max(self.repeats, key=lambda f: f.projected(done))
        per_copy = max(frame.first_copy, done - frame.start, 1)
        self._too_many(
            (*frame.path, "repeat"),
            f"expanding this repeat ({frame.count:,} copies of at least {per_copy:,} node(s) each) would make at "
            f"least {projected:,} layer nodes, more than the budget of {self.budget.max_nodes:,}",
        )

    def _too_many(self, where: KeyPath, message: str) -> NoReturn:
        hint = "use fewer or smaller copies, or raise the limit with --max-nodes (API: budget=Budget(max_nodes=...))"
        self.diagnostics.append(self.source.diagnostic("too-large", message, where, hint=hint))
        raise _Stop

    # -- names and references ----------------------------------------------------------------
    def _evaluated_id(self, node: ValidNode, scope: Scope, path: KeyPath) -> str:
        if type(node.id) is str and "${" not in node.id:
            return node.id  # the usual case: a name as written
        name = self.evaluate(node.id, scope.vars, (*path, "id"))
        if isinstance(name, int) and not isinstance(name, bool) and name >= 0:
            return str(name)
        if not isinstance(name, str):
            self.error("bad-id", f"id {name!r} is not a name", (*path, "id"), "an id is a string or an integer >= 0")
            raise _Skip
        return name

    def name(self, node: ValidNode, path: KeyPath, scope: Scope) -> tuple[str, str | None]:
        """(module attribute name, spec id): an explicit id, or the next index like nn.Sequential."""
        if node.id is None:
            name, spec_id = str(len(scope.module.children)), None
        else:
            name = spec_id = self._evaluated_id(node, scope, path)
            problem = id_problem(name)
            if problem:
                self.error("bad-id", problem[0], (*path, "id"), problem[1])
                raise _Skip
        if name in scope.refs or name in scope.names:
            hint = "ids must be unique per scope" + (
                "; unnamed nodes are numbered by position, so numeric ids can clash with them" if name.isdigit() else ""
            )
            where = (*path, "id") if spec_id else path
            self.error("duplicate-id", f"id '{name}' is already used in this scope", where, hint)
            raise _Skip
        return name, spec_id

    def inputs(
        self, node: ValidNode, path: KeyPath, scope: Scope, self_name: str | None
    ) -> tuple[list[Ref], bool, list[str] | None]:
        """The node's input refs, whether they were implicit (the previous node), and the names they
        were given by (``inputs: {query: x, key: memory}``), or None for a list."""
        names = node.inputs
        if names is None:
            return [scope.last], True, None
        where = (*path, "inputs")
        names = self.evaluate(names, scope.vars, where)
        if isinstance(names, dict) and names:
            keys = [str(key) for key in names]
            return [self.lookup(n, (*where, k), scope, self_name) for k, n in names.items()], False, keys
        if not isinstance(names, list) or not names:
            message = f"'inputs' must be a non-empty list of node ids (or a mapping of names to ids), got {names!r}"
            self.error("bad-inputs", message, where)
            raise _Skip
        return [self.lookup(n, (*where, i), scope, self_name) for i, n in enumerate(names)], False, None

    def by_name(
        self, sources: list[Ref], keys: list[str] | None, names: tuple[str, ...] | list[str], what: str, path: KeyPath
    ) -> tuple[list[Ref], tuple[str, ...]]:
        """Inputs given by name, put in ``names``' order; and the name of each (the first ones of
        ``names`` for a list). ``what`` says whose names they are, for errors."""
        if keys is None:
            return sources, tuple(names[: len(sources)])
        if not names:
            self.error("bad-inputs", f"{what} takes its inputs as a list, not by name", (*path, "inputs"))
            raise _Skip
        for key in keys:
            if key not in names:
                hint = did_you_mean(key, names, what="input") or f"its inputs are: {', '.join(names)}"
                self.error("bad-inputs", f"{what} has no input named '{key}'", (*path, "inputs", key), hint, key=True)
                raise _Skip
        order = sorted(range(len(keys)), key=lambda i: names.index(keys[i]))
        return [sources[i] for i in order], tuple(keys[i] for i in order)

    def lookup(self, name: Any, path: KeyPath, scope: Scope, self_name: str | None) -> Ref:
        name = str(name) if isinstance(name, int) and not isinstance(name, bool) else name
        if isinstance(name, str) and name in scope.refs:
            return scope.refs[name]
        base, dot, part = name.partition(".") if isinstance(name, str) else ("", "", "")
        if dot and base in scope.refs:
            return self._part(scope.refs[base], base, part, path)
        hint: str | None
        if name == self_name:
            message, hint = f"node '{name}' refers to itself", "a node's inputs must be earlier nodes"
        elif name in scope.later_ids():
            message, hint = f"'{name}' is defined later", "a node can only take inputs from earlier nodes (no cycles)"
        else:
            message, hint = f"unknown node '{name}'", did_you_mean(str(name), scope.refs, what="node")
        self.error("unknown-reference", message, path, hint)
        raise _Skip

    def _part(self, ref: Ref, base: str, part: str, path: KeyPath) -> Ref:
        """``chunk.1``: one output of a node with several."""
        if ref.value is None:
            return ref  # the node failed; already reported
        count = self.parts.get(ref.value)
        if count is None:
            self.error(
                "unknown-reference",
                f"'{base}' has one output; '{base}.{part}' picks among several",
                path,
                f"write '{base}'",
            )
            raise _Skip
        if not part.isdigit() or int(part) >= count:
            self.error(
                "unknown-reference",
                f"'{base}' has {count} outputs, numbered 0 to {count - 1}; there is no '{base}.{part}'",
                path,
                f"pick one: {', '.join(f'{base}.{i}' for i in range(min(count, 4)))}{', ...' if count > 4 else ''}",
            )
            raise _Skip
        return Ref(f"{ref.local}.{int(part)}", f"{ref.value}.{int(part)}")

    def _input_types(self, sources: list[Ref], listed: Any, path: KeyPath) -> list[TensorType] | None:
        """The types of a node's inputs; None when one failed. A node with several outputs is no input."""
        types = []
        for index, source in enumerate(sources):
            if source.value is None or source.value == "":
                return None
            if source.value in self.parts:
                count = self.parts[source.value]
                shown = source.local if listed is not None else "the previous node"
                where = (
                    path
                    if listed is None
                    else (*path, "inputs", index)
                    if isinstance(listed, list)
                    else (*path, "inputs")
                )
                self.error(
                    "bad-inputs",
                    f"{shown} has {count} outputs; a node takes one of them",
                    where,
                    f"name the output you mean: '{source.local}.0' ... '{source.local}.{count - 1}'",
                )
                raise _Skip
            found = self.types.get(source.value)
            if found is None:
                return None
            types.append(found)
        return types

    # -- layers ------------------------------------------------------------------------------
    def layer(self, typed: Layer | DeferredLayer, path: KeyPath, scope: Scope) -> None:
        name, spec_id = self.name(typed, path, scope)
        sources, implicit, keys = self.inputs(typed, path, scope, spec_id)
        layer = self.resolve(typed, scope.vars, path)
        if implicit and layer.max_inputs == 0:
            sources = []  # a learned tensor or buffer reads nothing
        what = f"'{layer.type_name()}'" if keys is not None else ""  # only errors about named inputs say it
        sources, roles = self.by_name(sources, keys, layer.input_roles, what, path)
        if layer.input_roles:
            self._check_roles(layer, roles, path)
            layer = layer.with_roles(roles)
        self._check_arity(layer, len(sources), path)
        types = self._input_types(sources, typed.inputs, path)
        node = Node(
            name=name,
            path=_join(scope.module.path, name),
            layer=layer,
            inputs=[s.local for s in sources],
            sources=[s.value or "" for s in sources],
            input_shapes=None if types is None else [t.layer_shape() for t in types],
            result=None,
            source_path=path,
            blocks=scope.blocks,
            implicit_input=implicit,
        )
        if types is not None:
            self._infer(node, types, path)
        scope.module.children.append(node)
        scope.names.add(name)
        self.nodes.append(node)
        ref = Ref(name, node.path if node.result else None)
        if layer.stored and spec_id is not None:
            scope.refs[spec_id] = ref  # a held tensor is read by name; the chain goes on from the previous node
        else:
            scope.define(spec_id, ref)
        if len(self.nodes) > self.budget.max_nodes or self.repeats:
            self._check_node_budget(path)

    def resolve(self, typed: Layer | DeferredLayer, vars: dict[str, Any], path: KeyPath) -> Layer:
        """The layer with its expressions substituted and validated; the model itself when it has none."""
        plans = self.cache.plans
        plan = plans.get(id(typed))
        if plan is None:
            plan = plans[id(typed)] = _plan(typed)
        if plan.static is not None:
            return plan.static
        values = {k: self.evaluate(v, vars, (*path, k)) for k, v in plan.expressions.items()}
        key = (id(typed), _frozen(values))
        layer = self.cache.layers.get(key)
        if layer is not None:
            return layer
        resolved = {**plan.fixed, **values}
        cls = self._layer_class(resolved.get("type"), path)
        try:
            layer = quick.model_validate(cls, resolved, RESOLVED)
        except ValidationError as exc:
            for diagnostic in pydantic_diagnostics(exc, resolved, self.source, base=path, resolved=True):
                self.record(diagnostic)
            raise _Skip from None
        self.cache.remember(key, layer)
        return layer

    def _layer_class(self, name: Any, path: KeyPath) -> type[Layer]:
        cls = layer_types().get(name) if isinstance(name, str) else None
        if cls is None:
            hint = did_you_mean(str(name), layer_types(), what="layer")
            self.error("unknown-layer", f"unknown layer type {name!r}", (*path, "type"), hint)
            raise _Skip
        return cls

    def _check_roles(self, layer: Layer, roles: tuple[str, ...], path: KeyPath) -> None:
        """The required inputs (the first ``min_inputs`` roles) are all there."""
        missing = [role for role in layer.input_roles[: layer.min_inputs] if role not in roles]
        if missing:
            wanted = ", ".join(layer.input_roles[: layer.min_inputs])
            self.error(
                "bad-inputs",
                f"'{layer.type_name()}' needs its input '{missing[0]}'",
                (*path, "inputs"),
                f"give {wanted}, e.g. 'inputs: {{{missing[0]}: x}}'",
            )
            raise _Skip

    def _check_arity(self, layer: Layer, count: int, path: KeyPath) -> None:
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

    def _infer(self, node: Node, types: list[TensorType], path: KeyPath) -> None:
        try:
            node.result, outputs = self.cache.infer(node.layer, types)
        except LayerError as exc:
            shapes = ", ".join(str(list(s)) for s in node.input_shapes or [])
            where = (*path, exc.field) if exc.field in node.layer.model_fields_set else path
            node.error = self.source.diagnostic(
                "shape", f"{node.type}: {exc.message} (input {shapes})", where, hint=exc.hint, node=node.path
            )
            self.record(node.error)
            return
        if isinstance(outputs, TensorType):
            self.types[node.path] = outputs
            node.dtype = outputs.dtype
            return
        node.dtype = outputs[0].dtype
        self.parts[node.path] = len(outputs)
        for index, part in enumerate(outputs):
            self.types[f"{node.path}.{index}"] = part

    # -- groups and blocks -------------------------------------------------------------------
    def _inline(self, node: TypedNode, vars: dict[str, Any], path: KeyPath) -> bool:
        inline = getattr(node, "inline", False)
        return self._flag(inline, vars, (*path, "inline"))

    def group(self, node: Group, path: KeyPath, scope: Scope) -> None:
        layers_path = (*path, "layers")
        self.module(node, path, scope, lambda inner: self.sequence(node.layers, layers_path, inner))

    def module(
        self,
        node: Group | BlockUse,
        path: KeyPath,
        scope: Scope,
        body: Callable[[Scope], None],
        block: str | None = None,
    ) -> None:
        """A group or block instance: a child module, or spliced in place with ``inline: true``."""
        inline = self._inline(node, scope.vars, path)
        name, spec_id = (None, _literal_id(node)) if inline else self.name(node, path, scope)
        sources, implicit, keys = self.inputs(node, path, scope, spec_id)
        input_names = self._input_names(block) if block else [INPUT]
        if keys is not None:
            sources, _ = self.by_name(sources, keys, input_names if block else (), f"'{block or 'a group'}'", path)
        if len(sources) != len(input_names):
            self._input_count_error(block, input_names, len(sources), path)
        vars = self._block_vars(node, path, scope, block, sources) if block else scope.vars
        if inline or name is None:
            refs = {INPUT: sources[0], **dict(zip(input_names, sources, strict=True))}
            inner = Scope(scope.module, refs, sources[0], vars, scope.blocks, names=scope.names)
            body(inner)
            scope.define(spec_id, inner.last)
            return
        module = Subgraph(name, _join(scope.module.path, name), "block" if block else "group")
        module.inputs, module.input_names = [s.local for s in sources], input_names
        module.block, module.source_path, module.implicit_input = block, path, implicit
        module.block_args = {k: vars[k] for k in self.block_params.get(block or "", {}) if k in vars}
        scope.module.children.append(module)
        scope.names.add(name)
        blocks = (*scope.blocks, module.path) if block else scope.blocks
        refs = {n: Ref(n, s.value) for n, s in zip(input_names, sources, strict=True)}
        first = refs[INPUT] = refs[input_names[0]]
        inner = Scope(module, refs, first, vars, blocks)
        body(inner)
        module.output, module.output_value = inner.last.local, inner.last.value or ""
        if inner.last.value in self.types:
            self.types[module.path] = self.types[inner.last.value]
        scope.define(spec_id, Ref(name, inner.last.value))

    def _input_names(self, block: str) -> list[str]:
        """A block's declared input names, checked once per definition (the model checks only their pattern)."""
        if block not in self.block_inputs:
            self.block_inputs[block] = self._check_input_names(block, self.blocks[block].inputs)
        names = self.block_inputs[block]
        if names is None:
            raise _Skip  # reported at the definition, once
        return names

    def _check_input_names(self, block: str, declared: list[str] | None) -> list[str] | None:
        if declared is None:
            return [INPUT]
        for index, name in enumerate(declared):
            where = ("blocks", block, "inputs", index)
            if id_problem(name):
                self.error("bad-id", f"input name '{name}' is reserved", where, f"rename it, e.g. '{name}_'")
                return None
            if name in declared[:index]:
                self.error("duplicate-id", f"input name '{name}' is listed twice", where, "input names must be unique")
                return None
        return list(declared)

    def _input_count_error(self, block: str | None, input_names: list[str], count: int, path: KeyPath) -> NoReturn:
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

    def block_use(self, node: BlockUse, path: KeyPath, scope: Scope) -> None:
        block_name = node.use
        definition = self.blocks.get(block_name)
        if definition is None:
            hint = did_you_mean(block_name, self.blocks, what="block") or "define it under 'blocks:'"
            self.error("unknown-block", f"unknown block '{block_name}'", (*path, "use"), hint)
            raise _Skip
        if block_name in self.block_stack:
            chain = " -> ".join([*self.block_stack, block_name])
            hint = "a block cannot use itself, directly or through other blocks"
            self.error("recursive-block", f"block '{block_name}' uses itself ({chain})", (*path, "use"), hint)
            raise _Skip
        if len(self.block_stack) >= MAX_BLOCK_DEPTH:
            message = f"blocks nest more than {MAX_BLOCK_DEPTH} deep here ({' -> '.join(self.block_stack[:3])} ...)"
            self.error("too-deep", message, (*path, "use"), "flatten some of the block levels")
            raise _Skip
        body_path = ("blocks", block_name, "layers")
        self.block_stack.append(block_name)
        try:
            self.module(node, path, scope, lambda inner: self.sequence(definition.layers, body_path, inner), block_name)
        finally:
            self.block_stack.pop()

    def _declarations(self, block: str) -> dict[str, Declared]:
        if block not in self.block_params:
            self.block_params[block] = {k: declare(k, v) for k, v in self.blocks[block].params.items()}
        return self.block_params[block]

    def _block_vars(
        self, node: Group | BlockUse, path: KeyPath, scope: Scope, block: str, sources: list[Ref]
    ) -> dict[str, Any]:
        """Global params, then ``in_channels``, ``in_shape`` and ``in_shapes``, then the block params."""
        types = self._input_types(sources, node.inputs, path)
        if types is None:
            raise _Skip  # an input failed; already reported
        shapes = [t.shape for t in types]
        declared = self._declarations(block)
        args = dict(node.model_extra or {})
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
        for key, decl in declared.items():
            if key in args:
                where: KeyPath = (*path, key)
                value = self.evaluate(args[key], scope.vars, where)
            elif decl.required:
                self.error("missing-argument", f"block '{block}' needs parameter '{key}'", path, f"add '{key}: ...'")
                raise _Skip
            else:
                where = ("blocks", block, "params", key)
                value = self.evaluate(decl.default, vars, where)
            if problem := decl.check(value):
                line = self.source.position(("blocks", block, "params", key))[0]
                hint = f"'{key}' is declared on line {line} as {decl.type}" + (f" ({decl.doc})" if decl.doc else "")
                self.error("bad-value", f"block '{block}' parameter '{key}': {problem}", where, hint)
                raise _Skip
            vars[key] = coerce(decl, value)
        return vars


def _plan(typed: Layer | DeferredLayer) -> _Plan:
    fields = {k: getattr(typed, k) for k in typed.model_fields_set if k not in CONTROL_FIELDS}
    fields.update(typed.model_extra or {})
    fields["type"] = typed.type_name() if isinstance(typed, Layer) else typed.type
    expressions = {k: v for k, v in fields.items() if has_expression(v)}
    fixed = {k: v for k, v in fields.items() if k not in expressions}
    static = typed if not expressions and isinstance(typed, Layer) else None
    return _Plan(fixed, expressions, static)


_SCALARS = frozenset({int, float, str, bool, type(None)})


def _fresh(value: Any) -> Any:
    """A copy of a remembered list result, its lists and mappings new (a caller may change what it gets)."""
    if type(value) is list:
        return [_fresh(item) for item in value]
    if type(value) is dict:
        return {key: _fresh(item) for key, item in value.items()}
    return value


def _frozen(value: Any) -> Any:
    """A hashable form of a substituted value that keeps its type (``1``, ``1.0`` and ``True`` differ)."""
    kind = type(value)
    if kind in _SCALARS:  # most values: skip the isinstance checks
        return (kind, value)
    if isinstance(value, list | tuple):
        items = tuple(value)
        kinds = tuple(map(type, items))
        if _SCALARS.issuperset(kinds):  # a list of numbers: no call per item
            return (kind, items, kinds)
        return (kind.__name__, tuple(map(_frozen, value)))
    if isinstance(value, dict):
        return ("dict", tuple(zip(value, map(_frozen, value.values()), strict=True)))
    return (kind.__name__, value)


def _literal_id(node: TypedNode | BaseModel) -> str | None:
    written = getattr(node, "id", None)
    if type(written) is str:  # the usual case first
        return written if "${" not in written else None
    if isinstance(written, int) and not isinstance(written, bool):
        return str(written)
    return written if isinstance(written, str) and "${" not in written else None


def infer_types(layer: Layer, types: list[TensorType]) -> tuple[LayerResult, TensorType | tuple[TensorType, ...]]:
    """A layer's result on inputs of these types, and the type of its output (or of each of several).

    Raises :class:`LayerError` where torch would refuse (shapes, dtypes, a missing batch dim).
    """
    _check_input_types(layer, types)
    result = _within_torch_sizes(layer.infer([t.layer_shape() for t in types]))
    dtype = layer.output_dtype(types)
    batched = result.batched if result.batched is not None else any(t.batched for t in types)
    if result.parts is None:
        low, high = result.values or (None, None)
        return result, TensorType(result.shape, dtype, batched, low, high)
    return result, tuple(TensorType(part, dtype, batched) for part in result.parts)


def _check_input_types(layer: Layer, types: list[TensorType]) -> None:
    """The layer takes these dtypes, and tensors without a batch dim only if it is ``batch_free``."""
    for index, found in enumerate(types):
        role = layer.roles[index] if index < len(layer.roles) else None
        which = f"its {role} is" if role else f"input {index} is" if len(types) > 1 else "its input is"
        accepts = layer.accepts_by_role.get(role or "", layer.accepts)
        if found.kind not in accepts and found.dtype not in accepts:
            wanted = " or ".join(accepts)
            hint = (
                "feed integer ids to an Embedding first, or convert with {type: to, dtype: float32}"
                if "float" in accepts
                else f"convert with {{type: to, dtype: {accepts[-1]}}} first"
                if accepts[-1] in DTYPES
                else f"convert with {{type: to, dtype: ...}} to a {wanted} dtype first"
            )
            raise LayerError(f"takes {wanted} tensors, but {which} {found.dtype}", hint=hint)
        bound = layer.index_bound()
        if (
            bound is not None
            and found.kind == "int"
            and found.high is not None
            and (found.high > bound or (found.low or 0) < 0)
        ):
            raise LayerError(
                f"ids in [{found.low}, {found.high}) do not fit a table of {bound}: ids must lie in [0, {bound})",
                hint=f"make the table hold {found.high} ids, or declare the input's range within [0, {bound}]",
            )
        if not found.batched and not layer.batch_free:
            raise LayerError(
                f"takes tensors with a batch dim, but {which} a learned tensor or buffer of shape "
                f"{list(found.shape)} (no batch dim)",
                hint="combine it with a batched tensor first (add, mul), or give it the batch with "
                "{type: expand, inputs: [tensor, x]}",
            )


def _within_torch_sizes(result: LayerResult) -> LayerResult:
    """torch sizes tensors with int64: an output with more elements per sample cannot exist.

    Checked after every node, so runaway growth (a repeated stride-2 transposed conv) stops
    at the first node that overflows, while its numbers are still printable.
    """
    elements = math.prod(result.shape) if result.parts is None else max(math.prod(s) for s in result.parts)
    if elements > MAX_TENSOR_ELEMENTS:
        raise LayerError(
            f"the output shape {list(result.shape)} has {elements:,} elements per sample, "
            f"more than torch's int64 sizes allow ({MAX_TENSOR_ELEMENTS:,})",
            hint="check the sizes that grow here: strides, scale factors, repeats",
        )
    return result


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
