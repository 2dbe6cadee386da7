"""Named UCR/UEA datasets: ``load("GunPoint")`` returns the official train and test splits.

A name resolves, in order, from:

1. the cache directory (``$TSATTN_DATA``, else ``~/.cache/tsattn/datasets``),
   holding ``<Name>/<Name>_TRAIN.ts`` and ``<Name>/<Name>_TEST.ts``;
2. the copies that ship inside the aeon wheel (GunPoint, ItalyPowerDemand,
   BasicMotions, PickupGestureWiimoteZ, ...);
3. a download from timeseriesclassification.com through aeon, into the cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import DataError, install_hint
from .dataset import SeriesDataset
from .readers import read_series_file

__all__ = ["cache_dir", "load", "resolve"]


def cache_dir() -> Path:
    return Path(os.environ.get("TSATTN_DATA") or Path.home() / ".cache" / "tsattn" / "datasets")


def _shipped_dir() -> Path | None:
    try:
        import aeon.datasets
    except ImportError:
        return None
    return Path(aeon.datasets.__file__).parent / "data"


def _pair(folder: Path, name: str) -> tuple[Path, Path] | None:
    for ext in ("ts", "tsv", "arff"):
        train, test = folder / name / f"{name}_TRAIN.{ext}", folder / name / f"{name}_TEST.{ext}"
        if train.is_file() and test.is_file():
            return train, test
    return None


def _download(name: str, into: Path) -> tuple[Path, Path]:
    try:
        from aeon.datasets import load_classification
    except ImportError:
        raise DataError(f"data: ucr:{name}: downloading needs aeon ({install_hint('aeon')})") from None
    into.mkdir(parents=True, exist_ok=True)
    try:
        load_classification(name, extract_path=str(into))
    except Exception as exc:  # no network, unknown name, server error
        raise DataError(
            f"ucr:{name}: not in the cache ({into / name}) nor shipped with aeon, and the download failed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}); put "
            f"{name}_TRAIN.ts and {name}_TEST.ts in {into / name}/ or set TSATTN_DATA"
        ) from None
    pair = _pair(into, name)
    if pair is None:
        raise DataError(f"data: ucr:{name}: the download did not leave {name}_TRAIN/_TEST files in {into / name}")
    return pair


def resolve(name: str, *, download: bool = True) -> tuple[Path, Path, str]:
    """Paths of the official train and test files of ``name`` and where they were found."""
    if not name or "/" in name or name.startswith("."):
        raise DataError(f"data: a ucr: dataset name must be a plain name like 'GunPoint'; got {name!r}")
    for where, folder in (("cache", cache_dir()), ("aeon", _shipped_dir())):
        if folder is not None and (pair := _pair(folder, name)):
            return pair[0], pair[1], where
    if not download:
        raise DataError(
            f"data: ucr:{name}: not found in {cache_dir() / name} nor shipped with aeon; put "
            f"{name}_TRAIN.ts and {name}_TEST.ts there"
        )
    train, test = _download(name, cache_dir())
    return train, test, "download"


def load(name: str, *, download: bool = True) -> tuple[SeriesDataset, SeriesDataset]:
    """The official ``(train, test)`` split of a UCR/UEA dataset, labels coded alike in both.

    Examples
    --------
    >>> from tsattn.data.ucr import load
    >>> train, test = load("GunPoint")  # doctest: +SKIP
    >>> train.X.shape, test.X.shape  # doctest: +SKIP
    ((50, 1, 150), (150, 1, 150))
    """
    train_path, test_path, _ = resolve(name, download=download)
    train, test = read_series_file(train_path), read_series_file(test_path)
    return align_classes(train, test)


def align_classes(train: SeriesDataset, test: SeriesDataset) -> tuple[SeriesDataset, SeriesDataset]:
    """Recode both sets over the union of their class names (sorted), so codes mean the same in both.

    Numeric labels sort as numbers (1, 2, 10), text labels as text.
    """
    import numpy as np

    from .dataset import typed_classes

    kind = train.label_kind if train.label_kind == test.label_kind else "str"
    union = set(train.class_names) | set(test.class_names)
    names = sorted(union, key=lambda c: typed_classes([c], kind)[0])
    train.label_kind = test.label_kind = kind
    for ds in (train, test):
        recode = np.array([names.index(c) for c in ds.class_names], np.int64)
        ds.y, ds.class_names = recode[ds.y], list(names)
    return train, test
