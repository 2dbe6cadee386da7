"""Helpers that keep padded time steps out of every computation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def apply_mask(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded steps of ``h`` ``(B, C, T)``: convolutions then see what zero padding would give."""
    return h if mask is None else h * mask[:, None, :].to(h.dtype)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` whose batch statistics count only the real steps of ``(B, C, T)`` input.

    Padding never shifts the mean and variance a batch is normalised by, or the
    running statistics that inference uses: a series gives the same output
    padded or not, alone or in a batch of longer ones. Without a mask, or in
    evaluation mode, it is exactly ``BatchNorm1d`` (and saves the same state).

    Examples
    --------
    >>> bn = MaskedBatchNorm1d(1)
    >>> x = torch.tensor([[[1.0, 3.0, 0.0, 0.0]]])  # two real steps, two of padding
    >>> bn(x, torch.tensor([[True, True, False, False]]))[0, 0, :2].round(decimals=4).tolist()
    [-1.0, 1.0]
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None or not self.training:
            return super().forward(x)
        w = mask[:, None, :].to(x.dtype)  # (B, 1, T)
        n = w.sum().clamp_min(1.0)
        mean = (x * w).sum((0, 2)) / n
        var = ((x - mean[None, :, None]).square() * w).sum((0, 2)) / n
        tracked = self.num_batches_tracked
        if self.running_mean is not None and self.running_var is not None and tracked is not None:
            with torch.no_grad():
                tracked.add_(1)
                momentum = self.momentum if self.momentum is not None else 1.0 / float(tracked)
                unbiased = var * n / (n - 1).clamp_min(1.0)
                self.running_mean.mul_(1 - momentum).add_(momentum * mean)
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased)
        y = (x - mean[None, :, None]) * torch.rsqrt(var[None, :, None] + self.eps)
        return y * self.weight[None, :, None] + self.bias[None, :, None] if self.affine else y


def pool_time(x: torch.Tensor, mask: torch.Tensor | None, pool: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Average ``x`` ``(B, C, T)`` over windows of ``pool`` steps; a window of the mask is real if any step is.

    Examples
    --------
    >>> h, m = pool_time(torch.arange(6.0).view(1, 1, 6), torch.tensor([[True] * 3 + [False] * 3]), 2)
    >>> h.tolist(), m.tolist()
    ([[[0.5, 2.5, 4.5]]], [[True, True, False]])
    """
    if pool <= 1:
        return x, mask
    h = F.avg_pool1d(x, pool, ceil_mode=True)
    if mask is not None:
        mask = F.max_pool1d(mask[:, None].float(), pool, ceil_mode=True)[:, 0] > 0
    return h, mask


def fold_time(x: torch.Tensor, mask: torch.Tensor | None, pool: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Fold every window of ``pool`` steps of ``x`` ``(B, C, T)`` into channels: ``(B, C * pool, ceil(T / pool))``.

    Unlike :func:`pool_time` it loses nothing: channel ``c * pool + j`` holds
    step ``j`` of each window of channel ``c`` (zeros past the end). A window of
    the mask is real if any of its steps is.

    Examples
    --------
    >>> h, m = fold_time(torch.arange(5.0).view(1, 1, 5), torch.tensor([[True] * 3 + [False] * 2]), 2)
    >>> h.tolist(), m.tolist()
    ([[[0.0, 2.0, 4.0], [1.0, 3.0, 0.0]]], [[True, True, False]])
    """
    if pool <= 1:
        return x, mask
    B, C, T = x.shape
    extra = -T % pool
    h = F.pad(x, (0, extra)).view(B, C, -1, pool).transpose(2, 3).reshape(B, C * pool, -1)
    if mask is not None:
        mask = F.max_pool1d(mask[:, None].float(), pool, ceil_mode=True)[:, 0] > 0
    return h, mask


def upsample_class_map(values: torch.Tensor, T: int, mask: torch.Tensor | None = None, *, pool: int) -> torch.Tensor:
    """:func:`upsample_attention` for ``(B, K, T')`` class maps: each window's value shared among its real steps,
    so each class's sum over time is kept."""
    B, K, n_windows = values.shape
    flat_mask = None if mask is None else mask.repeat_interleave(K, dim=0)
    return _spread(values.reshape(B * K, n_windows), T, flat_mask, pool).reshape(B, K, T)


def upsample_attention(alpha: torch.Tensor, T: int, mask: torch.Tensor | None = None, *, pool: int) -> torch.Tensor:
    """Spread attention over coarse windows of ``pool`` steps back onto ``T`` input steps, rows summing to 1.

    Window ``w`` covers steps ``w * pool`` to ``w * pool + pool - 1`` (the last
    one may run past ``T``); its weight is shared equally among the real steps
    it covers, so the mass of every window is kept and padding gets exactly 0.

    Examples
    --------
    >>> upsample_attention(torch.tensor([[0.5, 0.5]]), 3, pool=2).tolist()  # the second window covers 1 step
    [[0.25, 0.25, 0.5]]
    """
    if pool <= 1:
        return alpha if mask is None else alpha * mask.to(alpha.dtype)
    fine = _spread(alpha, T, mask, pool)
    return fine / fine.sum(-1, keepdim=True).clamp_min(1e-12)


def _spread(alpha: torch.Tensor, T: int, mask: torch.Tensor | None, pool: int) -> torch.Tensor:
    """Each window's value of ``alpha`` ``(B, T')`` shared equally among the real steps it covers, ``(B, T)``."""
    if pool <= 1:
        return alpha if mask is None else alpha * mask.to(alpha.dtype)
    # Index arithmetic (arange, cumsum, gather) rather than padding and reshaping, so that an ONNX
    # trace keeps the batch and time axes dynamic.
    B, n_windows = alpha.shape
    real = torch.ones(B, T, dtype=alpha.dtype, device=alpha.device) if mask is None else mask.to(alpha.dtype)
    steps = torch.arange(T, device=alpha.device)
    window = (steps // pool)[None].expand(B, -1)  # (B, T): the window of each step
    starts = torch.arange(n_windows, device=alpha.device) * pool
    ends = torch.clamp(starts + pool, max=T)
    count = F.pad(real.cumsum(-1), (1, 0))  # count[:, t]: real steps before step t
    covered = count[:, ends] - count[:, starts]  # (B, T'): real steps in each window
    return (alpha / covered.clamp_min(1.0)).gather(1, window) * real


def lengths_to_mask(
    lengths: torch.Tensor | np.ndarray | Sequence[int], T: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """``(B, T)`` boolean mask, True on each series' first ``lengths[b]`` steps (its real ones).

    Examples
    --------
    >>> lengths_to_mask([2, 3], 4).int().tolist()
    [[1, 1, 0, 0], [1, 1, 1, 0]]
    """
    lengths = torch.as_tensor(np.asarray(lengths) if not isinstance(lengths, torch.Tensor) else lengths, device=device)
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]
