"""The feed-forward baseline the seed article argues against."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._base import TSClassifierNet
from ._registry import register_model


@register_model
class MLP(TSClassifierNet):
    """Flatten -> [Linear -> ReLU -> Dropout] x len(hidden) -> Linear. Fixed input length; no attention."""

    name = "mlp"
    has_attention = False
    variable_length = False
    onnx_dynamic_time = False

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        hidden: tuple[int, ...] = (256, 128),
        dropout: float = 0.1,
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        layers: list[nn.Module] = []
        width = n_channels * seq_len
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, self.n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        if x.shape[-1] != self.seq_len:
            raise ValueError(
                f"mlp takes series of exactly seq_len={self.seq_len} steps (it has one weight per step); "
                f"got {x.shape[-1]}. Use cnn_attention, lstm_attention or transformer for other lengths"
            )
        if mask is not None:
            x = x * mask[:, None, :].to(x.dtype)
        return self.net(x.flatten(1)), None  # (B, C*T) -> (B, out)
