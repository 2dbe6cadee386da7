"""Several networks of one model, trained side by side and averaged: InceptionTime's ensembles, for any model.

:func:`~tsattn.models.create_network` builds an :class:`Ensemble` when asked
for ``ensemble > 1``. The members are built one after another from the same
seeded random stream, so the first member is the network a single run with
that seed would train. They are trained in one Lightning fit, each on its
own loss (:meth:`Ensemble.member_outputs`); the ensemble predicts the mean of
their probabilities and attends with the mean of their attention, so it is
saved, loaded, evaluated, explained and exported as one network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ._base import TSClassifierNet, logits_to_proba

#: Probabilities are clamped to [EPS, 1 - EPS] before turning back into logits, so that no logit is infinite.
EPS = 1e-7


class Ensemble(TSClassifierNet):
    """The mean of ``members``' probabilities and of their attention, as one network.

    ``attends`` flags the members whose attention counts (all by default):
    a member that pools by averaging has uniform attention, which would only
    flatten the others'.

    The logits it returns are those of the mean probability: ``log p`` for
    several classes (a softmax gives ``p`` back) and ``log p - log(1 - p)``
    for one binary output column (a sigmoid gives ``p`` back). Each member's
    attention sums to 1 over the valid steps and is exactly 0 on padding; so
    is their mean.

    Examples
    --------
    >>> from tsattn.models import create_network
    >>> net = create_network("cnn_attention", 1, 3, 40, ensemble=2)
    >>> logits, attention = net(torch.zeros(4, 1, 40))
    >>> type(net).__name__, len(net.members), tuple(logits.shape), tuple(attention.shape)
    ('Ensemble', 2, (4, 3), (4, 40))
    """

    def __init__(self, members: Sequence[TSClassifierNet], attends: Sequence[bool] | None = None) -> None:
        first = members[0]
        super().__init__(first.n_channels, first.n_classes, first.seq_len)
        self.name = first.name
        self.has_attention = first.has_attention
        self.variable_length = first.variable_length
        self.onnx_dynamic_time = first.onnx_dynamic_time
        self.members = nn.ModuleList(members)
        # Which members' attention the ensemble's is the mean of: all, unless some pool by averaging (uniform).
        self.attends = [True] * len(members) if attends is None else [bool(a) for a in attends]
        if len(self.attends) != len(members) or not any(self.attends):
            raise ValueError(f"attends: one flag per member, at least one true; got {list(self.attends)}")

    def member_outputs(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Every member's ``(logits, attention)``: what training puts a loss on, one per member."""
        return [member(x, mask) for member in self.members]

    def class_relevance(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """The mean of the members' class maps, when every member has one."""
        members: list[Any] = list(self.members)
        maps = [member.class_relevance(x, mask) for member in members]
        present = [m for m in maps if m is not None]
        return torch.stack(present).mean(0) if present and len(present) == len(maps) else None

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """One group per member: each member's gradients are clipped as if it trained alone."""
        return [list(member.parameters()) for member in self.members]

    def combine(self, outputs: Sequence[tuple[torch.Tensor, torch.Tensor | None]]) -> Any:
        """``(logits, attention)`` of the ensemble from its members' outputs."""
        proba = torch.stack([logits_to_proba(logits) for logits, _ in outputs]).mean(0).clamp(EPS, 1 - EPS)
        logits = (proba[:, 1:].log() - proba[:, :1].log()).contiguous() if self.n_outputs == 1 else proba.log()
        attentions = [att for _, att in outputs if att is not None]
        if len(attentions) < len(outputs):
            return logits, None
        return logits, torch.stack([a for a, attends in zip(attentions, self.attends, strict=True) if attends]).mean(0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        return self.combine(self.member_outputs(x, mask))
