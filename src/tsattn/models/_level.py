"""``scaling="znorm_level"``: a model on the z-normalised series, plus logit offsets from their level and scale."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch

from ..layers import LevelLogits, lengths_to_mask
from ._base import TSClassifierNet


class LevelNet(TSClassifierNet):
    """``body`` sees the first ``C`` input channels (z-normalised); the other ``C`` (standardised) feed
    :class:`~tsattn.layers.LevelLogits` alone, whose offsets are added to the body's logits.

    The attention is the body's, computed from the shape of each series only.
    """

    def __init__(self, body: TSClassifierNet) -> None:
        super().__init__(body.n_channels, body.n_classes, body.seq_len)
        self.name = body.name
        self.has_attention = body.has_attention
        self.variable_length = body.variable_length
        self.onnx_dynamic_time = body.onnx_dynamic_time
        self.body = body
        self.level = LevelLogits(body.n_channels, body.n_outputs)

    @torch.no_grad()
    def fit_levels(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor | None]]) -> None:
        """Fit the offsets' feature statistics on the scaled training series, given as ``(x, mask)`` batches."""
        C = self.n_channels
        feats = [LevelLogits.features(x[:, C:], mask) for x, mask in batches]
        self.level.fit(torch.cat(feats) if feats else torch.zeros(0, 2 * C))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        C = self.n_channels
        logits, attention = self.body(x[:, :C].contiguous(), mask)  # laid out as the plain model's input
        return logits + self.level(x[:, C:], mask), attention


def fit_levels(
    net: TSClassifierNet,
    X: Any,
    rows: np.ndarray,
    lengths: np.ndarray | None,
    transform: Callable[[np.ndarray], np.ndarray],
    *,
    max_rows: int = 65536,
    chunk: int = 4096,
) -> None:
    """Fit ``net``'s level offsets (a no-op unless it is a :class:`LevelNet`) on training ``rows`` of ``X``.

    ``transform`` scales a batch of raw rows; ``lengths`` (or ``None``) gives
    each row's true length. Above ``max_rows`` training series, an evenly
    spaced subset of them is used: the statistics of ``2C`` numbers per series
    need no more, and out-of-core data is then not read twice.
    """
    if not isinstance(net, LevelNet):
        return
    rows = np.sort(np.asarray(rows))
    if len(rows) > max_rows:
        rows = rows[np.linspace(0, len(rows) - 1, max_rows).astype(np.int64)]

    def batches() -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for i in range(0, len(rows), chunk):
            r = rows[i : i + chunk]
            x = torch.from_numpy(np.ascontiguousarray(transform(np.asarray(X[r]))))
            mask = None
            if lengths is not None:
                mask = lengths_to_mask(np.asarray(lengths)[r], x.shape[-1])
            yield x, mask

    net.fit_levels(batches())
