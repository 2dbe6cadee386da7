"""InceptionTime's multi-scale convolutions with attention pooling over time: the real-data model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..layers import MaskedBatchNorm1d, apply_mask, fold_time, pool_time
from ._pooling import PooledOverTime, build_pooling, pool_over_time
from ._registry import register_model


def _masked_max3(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Max over windows of 3 steps ("same" length), where padding and the ends count as minus infinity."""
    if mask is not None:
        h = h.masked_fill(~mask[:, None, :], float("-inf"))
    out = nn.functional.max_pool1d(h, 3, stride=1, padding=1)
    return out if mask is None else out.masked_fill(~mask[:, None, :], 0.0)


def with_differences(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` ``(B, C, T)`` and its first differences side by side, ``(B, 2 C, T)``: channel ``C + c`` holds
    ``x[c, t] - x[c, t - 1]``, 0 at the first step and on padding (the step after a series' end included).

    Examples
    --------
    >>> x, mask = torch.tensor([[[1.0, 3.0, 2.0, 7.0]]]), torch.tensor([[True, True, True, False]])
    >>> (with_differences(x, mask) + 0.0).tolist()  # + 0.0: a masked -0.0 prints as 0.0
    [[[1.0, 3.0, 2.0, 0.0], [0.0, 2.0, -1.0, 0.0]]]
    """
    x = apply_mask(x, mask)
    return apply_mask(torch.cat([x, nn.functional.pad(x[..., 1:] - x[..., :-1], (1, 0))], dim=1), mask)


class _Inception(nn.Module):
    """A bottleneck, three parallel convolutions of different lengths and a max-pool branch, concatenated."""

    def __init__(self, c_in: int, filters: int, kernels: tuple[int, ...], bottleneck: int) -> None:
        super().__init__()
        self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False) if c_in > 1 and bottleneck > 0 else None
        width = bottleneck if self.bottleneck is not None else c_in
        self.convs = nn.ModuleList(nn.Conv1d(width, filters, k, padding=k // 2, bias=False) for k in kernels)
        self.pool_conv = nn.Conv1d(c_in, filters, 1, bias=False)
        self.norm = MaskedBatchNorm1d(filters * (len(kernels) + 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        z = x if self.bottleneck is None else self.bottleneck(x)
        branches = [conv(z) for conv in self.convs] + [self.pool_conv(_masked_max3(x, mask))]
        return apply_mask(torch.relu(self.norm(torch.cat(branches, dim=1), mask)), mask)


def _as_list(value: int | Sequence[int]) -> list[int]:
    """One module number or several, as a list."""
    return [value] if isinstance(value, int) else list(value)


#: InceptionTime's kernel lengths (40, 20, 10), made odd so that each step stays centred.
INCEPTION_KERNELS = (39, 19, 9)
#: InceptionTime's width: the filters of each branch.
INCEPTION_FILTERS = 32
#: The longest (pooled) series that keeps InceptionTime's width; longer ones get half of it, for CPU time.
FULL_WIDTH_STEPS = 64


def fitted_filters(length: int) -> int:
    """InceptionTime's 32 filters per branch on series of at most 64 (pooled) steps, half that on longer ones.

    The full width is kept where it is cheap: on 2 CPU cores it trained series of 16-64 steps in 1.1-1.6x the
    half width's time, and already 1.6x on 100 steps (``benchmarks/results/design_choices.md``).

    Examples
    --------
    >>> fitted_filters(29), fitted_filters(64), fitted_filters(65)
    (32, 32, 16)
    """
    return INCEPTION_FILTERS if length <= FULL_WIDTH_STEPS else INCEPTION_FILTERS // 2


def fitted_kernels(length: int, reference: tuple[int, ...] = INCEPTION_KERNELS) -> tuple[int, ...]:
    """``reference`` scaled down together until the longest is at most half of ``length`` steps (odd, >= 3).

    Series of ``2 * max(reference)`` steps or more keep ``reference``; shorter
    ones keep its ratios, so no kernel is wider than the series it reads.

    Examples
    --------
    >>> fitted_kernels(500), fitted_kernels(29), fitted_kernels(16)
    ((39, 19, 9), (13, 7, 3), (7, 3, 3))
    """
    scale = min(1.0, (length / 2) / max(reference))
    scaled = (int(k * scale) for k in reference)
    return tuple(max(3, n if n % 2 else n - 1) for n in scaled)  # rounded down to odd


@register_model
class InceptionAttention(PooledOverTime):
    """InceptionTime (Ismail Fawaz et al., 2020) with additive attention pooling in place of global average pooling.

    ``depth`` Inception modules, each a 1x1 bottleneck to ``bottleneck``
    channels, convolutions of lengths ``kernels`` and a max-pool branch, every
    one ``filters`` wide and concatenated; a residual shortcut every 3 modules.
    The features of the last module are pooled over time by additive
    attention, so each prediction comes with one weight per input step, and
    a linear layer maps the pooled vector to the logits.

    ``kernels=None`` (the default) takes InceptionTime's lengths, scaled down
    by :func:`fitted_kernels` on series under 78 (pooled) steps so that no
    kernel is wider than half the series
    (``benchmarks/results/kernels_rule.json``). ``filters=None`` (the
    default) takes InceptionTime's 32 filters on series of at most 64
    (pooled) steps and 16 on longer ones (:func:`fitted_filters`).

    ``pool`` > 1 shortens the input by that factor first; ``pool=0`` (the
    default) picks the smallest factor that leaves at most ``max_length``
    steps, so series of thousands of steps train in the same time as series
    of a few hundred. ``downsample="fold"`` (the default) folds each window of
    ``pool`` steps into channels, which loses nothing; ``"mean"`` averages the
    window, which erases whatever changes faster than the window. The
    attention is spread back onto the input's ``T`` steps either way, each
    window's weight shared equally among its steps.

    The attention's scoring layer starts at zero weights, so the
    attention starts uniform (InceptionTime's average pooling).
    ``pooling="conjunctive"`` pools with MILLET's class-specific gate instead
    (:mod:`tsattn.models._pooling`; ``positional_encoding`` adds its fixed
    position encoding), and :meth:`class_relevance` gives each step's share
    of each class's logit; ``pooling="average"`` is InceptionTime's own global
    average pooling, its class map the class activation map;
    ``pooling="attention_average"`` adds the two poolings' logits, each through
    its own head (its attention learnt, its class map their exact split).
    ``attention_floor`` spreads that share of the attention uniformly (a mix
    of attention and average pooling; the attention returned is the mix the
    features are pooled with); ``attention_dropout`` hides one random block of
    that share of each series' steps from the attention in training.
    ``differences=True`` gives every module the series' first differences
    beside the series (as MultiRocket reads both). Why these
    settings: ``benchmarks/results/design_choices.md``.

    Examples
    --------
    >>> net = InceptionAttention(n_channels=3, n_classes=4, seq_len=600)
    >>> net.pool, net.filters  # 600 steps pooled by 3, to at most 256; longer than 64, so half the width
    (3, 16)
    >>> logits, attention = net(torch.zeros(2, 3, 600))
    >>> tuple(logits.shape), tuple(attention.shape)
    ((2, 4), (2, 600))
    """

    name = "inception_attention"
    length_offsets = True  # create_network adds logit offsets from each series' length

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        filters: int | None = None,
        depth: int = 6,
        kernels: tuple[int, ...] | None = None,
        bottleneck: int = 16,
        attn_dim: int = 64,
        pool: int = 0,
        max_length: int = 256,
        downsample: str = "fold",
        pooling: str = "attention",
        positional_encoding: bool = True,
        attention_depth: int | Sequence[int] | None = None,
        attention_floor: float = 0.0,
        attention_dropout: float = 0.0,
        differences: bool = False,
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        if depth < 1 or (filters is not None and filters < 1):
            raise ValueError(f"depth and filters must be >= 1; got {depth} and {filters}")
        depths = [depth] if attention_depth is None else _as_list(attention_depth)
        if not depths or len(set(depths)) != len(depths) or not all(1 <= d <= depth for d in depths):
            raise ValueError(
                f"attention_depth must be in [1, depth={depth}], a list of distinct such, or None; "
                f"got {attention_depth}"
            )
        if attention_depth is not None and pooling != "attention":
            raise ValueError(f"attention_depth applies to pooling='attention' only; got pooling={pooling!r}")
        self.attention_depth = sorted(depths)
        if downsample not in ("mean", "fold"):
            raise ValueError(f"downsample must be 'mean' or 'fold'; got {downsample!r}")
        self.pool = pool if pool > 0 else max(1, -(-seq_len // max_length))
        pooled = -(-seq_len // self.pool)
        kernels = fitted_kernels(pooled) if kernels is None else tuple(kernels)
        filters = fitted_filters(pooled) if filters is None else filters
        self.filters = filters
        if any(k % 2 == 0 or k < 1 for k in kernels):
            raise ValueError(f"kernels must be odd and >= 1 (to keep every step centred); got {kernels}")
        self.kernels = kernels
        self.downsample = downsample
        self.differences = bool(differences)
        c_in = (2 if self.differences else 1) * n_channels * (self.pool if downsample == "fold" else 1)
        width = filters * (len(kernels) + 1)
        self.blocks = nn.ModuleList(
            _Inception(c_in if i == 0 else width, filters, tuple(kernels), bottleneck) for i in range(depth)
        )
        # A shortcut from the input of every third module to its output (InceptionTime's residual connections).
        self.shortcuts = nn.ModuleDict(
            {
                str(i): nn.Sequential(
                    nn.Conv1d(c_in if i == 2 else width, width, 1, bias=False), MaskedBatchNorm1d(width)
                )
                for i in range(2, depth, 3)
            }
        )
        self.pooling = pooling
        self.attention, self.head = build_pooling(
            pooling,
            width,
            self.n_outputs,
            attn_dim,
            positional_encoding=positional_encoding,
            attention_floor=attention_floor,
            attention_dropout=attention_dropout,
            key_width=width * len(self.attention_depth),
        )
        # Every step scores the same at the start, so the network begins as InceptionTime (global average
        # pooling) and its attention departs from uniform only as far as the loss asks.
        score: Any = getattr(self.attention, "score", None)  # average pooling has no scores
        if score is not None:
            nn.init.zeros_(score.weight)

    def _pooled(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, Any, Any]:
        T = x.shape[-1]
        if self.differences:
            x = with_differences(x, mask)
        if self.downsample == "fold":
            h, coarse_mask = fold_time(apply_mask(x, mask), mask, self.pool)  # (B, C * pool, T/pool)
        else:
            h, coarse_mask = pool_time(apply_mask(x, mask), mask, self.pool)  # (B, C, T/pool)
        residual = h
        scored = []
        for i, block in enumerate(self.blocks):
            h = block(h, coarse_mask)
            if str(i) in self.shortcuts:
                shortcut: Any = self.shortcuts[str(i)]  # (a 1x1 convolution, its batch norm)
                h = apply_mask(torch.relu(h + shortcut[1](shortcut[0](residual), coarse_mask)), coarse_mask)
                residual = h
            if i + 1 in self.attention_depth:
                scored.append(h)  # the attention scores what these modules see (the last module's, by default)
        keys = scored[0] if len(scored) == 1 else torch.cat(scored, dim=1)  # side by side, channel-wise
        return pool_over_time(self.attention, self.head, h, coarse_mask, T, mask, self.pool, keys)
