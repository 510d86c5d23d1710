"""EfficientnetB0: PyTorch source written by archspec 0.2.0.

Spec: efficientnet_b0.yaml. Parameters: num_classes=1000, dropout=0.2,
stochastic_depth_prob=0.2, stages=[[1, 3, 1, 16, 1], [6, 3, 2, 24, 2], [6, 5, 2, 40, 2],
[6, 3, 2, 80, 3], [6, 5, 1, 112, 3], [6, 5, 2, 192, 4], [6, 3, 1, 320, 1]],
first_block=[0, 1, 3, 5, 8, 11, 15], total_blocks=16.
"""

import torch
import torchvision.ops
from torch import nn

__all__ = ["EfficientnetB0"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2dNormActivation(out_channels=32, kernel_size=3, stride=2, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, groups=1, bias=False),
            nn.BatchNorm2d(32),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation2(nn.Sequential):
    """Conv2dNormActivation(out_channels=32, kernel_size=3, stride=1, groups=32,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                32,
                32,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=32,
                bias=False,
            ),
            nn.BatchNorm2d(32),
            nn.SiLU(inplace=True),
        )


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with SiLU inside, gating the channels with a
    Sigmoid.
    """

    def __init__(self, in_channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.fc1 = nn.Conv2d(in_channels, squeeze_channels, kernel_size=1)
        self.activation = nn.SiLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, in_channels, kernel_size=1)
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avgpool = self.avgpool(x)
        fc1 = self.fc1(avgpool)
        activation = self.activation(fc1)
        fc2 = self.fc2(activation)
        scale_activation = self.scale_activation(fc2)
        scale = scale_activation * x
        return scale


class Conv2dNormActivation3(nn.Sequential):
    """Conv2dNormActivation(out_channels=16, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(32, 16, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(16),
        )


class MBConv(nn.Module):
    """MBConv(expand_ratio=1, kernel_size=3, stride=1, out_channels=16,
    stochastic_depth_prob=0.0, wanted=32.0, nearest=32, expanded=32,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation2(),
            SqueezeExcitation(32, 8),
            Conv2dNormActivation3(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation4(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(16, 96, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(96),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation5(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=3, stride=2, groups=96,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                96,
                96,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=96,
                bias=False,
            ),
            nn.BatchNorm2d(96),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation6(nn.Sequential):
    """Conv2dNormActivation(out_channels=24, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(96, 24, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(24),
        )


class MBConv2(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=2, out_channels=24,
    stochastic_depth_prob=0.0125, wanted=96.0, nearest=96, expanded=96,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation4(),
            Conv2dNormActivation5(),
            SqueezeExcitation(96, 4),
            Conv2dNormActivation6(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation7(nn.Sequential):
    """Conv2dNormActivation(out_channels=144, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                24,
                144,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(144),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation8(nn.Sequential):
    """Conv2dNormActivation(out_channels=144, kernel_size=3, stride=1, groups=144,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                144,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=144,
                bias=False,
            ),
            nn.BatchNorm2d(144),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation9(nn.Sequential):
    """Conv2dNormActivation(out_channels=24, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                24,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(24),
        )


class MBConv3(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=1, out_channels=24,
    stochastic_depth_prob=0.025, wanted=144.0, nearest=144, expanded=144,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation7(),
            Conv2dNormActivation8(),
            SqueezeExcitation(144, 6),
            Conv2dNormActivation9(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.025, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class Conv2dNormActivation10(nn.Sequential):
    """Conv2dNormActivation(out_channels=144, kernel_size=5, stride=2, groups=144,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                144,
                kernel_size=5,
                stride=2,
                padding=2,
                groups=144,
                bias=False,
            ),
            nn.BatchNorm2d(144),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation11(nn.Sequential):
    """Conv2dNormActivation(out_channels=40, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                40,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(40),
        )


class MBConv4(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=2, out_channels=40,
    stochastic_depth_prob=0.037500000000000006, wanted=144.0, nearest=144, expanded=144,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation7(),
            Conv2dNormActivation10(),
            SqueezeExcitation(144, 6),
            Conv2dNormActivation11(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation12(nn.Sequential):
    """Conv2dNormActivation(out_channels=240, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                40,
                240,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(240),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation13(nn.Sequential):
    """Conv2dNormActivation(out_channels=240, kernel_size=5, stride=1, groups=240,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                240,
                240,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=240,
                bias=False,
            ),
            nn.BatchNorm2d(240),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation14(nn.Sequential):
    """Conv2dNormActivation(out_channels=40, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                240,
                40,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(40),
        )


class MBConv5(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=40,
    stochastic_depth_prob=0.05, wanted=240.0, nearest=240, expanded=240,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation12(),
            Conv2dNormActivation13(),
            SqueezeExcitation(240, 10),
            Conv2dNormActivation14(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.05, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class Conv2dNormActivation15(nn.Sequential):
    """Conv2dNormActivation(out_channels=240, kernel_size=3, stride=2, groups=240,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                240,
                240,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=240,
                bias=False,
            ),
            nn.BatchNorm2d(240),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation16(nn.Sequential):
    """Conv2dNormActivation(out_channels=80, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                240,
                80,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(80),
        )


class MBConv6(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=2, out_channels=80,
    stochastic_depth_prob=0.0625, wanted=240.0, nearest=240, expanded=240,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation12(),
            Conv2dNormActivation15(),
            SqueezeExcitation(240, 10),
            Conv2dNormActivation16(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation17(nn.Sequential):
    """Conv2dNormActivation(out_channels=480, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                80,
                480,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(480),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation18(nn.Sequential):
    """Conv2dNormActivation(out_channels=480, kernel_size=3, stride=1, groups=480,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                480,
                480,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=480,
                bias=False,
            ),
            nn.BatchNorm2d(480),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation19(nn.Sequential):
    """Conv2dNormActivation(out_channels=80, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                480,
                80,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(80),
        )


class MBConv7(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=1, out_channels=80,
    stochastic_depth_prob=0.07500000000000001, wanted=480.0, nearest=480, expanded=480,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation17(),
            Conv2dNormActivation18(),
            SqueezeExcitation(480, 20),
            Conv2dNormActivation19(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.07500000000000001,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class MBConv8(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=1, out_channels=80,
    stochastic_depth_prob=0.08750000000000001, wanted=480.0, nearest=480, expanded=480,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation17(),
            Conv2dNormActivation18(),
            SqueezeExcitation(480, 20),
            Conv2dNormActivation19(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.08750000000000001,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class Conv2dNormActivation20(nn.Sequential):
    """Conv2dNormActivation(out_channels=480, kernel_size=5, stride=1, groups=480,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                480,
                480,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=480,
                bias=False,
            ),
            nn.BatchNorm2d(480),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation21(nn.Sequential):
    """Conv2dNormActivation(out_channels=112, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                480,
                112,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(112),
        )


class MBConv9(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=112,
    stochastic_depth_prob=0.1, wanted=480.0, nearest=480, expanded=480,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation17(),
            Conv2dNormActivation20(),
            SqueezeExcitation(480, 20),
            Conv2dNormActivation21(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation22(nn.Sequential):
    """Conv2dNormActivation(out_channels=672, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                112,
                672,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(672),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation23(nn.Sequential):
    """Conv2dNormActivation(out_channels=672, kernel_size=5, stride=1, groups=672,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                672,
                672,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=672,
                bias=False,
            ),
            nn.BatchNorm2d(672),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation24(nn.Sequential):
    """Conv2dNormActivation(out_channels=112, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                672,
                112,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(112),
        )


class MBConv10(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=112,
    stochastic_depth_prob=0.1125, wanted=672.0, nearest=672, expanded=672,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation22(),
            Conv2dNormActivation23(),
            SqueezeExcitation(672, 28),
            Conv2dNormActivation24(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.1125, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class MBConv11(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=112,
    stochastic_depth_prob=0.125, wanted=672.0, nearest=672, expanded=672,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation22(),
            Conv2dNormActivation23(),
            SqueezeExcitation(672, 28),
            Conv2dNormActivation24(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.125, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class Conv2dNormActivation25(nn.Sequential):
    """Conv2dNormActivation(out_channels=672, kernel_size=5, stride=2, groups=672,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                672,
                672,
                kernel_size=5,
                stride=2,
                padding=2,
                groups=672,
                bias=False,
            ),
            nn.BatchNorm2d(672),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation26(nn.Sequential):
    """Conv2dNormActivation(out_channels=192, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                672,
                192,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(192),
        )


class MBConv12(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=2, out_channels=192,
    stochastic_depth_prob=0.1375, wanted=672.0, nearest=672, expanded=672,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation22(),
            Conv2dNormActivation25(),
            SqueezeExcitation(672, 28),
            Conv2dNormActivation26(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation27(nn.Sequential):
    """Conv2dNormActivation(out_channels=1152, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                192,
                1152,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(1152),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation28(nn.Sequential):
    """Conv2dNormActivation(out_channels=1152, kernel_size=5, stride=1, groups=1152,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                1152,
                1152,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=1152,
                bias=False,
            ),
            nn.BatchNorm2d(1152),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation29(nn.Sequential):
    """Conv2dNormActivation(out_channels=192, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                1152,
                192,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(192),
        )


class MBConv13(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=192,
    stochastic_depth_prob=0.15000000000000002, wanted=1152.0, nearest=1152,
    expanded=1152, use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation27(),
            Conv2dNormActivation28(),
            SqueezeExcitation(1152, 48),
            Conv2dNormActivation29(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.15000000000000002,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class MBConv14(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=192,
    stochastic_depth_prob=0.1625, wanted=1152.0, nearest=1152, expanded=1152,
    use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation27(),
            Conv2dNormActivation28(),
            SqueezeExcitation(1152, 48),
            Conv2dNormActivation29(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.1625, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class MBConv15(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=5, stride=1, out_channels=192,
    stochastic_depth_prob=0.17500000000000002, wanted=1152.0, nearest=1152,
    expanded=1152, use_res_connect=True).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation27(),
            Conv2dNormActivation28(),
            SqueezeExcitation(1152, 48),
            Conv2dNormActivation29(),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.17500000000000002,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        stochastic_depth = self.stochastic_depth(block)
        add = stochastic_depth + x
        return add


class Conv2dNormActivation30(nn.Sequential):
    """Conv2dNormActivation(out_channels=1152, kernel_size=3, stride=1, groups=1152,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                1152,
                1152,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=1152,
                bias=False,
            ),
            nn.BatchNorm2d(1152),
            nn.SiLU(inplace=True),
        )


class Conv2dNormActivation31(nn.Sequential):
    """Conv2dNormActivation(out_channels=320, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                1152,
                320,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(320),
        )


class MBConv16(nn.Module):
    """MBConv(expand_ratio=6, kernel_size=3, stride=1, out_channels=320,
    stochastic_depth_prob=0.1875, wanted=1152.0, nearest=1152, expanded=1152,
    use_res_connect=False).

    Expand (1x1, skipped for expand_ratio 1), depthwise kxk, squeeze-excitation, project
    (1x1, linear); where shapes allow, a residual whose branch is dropped per sample
    with stochastic_depth_prob.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation27(),
            Conv2dNormActivation30(),
            SqueezeExcitation(1152, 48),
            Conv2dNormActivation31(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation32(nn.Sequential):
    """Conv2dNormActivation(out_channels=1280, kernel_size=1, stride=1, groups=1,
    activation='SiLU').

    torchvision.ops.Conv2dNormActivation with BatchNorm2d and (by default) SiLU.
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                320,
                1280,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(1280),
            nn.SiLU(inplace=True),
        )


class EfficientnetB0(nn.Module):
    """EfficientNet-B0 (Tan and Le, 2019) as torchvision.models.efficientnet_b0() builds
    it: the same modules, names and state_dict keys (torchvision's weights load with
    strict=True), and the same stochastic depth on every residual branch, so it trains
    like torchvision's too.

    Input (N, 3, 224, 224) -> output (N, 1000); 5,288,548 parameters.
    """

    # Written per instance (values baked in): it uses block 'Conv2dNormActivation',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2dNormActivation(),
            nn.Sequential(MBConv()),
            nn.Sequential(MBConv2(), MBConv3()),
            nn.Sequential(MBConv4(), MBConv5()),
            nn.Sequential(MBConv6(), MBConv7(), MBConv8()),
            nn.Sequential(MBConv9(), MBConv10(), MBConv11()),
            nn.Sequential(MBConv12(), MBConv13(), MBConv14(), MBConv15()),
            nn.Sequential(MBConv16()),
            Conv2dNormActivation32(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.2, inplace=True),
            nn.Linear(1280, 1000),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x
