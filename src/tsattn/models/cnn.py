"""The convolutional baseline: a fully convolutional network with global average pooling."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..layers import MaskedBatchNorm1d, apply_mask
from ._base import TSClassifierNet
from ._registry import register_model


@register_model
class CNN(TSClassifierNet):
    """FCN (Wang et al., 2017): three Conv-BN-ReLU blocks, global average pooling, linear.

    The kernels are 7, 5 and 3: the original 8 is made odd for symmetric padding.

    No attention. Widths default to (64, 128, 64), half the original's, for CPU speed.
    """

    name = "cnn"
    length_offsets = True  # create_network adds logit offsets from each series' length
    has_attention = False

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        channels: tuple[int, ...] = (64, 128, 64),
        kernels: tuple[int, ...] = (7, 5, 3),
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        widths = (n_channels, *channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(widths[i], widths[i + 1], k, padding="same") for i, k in enumerate(kernels)
        )
        self.norms = nn.ModuleList(MaskedBatchNorm1d(c) for c in channels)
        self.head = nn.Linear(channels[-1], self.n_outputs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        h = apply_mask(x, mask)  # (B, C, T)
        for conv, norm in zip(self.convs, self.norms, strict=False):
            h = apply_mask(torch.relu(norm(conv(h), mask)), mask)  # (B, F, T)
        # the mean over real steps
        pooled = h.mean(-1) if mask is None else h.sum(-1) / mask.sum(-1, keepdim=True).clamp_min(1).to(h.dtype)
        return self.head(pooled), None
