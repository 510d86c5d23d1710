"""ConvVariants: PyTorch source written by archspec 0.2.0.

Spec: conv_variants.yaml.
"""

import torch
from torch import nn

__all__ = ["ConvVariants"]


class ConvVariants(nn.Module):
    """The seed's convolution and pooling variants side by side on one 3x224x224 input
    (padding, stride, 'same'/'valid', dilation), then grouped and depthwise convs and
    every pooling flavour on a 64x56x56 feature map; the branches are concatenated.

    Input (N, 3, 224, 224) -> output (N, 10); 172,618 parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.p1_s1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1)
        self.p1_s2 = nn.Conv2d(3, 64, kernel_size=3, stride=2, padding=1)
        self.k7_s2_p3 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.same = nn.Conv2d(3, 64, kernel_size=3, padding="same")
        self.valid = nn.Conv2d(3, 64, kernel_size=3, padding="valid")
        self.dilated = nn.Conv2d(3, 64, kernel_size=3, padding=2, dilation=2)
        self.reflect = nn.Conv2d(
            3,
            64,
            kernel_size=3,
            padding=1,
            padding_mode="reflect",
        )
        self.full_to_56 = nn.AvgPool2d(kernel_size=4, stride=4)
        self.half_to_56 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.valid_to_56 = nn.AdaptiveAvgPool2d(output_size=56)
        self.reduce = nn.Conv2d(448, 64, kernel_size=1)
        self.normal = nn.Conv2d(64, 128, kernel_size=3, padding=1, groups=1)
        self.grouped = nn.Conv2d(64, 128, kernel_size=3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(64, 64, kernel_size=3, padding=1, groups=64)
        self.pointwise = nn.Conv2d(64, 128, kernel_size=1)
        self.maxpool_2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.maxpool_3 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.avgpool_2 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.adaptive_max = nn.AdaptiveMaxPool2d(output_size=(7, 7))
        self.adaptive_avg = nn.AdaptiveAvgPool2d(output_size=(7, 7))
        self.adaptive_avg2 = nn.AdaptiveAvgPool2d(output_size=(7, 7))
        self.global_avg = nn.AdaptiveAvgPool2d(output_size=1)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(384, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1_s1 = self.p1_s1(x)
        p1_s2 = self.p1_s2(x)
        k7_s2_p3 = self.k7_s2_p3(x)
        same = self.same(x)
        valid = self.valid(x)
        dilated = self.dilated(x)
        reflect = self.reflect(x)
        full_res = torch.cat([p1_s1, same, dilated, reflect], dim=1)
        half_res = torch.cat([p1_s2, k7_s2_p3], dim=1)
        full_to_56 = self.full_to_56(full_res)
        half_to_56 = self.half_to_56(half_res)
        valid_to_56 = self.valid_to_56(valid)
        mixed = torch.cat([full_to_56, half_to_56, valid_to_56], dim=1)
        reduce = self.reduce(mixed)
        normal = self.normal(reduce)
        grouped = self.grouped(reduce)
        depthwise = self.depthwise(reduce)
        pointwise = self.pointwise(depthwise)
        maxpool_2 = self.maxpool_2(normal)
        maxpool_3 = self.maxpool_3(grouped)
        avgpool_2 = self.avgpool_2(pointwise)
        adaptive_max = self.adaptive_max(maxpool_2)
        adaptive_avg = self.adaptive_avg(maxpool_3)
        adaptive_avg2 = self.adaptive_avg2(avgpool_2)
        branches = torch.cat([adaptive_max, adaptive_avg, adaptive_avg2], dim=1)
        global_avg = self.global_avg(branches)
        flatten = self.flatten(global_avg)
        head = self.head(flatten)
        return head
