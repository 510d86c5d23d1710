"""specs/vit_b_16.yaml against torchvision's VisionTransformer.

torchvision's state_dict loads with ``strict=True`` (same keys, same order), eval outputs agree
within 1e-5, every node's static shape equals the real one (forward hooks on torchvision's
modules, and the inputs of the modules that follow a functional node), and the static
parameters, mult-adds (torchinfo) and FLOPs (FlopCounterMode, CPU, eval, autograd on) equal
the reference's. A small variant (the spec's params) is checked in full, also in training mode;
the full-size ViT-B/16 runs one forward at batch 1.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.compiler.ir import CompiledSpec  # noqa: E402

SPEC = Path(__file__).parent.parent / "specs" / "vit_b_16.yaml"
SMALL = {"image_size": 32, "patch_size": 8, "hidden_dim": 16, "num_layers": 2, "num_heads": 2, "mlp_dim": 24}
"""A ViT small enough to check everything in well under a second."""


def small_reference(**extra: Any) -> nn.Module:
    return torchvision.models.VisionTransformer(**SMALL, num_classes=10, **extra)


def run_reference(reference: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, tuple[int, ...]], int]:
    """One eval forward with autograd on: the output, every module's per-sample output and input
    shapes (``name`` and ``name:in``), and FlopCounterMode's count per sample."""
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name: str) -> Any:
        def after(_module: nn.Module, args: Any, output: Any) -> None:
            output = output[0] if isinstance(output, tuple) else output  # attention: (output, weights)
            shapes[name] = tuple(output.shape[1:])
            shapes[f"{name}:in"] = tuple(args[0].shape[1:])

        return after

    handles = [m.register_forward_hook(record(n)) for n, m in reference.named_modules() if n]
    try:
        with warnings.catch_warnings(), FlopCounterMode(display=False) as counter:
            warnings.simplefilter("ignore")
            output = reference.eval()(x)
    finally:
        for handle in handles:
            handle.remove()
    flops = counter.get_total_flops()
    assert flops % len(x) == 0
    return output.detach(), shapes, flops // len(x)


def functional_values(compiled: CompiledSpec) -> dict[str, str]:
    """Each functional node whose value torchvision passes to a module (``module:in``) or returns
    from one: the concat is the encoder's input, the residual adds a block's ln_2 input and output."""
    values = {"sequence": "encoder:in", "encoder.embedded": "encoder.dropout:in", "class_state": "heads:in"}
    for index in range(compiled.params["num_layers"]):
        block = f"encoder.layers.encoder_layer_{index}"
        values[f"{block}.attended"] = f"{block}.ln_2:in"
        values[f"{block}.add"] = block
    return values


def check_static(compiled: CompiledSpec, reference: nn.Module, shapes: dict[str, tuple[int, ...]], flops: int) -> None:
    modules = dict(reference.named_modules())
    stored = dict(reference.named_parameters())
    values = functional_values(compiled)
    unchecked = []
    for node in compiled.nodes:
        if node.path in modules:
            assert node.shape == shapes[node.path], node.path
            assert node.result is not None and node.result.params == sum(
                p.numel() for p in modules[node.path].parameters()
            )
        elif node.path in values:
            assert node.shape == shapes[values[node.path]], node.path
        elif node.layer.stored:
            assert node.shape == tuple(stored[node.path].shape), node.path
        else:
            unchecked.append(node.path)
    # the patch flattening and the class token's expand happen inside torchvision's forward:
    # the tokens are the sequence less the class token, which the expand gives per sample
    sequence = shapes["encoder:in"]
    assert unchecked == ["patches", "tokens", "batch_class_token"]
    assert compiled.values["tokens"] == (sequence[0] - 1, sequence[1])
    assert compiled.values["batch_class_token"] == (1, sequence[1])
    assert compiled.values["patches"] == (sequence[1], sequence[0] - 1)
    for module in compiled.root.modules():
        if module.path:
            assert compiled.values[module.path] == shapes[module.path], module.path
    assert compiled.params_total == sum(p.numel() for p in reference.parameters())
    assert compiled.flops == flops


def check_parity(compiled: CompiledSpec, reference: nn.Module, batch: int) -> None:
    torch.manual_seed(0)
    model = archspec.build(compiled)
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(batch, *compiled.input_shape, generator=torch.Generator().manual_seed(2))
    expected, shapes, flops = run_reference(reference, x)
    with torch.no_grad():
        actual = model.eval()(x)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= 1e-5
    check_static(compiled, reference, shapes, flops)


def test_a_small_vit_matches_torchvision() -> None:
    compiled = archspec.load(SPEC, **SMALL, num_classes=10)
    assert compiled.input_shape == (3, 32, 32) and compiled.node("encoder.pos_embedding").shape == (1, 17, 16)
    check_parity(compiled, small_reference(), batch=3)
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(small_reference(), input_size=(1, *compiled.input_shape), verbose=0)
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds)


def test_a_small_vit_trains_like_torchvision() -> None:
    """Dropout everywhere torchvision has it (tokens, attention weights, after attention, in the MLP):
    same seed, same elements dropped, same output and gradients."""
    dropouts = {"dropout": 0.2, "attention_dropout": 0.3}
    reference = small_reference(**dropouts)
    model = archspec.build(SPEC, **SMALL, num_classes=10, **dropouts)
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(4, 3, 32, 32)
    outputs = []
    for net in (reference, model):
        torch.manual_seed(7)
        out = net.train()(x)
        out.square().sum().backward()
        outputs.append((out.detach(), {n: p.grad for n, p in net.named_parameters()}))
    (expected, expected_grads), (actual, grads) = outputs
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-4, atol=1e-5, msg=name)


def test_vit_b_16_matches_torchvision(one_thread: None) -> None:
    """The full size: torchvision's figures (86,567,656 parameters, 33,697,001,472 FLOPs) and one forward at batch 1."""
    compiled = archspec.load(SPEC)
    assert (compiled.params_total, compiled.flops) == (86_567_656, 33_697_001_472)
    assert compiled.macs == 173_232_616  # torchinfo's mult-adds of torchvision's vit_b_16 at 224x224
    check_parity(compiled, torchvision.models.vit_b_16(), batch=1)


def test_a_patch_size_that_does_not_divide_the_image_is_refused() -> None:
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(SPEC, image_size=30, patch_size=8)
    assert "patch_remainder" in str(info.value) and "image_size % patch_size" in str(info.value)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.hint == "image_size must be a multiple of patch_size"  # the declaration's doc says the fix
