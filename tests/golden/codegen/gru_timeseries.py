"""GruTimeseries: PyTorch source written by archspec 0.2.0.

Spec: gru_timeseries.yaml. Parameters: window=96, features=8, hidden_size=64,
horizon=12.
"""

import torch
from torch import nn

__all__ = ["GruTimeseries"]


class GruTimeseries(nn.Module):
    """A multi-step forecaster for a multivariate time series: a two-layer GRU reads a
    window of past steps, and an MLP head maps its output at the last step to the next
    `horizon` values of the target, as tests/test_recurrent_specs.py's reference class
    writes it by hand.

    Input (N, 96, 8) -> output (N, 12); 41,644 parameters.
    """

    # Written per instance (values baked in): a size depends on the parameter
    # 'hidden_size' through a step codegen cannot follow.

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(
            input_size=8,
            hidden_size=64,
            num_layers=2,
            dropout=0.1,
            batch_first=True,
        )
        self.head = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 12))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gru = self.gru(x)
        last_step = gru[0].select(1, -1)
        head = self.head(last_step)
        return head
