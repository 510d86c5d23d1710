"""Valid input sizes against torch: at the smallest valid size the built model runs and one below it
torch raises; at the sizes said to avoid floor rounding the static shapes equal torch's and every
strided conv or pool divides its input exactly. Every shipped spec, plus random conv/pool chains.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.backends.sizes import AxisSizes, input_sizes
from archspec.compiler.ir import CompiledSpec
from archspec.compiler.pipeline import compile_spec

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("module_one_thread")

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
BIG = {"alexnet", "convnext_tiny", "efficientnet_b0", "swin_t", "vgg16", "vit_b_16"}
"""Specs whose models take seconds to build: run with the slow tests."""
TORCHVISION_MIN = {"alexnet": 63, "vgg16": 32, "resnet18": 1}
"""torchvision's weights metadata (``min_size``) for these models."""


def _params(path: Path) -> list[Any]:
    return [pytest.param(path, marks=pytest.mark.slow) if path.stem in BIG else path]


CASES = [case for path in SPECS for case in _params(path)]


def _at(compiled: CompiledSpec, axis: AxisSizes, size: int) -> dict[str, tuple[int, ...]]:
    shape = list(compiled.inputs[axis.input].shape)
    shape[axis.axis] = size
    return {axis.input: tuple(shape)}


def _inputs(compiled: CompiledSpec, shapes: dict[str, tuple[int, ...]]) -> tuple[Any, ...]:
    from archspec.backends.export import example_inputs

    inputs = {name: value._replace(shape=shapes.get(name, value.shape)) for name, value in compiled.inputs.items()}
    return example_inputs(types.SimpleNamespace(inputs=inputs), batch=1)  # type: ignore[arg-type]


def _run(model: Any, inputs: tuple[Any, ...]) -> Any:
    with torch.no_grad():
        return model(*inputs)


def _build(path: Path, shapes: dict[str, tuple[int, ...]]) -> tuple[CompiledSpec, Any]:
    compiled = compile_spec(path, input_shapes=shapes)
    return compiled, archspec.build(compiled, max_param_bytes=None, max_activation_bytes=None).eval()


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_smallest_size_runs_and_one_below_raises(path: Path) -> None:
    compiled = compile_spec(path)
    axes = input_sizes(compiled)
    assert axes, "every shipped spec has an axis to scan"
    for axis in axes:
        assert axis.minimum is not None
        shapes = _at(compiled, axis, axis.minimum)
        small, model = _build(path, shapes)
        _run(model, _inputs(small, shapes))  # runs at the minimum
        if axis.minimum > 1:
            below = _at(compiled, axis, axis.minimum - 1)
            with pytest.raises((RuntimeError, ValueError, IndexError)):
                _run(model, _inputs(small, below))
            with pytest.raises(archspec.SpecError):
                compile_spec(path, input_shapes=below)
        if axis.gap is not None:  # the next size up fails too (a U-Net's skips must match)
            with pytest.raises((RuntimeError, ValueError, IndexError)):
                _run(model, _inputs(small, _at(compiled, axis, axis.gap)))
    if path.stem in TORCHVISION_MIN:
        assert {axis.minimum for axis in axes} == {TORCHVISION_MIN[path.stem]}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_sizes_without_floor_rounding_match_torch_and_divide_exactly(path: Path) -> None:
    compiled = compile_spec(path)
    for axis in input_sizes(compiled):
        if axis.exact_from is None:
            assert axis.inexact, "a spec with no exact size says which node rounds"
            continue
        step = axis.multiple or 1
        sizes = [axis.exact_from] + ([axis.exact_from + step] if axis.next_exact_valid and step > 1 else [])
        for size in sizes:
            _check_exact(path, axis, _at(compiled, axis, size))


def _check_exact(path: Path, axis: AxisSizes, shapes: dict[str, tuple[int, ...]]) -> None:
    compiled, model = _build(path, shapes)
    seen: dict[str, tuple[int, ...]] = {}
    rounding: list[str] = []
    dim = axis.axis + 1  # the batched tensor's dim

    def hook(name: str, module: Any, args: tuple[Any, ...], output: Any) -> None:
        if isinstance(output, torch.Tensor):
            batched = compiled.types[name].batched if name in compiled.types else True
            seen[name] = tuple(output.shape[1:] if batched else output.shape)
        stride = getattr(module, "stride", None)
        if isinstance(module, torch.nn.modules.conv._ConvTransposeNd):
            return  # upsamples: no floor rounding
        if not isinstance(output, torch.Tensor) or stride is None or not args or output.dim() != args[0].dim():
            return
        step = stride if isinstance(stride, int) else stride[dim - 2] if dim >= 2 else 1
        if step > 1 and output.shape[dim] * step != args[0].shape[dim]:
            rounding.append(f"{name}: {args[0].shape[dim]} -> {output.shape[dim]} at stride {step}")

    for name, module in model.named_modules():
        if name in compiled.by_path:
            module.register_forward_hook(lambda m, a, o, name=name: hook(name, m, a, o))
    _run(model, _inputs(compiled, shapes))
    assert not rounding
    assert seen, "hooks saw the model's layers"
    for name, shape in seen.items():
        assert compiled.node(name).shape == shape, name


def test_the_scan_names_the_declared_size_for_a_fixed_size_spec() -> None:
    axes = input_sizes(compile_spec(ROOT / "specs" / "vit_b_16.yaml"))
    assert [(a.name, a.minimum, a.none_below, a.multiple, a.exact_from, a.next_exact_valid) for a in axes] == [
        ("H", 224, 224, 16, 224, False),
        ("W", 224, 224, 16, 224, False),
    ]
    assert axes[0].text() == (
        "input size H (dim 2): valid at 224, none below; no floor rounding at 224 (multiples of 16; 240 fails)"
    )


def test_resnet_sizes_in_summary_formats() -> None:
    from archspec.backends.summary import summary_data, summary_markdown, summary_text

    compiled = compile_spec(ROOT / "specs" / "resnet18.yaml")
    text = summary_text(compiled)
    assert "input size H (dim 2): smallest valid 1; no floor rounding at multiples of 32 from 32" in text
    assert "- input size W (dim 3): smallest valid 1; " in summary_markdown(compiled)
    record = summary_data(compiled)["input_sizes"][0]
    assert record == {
        "input": "input",
        "axis": 1,
        "dim": 2,
        "name": "H",
        "declared": 224,
        "min": 1,
        "none_below": None,
        "stride_multiple": 32,
        "exact_from": 32,
        "next_exact_valid": True,
        "inexact": None,
        "gap": None,
        "scanned": 1,
    }


def test_a_unet_says_the_size_above_its_smallest_fails() -> None:
    axes = input_sizes(compile_spec(ROOT / "specs" / "unet.yaml"))
    assert [a.text() for a in axes] == [
        "input size H (dim 2): smallest valid 8 (9 fails); no floor rounding at multiples of 8 from 8",
        "input size W (dim 3): smallest valid 8 (9 fails); no floor rounding at multiples of 8 from 8",
    ]


def test_the_scan_is_bounded_and_says_how_far_it_went(monkeypatch: pytest.MonkeyPatch) -> None:
    from archspec.backends import sizes

    compiled = compile_spec(ROOT / "specs" / "vgg16.yaml")  # smallest valid: 32
    monkeypatch.setattr(sizes, "MAX_PROBE_NODES", 20 * len(compiled.nodes))  # 20 probes an axis
    axis = sizes.input_sizes(compiled)[0]
    assert (axis.minimum, axis.scanned, axis.exact_from) == (None, 20, None)
    assert axis.text() == "input size H (dim 2): valid at 224, none from 1 to 20; exact sizes not searched"
    monkeypatch.setattr(sizes, "SCAN_LIMIT", 10)
    monkeypatch.setattr(sizes, "MAX_PROBE_NODES", 10**9)
    compiled = compile_spec(ROOT / "specs" / "vgg16.yaml", input_shapes={"input": (3, 224, 223)})  # a new scan
    axis = sizes.input_sizes(compiled)[0]
    assert (axis.minimum, axis.scanned, axis.none_below) == (None, 10, 11)
    assert axis.exact_from == 32  # the exact sizes are still found: they need no scan from 1


def test_alexnet_never_divides_exactly_and_says_where() -> None:
    axes = input_sizes(compile_spec(ROOT / "specs" / "alexnet.yaml"))
    assert {a.exact_from for a in axes} == {None}
    assert axes[0].inexact == "'features.0' maps 224 to 55 at stride 4"


# -- random conv/pool chains against torch ---------------------------------------------------

LAYER = st.one_of(
    st.builds(
        lambda k, s, p, d: {
            "type": "Conv2d",
            "out_channels": 2,
            "kernel_size": k,
            "stride": s,
            "padding": p,
            "dilation": d,
        },
        st.integers(1, 5),
        st.integers(1, 3),
        st.integers(0, 2),
        st.integers(1, 2),
    ),
    st.builds(
        lambda k, s, p, c: {"type": "MaxPool2d", "kernel_size": k, "stride": s, "padding": p, "ceil_mode": c},
        st.integers(2, 4),
        st.integers(1, 3),
        st.integers(0, 1),
        st.booleans(),
    ),
    st.builds(lambda k, s: {"type": "AvgPool2d", "kernel_size": k, "stride": s}, st.integers(1, 3), st.integers(1, 3)),
)


def _chain(layers: list[dict[str, Any]], size: int) -> str:
    import json

    return json.dumps({"archspec": 1, "name": "chain", "input": {"channels": 1, "size": [size, 5]}, "layers": layers})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(LAYER, min_size=1, max_size=4), size=st.integers(1, 40))
def test_random_chains_agree_with_torch(layers: list[dict[str, Any]], size: int) -> None:
    """Along H, at random declared sizes: the smallest valid size is the first one torch runs, and at
    the sizes said to avoid floor rounding every strided layer divides exactly in torch (the
    module does not depend on the input size here, so one model runs every size)."""
    # torch refuses padding above half the kernel; such chains are not the point here
    layers = [dict(layer, padding=min(layer.get("padding", 0), layer["kernel_size"] // 2)) for layer in layers]
    try:
        compiled = compile_spec(_chain(layers, size))
    except archspec.SpecError:
        return
    axis = input_sizes(compiled)[0]
    model = archspec.build(compiled).eval()
    runs = [n for n in range(1, size + 1) if _rounding_in_torch(model, n) is not None]
    assert axis.minimum == runs[0]
    exact = [n for n in runs if _rounding_in_torch(model, n) == []]
    if axis.exact_from is None:
        assert axis.inexact and not exact
        return
    step = axis.multiple or 1
    assert _rounding_in_torch(model, axis.exact_from) == []
    assert _rounding_in_torch(model, axis.exact_from + step) == ([] if axis.next_exact_valid else None)
    assert exact == [n for n in runs if n >= axis.exact_from and (n - axis.exact_from) % step == 0]


def _rounding_in_torch(model: Any, size: int) -> list[str] | None:
    """The strided layers that round at this size (None: torch raises)."""
    x = torch.randn(1, 1, size, 5)
    found = []
    try:
        with torch.no_grad():
            for name, module in model.named_children():
                out = module(x)
                stride = module.stride if isinstance(module.stride, int) else module.stride[0]
                if stride > 1 and out.shape[2] * stride != x.shape[2]:
                    found.append(name)
                x = out
    except RuntimeError:
        return None
    return found


# -- the replay (shape inference alone over the declared expansion) against full elaboration ----


def _scans(compiled: CompiledSpec, monkeypatch: pytest.MonkeyPatch) -> tuple[list[AxisSizes], list[AxisSizes]]:
    """The scan as it runs (replaying), and with every probe elaborated in full; nothing kept between."""
    from archspec.backends import sizes

    monkeypatch.setattr(sizes, "_SCANS", {})
    replayed = input_sizes(compiled)
    with monkeypatch.context() as patched:

        def diverge(self: Any, inputs: Any) -> Any:
            raise sizes._Diverged

        patched.setattr(sizes._Replay, "run", diverge)
        patched.setattr(sizes, "_SCANS", {})
        full = input_sizes(compiled)
    return replayed, full


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_replay_answers_what_full_elaboration_answers(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replayed, full = _scans(compile_spec(path), monkeypatch)
    assert replayed == full


READS = {
    "a when reads in_shape": (
        "input: {channels: 1, size: [8]}\nblocks:\n  head:\n    layers:\n"
        '      - {type: Conv1d, out_channels: 1, kernel_size: 5, when: "${in_shape[1] > 6}"}\n'
        "layers:\n  - {type: Conv1d, out_channels: 2, kernel_size: 1}\n  - {use: head}\n",
        ["input size L (dim 2): smallest valid 1; no floor rounding at any valid size"],
    ),  # the kernel-5 conv exists only above 6: a replay of the declared expansion would say 5
    "in_channels after a flatten": (
        "input: {channels: 1, size: [4]}\nblocks:\n  halves:\n    layers:\n"
        '      - {type: Unflatten, dim: 1, unflattened_size: [2, "${in_channels // 2}"]}\n'
        "layers:\n  - {type: Flatten}\n  - {use: halves}\n",
        ["input size L (dim 2): smallest valid 2 (3 fails); no floor rounding at any valid size"],
    ),  # the block's channels are the flattened size: [2, 2] replayed would hold only at 4
    "outputs that depend on the size": (
        "input: {shape: [6, 3]}\nlayers:\n  - {id: rows, type: unbind, dim: 1}\n"
        "  - {id: fifth, type: Identity, inputs: [rows.4]}\n",
        [
            "input size axis 0 (dim 1): smallest valid 5; no floor rounding at any valid size",
            "input size axis 1 (dim 2): smallest valid 1; no floor rounding at any valid size",
        ],
    ),  # 'rows.4' exists from 5 rows on
}


@pytest.mark.parametrize("spec, expected", READS.values(), ids=list(READS))
def test_the_replay_elaborates_where_the_expansion_depends_on_the_size(
    spec: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    replayed, full = _scans(compile_spec(f"archspec: 1\nname: reads\n{spec}"), monkeypatch)
    assert [a.text() for a in replayed] == [a.text() for a in full] == expected
    assert replayed == full


def test_a_spec_loaded_again_is_not_scanned_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from archspec.backends import sizes

    monkeypatch.setattr(sizes, "_SCANS", {})
    probes: list[int] = []
    probe = sizes._Axis.compile
    monkeypatch.setattr(sizes._Axis, "compile", lambda self, n: probes.append(n) or probe(self, n))
    text = (ROOT / "specs" / "vgg16.yaml").read_text()
    first = input_sizes(compile_spec(text))
    assert probes
    probes.clear()
    assert input_sizes(compile_spec(text)) == first and not probes  # another load of the same text
    smaller = input_sizes(compile_spec(text, input_shapes={"input": (3, 200, 224)}))
    assert probes and smaller != first  # other input shapes: scanned
