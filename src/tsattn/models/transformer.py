"""A Transformer encoder over patches, with attention pooling exposed per time step."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..layers import AdditiveAttention, apply_mask, upsample_attention
from ._base import TSClassifierNet
from ._registry import register_model


class _SinusoidalPosition(nn.Module):
    pe: torch.Tensor

    def __init__(self, d_model: int, max_len: int = 100_000) -> None:
        super().__init__()
        pos = torch.arange(max_len)[:, None]
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.pe[: h.shape[1]]  # (B, N, D)


@register_model
class Transformer(TSClassifierNet):
    """Patch embedding -> sinusoidal positions -> Transformer encoder -> additive attention pooling.

    Self-attention costs O(N^2) in the number of tokens ``N = ceil(T / patch_size)``;
    patches keep that term small (``patch_size=10``: 50 tokens for T=500).
    The pooling weights over tokens are spread back onto the input's steps.
    """

    name = "transformer"
    length_offsets = True  # create_network adds logit offsets from each series' length
    # The patch padding is computed from T in Python, which ONNX tracing freezes: exports fix the time axis.
    onnx_dynamic_time = False

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        patch_size: int = 10,
        dropout: float = 0.0,
        attn_dim: int = 64,
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        self.patch_size = patch_size
        self.embed = nn.Conv1d(n_channels, d_model, kernel_size=patch_size, stride=patch_size)
        self.position = _SinusoidalPosition(d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=2 * d_model, dropout=dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.attention = AdditiveAttention(d_model, attn_dim)
        self.head = nn.Linear(d_model, self.n_outputs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        T = x.shape[-1]
        pad = (-T) % self.patch_size
        x = apply_mask(x, mask)
        if pad:
            x = nn.functional.pad(x, (0, pad))  # (B, C, T + pad)
        tokens = self.embed(x).transpose(1, 2)  # (B, N, D)
        token_mask = None
        if mask is not None:
            m = nn.functional.pad(mask, (0, pad)) if pad else mask
            token_mask = m[:, :: self.patch_size]  # a token is real if its first step is
        h = self.encoder(self.position(tokens), src_key_padding_mask=None if token_mask is None else ~token_mask)
        context, alpha = self.attention(self.norm(h), token_mask)  # (B, D), (B, N)
        fine = upsample_attention(alpha, T + pad, pool=self.patch_size)[:, :T]  # (B, T)
        if mask is not None:
            fine = fine * mask.to(fine.dtype)
        fine = fine / fine.sum(-1, keepdim=True).clamp_min(1e-12)
        return self.head(context), fine
