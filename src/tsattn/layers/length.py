"""The series' length as evidence: logit offsets learned from the log length."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Gaussian bumps over the standardised log length, centred from -SPAN to +SPAN.
N_BUMPS = 8
SPAN = 2.5
#: The offsets' weights are multiplied by this: Adam moves a weight by about ``lr`` per step whatever its
#: gradient, so at gain 1 the offsets stay near 0.1 logits over a small dataset's few hundred steps.
GAIN = 10.0


class LengthLogits(nn.Module):
    """``(B, n_outputs)`` logit offsets from each series' log length, standardised on the training lengths.

    Masked pooling (attention or average) is blind to how long a series is,
    yet on variable-length data the length is often evidence in itself: on
    PickupGestureWiimoteZ a 1-nearest-neighbour rule on the length alone
    classifies 36% of the test series, where the majority class gets 10%
    (``benchmarks/length_only.py``). The log length is
    standardised with :meth:`fit`'s statistics into ``z``, encoded by
    ``N_BUMPS`` Gaussian bumps (so a class can own a middle range of lengths,
    not only the shortest or the longest), and mapped linearly to the logits.

    The weights start at zero, and while every training series has one length
    the encoding is 0, so on equal-length data the offsets stay exactly 0: the
    model computes the same function from the same initial weights (this
    module draws no random numbers) as one without it. While off, the
    weights are also frozen (``requires_grad`` False): a zero gradient would
    still enter gradient clipping's total norm and, on several threads,
    change how that sum is rounded.
    """

    stats: torch.Tensor

    def __init__(self, n_outputs: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(N_BUMPS, n_outputs), requires_grad=False)  # off until fit
        self.register_buffer("stats", torch.zeros(2))  # mean and std of the training log lengths; std 0: off

    @torch.no_grad()
    def fit(self, lengths: np.ndarray | None) -> LengthLogits:
        """Take the statistics of the training series' lengths (``None``: all of one length, so off)."""
        if lengths is None or len(lengths) < 2:
            self.stats.zero_()
        else:
            log_n = np.log(np.asarray(lengths, dtype=np.float64))
            self.stats.copy_(torch.tensor([log_n.mean(), log_n.std()], dtype=self.stats.dtype))
        self.weight.requires_grad_(bool(self.stats[1] > 0))
        return self

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        valid = mask.to(x.dtype) if mask is not None else torch.ones_like(x[:, 0, :])  # traced with a dynamic T
        log_n = valid.sum(-1).clamp_min(1).log()[:, None]  # (B, 1)
        return bumps(log_n, self.stats[0:1], self.stats[1:2]) @ self.weight * GAIN


def bumps(f: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Encode features ``f`` ``(B, F)`` by ``N_BUMPS`` Gaussian bumps each: ``(B, F * N_BUMPS)``.

    Each feature is standardised with its training ``mean`` and ``std``
    (``(F,)``); a feature whose ``std`` is 0 is off and encodes to exact zeros.
    """
    z = (f - mean) / std.clamp_min(1e-6)
    centres = torch.linspace(-SPAN, SPAN, N_BUMPS, dtype=f.dtype, device=f.device)
    width = 2 * SPAN / (N_BUMPS - 1)
    out = torch.exp(-0.5 * ((z[..., None] - centres) / width) ** 2) * (std > 0).to(f.dtype)[:, None]
    return out.flatten(1)
