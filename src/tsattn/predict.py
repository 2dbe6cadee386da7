"""`tsattn predict`: stream a file of any size through a trained run, chunk by chunk."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from ._errors import DataError
from ._io import atomic_path

__all__ = ["iter_series", "predict_file"]

CHUNK = 8192


def iter_series(path: str | os.PathLike[str], chunk: int = CHUNK, *, reader: dict | None = None):
    """``(n or None, (C, T), iterator of (X (b, C, T) float32, lengths or None, ids))`` for any supported file.

    ``.npy`` files and CSV/Parquet (wide layout) are read in batches, so only
    one chunk is in memory at a time; the UCR formats, long
    CSV/Parquet and ``.npz`` are read whole, then chunked.
    """
    from .data.readers import detect_format, read_series_file

    if str(path).startswith("ucr:"):  # a named UCR/UEA dataset: its official test split
        from .datasets import load as load_named

        ds = load_named(str(path)[4:])[1]
    else:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"--data: file not found: {path}")
        fmt = detect_format(path)
        reader = dict(reader or {})
        if fmt == "npy":
            return _npy_chunks(path, chunk)
        if fmt in ("csv", "parquet") and not reader.get("id_column"):
            return _wide_batches(path, fmt, chunk, reader.get("label_column") or "label")
        ds = read_series_file(path, require_labels=False, **reader)

    def whole():
        for i in range(0, len(ds), chunk):
            lengths = None if ds.lengths is None else ds.lengths[i : i + chunk]
            yield ds.X[i : i + chunk], lengths, np.arange(i, min(i + chunk, len(ds)))

    return len(ds), ds.X.shape[1:], whole()


def _npy_chunks(path: Path, chunk: int):
    """Read a ``.npy`` chunk by chunk with positioned reads (:class:`~tsattn.data.npyrows.NpyRows`), never mapped."""
    from .data.npyrows import NpyRows

    X = NpyRows(path)
    if not np.issubdtype(X.dtype, np.number) or X.ndim not in (2, 3):
        raise DataError(f"--data: X must be a numeric C-ordered array of shape (n, T) or (n, C, T); got {X.dtype} {X.shape}")

    def blocks():
        for i in range(0, len(X), chunk):
            block = X[i : i + chunk].astype(np.float32, copy=False)
            yield (block[:, None, :] if block.ndim == 2 else block), None, np.arange(i, i + len(block))

    return len(X), ((1, X.shape[1]) if X.ndim == 2 else X.row_shape), blocks()


def _wide_batches(path: Path, fmt: str, chunk: int, label_column: str):
    """Wide CSV/Parquet, one row per series, read ``chunk`` rows at a time (label column ignored)."""
    import pandas as pd

    from .data.readers import _trailing_nan_lengths

    if fmt == "csv":
        header = pd.read_csv(path, nrows=0).columns
        frames = pd.read_csv(path, chunksize=chunk)
        n = None
    else:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError("--data: reading .parquet needs pyarrow, which is not installed "
                            "(pip install 'tsattn[parquet]')") from None
        pf = pq.ParquetFile(path)
        header, n = pf.schema_arrow.names, pf.metadata.num_rows
        frames = (b.to_pandas() for b in pf.iter_batches(batch_size=chunk))
    cols = [c for c in header if c != label_column]
    if not cols:
        raise DataError(f"--data: {path.name} has no value columns")

    def blocks():
        start = 0
        for df in frames:
            values = df[cols].apply(pd.to_numeric, errors="coerce")
            if (values.isna() & df[cols].notna()).to_numpy().any():
                raise DataError(f"--data: {path.name} has a value that is not a number in rows {start}..{start + len(df) - 1}")
            X = values.to_numpy(dtype=np.float32)[:, None, :]
            lengths = _trailing_nan_lengths(X) if np.isnan(X).any() else None
            yield X, lengths, np.arange(start, start + len(X))
            start += len(X)

    return n, (1, len(cols)), blocks()


def predict_file(run: str | os.PathLike[str], data: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 with_attention: bool = False, chunk: int = CHUNK, progress: bool = True) -> dict:
    """Write one row per series (id, predicted label, per-class probabilities) to CSV or Parquet.

    With ``with_attention``, the attention goes to ``<out stem>.attention.npy``,
    row-aligned. Shapes are checked before anything is written; outputs appear
    only when complete.
    """
    from .data.readers import apply_nan_policy
    from .inference import predict_arrays
    from .run import load_run

    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise DataError(f"--out: must end in .csv or .parquet; got '{out.name}'")
    loaded = load_run(run)
    n, (C, T), blocks = iter_series(data, chunk, reader=loaded.config.get("data", {}).get("reader"))
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
    if progress and (n is None or n > chunk):
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="series", desc="predict", disable=not sys.stderr.isatty())  # no redraws in a log
    nan_policy = loaded.config["train"].get("nan_policy", "error")
    att_rows: list[np.ndarray] = []  # only when the row count is unknown up front (CSV)
    with writer_cls(out, names) as writer, _atomic_npy(att_path if with_attention and n else None, (n or 0, T)) as att_out:
        done = 0
        for block, lengths, ids in blocks:
            block = apply_nan_policy(block, lengths, nan_policy, what="--data", offset=done)
            proba, att = predict_arrays(net, loaded.scaler.transform(block), lengths=lengths,
                                        with_attention=with_attention)
            writer.write(ids, proba)
            if with_attention:
                if att_out is not None:
                    att_out[done : done + len(block)] = att
                else:
                    att_rows.append(att)
            done += len(block)
            if bar is not None:
                bar.update(len(block))
    if with_attention and att_out is None:
        from ._io import atomic_save

        atomic_save(att_path, lambda fh: np.save(fh, np.concatenate(att_rows) if att_rows else np.zeros((0, T))))
    if bar is not None:
        bar.close()
    return {"n_series": done, "out": str(out), "attention": str(att_path) if with_attention else None}


class _CsvWriter:
    def __init__(self, path: Path, names: list[str]) -> None:
        self.path, self.names = path, names

    def __enter__(self):
        self._atomic = atomic_path(self.path)
        self.fh = open(self._atomic.__enter__(), "w", newline="")
        self.fh.write(",".join(["id", "predicted"] + [f"proba_{c}" for c in self.names]) + "\n")
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        lines = [f"{i},{lab}," + ",".join(f"{p:.6g}" for p in row) for i, lab, row in zip(ids, labels, proba)]
        self.fh.write("\n".join(lines) + "\n")

    def __exit__(self, *exc) -> None:
        self.fh.close()
        self._atomic.__exit__(*exc)  # renames into place, or removes the temporary file on error


class _ParquetWriter(_CsvWriter):
    def __enter__(self):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError("--out: writing .parquet needs pyarrow, which is not installed (pip install 'tsattn[parquet]')") from None
        self.pa = pa
        fields = [("id", pa.int64()), ("predicted", pa.string())] + [(f"proba_{c}", pa.float32()) for c in self.names]
        self.schema = pa.schema(fields)
        self._atomic = atomic_path(self.path)
        self.fh = pq.ParquetWriter(self._atomic.__enter__(), self.schema)
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        pa = self.pa
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        cols = [pa.array(ids, pa.int64()), pa.array(labels.tolist(), pa.string())]
        cols += [pa.array(proba[:, j].astype(np.float32)) for j in range(proba.shape[1])]
        self.fh.write_table(pa.Table.from_arrays(cols, schema=self.schema))


@contextlib.contextmanager
def _atomic_npy(path: Path | None, shape: tuple[int, int]):
    """A memory-mapped ``.npy`` written under a temporary name, renamed when complete (None: no file)."""
    if path is None:
        yield None
        return
    with atomic_path(path) as tmp:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
        yield arr
        arr.flush()
        del arr
