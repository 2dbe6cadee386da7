"""The seed's synthetic task: sine waves, some with a flattened ("rectified") segment.

Generation is vectorised over series and reproducible: series are produced in
fixed blocks of :data:`BLOCK` rows, each block drawing from its own random
stream ``numpy.random.default_rng([seed, block])``. The same seed therefore
gives byte-identical arrays however the work is split (in memory, in shards,
or over several worker processes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..config import DatasetConfig
from .dataset import SeriesDataset

__all__ = ["BLOCK", "generate", "generate_block", "iter_blocks"]

#: Series per random stream. Fixed forever: changing it changes every dataset.
BLOCK = 4096


def _grids(config: DatasetConfig) -> dict[str, np.ndarray]:
    # numpy.arange(min, max, step), exactly as the seed builds its grids.
    lo, hi, step = config.index_grid("loc")
    llo, lhi, lstep = config.index_grid("length")
    return {
        "freq": np.arange(config.min_freq, config.max_freq, config.step_freq),
        "amp": np.arange(config.min_amp, config.max_amp, config.step_amp),
        "loc": np.arange(lo, hi, step),
        "length": np.arange(llo, lhi, lstep),
    }


def generate_block(
    config: DatasetConfig, seed: int, block: int, grids: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Generate block number ``block`` (rows ``block*BLOCK`` up to ``dataset_size``)."""
    grids = grids if grids is not None else _grids(config)
    n = min(BLOCK, config.dataset_size - block * BLOCK)
    if n <= 0:
        raise ValueError(f"block must be < {-(-config.dataset_size // BLOCK)}; got {block}")
    rng = np.random.default_rng([seed, block])
    T = config.num_points

    # The draws happen in a fixed order so that a stream never depends on the data.
    label = (rng.random(n) >= config.normal_anomalous_ratio).astype(np.int64)  # 0 normal, 1 rectified
    freq = grids["freq"][rng.integers(0, len(grids["freq"]), n)]
    amp = grids["amp"][rng.integers(0, len(grids["amp"]), n)]
    loc = grids["loc"][rng.integers(0, len(grids["loc"]), n)]
    length = grids["length"][rng.integers(0, len(grids["length"]), n)]
    phase = rng.uniform(0.0, 2 * np.pi, n) if config.random_phase else np.zeros(n)

    t = np.linspace(0.0, 2 * np.pi, T)
    x = np.sin(freq[:, None] * t[None, :] + phase[:, None])  # (n, T)
    x *= amp[:, None]

    start = np.where(label == 1, loc, -1)
    end = np.where(label == 1, np.minimum(loc + length, T), -1)
    kinds = config.anomaly_kinds
    # Which anomaly each anomalous series carries; drawn only when there is a choice, so that the
    # seed's single-kind streams stay exactly as they were.
    kind = rng.integers(0, len(kinds), n) if len(kinds) > 1 else np.zeros(n, np.int64)
    j = np.arange(T)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])  # (n, T), False for normal rows
    rows = np.arange(n)
    for k, name in enumerate(kinds):
        where = inside & (kind == k)[:, None]
        if not where.any():
            continue
        if name == "rectified":  # the seed: hold the value at the segment's start
            held = x[rows, np.clip(start, 0, T - 1)]
            np.copyto(x, np.broadcast_to(held[:, None], x.shape), where=where)
        elif name == "level_shift":
            x += where * (config.level_shift * amp)[:, None]
        elif name == "frequency_change":  # phase-continuous change of frequency inside the segment
            t0 = t[np.clip(start, 0, T - 1)][:, None]
            changed = (
                np.sin(
                    freq[:, None] * t0 + config.frequency_factor * freq[:, None] * (t[None, :] - t0) + phase[:, None]
                )
                * amp[:, None]
            )
            np.copyto(x, changed, where=where)
        elif name == "noise_burst":
            x += where * rng.standard_normal((n, T)) * (config.burst_std * amp)[:, None]
        elif name == "spike":  # a short spike: only the first spike_length steps of the segment
            where &= j[None, :] < (start + config.spike_length)[:, None]
            x += where * (config.spike_height * amp)[:, None]
    # A spike's true span is the spike itself.
    if "spike" in kinds:
        is_spike = (label == 1) & (np.asarray(kinds)[kind] == "spike")
        end = np.where(is_spike, np.minimum(start + config.spike_length, T), end)
    if config.multiclass:
        label = np.where(label == 1, kind + 1, 0)

    if config.noise_std > 0:
        x += rng.standard_normal((n, T)) * (config.noise_std * amp)[:, None]

    return {
        "X": x.astype(np.float32)[:, None, :],  # (n, 1, T)
        "y": label,
        "segment_start": start.astype(np.int64),
        "segment_end": end.astype(np.int64),
        "freq": freq.astype(np.float64),
        "amp": amp.astype(np.float64),
    }


def iter_blocks(config: DatasetConfig, seed: int, blocks: range | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Yield the dataset block by block, for out-of-core writing."""
    grids = _grids(config)
    n_blocks = -(-config.dataset_size // BLOCK)
    for b in blocks if blocks is not None else range(n_blocks):
        yield generate_block(config, seed, b, grids)


def generate(config: DatasetConfig | None = None, seed: int = 0) -> SeriesDataset:
    """Generate the seed's sine / rectified-sine dataset.

    Parameters
    ----------
    config : DatasetConfig, optional
        The dataset config; the seed's defaults when omitted.
    seed : int
        Seed of the random streams. The same seed gives byte-identical arrays.

    Returns
    -------
    SeriesDataset
        ``X`` of shape ``(n, 1, T)`` (float32), labels ``y`` (0 normal,
        1 rectified) and the ground truth: ``segment_start`` and exclusive
        ``segment_end`` (``-1`` for normal series), ``freq`` and ``amp``.

    Examples
    --------
    >>> from tsattn.config import DatasetConfig
    >>> from tsattn.data import generate
    >>> ds = generate(DatasetConfig(dataset_size=8, num_points=100), seed=0)
    >>> ds.X.shape
    (8, 1, 100)
    """
    config = config if config is not None else DatasetConfig()
    if seed < 0:
        raise ValueError(f"seed must be >= 0; got {seed}")
    n, T = config.dataset_size, config.num_points
    out: dict[str, np.ndarray] = {
        "X": np.empty((n, 1, T), np.float32),
        "y": np.empty(n, np.int64),
        "segment_start": np.empty(n, np.int64),
        "segment_end": np.empty(n, np.int64),
        "freq": np.empty(n, np.float64),
        "amp": np.empty(n, np.float64),
    }
    for b, block in enumerate(iter_blocks(config, seed)):
        rows = slice(b * BLOCK, b * BLOCK + len(block["y"]))
        for key, arr in block.items():
            out[key][rows] = arr
    return SeriesDataset(X=out.pop("X"), y=out.pop("y"), class_names=class_names(config), extras=out)


def class_names(config: DatasetConfig) -> list[str]:
    """``["normal", <kind>...]`` in multi-class mode, else ``["normal", "rectified"]`` or
    ``["normal", "anomalous"]``."""
    kinds = list(config.anomaly_kinds)
    if config.multiclass:
        return ["normal", *kinds]
    return ["normal", kinds[0] if len(kinds) == 1 else "anomalous"]
