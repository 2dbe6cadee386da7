"""How a convolutional attention model pools its per-step features over time: the one choice its ``pooling`` names.

* ``"attention"``: additive attention (softmax over time) pools a context
  vector, and a linear head maps it to the logits.
* ``"conjunctive"``: MILLET's class-specific multiple-instance pooling
  (:class:`~tsattn.layers.ConjunctivePooling`): a sigmoid gate times
  per-step class logits, averaged over time. Its class map is the model's
  :meth:`~tsattn.models.TSClassifierNet.class_relevance`.
* ``"average"``: global average pooling and a linear head (InceptionTime's
  and FCN's own pooling, :class:`~tsattn.layers.AveragePooling`): the
  attention is uniform, and the class map is the class activation map (CAM).
* ``"attention_average"``: both side by side, each with its own linear head,
  the logits their sum (:class:`~tsattn.layers.AttentionAveragePooling`): the
  attention is learnt as under ``"attention"``, and the class map splits the
  logits over the steps exactly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._errors import ConfigError
from ..layers import (
    AdditiveAttention,
    AttentionAveragePooling,
    AveragePooling,
    ConjunctivePooling,
    upsample_attention,
    upsample_class_map,
)
from ._base import TSClassifierNet

#: The poolings a convolutional attention model takes, the default first.
POOLINGS = ("attention", "conjunctive", "average", "attention_average")


def check_pooling(pooling: str) -> str:
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling: must be one of {', '.join(POOLINGS)}; got {pooling!r}")
    return pooling


def build_pooling(
    pooling: str,
    width: int,
    n_outputs: int,
    attn_dim: int,
    *,
    positional_encoding: bool = True,
    attention_floor: float = 0.0,
    key_width: int | None = None,
    attention_dropout: float = 0.0,
) -> tuple[nn.Module, nn.Linear | None]:
    """``(attention, head)`` for features ``width`` wide: the head is ``None`` where the pooling gives logits.
    ``positional_encoding`` applies to conjunctive pooling (MILLET adds one), ``attention_floor`` (the share of
    the weights spread uniformly), ``attention_dropout`` (the share of steps hidden from it in training) and
    ``key_width`` (the width of what the attention scores, ``width`` unless given) to additive attention."""
    for name, value in (("attention_floor", attention_floor), ("attention_dropout", attention_dropout)):
        if value and check_pooling(pooling) != "attention":
            raise ConfigError(f"{name}: applies to pooling='attention' only; got pooling={pooling!r}")
    if check_pooling(pooling) == "conjunctive":
        return ConjunctivePooling(width, n_outputs, attn_dim, positional=positional_encoding), None
    if pooling == "average":
        return AveragePooling(width, n_outputs), None
    if pooling == "attention_average":
        return AttentionAveragePooling(width, n_outputs, attn_dim), None
    attention = AdditiveAttention(width, attn_dim, floor=attention_floor, key_dim=key_width, dropout=attention_dropout)
    return attention, nn.Linear(width, n_outputs)


def pool_over_time(
    attention: nn.Module,
    head: nn.Linear | None,
    h: torch.Tensor,
    coarse_mask: torch.Tensor | None,
    T: int,
    mask: torch.Tensor | None,
    pool: int,
    keys: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(logits, attention (B, T), class_map (B, K, T) or None)`` from features ``h`` ``(B, F, T / pool)``;
    additive attention scores ``keys`` (as ``h``) where given."""
    if head is None:
        logits, alpha, class_map = attention(h.transpose(1, 2), coarse_mask)
        return logits, upsample_attention(alpha, T, mask, pool=pool), upsample_class_map(class_map, T, mask, pool=pool)
    context, alpha = attention(
        h.transpose(1, 2), coarse_mask, None if keys is None else keys.transpose(1, 2)
    )  # (B, F), (B, T')
    return head(context), upsample_attention(alpha, T, mask, pool=pool), None


class PooledOverTime(TSClassifierNet):
    """A network whose ``_pooled`` returns :func:`pool_over_time`'s triple: its ``forward`` and
    :meth:`class_relevance` are two views of that one pass."""

    def _pooled(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, Any, Any]:
        raise NotImplementedError  # pragma: no cover - abstract

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        logits, attention, _ = self._pooled(x, mask)
        return logits, attention

    def class_relevance(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        class_map: torch.Tensor | None = self._pooled(x, mask)[2]
        return class_map
