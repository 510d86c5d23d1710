"""LstmClassifier: PyTorch source written by archspec 0.2.0.

Spec: lstm_classifier.yaml. Parameters: vocab_size=10000, seq_len=100, embed_dim=128,
hidden_size=128, num_classes=4, dropout=0.3.
"""

import torch
from torch import nn

__all__ = ["LstmClassifier"]


class LstmClassifier(nn.Module):
    """A text classifier: token embeddings, a bidirectional two-layer LSTM, and a Linear
    on the final hidden states of the last layer (forward and backward direction,
    concatenated), as tests/test_recurrent_specs.py's reference class writes it by hand.

    Input (N, 100) int64 in [0, 10000) -> output (N, 4); 1,940,484 parameters.
    """

    # Written per instance (values baked in): a size depends on the parameter
    # 'embed_dim' through a step codegen cannot follow.

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10000, embedding_dim=128, padding_idx=0)
        self.lstm = nn.LSTM(
            input_size=128,
            hidden_size=128,
            num_layers=2,
            dropout=0.3,
            bidirectional=True,
            batch_first=True,
        )
        self.features = nn.Flatten()
        self.dropout = nn.Dropout(p=0.3)
        self.fc = nn.Linear(256, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embedding = self.embedding(x)
        lstm = self.lstm(embedding)
        last_hidden = lstm[1][0].transpose(0, 1)[:, -2:]
        features = self.features(last_hidden)
        dropout = self.dropout(features)
        fc = self.fc(dropout)
        return fc
