"""ShufflenetV2X10: PyTorch source written by archspec 0.2.0.

Spec: shufflenet_v2_x1_0.yaml. Parameters: num_classes=1000, stages_repeats=[4, 8, 4],
stages_out_channels=[24, 116, 232, 464, 1024].
"""

import torch
from torch import nn

__all__ = ["ShufflenetV2X10"]


class InvertedResidual(nn.Module):
    """InvertedResidual(channels=116, stride=2, branch_features=58).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(
            nn.Conv2d(
                24,
                24,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=24,
                bias=False,
            ),
            nn.BatchNorm2d(24),
            nn.Conv2d(24, 58, kernel_size=1, bias=False),
            nn.BatchNorm2d(58),
            nn.ReLU(inplace=True),
        )
        self.branch2 = nn.Sequential(
            nn.Conv2d(24, 58, kernel_size=1, bias=False),
            nn.BatchNorm2d(58),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                58,
                58,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=58,
                bias=False,
            ),
            nn.BatchNorm2d(58),
            nn.Conv2d(58, 58, kernel_size=1, bias=False),
            nn.BatchNorm2d(58),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        cat = torch.cat([branch1, branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class InvertedResidual2(nn.Module):
    """InvertedResidual(channels=116, stride=1, branch_features=58).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch2 = nn.Sequential(
            nn.Conv2d(58, 58, kernel_size=1, bias=False),
            nn.BatchNorm2d(58),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                58,
                58,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=58,
                bias=False,
            ),
            nn.BatchNorm2d(58),
            nn.Conv2d(58, 58, kernel_size=1, bias=False),
            nn.BatchNorm2d(58),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        halves = x.chunk(2, 1)
        branch2 = self.branch2(halves[1])
        cat = torch.cat([halves[0], branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class InvertedResidual3(nn.Module):
    """InvertedResidual(channels=232, stride=2, branch_features=116).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(
            nn.Conv2d(
                116,
                116,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=116,
                bias=False,
            ),
            nn.BatchNorm2d(116),
            nn.Conv2d(116, 116, kernel_size=1, bias=False),
            nn.BatchNorm2d(116),
            nn.ReLU(inplace=True),
        )
        self.branch2 = nn.Sequential(
            nn.Conv2d(116, 116, kernel_size=1, bias=False),
            nn.BatchNorm2d(116),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                116,
                116,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=116,
                bias=False,
            ),
            nn.BatchNorm2d(116),
            nn.Conv2d(116, 116, kernel_size=1, bias=False),
            nn.BatchNorm2d(116),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        cat = torch.cat([branch1, branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class InvertedResidual4(nn.Module):
    """InvertedResidual(channels=232, stride=1, branch_features=116).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch2 = nn.Sequential(
            nn.Conv2d(116, 116, kernel_size=1, bias=False),
            nn.BatchNorm2d(116),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                116,
                116,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=116,
                bias=False,
            ),
            nn.BatchNorm2d(116),
            nn.Conv2d(116, 116, kernel_size=1, bias=False),
            nn.BatchNorm2d(116),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        halves = x.chunk(2, 1)
        branch2 = self.branch2(halves[1])
        cat = torch.cat([halves[0], branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class InvertedResidual5(nn.Module):
    """InvertedResidual(channels=464, stride=2, branch_features=232).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(
            nn.Conv2d(
                232,
                232,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=232,
                bias=False,
            ),
            nn.BatchNorm2d(232),
            nn.Conv2d(232, 232, kernel_size=1, bias=False),
            nn.BatchNorm2d(232),
            nn.ReLU(inplace=True),
        )
        self.branch2 = nn.Sequential(
            nn.Conv2d(232, 232, kernel_size=1, bias=False),
            nn.BatchNorm2d(232),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                232,
                232,
                kernel_size=3,
                stride=2,
                padding=1,
                groups=232,
                bias=False,
            ),
            nn.BatchNorm2d(232),
            nn.Conv2d(232, 232, kernel_size=1, bias=False),
            nn.BatchNorm2d(232),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        cat = torch.cat([branch1, branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class InvertedResidual6(nn.Module):
    """InvertedResidual(channels=464, stride=1, branch_features=232).

    Two branches of `channels // 2` each, concatenated and then channel-shuffled. Stride
    1: the input is split in two halves; the first passes through, the second goes
    through branch2. Stride 2: both branches read the whole input, and both halve the
    resolution.
    """

    # Written per instance (values baked in): 'halves' is a functional or stored node
    # with 'when'.

    def __init__(self) -> None:
        super().__init__()
        self.branch2 = nn.Sequential(
            nn.Conv2d(232, 232, kernel_size=1, bias=False),
            nn.BatchNorm2d(232),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                232,
                232,
                kernel_size=3,
                stride=1,
                padding=1,
                groups=232,
                bias=False,
            ),
            nn.BatchNorm2d(232),
            nn.Conv2d(232, 232, kernel_size=1, bias=False),
            nn.BatchNorm2d(232),
            nn.ReLU(inplace=True),
        )
        self.channel_shuffle = nn.ChannelShuffle(groups=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        halves = x.chunk(2, 1)
        branch2 = self.branch2(halves[1])
        cat = torch.cat([halves[0], branch2], dim=1)
        channel_shuffle = self.channel_shuffle(cat)
        return channel_shuffle


class ShufflenetV2X10(nn.Module):
    """ShuffleNetV2 1.0x (Ma et al., 2018) as torchvision.models.shufflenet_v2_x1_0()
    builds it: the same modules, names and state_dict keys, so torchvision's weights
    load with strict=True.

    Input (N, 3, 224, 224) -> output (N, 1000); 2,278,604 parameters.
    """

    # Written per instance (values baked in): it uses block 'InvertedResidual', which is
    # written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 24, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(24),
            nn.ReLU(inplace=True),
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stage2 = nn.Sequential(
            InvertedResidual(),
            InvertedResidual2(),
            InvertedResidual2(),
            InvertedResidual2(),
        )
        self.stage3 = nn.Sequential(
            InvertedResidual3(),
            InvertedResidual4(),
            InvertedResidual4(),
            InvertedResidual4(),
            InvertedResidual4(),
            InvertedResidual4(),
            InvertedResidual4(),
            InvertedResidual4(),
        )
        self.stage4 = nn.Sequential(
            InvertedResidual5(),
            InvertedResidual6(),
            InvertedResidual6(),
            InvertedResidual6(),
        )
        self.conv5 = nn.Sequential(
            nn.Conv2d(464, 1024, kernel_size=1, bias=False),
            nn.BatchNorm2d(1024),
            nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        maxpool = self.maxpool(conv1)
        stage2 = self.stage2(maxpool)
        stage3 = self.stage3(stage2)
        stage4 = self.stage4(stage3)
        conv5 = self.conv5(stage4)
        globalpool = conv5.mean((2, 3))
        fc = self.fc(globalpool)
        return fc
