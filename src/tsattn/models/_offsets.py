"""Logit offsets a model's body knows nothing of: from each series' length, and from its level and scale.

:func:`~tsattn.models.create_network` wraps a model in :class:`OffsetNet`
when the model asks for length offsets (its ``length_offsets`` attribute) or
the scaler hands over a second, standardised view (``scaling="znorm_level"``).
The body's ``forward`` sees the series as it would alone; the offsets are
added to its logits here, and its attention is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch

from ..layers import LengthLogits, LevelLogits, lengths_to_mask
from ._base import TSClassifierNet


class OffsetNet(TSClassifierNet):
    """``body``'s logits plus length offsets (:class:`~tsattn.layers.LengthLogits`) and/or level and scale
    offsets (:class:`~tsattn.layers.LevelLogits`).

    With ``level``, the input has ``2C`` channels: the body sees the first
    ``C`` (z-normalised), the level offsets the other ``C`` (standardised).
    The attention is the body's, computed from the shape of each series only.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> net = OffsetNet(create_model("cnn_attention", 1, 2, 40), level=True, length=True)
    >>> logits, attention = net(torch.zeros(3, 2, 40))
    >>> tuple(logits.shape), tuple(attention.shape)
    ((3, 1), (3, 40))
    """

    def __init__(self, body: TSClassifierNet, *, level: bool = False, length: bool = False) -> None:
        super().__init__(body.n_channels, body.n_classes, body.seq_len)
        self.name = body.name
        self.has_attention = body.has_attention
        self.variable_length = body.variable_length
        self.onnx_dynamic_time = body.onnx_dynamic_time
        self.body = body
        # registered after the body, so that the parameters keep the order they had inside it
        self.length = LengthLogits(body.n_outputs) if length else None
        self.level = LevelLogits(body.n_channels, body.n_outputs) if level else None

    @torch.no_grad()
    def fit_levels(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor | None]]) -> None:
        """Fit the level offsets' feature statistics on the scaled training series, given as ``(x, mask)``."""
        if self.level is None:
            return
        C = self.n_channels
        feats = [LevelLogits.features(x[:, C:], mask) for x, mask in batches]
        self.level.fit(torch.cat(feats) if feats else torch.zeros(0, 2 * C))

    def class_relevance(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """The body's class map (the offsets, one per series, belong to no step)."""
        C = self.n_channels
        return self.body.class_relevance(x[:, :C].contiguous() if self.level is not None else x, mask)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        C = self.n_channels
        body_x = x[:, :C].contiguous() if self.level is not None else x  # laid out as the plain model's input
        logits, attention = self.body(body_x, mask)
        if self.length is not None:
            logits = logits + self.length(x, mask)
        if self.level is not None:
            logits = logits + self.level(x[:, C:], mask)
        return logits, attention


def legacy_state(state: dict[str, torch.Tensor], expected: Iterable[str]) -> dict[str, torch.Tensor]:
    """Weights saved before the offsets moved out of the models, renamed to the keys ``expected`` now.

    Then the length offsets lived inside the body (``length.*``, or
    ``body.length.*`` under a level wrapper) and a plain model had no
    ``body.`` prefix.

    Examples
    --------
    >>> legacy_state({"head.bias": 0, "length.stats": 1}, ["body.head.bias", "length.stats"])
    {'body.head.bias': 0, 'length.stats': 1}
    >>> legacy_state({"body.head.bias": 0, "body.length.stats": 1}, ["body.head.bias", "length.stats"])
    {'body.head.bias': 0, 'length.stats': 1}
    """
    wanted = set(expected)
    out = {}
    for key, value in state.items():
        if key not in wanted:
            for candidate in (f"body.{key}", key.removeprefix("body.")):
                if candidate in wanted:
                    key = candidate
                    break
        out[key] = value
    return out


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
    """Fit ``net``'s level offsets (a no-op unless it is an :class:`OffsetNet` with them) on training ``rows``.

    ``transform`` scales a batch of raw rows; ``lengths`` (or ``None``) gives
    each row's true length. Above ``max_rows`` training series, an evenly
    spaced subset of them is used: the statistics of ``2C`` numbers per series
    need no more, and out-of-core data is then not read twice.
    """
    from ._ensemble import Ensemble

    if isinstance(net, Ensemble):
        for member in net.members:
            assert isinstance(member, TSClassifierNet)
            fit_levels(member, X, rows, lengths, transform, max_rows=max_rows, chunk=chunk)
        return
    if not isinstance(net, OffsetNet) or net.level is None:
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
