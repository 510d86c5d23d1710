"""Built models equal the reference implementations: torchvision's and the seed's hand-written classes.

Same ``state_dict`` keys (``load_state_dict(strict=True)``), then the same outputs in eval mode.
For the torchvision specs with squeeze-excitation and stochastic depth, also: every node's static
shape and parameter count equal what torchvision's own modules produce and hold (forward hooks),
and in training mode the same seed gives the same samples dropped and the same output.
ShuffleNetV2 and ConvNeXt-T (tensor operations: chunk, permute, mean; a learned layer scale) are
checked the same way, ConvNeXt's training step down to the gradients.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch import nn  # noqa: E402

import archspec  # noqa: E402
from archspec.compiler.ir import CompiledSpec, Node, Subgraph  # noqa: E402

ROOT = Path(__file__).parent.parent


class LeNet5(nn.Module):
    """The seed's LeNet-5 (28x28 input; padding 2 keeps the classic 32x32 geometry)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 120, kernel_size=5),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class MnistCNN(nn.Module):
    """The seed's MNIST CNN: (Conv-BN-ReLU) x2, pool, Dropout2d, twice; then the classifier."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Dropout2d(0.25),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Dropout2d(0.25),
        )
        self.classifier = nn.Sequential(
            nn.Linear(3136, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(*double_conv(cin, cout))


def double_conv(cin: int, cout: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


class Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv = DoubleConv(2 * cout, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """The U-Net of specs/unet.yaml, written by hand: skips enter the two-input Up blocks."""

    def __init__(self, width: int = 16, num_classes: int = 2) -> None:
        super().__init__()
        w = width
        self.inc = DoubleConv(1, w)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), *double_conv(w, 2 * w))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), *double_conv(2 * w, 4 * w))
        self.down3 = nn.Sequential(nn.MaxPool2d(2), *double_conv(4 * w, 8 * w))
        self.up1 = Up(8 * w, 4 * w)
        self.up2 = Up(4 * w, 2 * w)
        self.up3 = Up(2 * w, w)
        self.outc = nn.Conv2d(w, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        y = self.up1(self.down3(x3), x3)
        y = self.up2(y, x2)
        return self.outc(self.up3(y, x1))


def _randomize_batchnorm_stats(model: nn.Module) -> None:
    """Non-trivial running statistics, so that eval mode really exercises them."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)


def check_parity(spec: str, reference: nn.Module, batch: int = 2, **overrides: Any) -> None:
    torch.manual_seed(0)
    _randomize_batchnorm_stats(reference)
    model = archspec.build(ROOT / "specs" / spec, **overrides)
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict(), strict=True)
    model.eval()
    reference.eval()
    compiled = archspec.load(ROOT / "specs" / spec, **overrides)
    x = torch.randn(batch, *compiled.input_shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = reference(x)
        actual = model(x)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= 1e-5


def test_resnet18_matches_torchvision() -> None:
    check_parity("resnet18.yaml", torchvision.models.resnet18())


def test_resnet18_matches_torchvision_with_another_head() -> None:
    check_parity("resnet18.yaml", torchvision.models.resnet18(num_classes=10), batch=1, num_classes=10)


def test_alexnet_matches_torchvision() -> None:
    check_parity("alexnet.yaml", torchvision.models.alexnet())


@pytest.mark.slow
def test_vgg16_matches_torchvision() -> None:
    check_parity("vgg16.yaml", torchvision.models.vgg16(), batch=1)


def test_unet_with_two_input_blocks_matches_a_hand_written_one() -> None:
    check_parity("unet.yaml", UNet())
    check_parity("unet.yaml", UNet(width=8, num_classes=3), width=8, num_classes=3)


def test_unet_static_totals_equal_torchinfo() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    compiled = archspec.load(ROOT / "specs" / "unet.yaml")
    stats = torchinfo.summary(UNet(), input_size=(1, *compiled.input_shape), verbose=0)
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds)


def test_lenet5_matches_the_seed() -> None:
    check_parity("lenet5.yaml", LeNet5())


def test_mnist_cnn_matches_the_seed() -> None:
    check_parity("mnist_cnn.yaml", MnistCNN())


def test_mnist_cnn_trains_like_the_seed() -> None:
    """Same weights, same batch, same seed: one training step gives the same loss and gradients."""
    reference = MnistCNN()
    model = archspec.build(ROOT / "specs" / "mnist_cnn.yaml")
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    target = torch.randint(0, 10, (8,), generator=torch.Generator().manual_seed(4))
    losses = []
    for net in (reference, model):
        torch.manual_seed(5)  # the dropout masks
        loss = nn.functional.cross_entropy(net.train()(x), target)
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    for (name, a), (_, b) in zip(reference.named_parameters(), model.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_resnet18_trains_like_torchvision() -> None:
    """The in-place residual add (`bn2 += downsample`) keeps autograd intact: same loss, same gradients."""
    reference = torchvision.models.resnet18(num_classes=10)
    model = archspec.build(ROOT / "specs" / "resnet18.yaml", num_classes=10)
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([1, 7])
    losses = []
    for net in (reference, model):
        loss = nn.functional.cross_entropy(net.train()(x), target)
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)
    for (name, a), (_, b) in zip(reference.named_parameters(), model.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5, msg=name)


# -- torchvision's MobileNetV3-Small and EfficientNet-B0: squeeze-excitation, stochastic depth -------


def test_mobilenet_v3_small_matches_torchvision() -> None:
    check_parity("mobilenet_v3_small.yaml", torchvision.models.mobilenet_v3_small())
    check_parity("mobilenet_v3_small.yaml", torchvision.models.mobilenet_v3_small(num_classes=10), num_classes=10)


def test_efficientnet_b0_matches_torchvision() -> None:
    check_parity("efficientnet_b0.yaml", torchvision.models.efficientnet_b0())


def _real_outputs(reference: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Every named module's per-sample output shape in one forward pass (forward hooks)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name: str) -> Any:
        def record(_module: nn.Module, _args: Any, output: torch.Tensor) -> None:  # None: the output stays
            shapes.setdefault(name, tuple(output.shape[1:]))

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in reference.named_modules() if name]
    try:
        with torch.no_grad():
            reference.eval()(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _module_outputs(compiled: CompiledSpec) -> Iterator[tuple[Subgraph, Node]]:
    """(module, node) for each functional node that is its module's output (a residual add, an SE's mul)."""
    for module in compiled.root.modules():
        for child in module.children:
            if isinstance(child, Node) and child.layer.functional and child.name == module.output:
                yield module, child


def check_static_shapes_and_params(spec: str, reference: nn.Module) -> None:
    """Static shapes and parameter counts, node by node, against torchvision's own modules; totals against torchinfo."""
    compiled = archspec.load(ROOT / "specs" / spec)
    real = _real_outputs(reference, torch.randn(1, *compiled.input_shape))
    modules = dict(reference.named_modules())
    checked = set()
    for node in compiled.nodes:
        if node.path in real:
            assert node.shape == real[node.path], node.path
            assert node.result is not None and node.result.params == sum(
                p.numel() for p in modules[node.path].parameters()
            )
            checked.add(node.path)
    for module in compiled.root.modules():
        if module.path:
            assert compiled.values[module.path] == real[module.path], module.path
    # add and mul are expressions in torchvision's forward, not modules: each ends a module checked above
    checked |= {node.path for _, node in _module_outputs(compiled)}
    # torch.flatten in torchvision's forward: its output is what the classifier reads
    assert compiled.node("flatten").shape == (compiled.node("classifier.0").input_shapes or [()])[0]
    checked.add("flatten")
    assert checked == {node.path for node in compiled.nodes}, "nodes whose shape nothing checked"
    assert compiled.params_total == sum(p.numel() for p in reference.parameters())
    assert compiled.trainable_params == sum(p.numel() for p in reference.parameters() if p.requires_grad)
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(reference, input_size=(1, *compiled.input_shape), verbose=0)
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds)


@pytest.mark.parametrize(
    ("spec", "builder"),
    [("mobilenet_v3_small.yaml", "mobilenet_v3_small"), ("efficientnet_b0.yaml", "efficientnet_b0")],
)
def test_static_shapes_and_params_equal_torchvisions_at_every_node(spec: str, builder: str) -> None:
    check_static_shapes_and_params(spec, getattr(torchvision.models, builder)())


def _drops(model: nn.Module) -> tuple[dict[str, list[bool]], list[Any]]:
    """Record, per StochasticDepth call, which samples it zeroed."""
    drops: dict[str, list[bool]] = {}

    def hook(name: str) -> Any:
        def record(_module: nn.Module, _args: Any, output: torch.Tensor) -> None:
            drops[name] = (output.flatten(1) == 0).all(1).tolist()

        return record

    stochastic = torchvision.ops.StochasticDepth
    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, stochastic)]
    return drops, handles


def test_efficientnet_b0_trains_like_torchvision() -> None:
    """Stochastic depth at torchvision's per-block probabilities: same seed, same samples dropped, same output."""
    reference = torchvision.models.efficientnet_b0(num_classes=10)
    model = archspec.build(ROOT / "specs" / "efficientnet_b0.yaml", num_classes=10)
    model.load_state_dict(reference.state_dict(), strict=True)
    probabilities = {n: m.p for n, m in model.named_modules() if isinstance(m, torchvision.ops.StochasticDepth)}
    expected = {n: m.p for n, m in reference.named_modules() if isinstance(m, torchvision.ops.StochasticDepth)}
    assert len(probabilities) == 9 and all(expected[n] == p for n, p in probabilities.items())  # exactly equal
    assert sorted(probabilities.values()) == [0.2 * float(k) / 16 for k in (2, 4, 6, 7, 9, 10, 12, 13, 14)]

    # a smaller image than the spec's 224x224 (both models pool globally): what is dropped does not depend on it
    x = torch.randn(4, 3, 128, 128, generator=torch.Generator().manual_seed(3))
    outputs, patterns = [], []
    for net in (reference, model):
        drops, handles = _drops(net)
        torch.manual_seed(11)
        with torch.no_grad():
            outputs.append(net.train()(x))
        for handle in handles:
            handle.remove()
        patterns.append(drops)
    assert patterns[0] == patterns[1] and sorted(patterns[0]) == sorted(probabilities)
    assert any(any(rows) for rows in patterns[0].values()), "seed 11 drops no sample: pick a seed that does"
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-4, atol=1e-5)

    torch.manual_seed(12)  # another seed drops other samples: the randomness is real
    drops, handles = _drops(model)
    with torch.no_grad():
        model.train()(x)
    assert drops != patterns[0]


# -- torchvision's ShuffleNetV2 and ConvNeXt: tensor operations, a learned layer scale ----------


def test_shufflenet_v2_x1_0_matches_torchvision() -> None:
    check_parity("shufflenet_v2_x1_0.yaml", torchvision.models.shufflenet_v2_x1_0())
    check_parity("shufflenet_v2_x1_0.yaml", torchvision.models.shufflenet_v2_x1_0(num_classes=10), num_classes=10)
    half = [24, 48, 96, 192, 1024]  # the 0.5x model, by the spec's parameters
    check_parity("shufflenet_v2_x1_0.yaml", torchvision.models.shufflenet_v2_x0_5(), stages_out_channels=half)


def test_convnext_tiny_matches_torchvision() -> None:
    check_parity("convnext_tiny.yaml", torchvision.models.convnext_tiny())


@pytest.mark.parametrize(
    ("spec", "builder"), [("shufflenet_v2_x1_0.yaml", "shufflenet_v2_x1_0"), ("convnext_tiny.yaml", "convnext_tiny")]
)
def test_tensor_op_specs_equal_torchvisions_modules_node_by_node(spec: str, builder: str) -> None:
    """Every node that is one of torchvision's modules has its output shape and parameters; totals equal torchinfo's.

    torchvision's LayerNorm2d permutes inside its forward, so its output is that of the spec's
    permute back to channels-first (``features.0.1_channels_first``), while the spec's LayerNorm
    node (``features.0.1``) holds its parameters.
    """
    from torchvision.models.convnext import LayerNorm2d

    reference = getattr(torchvision.models, builder)()
    compiled = archspec.load(ROOT / "specs" / spec)
    real = _real_outputs(reference, torch.randn(1, *compiled.input_shape))
    modules = dict(reference.named_modules())
    checked = 0
    for node in compiled.nodes:
        if node.path in real:
            module = modules[node.path]
            value = f"{node.path}_channels_first" if isinstance(module, LayerNorm2d) else node.path
            assert compiled.values[value] == real[node.path], node.path
            assert node.result is not None and node.result.params == sum(p.numel() for p in module.parameters())
            checked += 1
    assert checked >= len(compiled.nodes) * 2 // 3
    for module in compiled.root.modules():
        if module.path:
            assert compiled.values[module.path] == real[module.path], module.path
    assert compiled.params_total == sum(p.numel() for p in reference.parameters())
    assert compiled.trainable_params == sum(p.numel() for p in reference.parameters() if p.requires_grad)
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(reference, input_size=(1, *compiled.input_shape), verbose=0)
    assert (compiled.params_total, compiled.macs) == (stats.total_params, stats.total_mult_adds)


def test_convnext_tiny_trains_like_torchvision() -> None:
    """layer_scale is a learned parameter and stochastic depth rises from 0 to 0.1 over the 18 blocks, as in
    torchvision: same seed, same samples dropped, same output and gradients (a 32x32 input keeps it quick)."""
    reference = torchvision.models.convnext_tiny(num_classes=10)
    model = archspec.build(ROOT / "specs" / "convnext_tiny.yaml", num_classes=10)
    model.load_state_dict(reference.state_dict(), strict=True)
    probabilities = {n: m.p for n, m in model.named_modules() if isinstance(m, torchvision.ops.StochasticDepth)}
    expected = {n: m.p for n, m in reference.named_modules() if isinstance(m, torchvision.ops.StochasticDepth)}
    assert probabilities == expected and len(probabilities) == 18  # exactly equal floats
    assert sorted(probabilities.values()) == [0.1 * k / 17.0 for k in range(18)]
    scales = {n for n, p in model.named_parameters() if n.endswith("layer_scale") and p.requires_grad}
    assert len(scales) == 18 and all((p == 1e-6).all() for n, p in model.named_parameters() if n in scales)

    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    outputs, patterns = [], []
    for net in (reference, model):
        drops, handles = _drops(net)
        torch.manual_seed(11)
        out = net.train()(x)
        out.square().sum().backward()
        for handle in handles:
            handle.remove()
        outputs.append(out.detach())
        patterns.append(drops)
    assert patterns[0] == patterns[1] and sorted(patterns[0]) == sorted(probabilities)
    assert any(any(rows) for rows in patterns[0].values()), "seed 11 drops no sample: pick a seed that does"
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-4, atol=1e-5)
    grads = dict(reference.named_parameters())
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(parameter.grad, grads[name].grad, rtol=1e-4, atol=1e-5, msg=name)
