"""Batches straight from in-memory arrays or out-of-core ones (:class:`~tsattn.data.npyrows.NpyRows`).

``ArrayDataset.__getitems__`` returns a whole batch with one fancy-index,
which is far faster than collating series one by one. With ``index`` the
dataset is a view of some rows of ``X`` (a split) without copying them, and
``transform`` (the fitted scaler) runs per batch, so a file of
any size is read only a batch at a time. The DataLoader still owns shuffling
and sharding, so Lightning's DDP sampler works unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ..layers.masking import lengths_to_mask


class ArrayDataset(Dataset[Any]):
    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
        *,
        index: np.ndarray | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.X = X
        self.y = y
        self.lengths = lengths
        self.index = None if index is None else np.asarray(index, np.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.X) if self.index is None else len(self.index)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        return tuple(self.__getitems__([i]))

    def __getitems__(self, idx: list[int]) -> Any:
        picked = np.sort(np.asarray(idx, np.int64))  # sorted reads are kinder to memory-mapped files
        rows = picked if self.index is None else np.sort(self.index[picked])
        xb = np.asarray(self.X[rows], dtype=np.float32)
        if self.transform is not None:
            xb = self.transform(xb)
        x = torch.from_numpy(np.ascontiguousarray(xb, dtype=np.float32))
        y = (
            torch.from_numpy(np.asarray(self.y[rows], dtype=np.int64))
            if self.y is not None
            else torch.zeros(len(rows), dtype=torch.long)
        )
        mask = None
        if self.lengths is not None:
            lengths = torch.from_numpy(np.asarray(self.lengths[rows]))
            mask = lengths_to_mask(lengths, x.shape[-1])  # (B, T), True on real steps
        return x, y, mask


class EpochSampler(RandomSampler):
    """A ``RandomSampler`` whose order depends only on the seed and the epoch.

    It draws exactly what a shuffled DataLoader with ``generator=
    Generator().manual_seed(seed)`` draws (a worker seed, then two
    permutations per epoch), but from a generator rebuilt at the start of
    each epoch and wound forward past the earlier epochs. So a run resumed at
    epoch ``k`` sees the same batches as one that never stopped, whenever
    Lightning creates the iterator. ``set_epoch`` is called by Lightning at
    the start of every epoch. Under DDP, Lightning swaps this for a
    ``DistributedSampler`` (it is a ``RandomSampler``), seeded the same way.

    With ``passes`` > 1 an epoch is that many permutations, one after the
    other: a small dataset then trains as many steps in fewer epochs, and
    pays Lightning's cost per epoch (validation, callbacks, checkpoint) less often.
    """

    def __init__(self, data_source: Any, seed: int, passes: int = 1) -> None:
        super().__init__(data_source)
        self.seed = seed
        self.epoch = 0
        self.passes = passes

    def __len__(self) -> int:
        return self.passes * len(self.data_source)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        g = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epoch):
            _draw(g)
            for _ in range(self.passes + 1):
                torch.randperm(n, generator=g)
        _draw(g)
        for _ in range(self.passes):
            yield from torch.randperm(n, generator=g).tolist()


def _draw(g: torch.Generator) -> None:
    torch.empty((), dtype=torch.int64).random_(generator=g)


def _keep_batch(batch: Any) -> Any:
    return batch


def make_loader(ds: ArrayDataset, batch_size: int, *, shuffle: bool, seed: int = 0, passes: int = 1) -> DataLoader[Any]:
    if not shuffle:
        return DataLoader(ds, batch_size=batch_size, shuffle=False, collate_fn=_keep_batch, num_workers=0)
    # The loader's own generator only seeds workers (there are none); the order comes from the sampler.
    return DataLoader(
        ds,
        batch_size=batch_size,
        sampler=EpochSampler(ds, seed, passes),
        generator=torch.Generator(),
        collate_fn=_keep_batch,
        num_workers=0,
    )
