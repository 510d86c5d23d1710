"""ConvnextTiny: PyTorch source written by archspec 0.2.0.

Spec: convnext_tiny.yaml. Parameters: num_classes=1000, dims=[96, 192, 384, 768],
depths=[3, 3, 9, 3], layer_scale=1e-06, stochastic_depth_prob=0.1, first_block=[0, 3, 6,
15], total_blocks=18.
"""

import torch
import torchvision.ops
from torch import nn

__all__ = ["ConvnextTiny"]


class Group(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(3, 96, kernel_size=4, stride=4))
        self.add_module("1", nn.LayerNorm((96,), eps=1e-06))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1_channels_last = x0.permute(0, 2, 3, 1)
        x1 = getattr(self, "1")(x1_channels_last)
        x1_channels_first = x1.permute(0, 3, 1, 2)
        return x1_channels_first


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(96, 96, kernel_size=7, padding=3, groups=96))
        self.add_module("2", nn.LayerNorm((96,), eps=1e-06))
        self.add_module("3", nn.Linear(96, 384))
        self.add_module("4", nn.GELU())
        self.add_module("5", nn.Linear(384, 96))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1 = x0.permute(0, 2, 3, 1)
        x2 = getattr(self, "2")(x1)
        x3 = getattr(self, "3")(x2)
        x4 = getattr(self, "4")(x3)
        x5 = getattr(self, "5")(x4)
        x6 = x5.permute(0, 3, 1, 2)
        return x6


class CNBlock(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.0).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.layer_scale = nn.Parameter(
            torch.full((96, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.0, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock2(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.0058823529411764705).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.layer_scale = nn.Parameter(
            torch.full((96, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.0058823529411764705,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock3(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.011764705882352941).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.layer_scale = nn.Parameter(
            torch.full((96, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.011764705882352941,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class Group2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.LayerNorm((96,), eps=1e-06))
        self.add_module("1", nn.Conv2d(96, 192, kernel_size=2, stride=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0_channels_last = x.permute(0, 2, 3, 1)
        x0 = getattr(self, "0")(x0_channels_last)
        x0_channels_first = x0.permute(0, 3, 1, 2)
        x1 = getattr(self, "1")(x0_channels_first)
        return x1


class Block2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(192, 192, kernel_size=7, padding=3, groups=192))
        self.add_module("2", nn.LayerNorm((192,), eps=1e-06))
        self.add_module("3", nn.Linear(192, 768))
        self.add_module("4", nn.GELU())
        self.add_module("5", nn.Linear(768, 192))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1 = x0.permute(0, 2, 3, 1)
        x2 = getattr(self, "2")(x1)
        x3 = getattr(self, "3")(x2)
        x4 = getattr(self, "4")(x3)
        x5 = getattr(self, "5")(x4)
        x6 = x5.permute(0, 3, 1, 2)
        return x6


class CNBlock4(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.017647058823529415).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block2()
        self.layer_scale = nn.Parameter(
            torch.full((192, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.017647058823529415,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock5(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.023529411764705882).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block2()
        self.layer_scale = nn.Parameter(
            torch.full((192, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.023529411764705882,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock6(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.029411764705882353).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block2()
        self.layer_scale = nn.Parameter(
            torch.full((192, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.029411764705882353,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class Group3(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.LayerNorm((192,), eps=1e-06))
        self.add_module("1", nn.Conv2d(192, 384, kernel_size=2, stride=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0_channels_last = x.permute(0, 2, 3, 1)
        x0 = getattr(self, "0")(x0_channels_last)
        x0_channels_first = x0.permute(0, 3, 1, 2)
        x1 = getattr(self, "1")(x0_channels_first)
        return x1


class Block3(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(384, 384, kernel_size=7, padding=3, groups=384))
        self.add_module("2", nn.LayerNorm((384,), eps=1e-06))
        self.add_module("3", nn.Linear(384, 1536))
        self.add_module("4", nn.GELU())
        self.add_module("5", nn.Linear(1536, 384))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1 = x0.permute(0, 2, 3, 1)
        x2 = getattr(self, "2")(x1)
        x3 = getattr(self, "3")(x2)
        x4 = getattr(self, "4")(x3)
        x5 = getattr(self, "5")(x4)
        x6 = x5.permute(0, 3, 1, 2)
        return x6


class CNBlock7(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.03529411764705883).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.03529411764705883,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock8(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.0411764705882353).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.0411764705882353,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock9(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.047058823529411764).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.047058823529411764,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock10(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.052941176470588235).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.052941176470588235,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock11(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.058823529411764705).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.058823529411764705,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock12(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.06470588235294118).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.06470588235294118,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock13(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.07058823529411766).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.07058823529411766,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock14(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.07647058823529412).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.07647058823529412,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock15(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.0823529411764706).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block3()
        self.layer_scale = nn.Parameter(
            torch.full((384, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.0823529411764706,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class Group4(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.LayerNorm((384,), eps=1e-06))
        self.add_module("1", nn.Conv2d(384, 768, kernel_size=2, stride=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0_channels_last = x.permute(0, 2, 3, 1)
        x0 = getattr(self, "0")(x0_channels_last)
        x0_channels_first = x0.permute(0, 3, 1, 2)
        x1 = getattr(self, "1")(x0_channels_first)
        return x1


class Block4(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(768, 768, kernel_size=7, padding=3, groups=768))
        self.add_module("2", nn.LayerNorm((768,), eps=1e-06))
        self.add_module("3", nn.Linear(768, 3072))
        self.add_module("4", nn.GELU())
        self.add_module("5", nn.Linear(3072, 768))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1 = x0.permute(0, 2, 3, 1)
        x2 = getattr(self, "2")(x1)
        x3 = getattr(self, "3")(x2)
        x4 = getattr(self, "4")(x3)
        x5 = getattr(self, "5")(x4)
        x6 = x5.permute(0, 3, 1, 2)
        return x6


class CNBlock16(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.08823529411764706).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block4()
        self.layer_scale = nn.Parameter(
            torch.full((768, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.08823529411764706,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock17(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.09411764705882353).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block4()
        self.layer_scale = nn.Parameter(
            torch.full((768, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.09411764705882353,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class CNBlock18(nn.Module):
    """CNBlock(layer_scale=1e-06, stochastic_depth_prob=0.1).

    Depthwise 7x7 conv, then channels-last LayerNorm and an inverted MLP (4x, GELU),
    scaled per channel by a learned layer_scale; the branch is dropped per sample with
    stochastic_depth_prob and added to the input.
    """

    # Written per instance (values baked in): its group 'block' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.block = Block4()
        self.layer_scale = nn.Parameter(
            torch.full((768, 1, 1), 1e-06, dtype=torch.float32),
        )
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.1, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block(x)
        scaled = self.layer_scale * block
        stochastic_depth = self.stochastic_depth(scaled)
        add = stochastic_depth + x
        return add


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.LayerNorm((768,), eps=1e-06))
        self.add_module("1", nn.Flatten())
        self.add_module("2", nn.Linear(768, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0_channels_last = x.permute(0, 2, 3, 1)
        x0 = getattr(self, "0")(x0_channels_last)
        x0_channels_first = x0.permute(0, 3, 1, 2)
        x1 = getattr(self, "1")(x0_channels_first)
        x2 = getattr(self, "2")(x1)
        return x2


class ConvnextTiny(nn.Module):
    """ConvNeXt-T (Liu et al., 2022) as torchvision.models.convnext_tiny() builds it:
    the same modules, names and state_dict keys (torchvision's weights load with
    strict=True), the learned layer scale, and stochastic depth on every residual branch
    at torchvision's per-block probabilities.

    Input (N, 3, 224, 224) -> output (N, 1000); 28,589,128 parameters.
    """

    # Written per instance (values baked in): its group '0' holds a node with 'when',
    # 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Group(),
            nn.Sequential(CNBlock(), CNBlock2(), CNBlock3()),
            Group2(),
            nn.Sequential(CNBlock4(), CNBlock5(), CNBlock6()),
            Group3(),
            nn.Sequential(
                CNBlock7(),
                CNBlock8(),
                CNBlock9(),
                CNBlock10(),
                CNBlock11(),
                CNBlock12(),
                CNBlock13(),
                CNBlock14(),
                CNBlock15(),
            ),
            Group4(),
            nn.Sequential(CNBlock16(), CNBlock17(), CNBlock18()),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.classifier = Classifier()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = self.classifier(x)
        return x
