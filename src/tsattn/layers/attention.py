"""Additive (Bahdanau-style) attention pooling over time."""

from __future__ import annotations

import torch
from torch import nn


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis that gives exactly zero weight where ``mask`` is False."""
    if mask is None:
        return torch.softmax(scores, dim=-1)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    # A row with no valid step would be all NaN; it has nothing to attend to, so give it zeros.
    return torch.nan_to_num(weights, nan=0.0)


class AdditiveAttention(nn.Module):
    """Score every time step, softmax over time, and pool a context vector.

    ``score_t = w2 . tanh(W1 h_t + b1) + b2`` as in the seed: ``Linear(d -> attn_dim)
    -> tanh -> Linear(attn_dim -> 1)``.

    Parameters
    ----------
    in_dim : int
        Features per time step of the sequence to pool.
    attn_dim : int
        Width of the hidden scoring layer.
    """

    def __init__(self, in_dim: int, attn_dim: int = 64) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, attn_dim)
        self.score = nn.Linear(attn_dim, 1)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool ``h`` of shape ``(B, T, D)``; return the context ``(B, D)`` and weights ``(B, T)``."""
        scores = self.score(torch.tanh(self.proj(h))).squeeze(-1)  # (B, T)
        alpha = masked_softmax(scores, mask)  # (B, T), rows sum to 1
        context = torch.bmm(alpha.unsqueeze(1), h).squeeze(1)  # (B, 1, T) @ (B, T, D) -> (B, D)
        return context, alpha
