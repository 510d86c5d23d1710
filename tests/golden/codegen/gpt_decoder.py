"""GptDecoder: PyTorch source written by archspec 0.2.0.

Spec: gpt_decoder.yaml. Parameters: vocab_size=65, block_size=64, n_layer=4, n_head=4,
n_embd=128, dropout=0.0, bias=False.
"""

from collections import OrderedDict

import torch
from torch import nn

__all__ = ["GptDecoder"]


class CausalSelfAttention(nn.Module):
    """CausalSelfAttention(n_head=4, dropout=0.0, bias=False).

    One Linear makes query, key and value for all heads; each becomes (n_head, T, head
    size); scaled_dot_product_attention with is_causal (each position sees itself and
    earlier ones); the heads are merged back to (T, C) and projected.
    """

    # Written per instance (values baked in): the forward of 'qkv' depends on a
    # parameter.

    def __init__(self) -> None:
        super().__init__()
        self.c_attn = nn.Linear(128, 384, bias=False)
        self.c_proj = nn.Linear(128, 128, bias=False)
        self.resid_dropout = nn.Dropout(p=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c_attn = self.c_attn(x)
        qkv = c_attn.split(128, 2)
        q_heads = qkv[0].reshape(qkv[0].shape[0], 64, 4, -1)
        q = q_heads.transpose(1, 2)
        k_heads = qkv[1].reshape(qkv[1].shape[0], 64, 4, -1)
        k = k_heads.transpose(1, 2)
        v_heads = qkv[2].reshape(qkv[2].shape[0], 64, 4, -1)
        v = v_heads.transpose(1, 2)
        y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        y_heads_last = y.transpose(1, 2)
        y_merged = y_heads_last.reshape(y_heads_last.shape[0], 64, 128)
        c_proj = self.c_proj(y_merged)
        resid_dropout = self.resid_dropout(c_proj)
        return resid_dropout


class Block(nn.Module):
    """Block(n_head=4, dropout=0.0, bias=False).

    x + attn(ln_1(x)), then x + mlp(ln_2(x))
    """

    # Written per instance (values baked in): it uses block 'CausalSelfAttention', which
    # is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm((128,), bias=False)
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm((128,), bias=False)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(128, 512, bias=False),
                gelu=nn.GELU(),
                c_proj=nn.Linear(512, 128, bias=False),
                dropout=nn.Dropout(p=0.0),
            ),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ln_1 = self.ln_1(x)
        attn = self.attn(ln_1)
        attn_residual = x + attn
        ln_2 = self.ln_2(attn_residual)
        mlp = self.mlp(ln_2)
        mlp_residual = attn_residual + mlp
        return mlp_residual


class Transformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wte = nn.Embedding(65, embedding_dim=128)
        self.register_buffer(
            "pos",
            torch.arange(64, dtype=torch.int64),
            persistent=False,
        )
        self.wpe = nn.Embedding(64, embedding_dim=128)
        self.drop = nn.Dropout(p=0.0)
        self.h = nn.Sequential(Block(), Block(), Block(), Block())
        self.ln_f = nn.LayerNorm((128,), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wte = self.wte(x)
        wpe = self.wpe(self.pos)
        embedded = wte + wpe
        drop = self.drop(embedded)
        h = self.h(drop)
        ln_f = self.ln_f(h)
        return ln_f


class GptDecoder(nn.Module):
    """A decoder-only language model as nanoGPT's model.py writes it (Karpathy's GPT):
    token and learned position embeddings, n_layer pre-norm blocks of causal
    self-attention (one Linear to query, key and value, heads,
    scaled_dot_product_attention with is_causal) and a GELU MLP, a final LayerNorm and a
    linear head to next-token logits for every position. The same modules and state_dict
    keys as nanoGPT's GPT (transformer.wte.weight, transformer.h.0.attn.c_attn.weight,
    ..., lm_head.weight): its weights load with strict=True. The default sizes are a
    small character-level model that trains on a CPU (nanoGPT's shakespeare_char has
    block_size 256, 6 layers, 6 heads, 384 features).

    Inputs (in forward's order): idx (N, 64) int64 in [0, 65). Outputs (one tensor):
    output (N, 64, 65); 812,416 parameters.
    """

    # Written per instance (values baked in): its group 'transformer' is not a chain.

    def __init__(self) -> None:
        super().__init__()
        self.transformer = Transformer()
        self.lm_head = nn.Linear(128, 65, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        transformer = self.transformer(idx)
        lm_head = self.lm_head(transformer)
        return lm_head
