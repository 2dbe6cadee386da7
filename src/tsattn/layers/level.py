"""Each series' level and scale as evidence: logit offsets learned from its per-channel mean and log std."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .length import GAIN, N_BUMPS, bumps

#: A feature whose spread over the training series is below this (in units of the data's standardised
#: scale) is off: UCR's z-normalised datasets spread their series' means and stds by about 1e-9.
MIN_SPREAD = 1e-3
#: Added to a series' std before the log, in the same units, so a constant series stays finite.
STD_FLOOR = 1e-3


class LevelLogits(nn.Module):
    """``(B, n_outputs)`` logit offsets from each series' per-channel mean and log std.

    z-normalisation makes a network see each series' shape alone; its level
    and scale are gone. On some data they are the evidence: on
    PickupGestureWiimoteZ a series' mean is the pull of gravity on the
    accelerometer, i.e. how the remote is held. This module gets the
    *standardised* series (training-set mean and std per channel), takes each
    channel's masked mean and log std (``2C`` features), standardises them
    with :meth:`fit`'s statistics, encodes each by Gaussian bumps and maps
    them linearly to the logits, as :class:`~tsattn.layers.LengthLogits` does
    with the length.

    The features never reach the attention: they move the logits only. The
    weights start at zero, and a feature that hardly varies over the training
    series (below ``MIN_SPREAD``) is off, so on data whose series already
    share one level and scale the offsets are exactly 0, the weights stay
    frozen, and the model trains to the same weights as its plain
    z-normalised self.
    """

    stats: torch.Tensor

    def __init__(self, n_channels: int, n_outputs: int) -> None:
        super().__init__()
        self.n_channels = n_channels
        self.weight = nn.Parameter(torch.zeros(2 * n_channels * N_BUMPS, n_outputs), requires_grad=False)
        # mean and std of each feature over the training series; std 0: that feature is off
        self.register_buffer("stats", torch.zeros(2, 2 * n_channels))

    @staticmethod
    def features(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 2C)``: each channel's mean, then each channel's log std, over the valid steps of ``x``."""
        valid = (mask.to(x.dtype) if mask is not None else torch.ones_like(x[:, 0, :]))[:, None, :]
        n = valid.sum(-1).clamp_min(1)  # (B, 1)
        mean = (x * valid).sum(-1) / n  # (B, C)
        var = ((x - mean[..., None]) ** 2 * valid).sum(-1) / n
        return torch.cat([mean, torch.log(var.sqrt() + STD_FLOOR)], dim=1)

    @torch.no_grad()
    def fit(self, features: np.ndarray | torch.Tensor) -> LevelLogits:
        """Take the statistics of the training series' :meth:`features` ``(n, 2C)``."""
        f = torch.as_tensor(np.asarray(features), dtype=torch.float64)
        if f.ndim != 2 or f.shape[1] != 2 * self.n_channels:
            raise ValueError(f"features must have shape (n, {2 * self.n_channels}); got {tuple(f.shape)}")
        if len(f) < 2:
            self.stats.zero_()
        else:
            mean, std = f.mean(0), f.std(0, unbiased=False)
            std = torch.where(std > MIN_SPREAD, std, torch.zeros_like(std))
            self.stats.copy_(torch.stack([mean, std]).to(self.stats.dtype))
        self.weight.requires_grad_(bool((self.stats[1] > 0).any()))  # frozen while off, as LengthLogits
        return self

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return bumps(self.features(x, mask), self.stats[0], self.stats[1]) @ self.weight * GAIN
