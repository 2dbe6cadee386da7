"""Where a run's data come from: files, ``ucr:`` names and generated configs, and their checks against a run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError, RunError
from ..config import DatasetConfig
from ..data import SeriesDataset, generate
from ..run import RunConfig

__all__ = ["DataSpec", "check_compatible", "data_source", "load_data", "resolve_data", "split_part"]


def load_data(
    data: str | os.PathLike[str] | None = None,
    dataset_config: DatasetConfig | None = None,
    seed: int = 0,
    **reader_options: Any,
) -> SeriesDataset:
    """A dataset from a file of any supported format, or generated from a dataset config.

    Examples
    --------
    >>> from tsattn.config import DatasetConfig
    >>> load_data(dataset_config=DatasetConfig(num_points=32, dataset_size=10)).X.shape
    (10, 1, 32)
    """
    if data is not None:
        from ..data.readers import read_series_file

        return read_series_file(data, **reader_options)
    return generate(dataset_config or DatasetConfig(), seed=seed)


def resolve_data(
    data: str | None,
    dataset_config: DatasetConfig | None,
    seed: int,
    *,
    test_data: str | None = None,
    **reader_options: Any,
) -> tuple[SeriesDataset, SeriesDataset | None, dict[str, Any]]:
    """``(data, test data or None, data source record)`` for a file, ``ucr:<Name>`` or a generated config.

    Examples
    --------
    >>> from tsattn.config import DatasetConfig
    >>> data, test, source = resolve_data(None, DatasetConfig(num_points=32, dataset_size=10), seed=0)
    >>> data.X.shape, test, source["kind"]
    ((10, 1, 32), None, 'synthetic')
    """
    if data is not None and str(data).startswith("ucr:"):
        from ..data.ucr import load as load_named

        name = str(data)[4:]
        named, named_test = load_named(name)
        return named, named_test, {"kind": "named", "name": name}
    if data is not None:
        from ..data.readers import schema_options

        ds = load_data(data, **reader_options)
        schema = ds.schema
        source = {
            "kind": "file",
            "path": str(Path(data).resolve()),
            "reader": reader_options,
            **({"schema": schema} if schema else {}),
        }
        test = None
        if test_data is not None:
            from ..data.ucr import align_classes

            ds, test = align_classes(ds, load_data(test_data, **(reader_options | schema_options(schema))))
            source["test_path"] = str(Path(test_data).resolve())
        return ds, test, source
    cfg = dataset_config or DatasetConfig()
    return generate(cfg, seed=seed), None, {"kind": "synthetic", "dataset_config": cfg.model_dump(), "seed": seed}


@dataclass(frozen=True)
class DataSpec:
    """Where a command's data come from, as the user named them: a file or ``ucr:<Name>`` (``data``), or a
    dataset config file to generate from (``config``; neither: the seed's config); a separate test file; and
    the reader's options (CSV/Parquet column names, ``variable_length``).

    Examples
    --------
    >>> data, test, source = DataSpec("ucr:GunPoint").resolve(seed=0)
    >>> data.X.shape, test.X.shape, source
    ((50, 1, 150), (150, 1, 150), {'kind': 'named', 'name': 'GunPoint'})
    """

    data: str | None = None
    config: str | os.PathLike[str] | None = None
    test_data: str | os.PathLike[str] | None = None
    reader: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, seed: int) -> tuple[SeriesDataset, SeriesDataset | None, dict[str, Any]]:
        """``(data, test data or None, data source record)``, as :func:`resolve_data`."""
        from ..config import load_dataset_config

        if self.config is not None and self.data is not None:
            raise DataError(
                f"config: give a dataset config or a data file, not both; got {self.config!r} and {self.data!r}"
            )
        dataset_config = load_dataset_config(self.config) if self.config is not None else None
        test = os.fspath(self.test_data) if self.test_data else None
        return resolve_data(self.data, dataset_config, seed, test_data=test, **self.reader)


def data_source(config: RunConfig) -> tuple[SeriesDataset, SeriesDataset | None]:
    """The data a run was trained on, read or generated again from its config: ``(data, official test or None)``."""
    src = config.data
    if src.kind == "synthetic" and src.dataset_config is not None and src.seed is not None:
        return generate(DatasetConfig.model_validate(src.dataset_config), seed=src.seed), None
    if src.kind == "named" and src.name is not None:
        from ..data.ucr import load as load_named

        return load_named(src.name)
    if src.kind == "file" and src.path is not None:
        ds, test_ds, _ = resolve_data(src.path, None, 0, test_data=src.test_path, **(src.reader or {}))
        return ds, test_ds
    raise RunError("run: config.json records no data source; pass `data` FILE")


def split_part(path: Path, part: str) -> np.ndarray:
    """The row indices of ``part`` (``train``, ``val`` or ``test``) in a run's ``split.npz``."""
    with np.load(path, allow_pickle=False) as z:
        if part not in z.files:
            raise RunError(f"run: {path} has no '{part}' split; the run directory is incomplete")
        return np.asarray(z[part])


def check_compatible(ds: SeriesDataset, config: RunConfig) -> SeriesDataset:
    """Check channels and labels against the run; return ``ds`` with labels coded as the run codes them."""
    if ds.n_channels != config.n_channels:
        raise DataError(f"data: the run expects {config.n_channels} channel(s); the data have {ds.n_channels}")
    if not ds.labelled:
        return ds
    names = config.class_names
    if list(ds.class_names) == list(names):
        return ds
    unknown = [c for c in ds.class_names if c not in names]
    if unknown:
        raise DataError(f"data: labels {unknown} are not among the run's classes {names}")
    recode = np.array([names.index(c) for c in ds.class_names], np.int64)
    return SeriesDataset(
        X=ds.X,
        y=recode[ds.y],
        class_names=list(names),
        extras=ds.extras,
        lengths=ds.lengths,
        label_kind=ds.label_kind,
        ids=ds.ids,
        schema=ds.schema,
    )
