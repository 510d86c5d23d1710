"""SwinT: PyTorch source written by archspec 0.2.0.

Spec: swin_t.yaml. Parameters: num_classes=1000, image_size=[224, 224], patch_size=[4,
4], embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], window_size=[7, 7],
mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0, stochastic_depth_prob=0.2,
first_block=[0, 2, 4, 10], total_blocks=12.
"""

import torch
import torchvision.ops
from torch import nn

__all__ = ["SwinT"]


class Group(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add_module("0", nn.Conv2d(3, 96, kernel_size=(4, 4), stride=(4, 4)))
        self.add_module("2", nn.LayerNorm((96,)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = getattr(self, "0")(x)
        x1 = x0.permute(0, 2, 3, 1)
        x2 = getattr(self, "2")(x1)
        return x2


class ShiftedWindowAttention(nn.Module):
    """ShiftedWindowAttention(num_heads=3, window_size=[7, 7], shift_size=[0, 0],
    dropout=0.0, attention_dropout=0.0, dim=96, padded=[56, 56], padding=False,
    shift=[0, 0], shifted=False, grid=[8, 8], windows=64, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 3),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.qkv = nn.Linear(96, 288)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(96, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 3)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        window_grid = x.reshape(x.shape[0], 8, 7, 8, 7, 96)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 64, 49, 96)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 64, 49, 3, 3, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        softmax = self.softmax(biased)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 64, 49, 96)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 8, 8, 7, 7, 96)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 56, 56, 96)
        return tiles


class SwinTransformerBlock(nn.Module):
    """SwinTransformerBlock(num_heads=3, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.0, mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((96,))
        self.attn = ShiftedWindowAttention()
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.0, mode="row")
        self.norm2 = nn.LayerNorm((96,))
        self.mlp = nn.Sequential(
            nn.Linear(96, 384),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(384, 96),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(p=0.0, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class ShiftedWindowAttention2(nn.Module):
    """ShiftedWindowAttention(num_heads=3, window_size=[7, 7], shift_size=[3, 3],
    dropout=0.0, attention_dropout=0.0, dim=96, padded=[56, 56], padding=False,
    shift=[3, 3], shifted=True, grid=[8, 8], windows=64, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 3),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.register_buffer(
            "rows",
            torch.arange(56, dtype=torch.int64),
            persistent=False,
        )
        self.register_buffer(
            "columns",
            torch.arange(56, dtype=torch.int64),
            persistent=False,
        )
        self.qkv = nn.Linear(96, 288)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(96, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 3)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        rows_wrapped = torch.ge(self.rows, 53)
        columns_wrapped = torch.ge(self.columns, 53)
        rows_wrapped_column = rows_wrapped.unsqueeze(1)
        row_region = rows_wrapped_column * 2
        region = row_region + columns_wrapped
        region_grid = region.reshape(8, 7, 8, 7)
        region_order = region_grid.permute(0, 2, 1, 3)
        region_windows = region_order.reshape(64, 49)
        region_keys = region_windows.unsqueeze(1)
        region_queries = region_windows.unsqueeze(2)
        across_seam = torch.ne(region_keys, region_queries)
        mask_values = across_seam * -100.0
        attn_mask = mask_values.unsqueeze(1)
        shifted_input = x.roll([-3, -3], [1, 2])
        window_grid = shifted_input.reshape(shifted_input.shape[0], 8, 7, 8, 7, 96)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 64, 49, 96)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 64, 49, 3, 3, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        masked = biased + attn_mask
        softmax = self.softmax(masked)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 64, 49, 96)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 8, 8, 7, 7, 96)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 56, 56, 96)
        unshifted = tiles.roll([3, 3], [1, 2])
        return unshifted


class SwinTransformerBlock2(nn.Module):
    """SwinTransformerBlock(num_heads=3, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.018181818181818184, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((96,))
        self.attn = ShiftedWindowAttention2()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.018181818181818184,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((96,))
        self.mlp = nn.Sequential(
            nn.Linear(96, 384),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(384, 96),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.018181818181818184,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class PatchMerging(nn.Module):
    """PatchMerging().

    Each 2x2 patch of a (H, W, C) map becomes one (H/2, W/2, 4C) token, torchvision's
    x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2,
    1::2, :] concatenated (an odd H or W is padded with zeros first); then LayerNorm and
    a Linear to 2C. (torchvision registers reduction before norm, so its state_dict
    lists them in that order; the keys are the same.)
    """

    # Written per instance (values baked in): its node at blocks.PatchMerging.layers.0
    # is built in no instance ('when' is false), so it is unchecked.

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm((384,))
        self.reduction = nn.Linear(384, 192, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        even_rows = x[..., 0::2, :, :]
        odd_rows = x[..., 1::2, :, :]
        x0 = even_rows[..., 0::2, :]
        x1 = odd_rows[..., 0::2, :]
        x2 = even_rows[..., 1::2, :]
        x3 = odd_rows[..., 1::2, :]
        patches = torch.cat([x0, x1, x2, x3], dim=-1)
        norm = self.norm(patches)
        reduction = self.reduction(norm)
        return reduction


class ShiftedWindowAttention3(nn.Module):
    """ShiftedWindowAttention(num_heads=6, window_size=[7, 7], shift_size=[0, 0],
    dropout=0.0, attention_dropout=0.0, dim=192, padded=[28, 28], padding=False,
    shift=[0, 0], shifted=False, grid=[4, 4], windows=16, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 6),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.qkv = nn.Linear(192, 576)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(192, 192)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 6)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        window_grid = x.reshape(x.shape[0], 4, 7, 4, 7, 192)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 16, 49, 192)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 16, 49, 3, 6, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        softmax = self.softmax(biased)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 16, 49, 192)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 4, 4, 7, 7, 192)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 28, 28, 192)
        return tiles


class SwinTransformerBlock3(nn.Module):
    """SwinTransformerBlock(num_heads=6, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.03636363636363637, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((192,))
        self.attn = ShiftedWindowAttention3()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.03636363636363637,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((192,))
        self.mlp = nn.Sequential(
            nn.Linear(192, 768),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(768, 192),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.03636363636363637,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class ShiftedWindowAttention4(nn.Module):
    """ShiftedWindowAttention(num_heads=6, window_size=[7, 7], shift_size=[3, 3],
    dropout=0.0, attention_dropout=0.0, dim=192, padded=[28, 28], padding=False,
    shift=[3, 3], shifted=True, grid=[4, 4], windows=16, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 6),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.register_buffer(
            "rows",
            torch.arange(28, dtype=torch.int64),
            persistent=False,
        )
        self.register_buffer(
            "columns",
            torch.arange(28, dtype=torch.int64),
            persistent=False,
        )
        self.qkv = nn.Linear(192, 576)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(192, 192)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 6)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        rows_wrapped = torch.ge(self.rows, 25)
        columns_wrapped = torch.ge(self.columns, 25)
        rows_wrapped_column = rows_wrapped.unsqueeze(1)
        row_region = rows_wrapped_column * 2
        region = row_region + columns_wrapped
        region_grid = region.reshape(4, 7, 4, 7)
        region_order = region_grid.permute(0, 2, 1, 3)
        region_windows = region_order.reshape(16, 49)
        region_keys = region_windows.unsqueeze(1)
        region_queries = region_windows.unsqueeze(2)
        across_seam = torch.ne(region_keys, region_queries)
        mask_values = across_seam * -100.0
        attn_mask = mask_values.unsqueeze(1)
        shifted_input = x.roll([-3, -3], [1, 2])
        window_grid = shifted_input.reshape(shifted_input.shape[0], 4, 7, 4, 7, 192)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 16, 49, 192)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 16, 49, 3, 6, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        masked = biased + attn_mask
        softmax = self.softmax(masked)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 16, 49, 192)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 4, 4, 7, 7, 192)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 28, 28, 192)
        unshifted = tiles.roll([3, 3], [1, 2])
        return unshifted


class SwinTransformerBlock4(nn.Module):
    """SwinTransformerBlock(num_heads=6, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.05454545454545456, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((192,))
        self.attn = ShiftedWindowAttention4()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.05454545454545456,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((192,))
        self.mlp = nn.Sequential(
            nn.Linear(192, 768),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(768, 192),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.05454545454545456,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class PatchMerging2(nn.Module):
    """PatchMerging().

    Each 2x2 patch of a (H, W, C) map becomes one (H/2, W/2, 4C) token, torchvision's
    x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2,
    1::2, :] concatenated (an odd H or W is padded with zeros first); then LayerNorm and
    a Linear to 2C. (torchvision registers reduction before norm, so its state_dict
    lists them in that order; the keys are the same.)
    """

    # Written per instance (values baked in): its node at blocks.PatchMerging.layers.0
    # is built in no instance ('when' is false), so it is unchecked.

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm((768,))
        self.reduction = nn.Linear(768, 384, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        even_rows = x[..., 0::2, :, :]
        odd_rows = x[..., 1::2, :, :]
        x0 = even_rows[..., 0::2, :]
        x1 = odd_rows[..., 0::2, :]
        x2 = even_rows[..., 1::2, :]
        x3 = odd_rows[..., 1::2, :]
        patches = torch.cat([x0, x1, x2, x3], dim=-1)
        norm = self.norm(patches)
        reduction = self.reduction(norm)
        return reduction


class ShiftedWindowAttention5(nn.Module):
    """ShiftedWindowAttention(num_heads=12, window_size=[7, 7], shift_size=[0, 0],
    dropout=0.0, attention_dropout=0.0, dim=384, padded=[14, 14], padding=False,
    shift=[0, 0], shifted=False, grid=[2, 2], windows=4, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 12),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.qkv = nn.Linear(384, 1152)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(384, 384)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 12)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        window_grid = x.reshape(x.shape[0], 2, 7, 2, 7, 384)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 4, 49, 384)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 4, 49, 3, 12, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        softmax = self.softmax(biased)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 4, 49, 384)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 2, 2, 7, 7, 384)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 14, 14, 384)
        return tiles


class SwinTransformerBlock5(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.07272727272727274, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention5()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.07272727272727274,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.07272727272727274,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class ShiftedWindowAttention6(nn.Module):
    """ShiftedWindowAttention(num_heads=12, window_size=[7, 7], shift_size=[3, 3],
    dropout=0.0, attention_dropout=0.0, dim=384, padded=[14, 14], padding=False,
    shift=[3, 3], shifted=True, grid=[2, 2], windows=4, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 12),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.register_buffer(
            "rows",
            torch.arange(14, dtype=torch.int64),
            persistent=False,
        )
        self.register_buffer(
            "columns",
            torch.arange(14, dtype=torch.int64),
            persistent=False,
        )
        self.qkv = nn.Linear(384, 1152)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(384, 384)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 12)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        rows_wrapped = torch.ge(self.rows, 11)
        columns_wrapped = torch.ge(self.columns, 11)
        rows_wrapped_column = rows_wrapped.unsqueeze(1)
        row_region = rows_wrapped_column * 2
        region = row_region + columns_wrapped
        region_grid = region.reshape(2, 7, 2, 7)
        region_order = region_grid.permute(0, 2, 1, 3)
        region_windows = region_order.reshape(4, 49)
        region_keys = region_windows.unsqueeze(1)
        region_queries = region_windows.unsqueeze(2)
        across_seam = torch.ne(region_keys, region_queries)
        mask_values = across_seam * -100.0
        attn_mask = mask_values.unsqueeze(1)
        shifted_input = x.roll([-3, -3], [1, 2])
        window_grid = shifted_input.reshape(shifted_input.shape[0], 2, 7, 2, 7, 384)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 4, 49, 384)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 4, 49, 3, 12, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        masked = biased + attn_mask
        softmax = self.softmax(masked)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 4, 49, 384)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 2, 2, 7, 7, 384)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 14, 14, 384)
        unshifted = tiles.roll([3, 3], [1, 2])
        return unshifted


class SwinTransformerBlock6(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.09090909090909091, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention6()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.09090909090909091,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.09090909090909091,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinTransformerBlock7(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.10909090909090911, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention5()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.10909090909090911,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.10909090909090911,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinTransformerBlock8(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.1272727272727273, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention6()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.1272727272727273,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.1272727272727273,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinTransformerBlock9(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.14545454545454548, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention5()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.14545454545454548,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.14545454545454548,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinTransformerBlock10(nn.Module):
    """SwinTransformerBlock(num_heads=12, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.16363636363636364, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((384,))
        self.attn = ShiftedWindowAttention6()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.16363636363636364,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((384,))
        self.mlp = nn.Sequential(
            nn.Linear(384, 1536),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(1536, 384),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.16363636363636364,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class PatchMerging3(nn.Module):
    """PatchMerging().

    Each 2x2 patch of a (H, W, C) map becomes one (H/2, W/2, 4C) token, torchvision's
    x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2,
    1::2, :] concatenated (an odd H or W is padded with zeros first); then LayerNorm and
    a Linear to 2C. (torchvision registers reduction before norm, so its state_dict
    lists them in that order; the keys are the same.)
    """

    # Written per instance (values baked in): its node at blocks.PatchMerging.layers.0
    # is built in no instance ('when' is false), so it is unchecked.

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm((1536,))
        self.reduction = nn.Linear(1536, 768, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        even_rows = x[..., 0::2, :, :]
        odd_rows = x[..., 1::2, :, :]
        x0 = even_rows[..., 0::2, :]
        x1 = odd_rows[..., 0::2, :]
        x2 = even_rows[..., 1::2, :]
        x3 = odd_rows[..., 1::2, :]
        patches = torch.cat([x0, x1, x2, x3], dim=-1)
        norm = self.norm(patches)
        reduction = self.reduction(norm)
        return reduction


class ShiftedWindowAttention7(nn.Module):
    """ShiftedWindowAttention(num_heads=24, window_size=[7, 7], shift_size=[0, 0],
    dropout=0.0, attention_dropout=0.0, dim=768, padded=[7, 7], padding=False, shift=[0,
    0], shifted=False, grid=[1, 1], windows=1, tokens=49).

    Multi-head self-attention within each window of a (H, W, C) map, torchvision's
    shifted_window_attention: a relative position bias per head, gathered from a learned
    table with a fixed index; with a shift, the map is rolled before the windows are cut
    and back after, and a mask keeps tokens from attending across the seams the roll
    made.
    """

    # Written per instance (values baked in): the construction of
    # 'relative_position_bias_table' differs between instances.

    def __init__(self) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(
            torch.nn.init.trunc_normal_(
                torch.empty(169, 24),
                mean=0.0,
                std=0.02,
                a=-2.0,
                b=2.0,
            ),
        )
        self.register_buffer(
            "relative_position_index",
            torch.reshape(
                (
                    (
                        torch.unsqueeze(
                            torch.flatten(
                                (
                                    (
                                        torch.unsqueeze(
                                            torch.arange(7, dtype=torch.int64),
                                            1,
                                        )
                                        * 13
                                    )
                                    + torch.arange(7, dtype=torch.int64)
                                ),
                            ),
                            1,
                        )
                        - torch.flatten(
                            (
                                (
                                    torch.unsqueeze(
                                        torch.arange(7, dtype=torch.int64),
                                        1,
                                    )
                                    * 13
                                )
                                + torch.arange(7, dtype=torch.int64)
                            ),
                        )
                    )
                    + 84
                ),
                (2401,),
            ),
        )
        self.qkv = nn.Linear(768, 2304)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(768, 768)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias_rows = self.relative_position_bias_table.index_select(
            0,
            self.relative_position_index,
        )
        bias_pairs = bias_rows.reshape(49, 49, 24)
        relative_position_bias = bias_pairs.permute(2, 0, 1)
        window_grid = x.reshape(x.shape[0], 1, 7, 1, 7, 768)
        window_order = window_grid.permute(0, 1, 3, 2, 4, 5)
        window_tokens = window_order.reshape(window_order.shape[0], 1, 49, 768)
        qkv = self.qkv(window_tokens)
        qkv_heads = qkv.reshape(qkv.shape[0], 1, 49, 3, 24, 32)
        qkv_first = qkv_heads.permute(0, 3, 1, 4, 2, 5)
        q_k_v = qkv_first.unbind(1)
        q = q_k_v[0] * 0.1767766952966369
        k_t = q_k_v[1].transpose(-2, -1)
        scores = torch.matmul(q, k_t)
        biased = scores + relative_position_bias
        softmax = self.softmax(biased)
        weighted = torch.matmul(softmax, q_k_v[2])
        heads_last = weighted.transpose(2, 3)
        merged = heads_last.reshape(heads_last.shape[0], 1, 49, 768)
        proj = self.proj(merged)
        tile_grid = proj.reshape(proj.shape[0], 1, 1, 7, 7, 768)
        tile_order = tile_grid.permute(0, 1, 3, 2, 4, 5)
        tiles = tile_order.reshape(tile_order.shape[0], 7, 7, 768)
        return tiles


class SwinTransformerBlock11(nn.Module):
    """SwinTransformerBlock(num_heads=24, window_size=[7, 7], shift_size=[0, 0],
    stochastic_depth_prob=0.18181818181818182, mlp_ratio=4.0, dropout=0.0,
    attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((768,))
        self.attn = ShiftedWindowAttention7()
        self.stochastic_depth = torchvision.ops.StochasticDepth(
            p=0.18181818181818182,
            mode="row",
        )
        self.norm2 = nn.LayerNorm((768,))
        self.mlp = nn.Sequential(
            nn.Linear(768, 3072),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(3072, 768),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(
            p=0.18181818181818182,
            mode="row",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinTransformerBlock12(nn.Module):
    """SwinTransformerBlock(num_heads=24, window_size=[7, 7], shift_size=[3, 3],
    stochastic_depth_prob=0.2, mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0).

    Pre-norm window attention and MLP (4x, GELU), each on a residual branch dropped per
    sample with stochastic_depth_prob. torchvision calls one StochasticDepth module on
    both branches; here the MLP branch has its own, stochastic_depth_mlp (no state, the
    same draws).
    """

    # Written per instance (values baked in): it uses block 'ShiftedWindowAttention',
    # which is written per instance.

    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm((768,))
        self.attn = ShiftedWindowAttention7()
        self.stochastic_depth = torchvision.ops.StochasticDepth(p=0.2, mode="row")
        self.norm2 = nn.LayerNorm((768,))
        self.mlp = nn.Sequential(
            nn.Linear(768, 3072),
            nn.GELU(),
            nn.Dropout(p=0.0),
            nn.Linear(3072, 768),
            nn.Dropout(p=0.0),
        )
        self.stochastic_depth_mlp = torchvision.ops.StochasticDepth(p=0.2, mode="row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm1 = self.norm1(x)
        attn = self.attn(norm1)
        stochastic_depth = self.stochastic_depth(attn)
        attn_residual = x + stochastic_depth
        norm2 = self.norm2(attn_residual)
        mlp = self.mlp(norm2)
        stochastic_depth_mlp = self.stochastic_depth_mlp(mlp)
        mlp_residual = attn_residual + stochastic_depth_mlp
        return mlp_residual


class SwinT(nn.Module):
    """Swin-T (Liu et al., 2021) as torchvision.models.swin_t() builds it: the same
    modules, names and state_dict keys (torchvision's weights load with strict=True),
    written with tensor operations. Attention runs inside 7x7 windows; every second
    block rolls the map by half a window first and masks the pairs of tokens the roll
    brought together; each head adds a learned bias read from a table by the tokens'
    relative position; patch merging halves the map between stages.

    Input (N, 3, 224, 224) -> output (N, 1000); 28,288,354 parameters.
    """

    # Written per instance (values baked in): its group '0' holds a functional node.

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Group(),
            nn.Sequential(SwinTransformerBlock(), SwinTransformerBlock2()),
            PatchMerging(),
            nn.Sequential(SwinTransformerBlock3(), SwinTransformerBlock4()),
            PatchMerging2(),
            nn.Sequential(
                SwinTransformerBlock5(),
                SwinTransformerBlock6(),
                SwinTransformerBlock7(),
                SwinTransformerBlock8(),
                SwinTransformerBlock9(),
                SwinTransformerBlock10(),
            ),
            PatchMerging3(),
            nn.Sequential(SwinTransformerBlock11(), SwinTransformerBlock12()),
        )
        self.norm = nn.LayerNorm((768,))
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=1)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(768, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)
        norm = self.norm(features)
        permute = norm.permute(0, 3, 1, 2)
        avgpool = self.avgpool(permute)
        flatten = self.flatten(avgpool)
        head = self.head(flatten)
        return head
