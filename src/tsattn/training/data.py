"""Batches straight from in-memory (or memory-mapped) arrays.

``ArrayDataset.__getitems__`` returns a whole batch with one fancy-index,
which is far faster than collating series one by one; the DataLoader still
owns shuffling and sharding, so Lightning's DDP sampler works unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class ArrayDataset(Dataset):
    def __init__(self, X: np.ndarray, y: np.ndarray | None = None, lengths: np.ndarray | None = None) -> None:
        self.X = X
        self.y = y
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, idx: list[int]):
        idx = np.sort(np.asarray(idx))  # sorted reads are kinder to memory-mapped files
        x = torch.from_numpy(np.ascontiguousarray(self.X[idx], dtype=np.float32))
        y = torch.from_numpy(np.asarray(self.y[idx], dtype=np.int64)) if self.y is not None else torch.zeros(len(idx), dtype=torch.long)
        mask = None
        if self.lengths is not None:
            lengths = torch.from_numpy(np.asarray(self.lengths[idx]))
            mask = torch.arange(x.shape[-1])[None, :] < lengths[:, None]  # (B, T), True on real steps
        return x, y, mask


def _keep_batch(batch):
    return batch


def make_loader(ds: ArrayDataset, batch_size: int, *, shuffle: bool, seed: int = 0) -> DataLoader:
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=gen, collate_fn=_keep_batch, num_workers=0)
