"""`tsattn predict`: stream a file of any size through a trained run, chunk by chunk."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError, install_hint
from .._io import atomic_path

__all__ = ["iter_series", "predict_file"]

CHUNK = 8192

#: Batches of a file: ``(X (b, C, T) float32, lengths or None, ids)``.
Batches = Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]
#: A file to classify: ``(n or None, (C, T), batches)``.
Series = tuple[int | None, tuple[int, ...], Batches]


def iter_series(
    path: str | os.PathLike[str],
    chunk: int = CHUNK,
    *,
    reader: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
) -> Series:
    """``(n or None, (C, T), iterator of (X (b, C, T) float32, lengths or None, ids))`` for any supported file.

    ``.npy`` files and CSV/Parquet (wide layout) are read in batches, so only
    one chunk is in memory at a time; the UCR formats, long
    CSV/Parquet and ``.npz`` are read whole, then chunked. ``reader`` and
    ``schema`` are a run's (``config["data"]``): CSV/Parquet columns and
    channels are matched to it by name. ``ids`` are the file's own ids (its
    id column), else the row numbers, in file order.
    """
    from ..data.readers import detect_format, schema_options
    from ..data.sources import read_with_contract

    source = {"reader": reader, "schema": schema}
    if not str(path).startswith("ucr:"):
        path = Path(path)
        if not path.is_file():
            raise DataError(f"data: file not found: {path}")
        fmt = detect_format(path)
        if fmt == "npy":
            return _npy_chunks(path, chunk)
        reader = {k: v for k, v in (reader or {}).items() if v is not None}
        options = schema_options(schema)
        if fmt in ("csv", "parquet") and not _is_long(path, fmt, reader, options):
            variable = bool(reader.get("variable_length") or options.get("variable_length"))
            return _wide_batches(path, fmt, chunk, reader, options, variable)
    ds = read_with_contract(path, source, require_labels=False)

    def whole() -> Batches:
        for i in range(0, len(ds), chunk):
            lengths = None if ds.lengths is None else ds.lengths[i : i + chunk]
            rows = np.arange(i, min(i + chunk, len(ds)))
            yield ds.X[i : i + chunk], lengths, rows if ds.ids is None else np.asarray(ds.ids)[rows]

    return len(ds), ds.X.shape[1:], whole()


def _is_long(path: Path, fmt: str, reader: dict[str, Any], options: dict[str, Any]) -> bool:
    import pandas as pd

    from ..data.readers import is_long_layout

    if not reader.get("id_column"):  # no header read for the common case
        return False
    header = [str(c) for c in pd.read_csv(path, nrows=0).columns] if fmt == "csv" else _parquet(path).schema_arrow.names
    return is_long_layout(
        header, reader["id_column"], reader.get("value_column", "value"), options.get("value_columns")
    )


def _parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            f"data: reading .parquet needs pyarrow, which is not installed ({install_hint('parquet')})"
        ) from None
    return pq.ParquetFile(path)


def _npy_chunks(path: Path, chunk: int) -> Series:
    """Read a ``.npy`` chunk by chunk with positioned reads (:class:`~tsattn.data.npyrows.NpyRows`), never mapped."""
    from ..data.npyrows import NpyRows

    X = NpyRows(path)
    if not np.issubdtype(X.dtype, np.number) or X.ndim not in (2, 3):
        raise DataError(
            f"data: X must be a numeric C-ordered array of shape (n, T) or (n, C, T); got {X.dtype} {X.shape}"
        )

    def blocks() -> Batches:
        for i in range(0, len(X), chunk):
            block = X[i : i + chunk].astype(np.float32, copy=False)
            yield (block[:, None, :] if block.ndim == 2 else block), None, np.arange(i, i + len(block))

    return len(X), ((1, X.shape[1]) if X.ndim == 2 else X.row_shape), blocks()


def _wide_batches(
    path: Path, fmt: str, chunk: int, reader: dict[str, Any], options: dict[str, Any], variable_length: bool
) -> Series:
    """Wide CSV/Parquet, one row per series, read ``chunk`` rows at a time; values by name, ids kept."""
    import pandas as pd

    from ..data.readers import wide_layout, wide_values

    if fmt == "csv":
        head = pd.read_csv(path, nrows=1000)
        frames = pd.read_csv(path, chunksize=chunk)
        n = None
    else:
        pf = _parquet(path)
        head = next(pf.iter_batches(batch_size=1000)).to_pandas() if pf.metadata.num_rows else pd.DataFrame()
        frames = (b.to_pandas() for b in pf.iter_batches(batch_size=chunk))
        n = pf.metadata.num_rows
    head.columns = [str(c) for c in head.columns]
    if len(head) == 0:
        raise DataError(f"data: {path.name} has a header but no rows")
    layout = wide_layout(
        head.columns,
        head,
        path,
        label_column=reader.get("label_column") or "label",
        id_column=reader.get("id_column"),
        value_columns=options.get("value_columns"),
        require_labels=False,
        run_id_column=options.get("run_id_column"),
    )
    cols = layout["value_columns"]

    def blocks() -> Batches:
        start = 0
        for df in frames:
            df.columns = [str(c) for c in df.columns]
            X, lengths = wide_values(df, cols, path.name, offset=start, variable_length=variable_length)
            ids = df[layout["id_column"]].to_numpy() if layout["id_column"] else np.arange(start, start + len(X))
            yield X, lengths, ids
            start += len(X)

    return n, (1, len(cols)), blocks()


def predict_file(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    with_attention: bool = False,
    chunk: int = CHUNK,
    progress: bool = True,
    id_column: str | None = None,
    variable_length: bool | None = None,
) -> dict[str, Any]:
    """Write one row per series (id, predicted label, per-class probabilities) to CSV or Parquet.

    The ids are the file's own (its id column: the run's, ``id_column``, or
    one detected as :func:`~tsattn.data.readers.wide_layout` does), else the
    row numbers, in the file's order. A wide CSV/Parquet row whose last
    values are missing is refused, unless the run's training file had such
    rows or ``variable_length`` says they are shorter series.

    With ``with_attention``, the attention goes to ``<out stem>.attention.npy``,
    row-aligned. Shapes are checked before anything is written; outputs appear
    only when complete.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> import numpy as np
    >>> from tsattn.data import load_npz
    >>> np.save(run / "new.npy", load_npz(run.parent / "series.npz").X[:5, 0])  # (n, T): five unlabelled series
    >>> info = predict_file(run, run / "new.npy", run / "preds.csv", progress=False)
    >>> info["n_series"], (run / "preds.csv").read_text().splitlines()[0]
    (5, 'id,predicted,proba_normal,proba_rectified')
    """
    from ..inference import predict_arrays
    from ..run import load_run
    from ..training.missing import apply_nan_policy

    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise DataError(f"out: must end in .csv or .parquet; got '{out.name}'")
    loaded = load_run(run)
    source = loaded.config.data.to_json()
    reader = dict(source.get("reader") or {})
    if id_column is not None:
        reader["id_column"] = id_column
    if variable_length is not None:
        reader["variable_length"] = variable_length
    n, (C, T), blocks = iter_series(data, chunk, reader=reader, schema=source.get("schema"))
    if loaded.config.n_channels != C:
        raise DataError(f"data: the run expects {loaded.config.n_channels} channel(s); the file has {C}")
    net = loaded.net
    if not getattr(net, "variable_length", True) and loaded.config.seq_len != T:
        raise DataError(f"data: {loaded.model_name} takes series of exactly {loaded.config.seq_len} steps; got {T}")
    if with_attention and not getattr(net, "has_attention", True):
        raise DataError(f"with_attention: {loaded.model_name} has no attention")
    names = loaded.class_names
    writer_cls = _ParquetWriter if fmt == "parquet" else _CsvWriter
    att_path = out.with_name(out.stem + ".attention.npy")
    bar = None
    if progress and (n is None or n > chunk):
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="series", desc="predict", disable=not sys.stderr.isatty())  # no redraws in a log
    nan_policy = loaded.config.train.nan_policy
    att_rows: list[np.ndarray] = []  # only when the row count is unknown up front (CSV)
    with (
        writer_cls(out, names) as writer,
        _atomic_npy(att_path if with_attention and n else None, (n or 0, T)) as att_out,
    ):
        done = 0
        for block, lengths, ids in blocks:
            block = apply_nan_policy(block, lengths, nan_policy, what="data", offset=done)
            proba, att = predict_arrays(
                net, loaded.scaler.transform(block), lengths=lengths, with_attention=with_attention
            )
            writer.write(ids, proba)
            if with_attention:
                assert att is not None  # with_attention is refused for a model without attention
                if att_out is not None:
                    att_out[done : done + len(block)] = att
                else:
                    att_rows.append(att)
            done += len(block)
            if bar is not None:
                bar.update(len(block))
    if with_attention and att_out is None:
        from .._io import atomic_save

        atomic_save(att_path, lambda fh: np.save(fh, np.concatenate(att_rows) if att_rows else np.zeros((0, T))))
    if bar is not None:
        bar.close()
    return {"n_series": done, "out": str(out), "attention": str(att_path) if with_attention else None}


class _CsvWriter:
    def __init__(self, path: Path, names: list[str]) -> None:
        self.path, self.names = path, names

    def __enter__(self) -> _CsvWriter:
        import csv

        self._atomic = atomic_path(self.path)
        self.fh: Any = open(self._atomic.__enter__(), "w", newline="")
        self.csv = csv.writer(self.fh, lineterminator="\n")  # quotes an id or label that holds a comma
        self.csv.writerow(["id", "predicted"] + [f"proba_{c}" for c in self.names])
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        self.csv.writerows(
            [i, lab, *(f"{p:.6g}" for p in row)] for i, lab, row in zip(ids.tolist(), labels, proba, strict=False)
        )

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()
        self._atomic.__exit__(*exc)  # renames into place, or removes the temporary file on error


class _ParquetWriter(_CsvWriter):
    def __enter__(self) -> _ParquetWriter:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(
                f"out: writing .parquet needs pyarrow, which is not installed ({install_hint('parquet')})"
            ) from None
        self.pa = pa
        self.fields = [("predicted", pa.string())] + [(f"proba_{c}", pa.float32()) for c in self.names]
        self.schema: Any = None  # the id column's type comes with the first batch: integers, or text
        self.pq = pq
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self.fh = None
        return self

    def write(self, ids: np.ndarray, proba: np.ndarray) -> None:
        pa = self.pa
        if self.schema is None:
            id_type = pa.int64() if np.asarray(ids).dtype.kind in "iu" else pa.string()
            self.schema = pa.schema([("id", id_type), *self.fields])
            self.fh = self.pq.ParquetWriter(self._tmp, self.schema)
        id_type = self.schema.field("id").type
        id_values = ids.tolist() if id_type == pa.int64() else [str(i) for i in ids.tolist()]
        labels = np.asarray(self.names, dtype=object)[proba.argmax(1)]
        cols = [pa.array(id_values, id_type), pa.array(labels.tolist(), pa.string())]
        cols += [pa.array(proba[:, j].astype(np.float32)) for j in range(proba.shape[1])]
        self.fh.write_table(pa.Table.from_arrays(cols, schema=self.schema))

    def __exit__(self, *exc: Any) -> None:
        if self.fh is None:  # no rows: an empty file with integer ids
            self.schema = self.pa.schema([("id", self.pa.int64()), *self.fields])
            self.fh = self.pq.ParquetWriter(self._tmp, self.schema)
        super().__exit__(*exc)


@contextlib.contextmanager
def _atomic_npy(path: Path | None, shape: tuple[int, int]) -> Iterator[np.ndarray | None]:
    """A memory-mapped ``.npy`` written under a temporary name, renamed when complete (None: no file)."""
    if path is None:
        yield None
        return
    with atomic_path(path) as tmp:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)  # type: ignore[no-untyped-call]
        yield arr
        arr.flush()
        del arr
