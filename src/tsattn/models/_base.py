"""The contract every model follows."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class TSClassifierNet(nn.Module):
    """Base of every network: input ``(B, C, T)``, output ``(logits, attention)``.

    ``logits`` has one column for a binary task (use BCE-with-logits, as the
    seed's single sigmoid output does) and ``n_classes`` columns otherwise.
    ``attention`` is ``(B, T)`` with rows summing to 1 over valid steps, or
    ``None`` for a model without attention. ``mask`` (``(B, T)``, True where a
    step is real) marks padding of variable-length batches.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> net = create_model("cnn_attention", n_channels=2, n_classes=3, seq_len=50)
    >>> logits, attention = net(torch.zeros(4, 2, 50))
    >>> tuple(logits.shape), tuple(attention.shape), net.n_outputs
    ((4, 3), (4, 50), 3)
    """

    name: str = ""
    has_attention: bool = True
    variable_length: bool = True  # can it run on lengths never seen in training?
    onnx_dynamic_time: bool = True  # does an ONNX export keep the time axis dynamic?
    length_offsets: bool = False  # should create_network add logit offsets from each series' length?

    def __init__(self, n_channels: int, n_classes: int, seq_len: int) -> None:
        super().__init__()
        if n_channels < 1 or n_classes < 2 or seq_len < 1:
            raise ValueError(
                f"need n_channels >= 1, n_classes >= 2 and seq_len >= 1; got {n_channels}, {n_classes}, {seq_len}"
            )
        self.n_channels, self.n_classes, self.seq_len = n_channels, n_classes, seq_len

    def fit_lengths(self, lengths: Any) -> None:
        """Give the training series' lengths (``None`` when all are alike) to every :class:`LengthLogits`."""
        from ..layers import LengthLogits

        for m in self.modules():
            if isinstance(m, LengthLogits):
                m.fit(lengths)

    @property
    def n_outputs(self) -> int:
        return 1 if self.n_classes == 2 else self.n_classes

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def class_relevance(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """Each step's signed share of each output column's logit, ``(B, n_outputs, T)``, for a network whose
        pooling builds its logits step by step (``pooling="conjunctive"`` or ``"average"``); ``None`` for any
        other network."""
        return None

    def member_outputs(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """The ``(logits, attention)`` of each network that learns from its own loss: this one alone, or each
        member of an ensemble. Training puts one loss on each, so it never needs to know which it has."""
        return [self(x, mask)]

    def combine(self, outputs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> Any:
        """``(logits, attention)`` of the whole network from :meth:`member_outputs`' outputs."""
        return outputs[0]

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """The parameters of each network that trains as if alone, in :meth:`member_outputs`' order: training
        clips each group's gradient norm on its own."""
        return [list(self.parameters())]


def logits_to_proba(logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities ``(B, n_classes)`` from either logit layout."""
    if logits.shape[-1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=-1)
    return torch.softmax(logits, dim=-1)


def classification_loss(logits: torch.Tensor, y: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """BCE-with-logits for one output column, softmax cross-entropy otherwise; ``smoothing`` e moves the targets
    to 1 - e/2 and e/2 (one column) or spreads e over the k classes (``label_smoothing`` of cross-entropy).

    Examples
    --------
    >>> logits, y = torch.tensor([[30.0]]), torch.tensor([1])
    >>> classification_loss(logits, y).item() < 1e-6, round(classification_loss(logits, y, smoothing=0.2).item(), 2)
    (True, 3.0)
    """
    if logits.shape[-1] == 1:
        target = y.float() * (1 - smoothing) + smoothing / 2
        return nn.functional.binary_cross_entropy_with_logits(logits.squeeze(-1), target)
    return nn.functional.cross_entropy(logits, y, label_smoothing=smoothing)
