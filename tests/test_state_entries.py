"""Static state_dict entries of whole specs equal the built model's ``state_dict()``.

Every shipped spec is built on torch's ``meta`` device (shapes and dtypes, no memory), so the
full-size models (VGG-16, ViT-B/16) are checked too; the small ones are also built for real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
import torch
from state_check import torch_state

import archspec
from archspec.errors import UsageError
from archspec.layers.base import Layer, LayerResult, Shape
from archspec.layers.registry import register

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_static_entries_are_the_built_models_state_dict(path: Path) -> None:
    compiled = archspec.load(path)
    with torch.device("meta"):
        model = archspec.build(compiled)
    assert list(compiled.state_entries().items()) == torch_state(model)


@pytest.mark.parametrize("name", ["lenet5", "mnist_cnn", "resnet18", "lstm_classifier", "gpt_decoder", "unet"])
def test_static_entries_equal_a_real_build(name: str) -> None:
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml")
    assert list(compiled.state_entries().items()) == torch_state(archspec.build(compiled))


def test_overrides_change_the_entries() -> None:
    ten = archspec.load(ROOT / "specs" / "resnet18.yaml", num_classes=10).state_entries()
    assert ten["fc.weight"].shape == (10, 512) and ten["fc.bias"].shape == (10,)
    assert ten["bn1.num_batches_tracked"] == ((), "int64", "buffer")
    deeper = archspec.load(ROOT / "specs" / "resnet18.yaml", depths=[3, 4, 6, 3]).state_entries()
    assert "layer3.5.conv2.weight" in deeper and "layer3.5.conv2.weight" not in ten


def test_parameters_add_up_to_the_static_count() -> None:
    for path in SPECS:
        compiled = archspec.load(path)
        learned = sum(torch.Size(e.shape).numel() for e in compiled.state_entries().values() if e.kind == "parameter")
        assert learned == compiled.params_total, path.stem


def test_a_plugin_layer_that_does_not_describe_its_parameters_is_named(scratch_registry: None) -> None:
    @register
    class Scaled(Layer):
        """A test layer with one learned scale, and no state_entries."""

        family = "activation"
        type: Literal["TestScaled"]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult(inputs[0], params=1)

    compiled = archspec.load("archspec: 1\nname: t\ninput: {channels: 3, size: [4, 4]}\nlayers: [{type: TestScaled}]\n")
    with pytest.raises(UsageError, match="'TestScaled' at '0' has 1 parameters but its state_entries"):
        compiled.state_entries()
