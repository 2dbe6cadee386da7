"""Additive (Bahdanau-style) attention pooling over time."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._errors import ConfigError


def _uniform_over_real(like: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Weights ``(B, T)`` (as ``like``) spread evenly over each row's real steps: 1 / n_real there, 0 on padding."""
    real = torch.ones_like(like) if mask is None else mask.to(like.dtype)
    return real / real.sum(-1, keepdim=True).clamp_min(1.0)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis that gives exactly zero weight where ``mask`` is False."""
    if mask is None:
        return torch.softmax(scores, dim=-1)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    # A row with no valid step would be all NaN; it has nothing to attend to, so give it zeros.
    return torch.nan_to_num(weights, nan=0.0)


def hide_block(like: torch.Tensor, mask: torch.Tensor | None, share: float) -> torch.Tensor:
    """A mask ``(B, T)``, the shape and device of ``like``, that also hides one block of consecutive real steps
    at a random place in each row: the block is ``share`` of the row's real steps (rounded, at least one). A row
    keeps its real steps if the block would hide all of them. Drawn from torch's global generator, so a seeded
    run draws the same blocks.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> keep = hide_block(torch.zeros(1, 10), torch.tensor([[True] * 8 + [False] * 2]), 0.25)
    >>> int((~keep[0, :8]).sum()), keep[0, 8:].tolist()  # two of the eight real steps hidden, padding stays out
    (2, [False, False])
    """
    real = torch.ones_like(like, dtype=torch.bool) if mask is None else mask
    n = real.sum(-1, keepdim=True)  # (B, 1)
    width = (share * n).round().long().clamp_min(1)
    start = (torch.rand(n.shape, device=like.device) * (n - width + 1).clamp_min(1)).floor().long()
    rank = real.long().cumsum(-1) - 1  # each real step's place among its row's real steps
    keep = real & ~((rank >= start) & (rank < start + width))
    return torch.where(keep.any(-1, keepdim=True), keep, real)


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
    floor : float
        Share of the weights spread uniformly over the real steps, in [0, 1):
        the weights are ``(1 - floor) * softmax + floor / n_real``, so the
        context is that mix of attention pooling and average pooling. They
        still sum to 1 with exact zeros on padding, and they are the weights
        the context is pooled with. 0 (the default) is plain attention.
    key_dim : int, optional
        Features per time step of the ``keys`` scored in place of the
        sequence (``in_dim`` unless given).
    dropout : float
        Share of each series' real steps hidden from the attention in
        training, in [0, 1): one block of consecutive steps at a random
        place (:func:`hide_block`) gets zero weight, and the rest share it.
        The network cannot rely on any one stretch (an anomaly's sharpest
        edge, say) being there. Evaluation is unchanged. 0 (the default): off.
    """

    def __init__(
        self,
        in_dim: int,
        attn_dim: int = 64,
        *,
        floor: float = 0.0,
        key_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= floor < 1.0:
            raise ConfigError(f"attention_floor: must be in [0, 1); got {floor}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"attention_dropout: must be in [0, 1); got {dropout}")
        self.floor = float(floor)
        self.dropout = float(dropout)
        self.proj = nn.Linear(in_dim if key_dim is None else key_dim, attn_dim)
        self.score = nn.Linear(attn_dim, 1)

    def forward(
        self, h: torch.Tensor, mask: torch.Tensor | None = None, keys: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool ``h`` of shape ``(B, T, D)``; return the context ``(B, D)`` and weights ``(B, T)``.

        ``keys`` ``(B, T, key_dim)``, when given, are scored in place of ``h`` (features of a smaller receptive
        field, say); the context still pools ``h``.
        """
        scores = self.score(torch.tanh(self.proj(h if keys is None else keys))).squeeze(-1)  # (B, T)
        if self.training and self.dropout:
            mask = hide_block(scores, mask, self.dropout)
        alpha = masked_softmax(scores, mask)  # (B, T), rows sum to 1
        if self.floor:
            alpha = (1 - self.floor) * alpha + self.floor * _uniform_over_real(alpha, mask)
        context = torch.bmm(alpha.unsqueeze(1), h).squeeze(1)  # (B, 1, T) @ (B, T, D) -> (B, D)
        return context, alpha


def positional_encoding(T: int, dim: int, *, device: torch.device | None = None) -> torch.Tensor:
    """The fixed sinusoidal encoding of steps ``0..T-1`` (Vaswani et al. 2017), shape ``(T, dim)``.

    Examples
    --------
    >>> pe = positional_encoding(5, 4)
    >>> tuple(pe.shape), pe[0].tolist()
    ((5, 4), [0.0, 1.0, 0.0, 1.0])
    """
    position = torch.arange(T, dtype=torch.float32, device=device)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    pe = torch.zeros(T, dim, device=device)
    pe[:, 0::2] = torch.sin(position * rate)
    pe[:, 1::2] = torch.cos(position * rate)[:, : dim // 2]
    return pe


class ConjunctivePooling(nn.Module):
    """Class-specific multiple-instance pooling: a gate and per-step class logits, multiplied and averaged over time.

    MILLET's conjunctive pooling (Early et al., ICLR 2024). Each step's
    features ``h_t`` give a gate ``a_t = sigmoid(w2 . tanh(W1 h_t + b1) + b2)``
    in [0, 1] and class logits ``y_t = V h_t + c``; the series' logits are the
    mean over its real steps of ``a_t * y_t``. So ``a_t * y_t[k]`` is exactly
    step ``t``'s share of class ``k``'s logit: a signed, class-specific
    explanation that the prediction is built from, not read off beside it.

    ``positional`` adds a fixed sinusoidal encoding of the step's position to
    its features first, and ``dropout`` drops features (both as MILLET does).

    Returns ``(logits (B, K), attention (B, T), class_map (B, K, T))``: the
    attention is the gate normalised to sum to 1 over the real steps (the
    attention contract); the class map is ``a_t * y_t`` divided by the number
    of real steps, so that it sums over time to the logits. Padding gets
    exactly 0 in both.

    Examples
    --------
    >>> pool = ConjunctivePooling(in_dim=6, n_outputs=3)
    >>> logits, attention, class_map = pool(torch.randn(2, 10, 6))
    >>> tuple(logits.shape), tuple(attention.shape), tuple(class_map.shape)
    ((2, 3), (2, 10), (2, 3, 10))
    >>> torch.allclose(class_map.sum(-1), logits), torch.allclose(attention.sum(-1), torch.ones(2))
    (True, True)
    """

    def __init__(
        self, in_dim: int, n_outputs: int, attn_dim: int = 8, *, dropout: float = 0.1, positional: bool = True
    ) -> None:
        super().__init__()
        self.positional = positional
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(in_dim, attn_dim)
        self.score = nn.Linear(attn_dim, 1)
        self.classifier = nn.Linear(in_dim, n_outputs)

    def forward(
        self, h: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pool ``h`` of shape ``(B, T, D)``."""
        B, T, D = h.shape
        if self.positional:
            h = h + positional_encoding(T, D, device=h.device)[None]
        h = self.dropout(h)
        gate = torch.sigmoid(self.score(torch.tanh(self.proj(h)))).squeeze(-1)  # (B, T) in [0, 1]
        real = torch.ones(B, T, dtype=h.dtype, device=h.device) if mask is None else mask.to(h.dtype)
        gate = gate * real
        step_logits = self.classifier(h)  # (B, T, K)
        n_real = real.sum(-1).clamp_min(1.0)  # (B,)
        class_map = (gate[:, :, None] * step_logits).transpose(1, 2) / n_real[:, None, None]  # (B, K, T)
        attention = gate / gate.sum(-1, keepdim=True).clamp_min(torch.finfo(h.dtype).tiny)
        return class_map.sum(-1), attention, class_map


class AveragePooling(nn.Module):
    """Global average pooling and a linear head, with the class activation map that decomposes its logits.

    InceptionTime's and FCN's pooling: the series' logits are ``V mean_t(h_t) + c``,
    which equals the mean over its real steps of the per-step logits
    ``y_t = V h_t + c``. So ``y_t[k]`` divided by the number of real steps is
    exactly step ``t``'s share of class ``k``'s logit: the class activation map
    (CAM; Zhou et al. 2016, on time series Wang et al. 2017). Nothing is
    learnt about where to look; the map says which steps the classifier's
    features favour each class at.

    Returns ``(logits (B, K), attention (B, T), class_map (B, K, T))`` as
    :class:`ConjunctivePooling` does: the attention is uniform over the real
    steps (the weights this pooling gives them: the attention contract holds,
    and it says nothing about where the evidence is); the class map sums over
    time to the logits. Padding gets exactly 0 in both.

    Examples
    --------
    >>> pool = AveragePooling(in_dim=6, n_outputs=3)
    >>> mask = torch.tensor([[True] * 4, [True, True, False, False]])
    >>> logits, attention, class_map = pool(torch.randn(2, 4, 6), mask)
    >>> attention.tolist()
    [[0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.0, 0.0]]
    >>> torch.allclose(class_map.sum(-1), logits)
    True
    """

    def __init__(self, in_dim: int, n_outputs: int) -> None:
        super().__init__()
        self.classifier = nn.Linear(in_dim, n_outputs)

    def forward(
        self, h: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pool ``h`` of shape ``(B, T, D)``."""
        attention = _uniform_over_real(h[..., 0], mask)  # (B, T)
        class_map = (self.classifier(h) * attention[:, :, None]).transpose(1, 2)  # (B, K, T)
        return class_map.sum(-1), attention, class_map


class AttentionAveragePooling(nn.Module):
    """Additive attention pooling and global average pooling side by side, each with its own linear head.

    The series' logits are ``U sum_t(a_t h_t) + b + V mean_t(h_t)``: the attention's
    context through one head plus the mean of the real steps through another
    (concatenating the two pooled vectors before one linear layer is the same
    thing). The average carries what is spread over the whole series; the
    attention is free to look where the evidence is concentrated.

    Both terms are sums over steps, so the logits decompose exactly: step
    ``t``'s share of class ``k``'s logit is ``a_t (U h_t + b)[k] + (V h_t)[k] / n``
    (``n`` real steps). That is the class map; it sums over time to the logits.

    Returns ``(logits (B, K), attention (B, T), class_map (B, K, T))`` as
    :class:`AveragePooling` does; the attention is the softmax the context is
    pooled with (learnt, not uniform). Padding gets exactly 0 in both.

    Examples
    --------
    >>> pool = AttentionAveragePooling(in_dim=6, n_outputs=3)
    >>> mask = torch.tensor([[True] * 4, [True, True, False, False]])
    >>> logits, attention, class_map = pool(torch.randn(2, 4, 6), mask)
    >>> [round(s, 6) for s in attention.sum(-1).tolist()], attention[1, 2:].tolist()  # 1 to float precision
    ([1.0, 1.0], [0.0, 0.0])
    >>> torch.allclose(class_map.sum(-1), logits, atol=1e-6)
    True
    """

    def __init__(self, in_dim: int, n_outputs: int, attn_dim: int = 64) -> None:
        super().__init__()
        self.attention = AdditiveAttention(in_dim, attn_dim)
        self.head = nn.Linear(in_dim, n_outputs)
        self.average = nn.Linear(in_dim, n_outputs, bias=False)  # one bias is enough: the attention head's

    @property
    def score(self) -> nn.Linear:
        """The attention's scoring layer (a model may start it at zero: uniform attention)."""
        return self.attention.score

    def forward(
        self, h: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pool ``h`` of shape ``(B, T, D)``."""
        _, alpha = self.attention(h, mask)  # (B, T)
        uniform = _uniform_over_real(alpha, mask)
        per_step = alpha[:, :, None] * self.head(h) + uniform[:, :, None] * self.average(h)  # (B, T, K)
        class_map = per_step.transpose(1, 2)  # (B, K, T)
        return class_map.sum(-1), alpha, class_map
