"""Unet: PyTorch source written by archspec 0.2.0.

Spec: unet.yaml. Parameters: width=16, num_classes=2.
"""

import torch
from torch import nn

__all__ = ["Unet"]


class DoubleConv(nn.Sequential):
    """two 3x3 conv-BN-ReLU layers"""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Down(channels=32).

    halve the resolution, then a DoubleConv
    """

    # Written per instance (values baked in): its node at blocks.Down.layers.1 is inline
    # (spliced nodes are numbered by position).

    def __init__(self) -> None:
        super().__init__(
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
        )


class Down2(nn.Sequential):
    """Down(channels=64).

    halve the resolution, then a DoubleConv
    """

    # Written per instance (values baked in): its node at blocks.Down.layers.1 is inline
    # (spliced nodes are numbered by position).

    def __init__(self) -> None:
        super().__init__(
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )


class Down3(nn.Sequential):
    """Down(channels=128).

    halve the resolution, then a DoubleConv
    """

    # Written per instance (values baked in): its node at blocks.Down.layers.1 is inline
    # (spliced nodes are numbered by position).

    def __init__(self) -> None:
        super().__init__(
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(64, 128, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 128, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """double the resolution of x, concatenate the encoder's skip, then a DoubleConv"""

    def __init__(
        self,
        in_channels: int,
        in_shapes: list[list[int]],
        channels: int,
    ) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, channels, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_shapes[1][0] + channels, channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.up(x)
        cat = torch.cat([skip, up], dim=1)
        conv = self.conv(cat)
        return conv


class Unet(nn.Module):
    """A small U-Net (Ronneberger et al., 2015) for 1x64x64 images, with padded
    convolutions and batch norm. The encoder's outputs cross into the decoder through
    the two-input block 'Up'.

    Input (N, 1, 64, 64) -> output (N, 2, 64, 64); 482,466 parameters.
    """

    # Written per instance (values baked in): it uses block 'Down', which is written per
    # instance.

    def __init__(self) -> None:
        super().__init__()
        self.inc = DoubleConv(1, 16)
        self.down1 = Down()
        self.down2 = Down2()
        self.down3 = Down3()
        self.up1 = Up(128, [[128, 8, 8], [64, 16, 16]], 64)
        self.up2 = Up(64, [[64, 16, 16], [32, 32, 32]], 32)
        self.up3 = Up(32, [[32, 32, 32], [16, 64, 64]], 16)
        self.outc = nn.Conv2d(16, 2, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inc = self.inc(x)
        down1 = self.down1(inc)
        down2 = self.down2(down1)
        down3 = self.down3(down2)
        up1 = self.up1(down3, down2)
        up2 = self.up2(up1, down1)
        up3 = self.up3(up2, inc)
        outc = self.outc(up3)
        return outc
