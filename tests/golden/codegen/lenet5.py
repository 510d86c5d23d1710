"""Lenet5: PyTorch source written by archspec 0.2.0.

Spec: lenet5.yaml. Parameters: num_classes=10.
"""

import torch
from torch import nn

__all__ = ["Lenet5"]


class Lenet5(nn.Module):
    """LeNet-5 for 28x28 digits, as in the seed (padding 2 keeps the classic 32x32
    geometry).

    Input (N, 1, 28, 28) -> output (N, 10); 61,706 parameters.
    """

    def __init__(self, *, num_classes: int = 10) -> None:
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
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x
