"""`tsattn predict`: stream a file of any size through a trained run, chunk by chunk."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._errors import DataError

__all__ = ["iter_series", "predict_file"]

CHUNK = 8192


def iter_series(path: str | os.PathLike[str], chunk: int = CHUNK) -> tuple[int, tuple[int, ...], Iterator[np.ndarray]]:
    """``(n, shape of one series, iterator of (chunk, C, T) float32 blocks)`` for ``.npy`` or ``.npz``.

    ``.npy`` files are memory-mapped, so only one chunk is in memory at a time.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--data: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            X = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"--data: {path.name} is not a readable .npy file: {exc}") from None
    elif suffix == ".npz":
        from .data import load_npz

        X = load_npz(path).X
    else:
        raise DataError(f"--data: predict reads .npy or .npz files; got '{suffix}' ({path.name})")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"--data: X must be numeric; got dtype {X.dtype}")
    if X.ndim not in (2, 3):
        raise DataError(f"--data: X must have shape (n, T) or (n, C, T); got {X.shape}")
    shape = (1, X.shape[1]) if X.ndim == 2 else X.shape[1:]

    def blocks():
        for i in range(0, len(X), chunk):
            block = np.asarray(X[i : i + chunk], dtype=np.float32)
            yield block[:, None, :] if block.ndim == 2 else block

    return len(X), shape, blocks()


def predict_file(run: str | os.PathLike[str], data: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 with_attention: bool = False, chunk: int = CHUNK, progress: bool = True) -> dict:
    """Write one row per series (id, predicted label, per-class probabilities) to CSV or Parquet.

    With ``with_attention``, the attention goes to ``<out stem>.attention.npy``,
    row-aligned. Shapes are checked before anything is written; outputs appear
    only when complete.
    """
    from .data import check_finite
    from .inference import predict_arrays
    from .run import load_run

    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise DataError(f"--out: must end in .csv or .parquet; got '{out.name}'")
    loaded = load_run(run)
    n, (C, T), blocks = iter_series(data, chunk)
    if C != loaded.config["n_channels"]:
        raise DataError(f"--data: the run expects {loaded.config['n_channels']} channel(s); the file has {C}")
    net = loaded.net
    if not getattr(net, "variable_length", True) and T != loaded.config["seq_len"]:
        raise DataError(f"--data: {loaded.model_name} takes series of exactly {loaded.config['seq_len']} steps; got {T}")
    if with_attention and not getattr(net, "has_attention", True):
        raise DataError(f"--with-attention: {loaded.model_name} has no attention")
    names = loaded.class_names
    writer_cls = _ParquetWriter if fmt == "parquet" else _CsvWriter
    att_path = out.with_name(out.stem + ".attention.npy")
    bar = None
    if progress and n > chunk:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="series", desc="predict")
    with writer_cls(out, names) as writer, _AtomicNpy(att_path if with_attention else None, (n, T)) as att_out:
        done = 0
        for block in blocks:
            check_finite(block, what="--data", offset=done)
            proba, att = predict_arrays(net, loaded.scaler.transform(block), with_attention=with_attention)
            writer.write(np.arange(done, done + len(block)), proba)
            if att_out is not None:
                att_out[done : done + len(block)] = att
            done += len(block)
            if bar is not None:
                bar.update(len(block))
    if bar is not None:
        bar.close()
    return {"n_series": n, "out": str(out), "attention": str(att_path) if with_attention else None}


class _CsvWriter:
    def __init__(self, path: Path, names: list[str]) -> None:
        self.path, self.names = path, names

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.fh = os.fdopen(fd, "w", newline="")
        self.fh.write(",".join(["id", "predicted"] + [f"proba_{c}" for c in self.names]) + "\n")
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        lines = [f"{i},{lab}," + ",".join(f"{p:.6g}" for p in row) for i, lab, row in zip(ids, labels, proba)]
        self.fh.write("\n".join(lines) + "\n")

    def __exit__(self, exc_type, *rest) -> None:
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)


class _ParquetWriter(_CsvWriter):
    def __enter__(self):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError("--out: writing .parquet needs pyarrow (pip install pyarrow)") from None
        self.pa = pa
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        fields = [("id", pa.int64()), ("predicted", pa.string())] + [(f"proba_{c}", pa.float32()) for c in self.names]
        self.schema = pa.schema(fields)
        self.fh = pq.ParquetWriter(self.tmp, self.schema)
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        pa = self.pa
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        cols = [pa.array(ids, pa.int64()), pa.array(labels.tolist(), pa.string())]
        cols += [pa.array(proba[:, j].astype(np.float32)) for j in range(proba.shape[1])]
        self.fh.write_table(pa.Table.from_arrays(cols, schema=self.schema))


class _AtomicNpy:
    """A memory-mapped ``.npy`` written under a temporary name, renamed when complete."""

    def __init__(self, path: Path | None, shape: tuple[int, int]) -> None:
        self.path, self.shape = path, shape

    def __enter__(self):
        if self.path is None:
            return None
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.arr = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=np.float32, shape=self.shape)
        return self.arr

    def __exit__(self, exc_type, *rest) -> None:
        if self.path is None:
            return
        self.arr.flush()
        del self.arr
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)
