"""MnistCnn: PyTorch source written by archspec 0.2.0.

Spec: mnist_cnn.yaml. Parameters: num_classes=10.
"""

import torch
from torch import nn

__all__ = ["MnistCnn"]


class MnistCnn(nn.Module):
    """The seed's complete MNIST CNN: two stages of (Conv-BN-ReLU) x2, max-pool and
    Dropout2d, then Linear-BatchNorm1d-ReLU-Dropout-Linear.

    Input (N, 1, 28, 28) -> output (N, 10); 468,458 parameters.
    """

    # Written per instance (values baked in): its group 'features' holds a node with
    # 'when', 'inputs' or 'inline'.

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Dropout2d(p=0.25),
            nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Dropout2d(p=0.25),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(3136, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x
