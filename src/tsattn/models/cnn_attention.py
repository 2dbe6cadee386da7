"""A convolutional encoder with additive attention pooling: the fast attention model."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..layers import MaskedBatchNorm1d, apply_mask, pool_time
from ._pooling import PooledOverTime, build_pooling, pool_over_time
from ._registry import register_model


class _ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.norm = MaskedBatchNorm1d(c_out)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        # Re-mask after every layer so padding stays zero, as "same" zero padding would see it.
        return apply_mask(torch.relu(self.norm(self.conv(x), mask)), mask)


@register_model
class CNNAttention(PooledOverTime):
    """Dilated 1-D convolutions over the input pooled by 2 (``pool``) -> additive attention over time -> linear head.

    ``channels`` sets the width of each block; ``dilations`` their dilation,
    so the receptive field grows geometrically at a constant cost per step.
    ``pool`` > 1 averages the input over windows of that many steps first
    (faster), and the attention is spread back onto the input's ``T`` steps.
    The defaults (4 x 16 channels, pool 2; receptive field 121 input steps)
    reach 1.000 on the seed task with the model's recipe, 8 epochs in 66 s
    of training on 2 CPU cores (``benchmarks/results/models_seed_smoothing.json``).

    ``pooling="conjunctive"`` pools with MILLET's class-specific gate instead
    (:mod:`tsattn.models._pooling`; ``positional_encoding`` adds its fixed
    position encoding), and :meth:`class_relevance` gives each step's share
    of each class's logit. ``pooling="average"`` pools with global average
    pooling (FCN's), its class map the class activation map;
    ``pooling="attention_average"`` adds the logits of both poolings.
    """

    name = "cnn_attention"
    length_offsets = True  # create_network adds logit offsets from each series' length

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        channels: tuple[int, ...] = (16, 16, 16, 16),
        kernel_size: int = 5,
        dilations: tuple[int, ...] = (1, 2, 4, 8),
        attn_dim: int = 64,
        pool: int = 2,
        pooling: str = "attention",
        positional_encoding: bool = True,
        attention_floor: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        if len(channels) != len(dilations):
            raise ValueError(
                f"channels and dilations must have the same length; got {len(channels)} and {len(dilations)}"
            )
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (to keep every step centred); got {kernel_size}")
        self.pool = pool
        widths = (n_channels, *channels)
        self.blocks = nn.ModuleList(
            _ConvBlock(widths[i], widths[i + 1], kernel_size, d) for i, d in enumerate(dilations)
        )
        self.pooling = pooling
        self.attention, self.head = build_pooling(
            pooling,
            channels[-1],
            self.n_outputs,
            attn_dim,
            positional_encoding=positional_encoding,
            attention_floor=attention_floor,
            attention_dropout=attention_dropout,
        )

    def _pooled(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, Any, Any]:
        h, coarse_mask = pool_time(apply_mask(x, mask), mask, self.pool)  # (B, C, T/pool)
        for block in self.blocks:
            h = block(h, coarse_mask)  # (B, F, T')
        return pool_over_time(self.attention, self.head, h, coarse_mask, x.shape[-1], mask, self.pool)
