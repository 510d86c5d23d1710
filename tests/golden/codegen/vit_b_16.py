"""VitB16: PyTorch source written by archspec 0.2.0.

Spec: vit_b_16.yaml. Parameters: image_size=224, patch_size=16, hidden_dim=768,
num_layers=12, num_heads=12, mlp_dim=3072, num_classes=1000, dropout=0.0,
attention_dropout=0.0, seq_length=197, patch_remainder=0.
"""

from collections import OrderedDict

import torch
from torch import nn

__all__ = ["VitB16"]


class EncoderBlock(nn.Module):
    """EncoderBlock(num_heads=12, mlp_dim=3072, dropout=0.0, attention_dropout=0.0).

    torchvision's EncoderBlock: x = input + dropout(self_attention(ln_1(input))), then x
    + mlp(ln_2(x)), the MLP being Linear, GELU, Dropout, Linear, Dropout (keys mlp.0,
    mlp.3).
    """

    # Written per instance (values baked in): a size depends on the parameter 'mlp_dim'
    # through a step codegen cannot follow.

    def __init__(self) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(768, eps=1e-06)
        self.self_attention = nn.MultiheadAttention(
            embed_dim=768,
            num_heads=12,
            dropout=0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(p=0.0)
        self.ln_2 = nn.LayerNorm(768, eps=1e-06)
        self.mlp = nn.Sequential(
            nn.Linear(768, 3072),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(3072, 768),
            nn.Dropout(p=0.0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ln_1 = self.ln_1(x)
        self_attention = self.self_attention(ln_1, ln_1, ln_1, need_weights=False)[0]
        dropout = self.dropout(self_attention)
        attended = dropout + x
        ln_2 = self.ln_2(attended)
        mlp = self.mlp(ln_2)
        add = attended + mlp
        return add


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(
            torch.nn.init.normal_(torch.empty(1, 197, 768), mean=0.0, std=0.02),
        )
        self.dropout = nn.Dropout(p=0.0)
        self.layers = nn.Sequential(
            OrderedDict(
                encoder_layer_0=EncoderBlock(),
                encoder_layer_1=EncoderBlock(),
                encoder_layer_2=EncoderBlock(),
                encoder_layer_3=EncoderBlock(),
                encoder_layer_4=EncoderBlock(),
                encoder_layer_5=EncoderBlock(),
                encoder_layer_6=EncoderBlock(),
                encoder_layer_7=EncoderBlock(),
                encoder_layer_8=EncoderBlock(),
                encoder_layer_9=EncoderBlock(),
                encoder_layer_10=EncoderBlock(),
                encoder_layer_11=EncoderBlock(),
            ),
        )
        self.ln = nn.LayerNorm(768, eps=1e-06)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embedded = x + self.pos_embedding
        dropout = self.dropout(embedded)
        layers = self.layers(dropout)
        ln = self.ln(layers)
        return ln


class VitB16(nn.Module):
    """ViT-B/16 (Dosovitskiy et al., 2021) as torchvision.models.vit_b_16() builds it:
    the same modules, names and state_dict keys (torchvision's weights load with
    strict=True). The image is cut into 16x16 patches by a strided conv, a learned class
    token is prepended, a learned position embedding added, and 12 pre-norm encoder
    blocks (self-attention, then an MLP) run over the 197 tokens; the head reads the
    class token. Change the params for other sizes (ViT-L/16: hidden_dim 1024,
    num_layers 24, num_heads 16, mlp_dim 4096).

    Input (N, 3, 224, 224) -> output (N, 1000); 86,567,656 parameters.
    """

    # Written per instance (values baked in): its group 'encoder' is not a chain.

    def __init__(self) -> None:
        super().__init__()
        self.conv_proj = nn.Conv2d(3, 768, kernel_size=16, stride=16)
        self.patches = nn.Flatten(start_dim=2)
        self.class_token = nn.Parameter(torch.zeros(1, 1, 768))
        self.encoder = Encoder()
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(768, 1000)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv_proj = self.conv_proj(x)
        patches = self.patches(conv_proj)
        tokens = patches.permute(0, 2, 1)
        batch_class_token = self.class_token.expand(tokens.shape[0], -1, -1)
        sequence = torch.cat([batch_class_token, tokens], dim=1)
        encoder = self.encoder(sequence)
        class_state = encoder.select(1, 0)
        heads = self.heads(class_state)
        return heads
