"""Resnet18: PyTorch source written by archspec 0.2.0.

Spec: resnet18.yaml. Parameters: num_classes=1000, depths=[2, 2, 2, 2].
"""

import torch
from torch import nn

__all__ = ["Resnet18"]


class BasicBlock(nn.Module):
    """Two 3x3 convs and a residual; a 1x1 conv + BN projection only when stride or
    channels change.
    """

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels,
            channels,
            kernel_size=3,
            stride=stride,
            padding=1,
            bias=False,
        )
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels,
                    channels,
                    kernel_size=1,
                    stride=stride,
                    bias=False,
                ),
                nn.BatchNorm2d(channels),
            )
        self.relu_out = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        bn1 = self.bn1(conv1)
        relu = self.relu(bn1)
        conv2 = self.conv2(relu)
        bn2 = self.bn2(conv2)
        downsample = x
        if self.downsample is not None:
            downsample = self.downsample(x)
        bn2 += downsample
        relu_out = self.relu_out(bn2)
        return relu_out


class Resnet18(nn.Module):
    """ResNet-18 (He et al., 2015) as in torchvision: the same modules, names and
    state_dict keys, so torchvision's weights load with strict=True.

    Input (N, 3, 224, 224) -> output (N, 1000); 11,689,512 parameters.
    """

    def __init__(
        self,
        *,
        num_classes: int = 1000,
        depths: list[int] | None = None,
    ) -> None:
        if depths is None:
            depths = [2, 2, 2, 2]
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential()
        for _ in range(depths[0]):
            self.layer1.append(BasicBlock(64, 64))
        self.layer2 = nn.Sequential()
        for i in range(depths[1]):
            self.layer2.append(
                BasicBlock(64 if i == 0 else 128, 128, stride=2 if i == 0 else 1),
            )
        self.layer3 = nn.Sequential()
        for i in range(depths[2]):
            self.layer3.append(
                BasicBlock(128 if i == 0 else 256, 256, stride=2 if i == 0 else 1),
            )
        self.layer4 = nn.Sequential()
        for i in range(depths[3]):
            self.layer4.append(
                BasicBlock(256 if i == 0 else 512, 512, stride=2 if i == 0 else 1),
            )
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=(1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.fc(x)
        return x
