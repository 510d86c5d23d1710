"""specs/swin_t.yaml equals torchvision's Swin Transformer, written with general tensor operations.

Full size (batch 1, one forward each): torchvision's state_dict loads with ``strict=True``, the
outputs agree within 1e-5 in eval mode, the static parameters and FLOPs are the published
28,288,354 and 8,981,133,312 (FlopCounterMode counting torchvision's own forward), and every
module torchvision runs has the static shape of the spec's node of that name. Small variants (by
the spec's parameters: non-square windows, a stage whose window covers the whole map, so it does
not shift) are checked the same way, in training mode too (stochastic depth draws the same).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.models.swin_transformer import ShiftedWindowAttention, SwinTransformer  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.torch_backend import run_op  # noqa: E402
from archspec.compiler.ir import CompiledSpec  # noqa: E402
from archspec.layers.stored import Buffer  # noqa: E402

SPEC = Path(__file__).parent.parent / "specs" / "swin_t.yaml"

SMALL = {
    "non-square windows": {
        "image_size": [48, 80], "embed_dim": 16, "depths": [2, 2, 2], "num_heads": [2, 2, 4],
        "window_size": [3, 5], "num_classes": 10,
    },  # stage 3 is 3x5, one window: torchvision drops the shift there
    "two stages": {
        "image_size": [56, 56], "embed_dim": 12, "depths": [1, 2], "num_heads": [1, 3],
        "window_size": [7, 7], "num_classes": 5,
    },
    "padded maps": {
        "image_size": [44, 36], "embed_dim": 16, "depths": [2, 2, 2], "num_heads": [2, 2, 4],
        "window_size": [3, 5], "num_classes": 10,
    },  # 11x9 patches: windows and patch merging pad (odd sizes), the mask covers the padding
}  # fmt: skip


def reference(**overrides: Any) -> SwinTransformer:
    """torchvision's SwinTransformer as swin_t() builds it, with the small variants' overrides."""
    args: dict[str, Any] = {
        "patch_size": [4, 4], "embed_dim": 96, "depths": [2, 2, 6, 2], "num_heads": [3, 6, 12, 24],
        "window_size": [7, 7], "stochastic_depth_prob": 0.2, "num_classes": 1000,
    }  # fmt: skip
    args.update({k: v for k, v in overrides.items() if k != "image_size"})
    return SwinTransformer(**args)


def loaded(ref: torch.nn.Module, **overrides: Any) -> torch.nn.Module:
    """The spec's model with ``ref``'s weights, strictly; its keys and fixed buffers are torchvision's."""
    model = archspec.build(SPEC, **overrides)
    ours, theirs = model.state_dict(), ref.state_dict()
    assert set(ours) == set(theirs)
    indexes = [k for k in theirs if k.endswith("relative_position_index")]
    assert indexes and all(torch.equal(ours[k], theirs[k]) for k in indexes)  # built equal, not just loaded
    model.load_state_dict(theirs, strict=True)
    return model


def module_outputs(model: torch.nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """The per-sample output shape of every named module on its first call (forward hooks)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name: str) -> Any:
        def record(_module: Any, _args: Any, output: torch.Tensor) -> None:
            shapes.setdefault(name, tuple(output.shape[1:]))

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    try:
        with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
            warnings.simplefilter("ignore")
            with torch.no_grad():
                model(x)
    finally:
        for handle in handles:
            handle.remove()
    shapes[""] = (counter.get_total_flops(),)
    return shapes


def check_shapes(compiled: CompiledSpec, real: dict[str, tuple[int, ...]]) -> None:
    """Every module torchvision runs (qkv and proj are called as F.linear: no hook) has the static shape
    of the spec's value of that name: a node, or a block's or group's output."""
    names = {n for n in real if n}
    assert names <= set(compiled.values), f"torchvision modules the spec lacks: {sorted(names - set(compiled.values))}"
    for name in names:
        assert compiled.values[name] == real[name], name
    assert {"features.1.0.attn", "features.2.reduction", "features.1.0.stochastic_depth", "head"} <= names


def test_relative_position_index_fill_equals_torchvisions() -> None:
    """Swin's 2-d windows (square or not, flat as torchvision keeps it) and Video Swin's 3-d ones."""
    from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d

    for window in ([7, 7], [3, 5], [1, 4]):
        tokens = window[0] * window[1]
        args = {"shape": [tokens * tokens], "window_size": window}
        expected = ShiftedWindowAttention(8, window, [0, 0], 2).relative_position_index
        assert torch.equal(made(args), expected)
    expected = ShiftedWindowAttention3d(8, [2, 3, 4], [0, 0, 0], 2).relative_position_index
    assert torch.equal(made({"shape": [24, 24], "window_size": [2, 3, 4]}), expected.reshape(24, 24))


def made(args: dict[str, Any]) -> torch.Tensor:
    layer = Buffer.model_validate({"type": "Buffer", "fill": "relative_position_index", "dtype": "int64", **args})
    layer.infer([])
    return run_op(layer.creation(), [])


def test_swin_t_matches_torchvision() -> None:
    torch.manual_seed(0)
    ref = torchvision.models.swin_t().eval()
    model = loaded(ref).eval()
    compiled = archspec.load(SPEC)
    assert compiled.input_shape == (3, 224, 224)
    assert compiled.params_total == sum(p.numel() for p in ref.parameters()) == 28_288_354
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    real = module_outputs(ref, x)  # torchvision's forward, counted by FlopCounterMode
    assert compiled.flops == real[""][0] == 8_981_133_312
    check_shapes(compiled, real)
    with torch.no_grad():
        expected, actual = ref(x), model(x)
    assert actual.shape == expected.shape == (1, 1000)
    assert (actual - expected).abs().max().item() <= 1e-5


@pytest.mark.parametrize("overrides", SMALL.values(), ids=list(SMALL))
def test_small_variants_match_torchvision(overrides: dict[str, Any]) -> None:
    torch.manual_seed(0)
    ref = reference(**overrides).eval()
    model = loaded(ref, **overrides).eval()
    compiled = archspec.load(SPEC, **overrides)
    assert compiled.params_total == sum(p.numel() for p in ref.parameters())
    x = torch.randn(2, 3, *overrides["image_size"], generator=torch.Generator().manual_seed(2))
    real = module_outputs(ref, x[:1])
    assert compiled.flops == real[""][0]
    check_shapes(compiled, real)
    with torch.no_grad():
        assert (model(x) - ref(x)).abs().max().item() <= 1e-5


def test_the_last_stage_does_not_shift_when_one_window_covers_it() -> None:
    """torchvision sets the shift to 0 where the window is as large as the map: no roll, no mask."""
    compiled = archspec.load(SPEC, **SMALL["non-square windows"])
    paths = {node.path for node in compiled.nodes}
    assert {"features.1.1.attn.shifted_input", "features.3.1.attn.attn_mask"} <= paths
    assert not {p for p in paths if p.startswith("features.5.1.attn.") and ("shift" in p or "mask" in p)}
    assert "features.1.0.attn.shifted_input" not in paths  # even blocks never shift


def test_small_variant_trains_like_torchvision() -> None:
    """Stochastic depth (torchvision calls one module on both branches, the spec two) drops the same
    samples under the same seed: same outputs and gradients."""
    overrides = SMALL["non-square windows"]
    ref = reference(**overrides)
    model = loaded(ref, **overrides)
    x = torch.randn(6, 3, *overrides["image_size"], generator=torch.Generator().manual_seed(3))
    outputs = []
    for net in (ref, model):
        torch.manual_seed(11)
        out = net.train()(x)
        out.square().sum().backward()
        outputs.append(out.detach())
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-4, atol=1e-5)
    grads = dict(ref.named_parameters())
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(parameter.grad, grads[name].grad, rtol=1e-4, atol=1e-5, msg=name)


def test_small_variant_scripts_and_traces() -> None:
    """The held-tensor operations (the bias gather, the mask) script and fx-trace like any other node."""
    from test_export import assert_scripts_and_traces

    overrides = SMALL["two stages"]
    torch.manual_seed(0)
    model = archspec.build(SPEC, **overrides).eval()
    x = torch.randn(2, 3, *overrides["image_size"], generator=torch.Generator().manual_seed(1))
    assert_scripts_and_traces(model, x)


def test_maps_the_windows_do_not_tile_are_padded_where_torchvision_pads() -> None:
    compiled = archspec.load(SPEC, **SMALL["padded maps"])
    pads = {node.path for node in compiled.nodes if node.path.endswith(".pad")}
    # 11x9 pads to 12x10 for 3x5 windows and for merging (to 6x5); 6x5 needs no window padding, but
    # merging it pads to 6x6 (to 3x3); 3x3 pads to 3x5 for the windows
    assert pads == {"features.1.0.attn.pad", "features.1.1.attn.pad", "features.2.pad", "features.4.pad"} | {
        "features.5.0.attn.pad",
        "features.5.1.attn.pad",
    }
    assert compiled.values["features.1.0.attn.pad"] == (12, 10, 16)
    assert compiled.values["features.1.0.attn"] == (11, 9, 16)  # cropped back
    full = archspec.load(SPEC)  # 224x224 tiles exactly: no padding node at all
    assert not [node.path for node in full.nodes if node.path.endswith(".pad")]
    assert full.node("features.1.0.attn.window_grid").sources == ["features.1.0.norm1"]


@pytest.mark.slow
def test_padded_small_variant_exports_with_a_dynamic_batch_to_onnx_and_compiles() -> None:
    """torch.export with a dynamic batch, ONNX from it (checked, run by ONNX's reference evaluator; its
    exporter decomposes roll) and torch.compile(fullgraph=True) compute what the model computes.

    Two of the variant's three stages, the second of one block: the same node types (padding, shifted
    windows, the mask, cropping, patch merging of an odd map) in 147 nodes instead of 286, and the
    exporters' and the compiler's time grows with the nodes."""
    import shutil

    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    overrides = {**SMALL["padded maps"], "depths": [2, 1], "num_heads": [2, 2]}
    every_type = {node.type for node in archspec.load(SPEC, **SMALL["padded maps"]).nodes}
    assert {node.type for node in archspec.load(SPEC, **overrides).nodes} == every_type
    torch.manual_seed(0)
    model = archspec.build(SPEC, **overrides).eval()
    x = torch.randn(2, 3, *overrides["image_size"], generator=torch.Generator().manual_seed(1))
    bigger = torch.randn(5, 3, *overrides["image_size"], generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, expected_bigger = model(x), model(bigger)
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.testing.assert_close(program.module()(bigger), expected_bigger)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = torch.onnx.export(program, dynamo=True, verbose=False).model_proto
    onnx.checker.check_model(proto, full_check=True)
    (actual,) = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(actual), expected, rtol=1e-4, atol=1e-5)
    if shutil.which("cc") or shutil.which("gcc") or shutil.which("clang"):
        torch._dynamo.reset()
        with torch.no_grad():
            torch.testing.assert_close(torch.compile(model, fullgraph=True)(x), expected, rtol=1e-4, atol=1e-5)


def test_a_bias_table_too_small_for_its_index_is_a_static_error(tmp_path: Path) -> None:
    """The index buffer's values are known ([0, 25) for a 3x3 window): a table of fewer rows is refused
    by validation, at the index_select, not by torch at the first forward."""
    from archspec.errors import SpecError

    def spec(rows: int) -> Path:
        path = tmp_path / f"bias_{rows}.yaml"
        path.write_text(
            "archspec: 1\nname: bias\ninput: {shape: [2, 9, 9]}\nlayers:\n"
            f"  - {{id: table, type: Parameter, shape: [{rows}, 2]}}\n"
            "  - {id: index, type: Buffer, fill: relative_position_index, window_size: [3, 3], shape: [81],"
            " dtype: int64}\n"
            "  - {id: rows, type: index_select, dim: 0, inputs: [table, index]}\n"
            "  - {id: pairs, type: reshape, shape: [9, 9, 2]}\n"
            "  - {id: bias, type: permute, dims: [2, 0, 1]}\n"
            "  - {id: biased, type: add, inputs: [input, bias]}\n"
        )
        return path

    assert archspec.load(spec(25)).output_shape == (2, 9, 9)
    with pytest.raises(SpecError) as error:
        archspec.load(spec(24))
    message = str(error.value)
    assert "bias_24.yaml:" in message and "'rows'" in message and "[0, 25)" in message and "size 24" in message
