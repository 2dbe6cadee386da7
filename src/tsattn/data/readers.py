"""Readers for users' own data: UCR/UEA ``.ts``, UCR 2018 ``.tsv``, ``.arff``, CSV, Parquet, ``.npy``/``.npz``.

aeon's loaders parse the UCR/UEA formats; this module only adapts their
output and validates it. Every reader returns a :class:`SeriesDataset` whose
``X`` is ``(n, C, T)``; variable-length series are padded at the end with NaN
and their true lengths kept in ``lengths``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError, install_hint
from .dataset import SeriesDataset, encode_labels, label_kind, load_npz

__all__ = [
    "FORMATS",
    "detect_format",
    "read_series_file",
    "schema_options",
    "stack_ragged",
    "wide_layout",
]

FORMATS = ("ts", "tsv", "arff", "csv", "parquet", "npy", "npz")


def detect_format(path: Path) -> str:
    """The format from the file's suffix, checked against its first bytes where they tell."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "txt":
        suffix = "tsv"
    if suffix not in FORMATS:
        raise DataError(f"data: cannot tell the format of '{path.name}'; use one of .{', .'.join(FORMATS)}")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise DataError(f"data: {path.name} is empty")
    if suffix == "npz" and head[:2] != b"PK":
        raise DataError(f"data: {path.name} is not an .npz (zip) file")
    if suffix == "npy" and head[:6] != b"\x93NUMPY":
        raise DataError(f"data: {path.name} is not an .npy file")
    if suffix == "parquet" and head[:4] != b"PAR1":
        raise DataError(f"data: {path.name} is not a Parquet file")
    return suffix


def stack_ragged(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """A list of ``(C, T_i)`` arrays -> NaN-padded ``(n, C, max T)`` and lengths (``None`` if all equal)."""
    series = [np.atleast_2d(np.asarray(s, dtype=np.float32)) for s in series]
    channels = {s.shape[0] for s in series}
    if len(channels) != 1:
        raise DataError(f"data: every series must have the same number of channels; got {sorted(channels)}")
    lengths = np.array([s.shape[1] for s in series], np.int64)
    if (lengths == lengths[0]).all():
        return np.stack(series), None
    out = np.full((len(series), channels.pop(), lengths.max()), np.nan, np.float32)
    for i, s in enumerate(series):
        out[i, :, : s.shape[1]] = s
    return out, lengths


def _trailing_nan_lengths(X: np.ndarray) -> np.ndarray | None:
    """Lengths from trailing all-NaN steps (the UCR convention for unequal length), or None."""
    finite_any = ~np.all(np.isnan(X), axis=1)  # (n, T): a step is present if any channel has a value
    last = X.shape[2] - np.argmax(finite_any[:, ::-1], axis=1)
    last[~finite_any.any(1)] = 0
    return None if (last == X.shape[2]).all() else last.astype(np.int64)


def _from_aeon(path: Path, fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    try:
        from aeon.datasets import load_from_arff_file, load_from_ts_file, load_from_tsv_file
    except ImportError:
        raise DataError(f"data: reading .{fmt} files needs aeon ({install_hint('aeon')})") from None
    loader = {"ts": load_from_ts_file, "tsv": load_from_tsv_file, "arff": load_from_arff_file}[fmt]
    try:
        X, y = loader(str(path))
    except Exception as exc:  # aeon raises many kinds for a malformed file
        raise DataError(f"data: {path.name} is not a valid .{fmt} file: {str(exc).splitlines()[0]}") from None
    if isinstance(X, list):
        X, lengths = stack_ragged(X)
    else:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 3 or 0 in X.shape:
            raise DataError(f"data: {path.name} is not a valid .{fmt} file: no numeric series in it (shape {X.shape})")
        lengths = _trailing_nan_lengths(X) if np.isnan(X).any() else None
    return X, np.asarray(y), lengths


def _frame(path: Path, fmt: str) -> Any:
    import pandas as pd

    try:
        if fmt == "csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except ImportError as exc:
        raise DataError(f"data: reading .{fmt} needs {exc.name} ({install_hint('parquet')})") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataError(f"data: {path.name} is not a readable {fmt.upper()} file: {str(exc).splitlines()[0]}") from None


#: Column names that say "identifier", not "time step": never read as data unless declared value columns.
_ID_WORDS = ("id", "ids", "idx", "index", "key", "uid", "uuid", "serial")


def _looks_like_id(name: str) -> bool:
    import re

    if name == "" or name.startswith("Unnamed:"):  # pandas' to_csv() index, or a nameless first column
        return True
    return any(w in _ID_WORDS for w in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])", name.lower()) if w)


def wide_layout(
    columns: Any,
    head: Any,
    path: Path,
    *,
    label_column: str | None,
    id_column: str | None = None,
    value_columns: list[str] | None = None,
    require_labels: bool = True,
    run_id_column: str | None = None,
) -> dict[str, Any]:
    """Which columns of a wide CSV/Parquet file are the id, the label and the values (the time steps).

    - ``label_column`` is the label where the file has it (required with ``require_labels``);
    - ``id_column`` is the id; without it, the id column a trained run recorded (``run_id_column``) where
      the file has it, at any position; else a first column that pandas wrote for its index
      (``Unnamed: 0``) or that holds text is the id;
    - with ``value_columns`` (a trained run's), exactly those are the values, taken by name in that order:
      one missing, or another numeric column that is neither the id nor the label, is an error;
    - without them, every other column is a value, except one whose name says it is an identifier
      (``series_id``, ``index``, ...): that is an error asking to declare it, never a time step.

    ``head`` is a DataFrame of the first rows (to tell text from numbers). Returns ``{"id_column",
    "label_column", "value_columns"}``.
    """
    import pandas as pd

    columns = [str(c) for c in columns]
    name = path.name
    if id_column is not None and id_column not in columns:
        raise DataError(f"id_column: '{id_column}' is not a column of {name}; columns are {_show(columns)}")
    if id_column is None and run_id_column in columns:
        id_column = run_id_column  # found by name, wherever it stands
    label = label_column if label_column in columns else None
    if require_labels and label is None:
        raise DataError(f"label_column: '{label_column}' is not a column of {name}; columns are {_show(columns)}")
    rest = [c for c in columns if c not in (label, id_column)]
    if id_column is None and rest:
        first = rest[0]
        text = (
            not pd.api.types.is_numeric_dtype(head[first])
            and head[first].notna().any()
            and pd.to_numeric(head[first], errors="coerce").isna().any()
        )
        index = first == "" or first.startswith("Unnamed: 0")
        if len(rest) > 1 and (index or (text and (value_columns is None or first not in value_columns))):
            if not index and head[first].duplicated().any():
                raise DataError(
                    f"data: column '{first}' of {name} holds text that repeats ("
                    f"{head[first].iloc[0]!r}, ...), so it is neither a time step nor an id; if it is "
                    f"the label, name it with `label_column` (it is '{label_column}'), else drop it"
                )
            id_column, rest = first, rest[1:]
    if value_columns is not None:
        missing = [c for c in value_columns if c not in rest]
        if missing:
            raise DataError(
                f"data: {name} lacks the run's value column(s) {_show(missing)}; "
                f"the run was trained on {_show(value_columns)}"
            )
        extra = [c for c in rest if c not in value_columns]
        if extra:
            raise DataError(
                f"data: {name} has column(s) {_show(extra)} that are not among the run's value "
                f"columns; remove them, or declare an id with `id_column`"
            )
        return {"id_column": id_column, "label_column": label, "value_columns": list(value_columns)}
    ids = [c for c in rest if _looks_like_id(c)]
    if ids:
        raise DataError(
            f"data: column '{ids[0]}' of {name} looks like an identifier, not a time step; "
            f"declare it with `id_column` {ids[0]}"
        )
    if not rest:
        raise DataError(f"data: {name} has no value columns")
    odd = _outside_the_pattern(rest)
    if odd:
        raise DataError(
            f"data: column '{odd[0]}' of {name} does not follow the time steps' names "
            f"({', '.join(rest[:2])}, ...), so it is not read as one; drop it, or declare it with "
            f"`id_column` {odd[0]}"
        )
    return {"id_column": id_column, "label_column": label, "value_columns": rest}


def _outside_the_pattern(columns: list[str]) -> list[str]:
    """Columns that break the naming pattern nearly all the others share (``t0, t1, ...`` or ``0, 1, ...``).

    A pattern is a name's stem with its trailing number removed; it counts when at least 80% of at least 5
    columns share it. Columns named without such a pattern (``a, b, c``) are all taken as time steps.
    """
    import re
    from collections import Counter

    stems = [re.sub(r"[0-9]+(\.[0-9]+)?$", "", c) if re.search(r"[0-9]$", c) else None for c in columns]
    counts = Counter(s for s in stems if s is not None)
    if len(columns) < 5 or not counts:
        return []
    stem, n = counts.most_common(1)[0]
    if n < 0.8 * len(columns):
        return []
    return [c for c, s in zip(columns, stems, strict=False) if s != stem]


def _show(columns: list[str], most: int = 8) -> str:
    return str(list(columns)[:most])[:-1] + (", ...]" if len(columns) > most else "]")


def _wide(df: Any, path: Path, layout: dict[str, Any], variable_length: bool) -> Any:
    if len(df) == 0:
        raise DataError(f"data: {path.name} has a header but no rows")
    df.columns = [str(c) for c in df.columns]
    y = df[layout["label_column"]].to_numpy() if layout["label_column"] else None
    ids = df[layout["id_column"]].to_numpy() if layout["id_column"] else None
    X, lengths = wide_values(df, layout["value_columns"], path.name, variable_length=variable_length)
    return X, y, lengths, ids


def wide_values(
    df: Any, value_columns: list[str], name: str, offset: int = 0, *, variable_length: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X (n, 1, T) float32, lengths or None)`` from the value columns of a wide frame, by name.

    A row whose last values are missing is a short row. Under
    ``variable_length`` it is a shorter series, padded at the end (and
    masked); otherwise it is refused with its row number and length, since
    in a file of one row per series it is far more often a broken export.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t0": [1.0, 2.0], "t1": [3.0, None]})
    >>> wide_values(df, ["t0", "t1"], "d.csv", variable_length=True)[1].tolist()
    [2, 1]
    >>> wide_values(df, ["t0", "t1"], "d.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    tsattn._errors.DataError: data: d.csv row 1 has 1 value where the file has 2 time-step columns; a short row ...
    """
    import pandas as pd

    raw = df[value_columns]
    values = raw.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise DataError(f"data: {name} row {r + offset} column '{value_columns[c]}' is not a number: {raw.iat[r, c]!r}")
    X = values.to_numpy(dtype=np.float32)[:, None, :]  # one row per series: (n, 1, T)
    lengths = _trailing_nan_lengths(X) if np.isnan(X).any() else None
    if lengths is not None and not variable_length:
        r = int(np.argmax(lengths < X.shape[2]))
        n = int(lengths[r])
        raise DataError(
            f"data: {name} row {r + offset} has {n} value{'s' if n != 1 else ''} where the file has {X.shape[2]} "
            "time-step columns; a short row is refused (a broken export?). If the series have several lengths, "
            "padded at the end, pass `variable_length`"
        )
    return X, lengths


def _long(
    df: Any,
    path: Path,
    id_column: str,
    time_column: str | None,
    value_column: str,
    channel_column: str | None,
    label_column: str | None,
    channels: list[str] | None = None,
) -> Any:
    """Series from a long frame, in the order their ids first appear; channels by name (``channels``: a run's)."""
    need = [c for c in (id_column, time_column, value_column, channel_column) if c]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"data: long format needs the columns {need}; {path.name} lacks {missing}")
    if len(df) == 0:
        raise DataError(f"data: {path.name} has a header but no rows")
    ids = df[id_column].unique()  # first appearance: the file's own order
    found = sorted(str(c) for c in df[channel_column].unique()) if channel_column else []
    if channels is not None and channel_column:
        unknown = [c for c in found if c not in channels]
        if unknown or len(found) != len(channels):
            raise DataError(
                f"data: {path.name} has channels {_show(found)} in '{channel_column}'; the run was "
                f"trained on {_show(channels)}"
            )
        found = list(channels)
    sort = ([channel_column] if channel_column else []) + ([time_column] if time_column else [])
    if sort:
        df = df.sort_values(sort, kind="stable")
    groups = dict(tuple(df.groupby(id_column, sort=False)))
    key = df[channel_column].astype(str) if channel_column else None
    series, labels = [], []
    for sid in ids:
        group = groups[sid]
        rows = []
        for ch in found or [None]:  # type: ignore[list-item]  # one pass without a channel column
            g = group[key.loc[group.index] == ch] if key is not None else group
            rows.append(g[value_column].to_numpy(dtype=np.float32))
        if len({len(r) for r in rows}) != 1:
            raise DataError(f"data: series {sid!r} has channels of different lengths {[len(r) for r in rows]}")
        series.append(np.stack(rows))
        if label_column:
            vals = group[label_column].unique()
            if len(vals) != 1:
                raise DataError(f"label_column: series {sid!r} has several labels {vals[:3].tolist()}")
            labels.append(vals[0])
    X, lengths = stack_ragged(series)
    return X, np.asarray(labels) if label_column else None, lengths, ids, found


def read_series_file(
    path: str | os.PathLike[str],
    *,
    label_column: str | None = "label",
    id_column: str | None = None,
    time_column: str | None = None,
    value_column: str = "value",
    channel_column: str | None = None,
    require_labels: bool = True,
    value_columns: list[str] | None = None,
    channels: list[str] | None = None,
    variable_length: bool = False,
    run_id_column: str | None = None,
) -> SeriesDataset:
    """Read a dataset file of any supported format.

    CSV and Parquet come in two layouts: *wide*, one row per series with a
    label column (``label_column``), an optional id column and one column
    per time step (see :func:`wide_layout` for how the id is told from the
    values); or *long*, one row per observation, chosen by giving
    ``id_column`` of a file that has ``value_column`` (optionally
    ``time_column`` to order by and ``channel_column`` for several channels).
    A trained run passes its ``value_columns`` (wide) or ``channels`` (long):
    the file's columns or channels are then matched by name, and its id
    column (``run_id_column``) is the id wherever it stands in the file.

    In the wide layout every row has a value in every time-step column; a
    short row (missing values at its end) is refused unless
    ``variable_length``, which reads it as a shorter series (see
    :func:`wide_values`). The UCR formats say themselves whether lengths vary.

    The dataset's ``ids`` are the file's own ids in file order (``None``
    where the file has none), and ``schema`` records the layout: what a run
    stores so that later files are read the same way.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> pd.DataFrame({"label": ["a", "b"], "t0": [1.0, 2.0], "t1": [3.0, 4.0]}).to_csv(path, index=False)
    >>> read_series_file(path).X.shape
    (2, 1, 2)
    """
    from .shards import is_shard_dir, open_shards

    path = Path(path)
    if is_shard_dir(path):
        return open_shards(path)  # written by `tsattn generate --shards`: read on demand
    if not path.is_file():
        raise DataError(f"data: file not found: {path}")
    fmt = detect_format(path)
    lengths = None
    if fmt == "npz":
        return load_npz(path)
    if fmt == "npy":
        X = np.load(path, allow_pickle=False)
        if require_labels:
            raise DataError(f"data: {path.name} holds series only; training needs labels (use .npz with X and y)")
        return SeriesDataset(X=X.astype(np.float32), y=np.zeros(len(X), np.int64), class_names=["?"], labelled=False)
    if fmt in ("ts", "tsv", "arff"):
        X, y, lengths = _from_aeon(path, fmt)
        y = np.array([str(v) for v in y])  # class labels as text, whatever the file's type
    else:
        df = _frame(path, fmt)
        df.columns = [str(c) for c in df.columns]
        if id_column is not None and is_long_layout(df.columns, id_column, value_column, value_columns):
            label = label_column if (require_labels or label_column in df.columns) else None
            X, y, lengths, ids, found = _long(
                df, path, id_column, time_column, value_column, channel_column, label, channels
            )
            schema = {
                "format": fmt,
                "layout": "long",
                "id_column": id_column,
                "time_column": time_column,
                "value_column": value_column,
                "channel_column": channel_column,
                "channels": found,
                "label_column": label,
            }
        else:
            layout = wide_layout(
                df.columns,
                df.head(1000),
                path,
                label_column=label_column,
                id_column=id_column,
                value_columns=value_columns,
                require_labels=require_labels,
                run_id_column=run_id_column,
            )
            X, y, lengths, ids = _wide(df, path, layout, variable_length)
            schema = {"format": fmt, "layout": "wide", **layout}
        schema["lengths"] = "equal" if lengths is None else "variable: padded at the end, masked"
        return _dataset(X, y, lengths, path, fmt, require_labels, ids=ids, schema=schema)
    return _dataset(X, y, lengths, path, fmt, require_labels)


def _dataset(
    X: np.ndarray,
    y: Any,
    lengths: np.ndarray | None,
    path: Path,
    fmt: str,
    require_labels: bool,
    **fields: Any,
) -> SeriesDataset:
    labelled = y is not None
    if not labelled:
        if require_labels:
            raise DataError(f"data: {path.name} has no labels; give `label_column`")
        y = np.zeros(len(X), dtype=object)
    typed = y.dtype.kind in "iuf" and fmt in ("csv", "parquet")  # the UCR formats' labels are text
    codes, names = encode_labels(y if y.dtype.kind in "iuUS" or typed else y.astype(str))
    return SeriesDataset(
        X=X,
        y=codes,
        class_names=names,
        lengths=lengths,
        label_kind=label_kind(y) if typed else "str",
        labelled=labelled,
        **fields,
    )


def is_long_layout(columns: Any, id_column: str | None, value_column: str, value_columns: list[str] | None) -> bool:
    """Long (one row per observation) or wide? Long needs a declared id column, a file with the value column,
    and no run that recorded wide value columns."""
    return bool(id_column) and value_column in columns and value_columns is None


def schema_options(schema: dict[str, Any] | None) -> dict[str, Any]:
    """What a run's recorded input schema tells a reader: its value columns (wide) or channels (long),
    whether its wide rows had several lengths, and its id column."""
    if not schema:
        return {}
    if schema.get("layout") == "wide" and schema.get("value_columns"):
        out: dict[str, Any] = {"value_columns": list(schema["value_columns"])}
        if str(schema.get("lengths", "")).startswith("variable"):
            out["variable_length"] = True
        if schema.get("id_column"):
            out["run_id_column"] = schema["id_column"]
        return out
    if schema.get("layout") == "long" and schema.get("channel_column"):
        return {"channels": list(schema["channels"])}
    return {}
