"""Rows of a ``.npy`` file read on demand with positioned reads, never memory-mapped.

A memory map would do, but every page it touches stays mapped and counts in
the process's resident memory until the map is dropped: one epoch over a
1M x 500 float32 file would show 2 GB resident. ``NpyRows`` reads the rows a
batch asks for into a fresh buffer, so memory stays bounded by the batch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError


class NpyRows:
    """A read-only, array-like view of a ``.npy`` file's rows: ``len``, ``shape``, ``dtype`` and indexing.

    ``X[i]``, ``X[a:b]`` and ``X[index_array]`` return in-memory arrays.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as fh:
                major, _ = np.lib.format.read_magic(fh)  # type: ignore[no-untyped-call]
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read(fh)  # type: ignore[no-untyped-call]
                self.offset = fh.tell()
        except (ValueError, OSError) as exc:
            raise DataError(f"data: {self.path.name} is not a readable .npy file: {exc}") from None
        if dtype.hasobject:
            raise DataError(f"data: {self.path.name} holds object arrays, which would need unpickling; refused")
        if fortran or not shape:
            raise DataError(f"data: {self.path.name} must be a C-ordered array with rows; got shape {shape}")
        self.shape, self.dtype = tuple(shape), dtype
        self.row_shape = self.shape[1:]
        self.row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * dtype.itemsize
        expected = self.offset + self.shape[0] * self.row_bytes
        if self.path.stat().st_size < expected:
            raise DataError(
                f"data: {self.path.name} is truncated: {self.path.stat().st_size} bytes, its header needs {expected}"
            )
        self._fd: int | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return int(self.shape[0])

    def _read(self, start: int, count: int) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return os.pread(self._fd, count * self.row_bytes, self.offset + start * self.row_bytes)

    def __getitem__(self, key: int | np.integer[Any] | slice | np.ndarray) -> np.ndarray:
        n = len(self)
        if isinstance(key, (int, np.integer)):
            key = int(key) + (n if key < 0 else 0)
            if not 0 <= key < n:
                raise IndexError(f"row {key} out of range for {n} rows")
            return np.asarray(self[key : key + 1][0])
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return self[np.arange(start, stop, step)]
            count = max(0, stop - start)
            return np.frombuffer(self._read(start, count), self.dtype).reshape(count, *self.row_shape).copy()
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64).ravel()
        if len(rows) and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"rows out of range for {n} rows")
        rows = np.where(rows < 0, rows + n, rows)
        out = np.empty((len(rows), *self.row_shape), self.dtype)
        # One read per run of consecutive rows: sorted batches from a split are mostly short runs.
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for run in np.split(np.arange(len(rows)), breaks):
            if len(run):
                first = int(rows[run[0]])
                out[run] = np.frombuffer(self._read(first, len(run)), self.dtype).reshape(len(run), *self.row_shape)
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self[:]
        return arr if dtype is None else arr.astype(dtype)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
            self._fd = None

    def __getstate__(self) -> dict[str, Any]:  # a DDP or DataLoader worker process opens its own descriptor
        return {k: v for k, v in self.__dict__.items() if k != "_fd"} | {"_fd": None}
