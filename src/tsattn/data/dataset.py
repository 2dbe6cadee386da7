"""The in-memory dataset and its ``.npz`` file format."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from .._io import atomic_save

__all__ = ["SeriesDataset", "check_finite", "encode_labels", "load_npz", "save_npz", "series_hashes"]

GROUND_TRUTH = ("segment_start", "segment_end", "freq", "amp")


@dataclass
class SeriesDataset:
    """Series ``X`` of shape ``(n, C, T)`` with integer labels ``y``.

    ``y[i]`` indexes ``class_names``. ``extras`` holds per-series arrays such
    as the synthetic ground truth (``segment_start``, ``segment_end``, ...).

    Examples
    --------
    >>> ds = SeriesDataset(X=np.zeros((4, 1, 10), np.float32), y=np.array([0, 1, 0, 1]), class_names=["a", "b"])
    >>> len(ds), ds.n_channels, ds.seq_len
    (4, 1, 10)
    >>> ds.subset(np.array([1, 3])).y.tolist()
    [1, 1]
    """

    X: Any
    """``(n, C, T)``: an array, or rows read on demand (``NpyRows``) for out-of-core data."""
    y: Any
    class_names: list[str]
    extras: dict[str, Any] = field(default_factory=dict)
    #: true lengths of variable-length series (``X`` is NaN-padded after them); None when all are full
    lengths: np.ndarray | None = None
    #: the type the labels had in their source: "int", "float" or "str" (class_names are always text)
    label_kind: str = "str"
    #: the file's own ids, in file order (None: the file has none, rows are numbered)
    ids: np.ndarray | None = None
    #: how a CSV/Parquet file was laid out (readers.read_series_file); a run stores it to read later files alike
    schema: dict[str, Any] | None = None
    #: False where the file held no labels (read for predict, explain or locate): ``y`` is a placeholder
    labelled: bool = True

    def __post_init__(self) -> None:
        if self.X.ndim == 2:
            self.X = self.X[:, None, :]  # (n, T) -> (n, 1, T): a 2-D array is one channel
        if self.X.ndim != 3:
            raise DataError(f"X must have shape (n, T) or (n, C, T); got shape {self.X.shape}")
        if len(self.y) != len(self.X):
            raise DataError(f"y must have one label per series: X has {len(self.X)} series, y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def n_channels(self) -> int:
        return int(self.X.shape[1])

    @property
    def seq_len(self) -> int:
        return int(self.X.shape[2])

    @property
    def has_segments(self) -> bool:
        return "segment_start" in self.extras and "segment_end" in self.extras

    def subset(self, idx: np.ndarray) -> SeriesDataset:
        return SeriesDataset(
            X=self.X[idx],
            y=self.y[idx],
            class_names=list(self.class_names),
            extras={k: v[idx] for k, v in self.extras.items()},
            lengths=None if self.lengths is None else self.lengths[idx],
            label_kind=self.label_kind,
            ids=None if self.ids is None else self.ids[idx],
            schema=self.schema,
            labelled=self.labelled,
        )

    @property
    def classes(self) -> list[Any]:
        """The class labels as their source typed them (ints stay ints), in the order of ``class_names``."""
        return typed_classes(self.class_names, self.label_kind)


def label_kind(labels: np.ndarray) -> str:
    """``"int"``, ``"float"`` or ``"str"``: how labels were typed where they came from."""
    kind = np.asarray(labels).dtype.kind
    return "int" if kind in "iu" else "float" if kind == "f" else "str"


def typed_classes(class_names: list[str], kind: str) -> list[Any]:
    """``class_names`` back in their source's type (``kind`` from :func:`label_kind`)."""
    if kind == "int":
        return [int(c) for c in class_names]
    if kind == "float":
        return [float(c) for c in class_names]
    return list(class_names)


def encode_labels(labels: np.ndarray, class_names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Map labels of any type to ``0..k-1``; return the codes and the class names."""
    labels = np.asarray(labels)
    if class_names is None:
        uniq = np.unique(labels)
        class_names = [str(u) for u in uniq]
        codes = np.searchsorted(uniq, labels)
        return codes.astype(np.int64), class_names
    lookup = {name: i for i, name in enumerate(class_names)}
    try:
        return np.array([lookup[str(v)] for v in labels], np.int64), list(class_names)
    except KeyError as exc:
        raise DataError(f"y: label {exc.args[0]!r} is not one of the known classes {class_names}") from None


def check_finite(X: np.ndarray, what: str = "X", offset: int = 0) -> None:
    """Raise a :class:`DataError` with the count and first place of NaN/inf values.

    ``offset`` is added to the series index, for data checked chunk by chunk.
    """
    bad = ~np.isfinite(X)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        first = (first[0] + offset, *first[1:])
        raise DataError(
            f"{what}: must contain no NaN or inf under the default nan_policy='error'; found {int(bad.sum())}, "
            f"the first at index {first} (series, channel, time); use `nan_policy` interpolate|zero to fill them"
        )


def save_npz(ds: SeriesDataset, path: str | os.PathLike[str]) -> None:
    """Write ``ds`` to ``path`` (``.npz``, uncompressed), atomically.

    Examples
    --------
    >>> import tempfile
    >>> ds = SeriesDataset(X=np.ones((2, 1, 5), np.float32), y=np.array([0, 1]), class_names=["a", "b"])
    >>> path = tempfile.mktemp(suffix=".npz")
    >>> save_npz(ds, path)
    >>> load_npz(path).class_names
    ['a', 'b']
    """
    arrays: dict[str, Any] = {
        "X": ds.X.astype(np.float32, copy=False),
        "y": ds.y,
        "class_names": np.array(ds.class_names, dtype=str),
    }
    arrays.update(ds.extras)
    atomic_save(path, lambda fh: np.savez(fh, **arrays))


def load_npz(path: str | os.PathLike[str]) -> SeriesDataset:
    """Read a ``.npz`` dataset. Object arrays are refused: nothing is unpickled.

    ``X`` may be ``(n, T)`` or ``(n, C, T)``; ``y`` may hold integers or
    strings. Without ``class_names``, classes are the sorted unique labels.

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".npz")
    >>> np.savez(path, X=np.zeros((3, 8)), y=np.array(["x", "y", "x"]))  # (n, T) and text labels
    >>> ds = load_npz(path)
    >>> ds.X.shape, ds.class_names, ds.y.tolist()
    ((3, 1, 8), ['x', 'y'], [0, 1, 0])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data: file not found: {path}")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":  # an .npz is a zip archive
        raise DataError(
            f"data: {path.name} is not a readable .npz file (it is not a zip archive; {path.stat().st_size} bytes)"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            files = dict(z.items())
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DataError(f"data: {path.name} holds object arrays, which would need unpickling; refused") from None
        raise DataError(f"data: {path.name} is not a readable .npz file: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"data: {path.name} is not a readable .npz file: {exc}") from None
    for key in ("X", "y"):
        if key not in files:
            raise DataError(f"data: {path.name} must hold an array named '{key}'; found {sorted(files)}")
    X = files.pop("X")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"data: X must be numeric; got dtype {X.dtype}")
    y = files.pop("y")
    names = files.pop("class_names", None)
    if names is not None and np.issubdtype(y.dtype, np.integer):
        class_names = [str(s) for s in names]
        if len(y) and (y.min() < 0 or y.max() >= len(class_names)):
            raise DataError(
                f"data: y must index class_names (0..{len(class_names) - 1}); got range {y.min()}..{y.max()}"
            )
        codes = y.astype(np.int64)
    else:
        codes, class_names = encode_labels(y)
    kind = "str" if names is not None else label_kind(y)
    return SeriesDataset(
        X=X.astype(np.float32, copy=False), y=codes, class_names=class_names, extras=files, label_kind=kind
    )


def series_hashes(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """One 64-bit fingerprint per series: its values up to its length, as float32, whatever file they came from.

    A run keeps the fingerprints of the rows it trained on, so that an
    evaluation can say how many of its series the model has seen.

    Examples
    --------
    >>> X = np.array([[[1.0, 2.0, np.nan]], [[1.0, 2.0, 3.0]]])
    >>> h = series_hashes(X, np.array([2, 3]))
    >>> bool(h[0] == series_hashes(X[:1, :, :2])[0]), bool(h[0] == h[1])
    (True, False)
    """
    import hashlib

    X = np.asarray(X, dtype=np.float32)
    out = np.empty(len(X), np.uint64)
    for i, x in enumerate(X):
        row = np.ascontiguousarray(x if lengths is None else x[:, : int(lengths[i])])
        digest = hashlib.blake2b(row.tobytes() + str(row.shape).encode(), digest_size=8).digest()
        out[i] = np.frombuffer(digest, np.uint64)[0]
    return out
