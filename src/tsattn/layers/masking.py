"""Helpers that keep padded time steps out of every computation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def apply_mask(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded steps of ``h`` ``(B, C, T)``: convolutions then see what zero padding would give."""
    return h if mask is None else h * mask[:, None, :].to(h.dtype)


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


def upsample_attention(alpha: torch.Tensor, T: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Spread attention over ``T'`` coarse steps back onto ``T`` input steps, rows summing to 1.

    Each coarse step's weight is shared equally among the input steps it covers,
    so the mass of a region is preserved.
    """
    if alpha.shape[-1] == T:
        return alpha
    fine = F.interpolate(alpha[:, None, :], size=T, mode="nearest")[:, 0]  # (B, T)
    if mask is not None:
        fine = fine * mask.to(fine.dtype)
    return fine / fine.sum(-1, keepdim=True).clamp_min(1e-12)


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
