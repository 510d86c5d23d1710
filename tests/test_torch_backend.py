"""The torch backend: module structure, static shapes == runtime shapes, and torch's tooling on built models."""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import io
import pickle
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

torch = pytest.importorskip("torch")
from torch import fx, nn  # noqa: E402

import archspec  # noqa: E402
from archspec.backends import torch_backend  # noqa: E402
from archspec.backends.export import example_inputs  # noqa: E402
from archspec.backends.pysource import live_children  # noqa: E402
from archspec.compiler.ir import CompiledSpec, Node, Subgraph  # noqa: E402
from archspec.errors import UsageError  # noqa: E402
from archspec.layers.base import Arg, Op  # noqa: E402
from archspec.layers.merge import Add  # noqa: E402

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

TINY = """
archspec: 1
name: tiny_residual
description: a residual block, a concat and a head on a small input
input: {channels: 3, size: [16, 16]}
blocks:
  Res:
    params: {channels: null}
    layers:
      - {id: conv, type: Conv2d, out_channels: "${channels}", kernel_size: 3, padding: 1, bias: false}
      - {id: bn, type: BatchNorm2d}
      - {id: act, type: ReLU}
      - {id: add, type: add, inputs: [act, input]}
layers:
  - {id: stem, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {id: block, use: Res, channels: 8, repeat: 2}
  - {id: side, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [stem]}
  - {id: gate, type: mul, inputs: [side, side]}
  - {id: cat, type: concat, inputs: [block, gate, side]}
  - {id: pool, type: AdaptiveAvgPool2d, output_size: 1}
  - {id: flatten, type: Flatten}
  - {id: head, type: Linear, out_features: 5}
"""

# ids that are builtins or the generated code's own names; unnamed DAG nodes; a dead branch
# (the output is an earlier node).
AWKWARD = """
archspec: 1
name: awkward-names.v2
input: {channels: 2, size: [8, 8]}
layers:
  - {id: self, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {id: x, type: ReLU}
  - {id: torch, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [self]}
  - {id: sum, type: add, inputs: [x, torch, self]}
  - {type: Conv2d, out_channels: 4, kernel_size: 1}
  - {id: nn, type: concat, inputs: [sum, self]}
  - {id: dead, type: Conv2d, out_channels: 3, kernel_size: 1, inputs: [sum]}
  - {type: Flatten, inputs: [nn]}
  - {id: OrderedDict, type: Linear, out_features: 3}
output: OrderedDict
"""

# Python keywords as ids: valid module names for torch, but not attribute syntax.
# (torch.fx cannot trace these: its code generator writes self.lambda.)
ODD_IDS = """
archspec: 1
name: odd-ids
input: {channels: 2, size: [8, 8]}
blocks:
  Stage:
    layers:
      - {id: conv-a, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
      - {id: 0, type: ReLU}
layers:
  - {id: block1-0, use: Stage}
  - {id: lambda, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [block1-0]}
  - {id: "class", type: add, inputs: [block1-0, lambda]}
  - id: 7
    layers:
      - {id: "a b", type: Conv2d, out_channels: 4, kernel_size: 1}
      - {type: ReLU}
  - {type: Flatten}
"""
"""Ids that are not Python identifiers: hyphens, digits, keywords, a space (all accepted by add_module)."""

KEYWORDS = """
archspec: 1
name: keywords
input: {channels: 2, size: [8, 8]}
layers:
  - {id: torch, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {id: self, type: ReLU}
  - {id: x, type: add, inputs: [self, torch]}
  - {id: nn, type: Flatten}
  - {id: F, type: Linear, out_features: 3}
"""


def load(text_or_path: str | Path, **overrides: Any) -> CompiledSpec:
    return archspec.load(text_or_path, **overrides)


def batch(compiled: CompiledSpec, n: int = 2) -> torch.Tensor:
    """A batch of the (first) input: its shape, dtype and declared range (token ids for an Embedding)."""
    return example_inputs(compiled, batch=n, seed=0)[0]


# -- structure --------------------------------------------------------------------------------


def test_a_chain_is_a_sequential_named_by_the_spec_ids() -> None:
    model = archspec.build(ROOT / "specs" / "alexnet.yaml")
    assert isinstance(model, nn.Sequential)
    assert type(model).__name__ == "Alexnet"
    assert [name for name, _ in model.named_children()] == ["features", "avgpool", "flatten", "classifier"]
    assert type(model.features) is nn.Sequential
    assert isinstance(model.classifier[1], nn.Linear) and model.classifier[1].in_features == 9216
    assert str(model).startswith("Alexnet(\n  (features): Sequential(\n    (0): Conv2d(3, 64, kernel_size=(11, 11)")


def test_a_dag_gets_a_generated_forward_and_block_class_names() -> None:
    model = archspec.build(ROOT / "specs" / "resnet18.yaml")
    block = model.layer2[0]
    assert type(block).__name__ == "BasicBlock"
    assert isinstance(block, torch_backend.GeneratedModule)
    assert "(0): BasicBlock(\n" in str(model)
    source = inspect.getsource(type(block).forward)
    # the residual add accumulates in place into the BatchNorm output, as torchvision's `out += identity`
    assert "bn2 += downsample\n" in source and "relu_out = self.relu_out(bn2)\n" in source
    assert "bn1 = self.bn1(conv1)\n    del conv1\n" in source  # memory back to the allocator at once
    assert source.rstrip().endswith("return relu_out")
    assert "bn2 += x\n" in inspect.getsource(type(model.layer1[0]).forward)  # projection dropped: the input
    assert [name for name, _ in block.named_children()] == [
        "conv1",
        "bn1",
        "relu",
        "conv2",
        "bn2",
        "downsample",
        "relu_out",
    ]


def test_identical_structures_share_one_generated_class() -> None:
    model = archspec.build(ROOT / "specs" / "resnet18.yaml")
    assert type(model.layer1[0]) is type(model.layer1[1])
    assert type(model.layer2[0]) is not type(model.layer2[1])
    again = archspec.build(ROOT / "specs" / "resnet18.yaml")
    assert type(again.layer3[1]) is type(model.layer3[1])


@pytest.mark.parametrize("spec", [AWKWARD, KEYWORDS], ids=["awkward", "keywords"])
def test_awkward_names_build_script_and_skip_dead_branches(spec: str) -> None:
    compiled = load(spec)
    model = archspec.build(compiled).eval()
    assert {n.path + ".weight" for n in compiled.nodes if n.result and n.result.params} <= set(model.state_dict())
    x = batch(compiled)
    out = model(x)
    assert out.shape == (2, *compiled.output_shape)
    assert "dead" not in inspect.getsource(type(model).forward)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(x), out)


IN_PLACE = """
archspec: 1
name: in_place
input: {channels: 4, size: [6, 6]}
layers:
  - {id: conv, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {id: relu, type: ReLU, inputs: [input]}
  - {id: a, type: add, inputs: [relu, conv]}            # conv: fresh, used once -> conv += relu
  - {id: norm, type: BatchNorm2d, inputs: [a]}
  - {id: shared, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [a]}
  - {id: b, type: add, inputs: [shared, input]}          # shared is used twice -> b = shared + x
  - {id: c, type: add, inputs: [relu, b, shared]}        # nothing eligible -> out of place
  - {id: pooled, type: AdaptiveAvgPool2d, output_size: 1, inputs: [c]}
  - {id: small, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [pooled]}
  - {id: d, type: add, inputs: [small, norm]}            # small would have to broadcast -> norm += small
  - {id: third, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [d]}
  - {id: e, type: add, inputs: [d, c, third]}            # third is the 3rd operand: order would change
"""


def test_the_residual_add_is_in_place_only_where_unobservable() -> None:
    compiled = load(IN_PLACE)
    model = archspec.build(compiled)
    source = inspect.getsource(type(model).forward)
    assert "    conv += relu\n" in source
    assert "    b = shared + x\n" in source
    assert "    c = relu + b + shared\n" in source
    assert "    norm += small\n" in source  # 1 + 2 == 2 + 1 exactly; the order of 3+ terms is kept
    assert "    e = norm + c + third\n" in source
    x = batch(compiled)
    before = x.clone()
    out = model(x)
    assert torch.equal(x, before)  # the caller's tensor is untouched
    out.sum().backward()  # no "modified by an inplace operation" error
    relu = torch.relu(x)
    conv = model.conv(x)
    a = relu + conv
    shared = model.shared(a)
    b = shared + x
    c = relu + b + shared
    d = model.small(model.pooled(c)) + model.norm(a)
    torch.testing.assert_close(out, d + c + model.third(d))


def test_a_plug_in_functional_layer_is_built_from_its_op_description() -> None:
    class Sub(Add):
        in_place_sum: ClassVar[bool] = False

        def call(self, inputs: list[tuple[int, ...]]) -> Op:
            return Op.fold("-", len(inputs))

    compiled = load(TINY)
    add = compiled.node("block.0.add")
    add.layer = Sub.model_construct(**dict(add.layer))
    model = archspec.build(compiled).eval()
    block = model.block[0]
    assert " - " in inspect.getsource(type(block).forward)
    x = torch.randn(1, 8, 16, 16)
    expected = block.act(block.bn(block.conv(x))) - x
    torch.testing.assert_close(block(x), expected)


def test_build_refuses_overrides_with_a_compiled_spec() -> None:
    with pytest.raises(TypeError, match="overrides"):
        archspec.build(load(TINY), num_classes=3)


# -- static shapes equal runtime shapes -------------------------------------------------------


def _leaf_and_module_shapes(
    model: nn.Module, x: torch.Tensor, unbatched: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Each module's per-sample output shape; the whole shape for the ``unbatched`` paths (an
    Embedding of position ids held in a buffer); a module that returns several tensors (an LSTM),
    its raw result."""
    shapes: dict[str, Any] = {}
    with _output_hooks(model, shapes, unbatched), torch.no_grad():
        model(x)
    return shapes


@contextlib.contextmanager
def _output_hooks(model: nn.Module, shapes: dict[str, Any], unbatched: frozenset[str]) -> Iterator[None]:
    """While open, each module's forward records its output's shape into ``shapes`` (see above)."""
    handles = []
    for name, module in model.named_modules():
        if name:

            def hook(_: nn.Module, __: Any, output: Any, name: str = name) -> None:
                if not isinstance(output, torch.Tensor):
                    shapes[name] = output
                else:
                    shapes[name] = tuple(output.shape if name in unbatched else output.shape[1:])

            handles.append(module.register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _functional_shapes(model: nn.Module, compiled: CompiledSpec, frames: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Shapes of the values functional nodes (add, concat, permute, chunk, mean...) and held tensors have at run time.

    A functional node is a statement of its module's generated ``forward``: ``name = ...``, or
    ``+=`` statements for an add that accumulates into an operand (one per other operand), in
    the order of the live children. A tracer records every local of the generated frames as the
    forward runs, so each statement's result is read back under its target name. A held tensor
    (Parameter, Buffer) is read from the module: its whole shape, as it has no batch dim.
    ``frames``: :func:`_generated_frame_locals` of a forward.
    """
    shapes: dict[str, Any] = {}
    for module in compiled.root.modules():
        built = model.get_submodule(module.path)
        source = getattr(type(built), "_archspec_source", "")
        if not source:
            continue
        body = ast.parse(source).body[0]
        assert isinstance(body, ast.FunctionDef)
        statements = [s for s in body.body if isinstance(s, ast.Assign | ast.AugAssign)]
        for child in live_children(module):
            if isinstance(child, Node) and child.layer.stored:
                shapes[child.path] = tuple(getattr(built, child.name).shape)
                continue
            statement = statements.pop(0)
            if isinstance(statement, ast.AugAssign):  # an in-place add: one `+=` per other operand
                del statements[: len(child.inputs) - 2]
                target = statement.target
            else:
                target = statement.targets[0]
            assert isinstance(target, ast.Name)
            called = isinstance(child, Node) and child.layer.forward_call(child.input_shapes or []) is not None
            if isinstance(child, Node) and (child.layer.functional or called):
                value = frames[module.path][target.id]
                held = not (compiled.types.get(child.path) or compiled.types[f"{child.path}.0"]).batched
                shapes[child.path] = value if held else _per_sample(value, child)
        assert not statements, module.path
    return shapes


def _per_sample(shape: Any, node: Node) -> Any:
    """The batch dim dropped: from a tensor's shape, or from each part of a node with several outputs."""
    if node.result is not None and node.result.parts is not None:
        return tuple(part[1:] for part in shape)
    return shape[1:]


def _generated_frame_locals(model: nn.Module, x: torch.Tensor) -> tuple[dict[str, dict[str, Any]], Any]:
    """Every local of every generated ``forward`` frame as it ran, by module path: name -> shape(s);
    and the model's output."""
    paths = {id(module): name for name, module in model.named_modules()}
    seen: dict[str, dict[str, Any]] = {}

    def shape(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return tuple(value.shape)
        if isinstance(value, tuple | list) and value and all(isinstance(v, torch.Tensor) for v in value):
            return tuple(tuple(v.shape) for v in value)
        return None

    def local(frame: Any, event: str, arg: Any) -> Any:
        values = seen.setdefault(paths[id(frame.f_locals["self"])], {})
        for name, value in frame.f_locals.items():
            if shape(value) is not None:
                values[name] = shape(value)
        return local

    def call(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith("<archspec-generated") else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        sys.settrace(previous)
    return seen, output


@pytest.mark.parametrize(
    "spec",
    [*SPECS, TINY, AWKWARD, IN_PLACE],
    ids=[p.stem for p in SPECS] + ["tiny_residual", "awkward_names", "in_place"],
)
def test_static_shapes_equal_the_shapes_the_built_module_produces(spec: Path | str) -> None:
    compiled = load(spec)
    model = archspec.build(compiled).eval()
    x = batch(compiled, 1)
    unbatched = frozenset(path for path, t in compiled.types.items() if not t.batched)
    runtime: dict[str, Any] = {}
    with _output_hooks(model, runtime, unbatched):  # one forward: the hooks and the frames' locals
        frames, output = _generated_frame_locals(model, x)
    runtime.update(_functional_shapes(model, compiled, frames))
    live = {c.path for m in compiled.root.modules() for c in live_children(m)}
    checked = 0
    for node in compiled.nodes:
        if node.path in live:
            parts = node.result.parts if node.result else None
            found = runtime[node.path]
            if parts is not None and not node.layer.functional and not isinstance(found[0], tuple):
                # the module's raw result (an LSTM's), read as the generated forward reads it
                readers = [node.layer.part(i) or Op("[]", (Arg(0), (i,))) for i in range(len(parts))]
                found = tuple(tuple(torch_backend.run_op(r, [found]).shape[1:]) for r in readers)
            assert found == (node.shape if parts is None else parts), node.path
            checked += 1
    for module in compiled.root.modules():
        if module.path and module.path in live:
            assert runtime[module.path] == compiled.values[module.path], module.path
    assert checked == len([n for n in compiled.nodes if n.path in live]) > 0
    assert tuple(output.shape) == (1, *compiled.output_shape)


# -- torch's tooling ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> tuple[CompiledSpec, nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    compiled = load(TINY)
    model = archspec.build(compiled).eval()
    return compiled, model, batch(compiled)


def test_symbolic_trace(tiny: Any) -> None:
    _, model, x = tiny
    traced = fx.symbolic_trace(model)
    torch.testing.assert_close(traced(x), model(x))


def test_torch_export(tiny: Any) -> None:
    _, model, x = tiny
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.testing.assert_close(program.module()(x), model(x))
    torch.testing.assert_close(program.module()(x[:1]), model(x[:1]))


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript(tiny: Any, how: str, tmp_path: Path) -> None:
    _, model, x = tiny
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = torch.jit.script(model) if how == "script" else torch.jit.trace(model, x)
        torch.jit.save(compiled, tmp_path / "model.pt")
        loaded = torch.jit.load(tmp_path / "model.pt")
    torch.testing.assert_close(loaded(x), model(x))


def test_torchscript_scripts_resnet18() -> None:
    compiled = load(ROOT / "specs" / "resnet18.yaml", num_classes=10)
    model = archspec.build(compiled).eval()
    x = torch.randn(1, 3, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(x), model(x))


def test_torch_compile_captures_one_graph(tiny: Any) -> None:
    _, model, x = tiny
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), model(x))


@pytest.mark.slow
def test_torch_compile_with_inductor(tiny: Any) -> None:
    _, model, x = tiny
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True)
    torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


def test_channels_last_dtype_and_deepcopy(tiny: Any) -> None:
    _, model, x = tiny
    expected = model(x)
    channels_last = copy.deepcopy(model).to(memory_format=torch.channels_last)
    assert channels_last.stem.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(channels_last(x.to(memory_format=torch.channels_last)), expected)
    double = copy.deepcopy(model).to(torch.float64)
    assert double.head.weight.dtype == torch.float64
    torch.testing.assert_close(double(x.double()), expected.double(), rtol=1e-5, atol=1e-6)
    half = copy.deepcopy(model).to(torch.bfloat16)
    assert half(x.bfloat16()).dtype == torch.bfloat16
    clone = copy.deepcopy(model)
    assert clone.head.weight is not model.head.weight
    torch.testing.assert_close(clone(x), expected)


def test_state_dict_pickles(tiny: Any) -> None:
    compiled, model, x = tiny
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = archspec.build(compiled).eval()
    fresh.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    torch.testing.assert_close(fresh(x), model(x))
    restored = pickle.loads(pickle.dumps(model.state_dict()))
    assert restored.keys() == model.state_dict().keys()


def test_training_step_updates_every_parameter(tiny: Any) -> None:
    compiled, _, x = tiny
    model = archspec.build(compiled).train()
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


# -- guard rails ----------------------------------------------------------------------------------

HUGE = """
archspec: 1
name: huge
input: {channels: 100000}
layers:
  - {id: small, type: Linear, out_features: 10}
  - {id: wide, type: Linear, out_features: 100000}
  - {id: wider, type: Linear, out_features: 200000}
"""


def test_parameter_memory_is_checked_before_allocating() -> None:
    with pytest.raises(UsageError) as info:
        archspec.build(HUGE)  # 30 billion params: 112 GiB, never allocated
    message = info.value.format()
    assert "more than the limit of 4.0 GiB" in message
    assert message.index("'wider'") < message.index("'wide'")
    assert "--max-param-bytes" in message and "max_param_bytes=" in message
    assert info.value.diagnostics[0].line == 8  # points at the biggest layer


def test_max_param_bytes_is_a_keyword() -> None:
    lenet = ROOT / "specs" / "lenet5.yaml"
    with pytest.raises(UsageError, match="more than the limit"):
        archspec.build(lenet, max_param_bytes=1000)
    assert archspec.build(lenet, max_param_bytes=None) is not None
    assert archspec.build(lenet, max_param_bytes=61_706 * 4) is not None


def test_parse_bytes() -> None:
    from archspec.backends.limits import parse_bytes

    assert parse_bytes("4GiB") == 4 * 2**30
    assert parse_bytes("500MB") == 500 * 10**6
    assert parse_bytes("1e9") == 10**9
    assert parse_bytes("0") == 0
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes("lots")


def test_module_tree_matches_the_ir() -> None:
    compiled = load(ROOT / "specs" / "resnet18.yaml")
    model = archspec.build(compiled)
    for module in compiled.root.modules():
        if module.path:
            assert isinstance(model.get_submodule(module.path), nn.Module)
    for node in compiled.nodes:
        if not node.layer.functional:
            assert type(model.get_submodule(node.path)).__name__ == node.type
    assert isinstance(compiled.root.child("layer1"), Subgraph)


def test_build_command_prints_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    from archspec.cli import main

    assert main(["build", str(ROOT / "specs" / "resnet18.yaml"), "--set", "num_classes=10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Resnet18(\n") and "(0): BasicBlock(" in out
    assert out.rstrip().endswith(
        "Resnet18: 11,181,642 parameters, output [10] for input [3, 224, 224] (batch excluded)"
    )
    assert main(["build", str(ROOT / "specs" / "lenet5.yaml"), "--max-param-bytes", "1KB"]) == 2
    assert "error[too-large]" in capsys.readouterr().err


def test_whole_module_pickles_by_value(tiny: Any) -> None:
    """Generated classes are not importable; they pickle as (name, forward source) and are recreated."""
    _, model, x = tiny
    data = pickle.dumps(model)
    torch_backend._classes.clear()  # as in a fresh process
    restored = pickle.loads(data)
    assert type(restored).__name__ == type(model).__name__ and type(restored) is not type(model)
    assert type(restored.block[0]).__name__ == "Res"
    torch.testing.assert_close(restored(x), model(x))
    chain = archspec.build(ROOT / "specs" / "lenet5.yaml")
    again = pickle.loads(pickle.dumps(chain))
    assert isinstance(again, nn.Sequential) and type(again).__name__ == "Lenet5"
