"""MobilenetV3Small: PyTorch source written by archspec 0.2.0.

Spec: mobilenet_v3_small.yaml. Parameters: num_classes=1000, dropout=0.2, bneck=[[3, 16,
16, True, 'ReLU', 2], [3, 72, 24, False, 'ReLU', 2], [3, 88, 24, False, 'ReLU', 1], [5,
96, 40, True, 'Hardswish', 2], [5, 240, 40, True, 'Hardswish', 1], [5, 240, 40, True,
'Hardswish', 1], [5, 120, 48, True, 'Hardswish', 1], [5, 144, 48, True, 'Hardswish', 1],
[5, 288, 96, True, 'Hardswish', 2], [5, 576, 96, True, 'Hardswish', 1], [5, 576, 96,
True, 'Hardswish', 1]], last_channel=1024.
"""

import torch
from torch import nn

__all__ = ["MobilenetV3Small"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2dNormActivation(out_channels=16, kernel_size=3, stride=2, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1, groups=1, bias=False),
            nn.BatchNorm2d(16, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation2(nn.Sequential):
    """Conv2dNormActivation(out_channels=16, kernel_size=3, stride=2, groups=16,
    activation='ReLU').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                16,
                16,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=16,
                bias=False,
            ),
            nn.BatchNorm2d(16, eps=0.001, momentum=0.01),
            nn.ReLU(inplace=True),
        )


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation, gating the channels with a Hardsigmoid."""

    def __init__(self, in_channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.fc1 = nn.Conv2d(in_channels, squeeze_channels, kernel_size=1)
        self.activation = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze_channels, in_channels, kernel_size=1)
        self.scale_activation = nn.Hardsigmoid()

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

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(16, 16, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(16, eps=0.001, momentum=0.01),
        )


class InvertedResidual(nn.Module):
    """InvertedResidual(kernel_size=3, expanded=16, out_channels=16, use_se=True,
    activation='ReLU', stride=2, quarter=4, nearest=8, squeeze_channels=8).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation2(),
            SqueezeExcitation(16, 8),
            Conv2dNormActivation3(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation4(nn.Sequential):
    """Conv2dNormActivation(out_channels=72, kernel_size=1, stride=1, groups=1,
    activation='ReLU').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(16, 72, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(72, eps=0.001, momentum=0.01),
            nn.ReLU(inplace=True),
        )


class Conv2dNormActivation5(nn.Sequential):
    """Conv2dNormActivation(out_channels=72, kernel_size=3, stride=2, groups=72,
    activation='ReLU').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                72,
                72,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=72,
                bias=False,
            ),
            nn.BatchNorm2d(72, eps=0.001, momentum=0.01),
            nn.ReLU(inplace=True),
        )


class Conv2dNormActivation6(nn.Sequential):
    """Conv2dNormActivation(out_channels=24, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(72, 24, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(24, eps=0.001, momentum=0.01),
        )


class InvertedResidual2(nn.Module):
    """InvertedResidual(kernel_size=3, expanded=72, out_channels=24, use_se=False,
    activation='ReLU', stride=2, quarter=18, nearest=16, squeeze_channels=24).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation4(),
            Conv2dNormActivation5(),
            Conv2dNormActivation6(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation7(nn.Sequential):
    """Conv2dNormActivation(out_channels=88, kernel_size=1, stride=1, groups=1,
    activation='ReLU').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(24, 88, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(88, eps=0.001, momentum=0.01),
            nn.ReLU(inplace=True),
        )


class Conv2dNormActivation8(nn.Sequential):
    """Conv2dNormActivation(out_channels=88, kernel_size=3, stride=1, groups=88,
    activation='ReLU').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                88,
                88,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=88,
                bias=False,
            ),
            nn.BatchNorm2d(88, eps=0.001, momentum=0.01),
            nn.ReLU(inplace=True),
        )


class Conv2dNormActivation9(nn.Sequential):
    """Conv2dNormActivation(out_channels=24, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(88, 24, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(24, eps=0.001, momentum=0.01),
        )


class InvertedResidual3(nn.Module):
    """InvertedResidual(kernel_size=3, expanded=88, out_channels=24, use_se=False,
    activation='ReLU', stride=1, quarter=22, nearest=24, squeeze_channels=24).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation7(),
            Conv2dNormActivation8(),
            Conv2dNormActivation9(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        add = block + x
        return add


class Conv2dNormActivation10(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(24, 96, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(96, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation11(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=5, stride=2, groups=96,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                96,
                96,
                kernel_size=5,
                stride=2,
                padding=2,
                groups=96,
                bias=False,
            ),
            nn.BatchNorm2d(96, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation12(nn.Sequential):
    """Conv2dNormActivation(out_channels=40, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(96, 40, kernel_size=1, stride=1, padding=0, groups=1, bias=False),
            nn.BatchNorm2d(40, eps=0.001, momentum=0.01),
        )


class InvertedResidual4(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=96, out_channels=40, use_se=True,
    activation='Hardswish', stride=2, quarter=24, nearest=24, squeeze_channels=24).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation10(),
            Conv2dNormActivation11(),
            SqueezeExcitation(96, 24),
            Conv2dNormActivation12(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation13(nn.Sequential):
    """Conv2dNormActivation(out_channels=240, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
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
            nn.BatchNorm2d(240, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation14(nn.Sequential):
    """Conv2dNormActivation(out_channels=240, kernel_size=5, stride=1, groups=240,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
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
            nn.BatchNorm2d(240, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation15(nn.Sequential):
    """Conv2dNormActivation(out_channels=40, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
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
            nn.BatchNorm2d(40, eps=0.001, momentum=0.01),
        )


class InvertedResidual5(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=240, out_channels=40, use_se=True,
    activation='Hardswish', stride=1, quarter=60, nearest=64, squeeze_channels=64).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation13(),
            Conv2dNormActivation14(),
            SqueezeExcitation(240, 64),
            Conv2dNormActivation15(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        add = block + x
        return add


class Conv2dNormActivation16(nn.Sequential):
    """Conv2dNormActivation(out_channels=120, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                40,
                120,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(120, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation17(nn.Sequential):
    """Conv2dNormActivation(out_channels=120, kernel_size=5, stride=1, groups=120,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                120,
                120,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=120,
                bias=False,
            ),
            nn.BatchNorm2d(120, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation18(nn.Sequential):
    """Conv2dNormActivation(out_channels=48, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                120,
                48,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(48, eps=0.001, momentum=0.01),
        )


class InvertedResidual6(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=120, out_channels=48, use_se=True,
    activation='Hardswish', stride=1, quarter=30, nearest=32, squeeze_channels=32).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation16(),
            Conv2dNormActivation17(),
            SqueezeExcitation(120, 32),
            Conv2dNormActivation18(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation19(nn.Sequential):
    """Conv2dNormActivation(out_channels=144, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                48,
                144,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(144, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation20(nn.Sequential):
    """Conv2dNormActivation(out_channels=144, kernel_size=5, stride=1, groups=144,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                144,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=144,
                bias=False,
            ),
            nn.BatchNorm2d(144, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation21(nn.Sequential):
    """Conv2dNormActivation(out_channels=48, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                144,
                48,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(48, eps=0.001, momentum=0.01),
        )


class InvertedResidual7(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=144, out_channels=48, use_se=True,
    activation='Hardswish', stride=1, quarter=36, nearest=40, squeeze_channels=40).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation19(),
            Conv2dNormActivation20(),
            SqueezeExcitation(144, 40),
            Conv2dNormActivation21(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        add = block + x
        return add


class Conv2dNormActivation22(nn.Sequential):
    """Conv2dNormActivation(out_channels=288, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                48,
                288,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(288, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation23(nn.Sequential):
    """Conv2dNormActivation(out_channels=288, kernel_size=5, stride=2, groups=288,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                288,
                288,
                kernel_size=5,
                stride=2,
                padding=2,
                groups=288,
                bias=False,
            ),
            nn.BatchNorm2d(288, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation24(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                288,
                96,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(96, eps=0.001, momentum=0.01),
        )


class InvertedResidual8(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=288, out_channels=96, use_se=True,
    activation='Hardswish', stride=2, quarter=72, nearest=72, squeeze_channels=72).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation22(),
            Conv2dNormActivation23(),
            SqueezeExcitation(288, 72),
            Conv2dNormActivation24(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        return x


class Conv2dNormActivation25(nn.Sequential):
    """Conv2dNormActivation(out_channels=576, kernel_size=1, stride=1, groups=1,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                96,
                576,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(576, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation26(nn.Sequential):
    """Conv2dNormActivation(out_channels=576, kernel_size=5, stride=1, groups=576,
    activation='Hardswish').

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                576,
                576,
                kernel_size=5,
                stride=1,
                padding=2,
                groups=576,
                bias=False,
            ),
            nn.BatchNorm2d(576, eps=0.001, momentum=0.01),
            nn.Hardswish(inplace=True),
        )


class Conv2dNormActivation27(nn.Sequential):
    """Conv2dNormActivation(out_channels=96, kernel_size=1, stride=1, groups=1,
    activation=None).

    torchvision.ops.Conv2dNormActivation with MobileNetV3's BatchNorm (eps 0.001,
    momentum 0.01).
    """

    # Written per instance (values baked in): its node at
    # blocks.Conv2dNormActivation.layers.2 has a layer type given by an expression.

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(
                576,
                96,
                kernel_size=1,
                stride=1,
                padding=0,
                groups=1,
                bias=False,
            ),
            nn.BatchNorm2d(96, eps=0.001, momentum=0.01),
        )


class InvertedResidual9(nn.Module):
    """InvertedResidual(kernel_size=5, expanded=576, out_channels=96, use_se=True,
    activation='Hardswish', stride=1, quarter=144, nearest=144, squeeze_channels=144).

    Expand (1x1, skipped when it would not change the channels), depthwise kxk,
    squeeze-excitation (optional), project (1x1, linear); a residual when shapes allow.
    """

    # Written per instance (values baked in): its group 'block' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dNormActivation25(),
            Conv2dNormActivation26(),
            SqueezeExcitation(576, 144),
            Conv2dNormActivation27(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        add = block + x
        return add


class MobilenetV3Small(nn.Module):
    """MobileNetV3-Small (Howard et al., 2019) as
    torchvision.models.mobilenet_v3_small() builds it: the same modules, names and
    state_dict keys, so torchvision's weights load with strict=True.

    Input (N, 3, 224, 224) -> output (N, 1000); 2,542,856 parameters.
    """

    # Written per instance (values baked in): it uses block 'Conv2dNormActivation',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2dNormActivation(),
            InvertedResidual(),
            InvertedResidual2(),
            InvertedResidual3(),
            InvertedResidual4(),
            InvertedResidual5(),
            InvertedResidual5(),
            InvertedResidual6(),
            InvertedResidual7(),
            InvertedResidual8(),
            InvertedResidual9(),
            InvertedResidual9(),
            Conv2dNormActivation25(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(576, 1024),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=0.2, inplace=True),
            nn.Linear(1024, 1000),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x
