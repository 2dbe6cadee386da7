"""Where series come from, by name: a file of any supported format or a ``ucr:<Name>`` dataset.

It sits above the readers (``readers.py``) and the UCR/UEA archive (``ucr.py``), which both stay free of the
other; workflows that read data for a trained run come through here.
"""

from __future__ import annotations

import os
from typing import Any

from .dataset import SeriesDataset
from .readers import read_series_file, schema_options
from .ucr import load as load_named

__all__ = ["read_with_contract"]


def read_with_contract(data: str | os.PathLike[str], source: dict[str, Any], *, require_labels: bool) -> SeriesDataset:
    """Series for a trained run from any supported source, read as its training data were.

    ``source`` is the run's ``config["data"]``: a file is read with its reader settings and, for
    CSV/Parquet, matched to its recorded schema by name; ``ucr:<Name>`` gives that dataset's official
    test split.

    Examples
    --------
    >>> import tempfile, os, pandas as pd
    >>> path = os.path.join(tempfile.mkdtemp(), "new.csv")
    >>> pd.DataFrame({"t1": [3.0], "t0": [1.0]}).to_csv(path, index=False)  # columns in another order
    >>> schema = {"layout": "wide", "value_columns": ["t0", "t1"]}
    >>> read_with_contract(path, {"schema": schema}, require_labels=False).X.tolist()
    [[[1.0, 3.0]]]
    """
    if str(data).startswith("ucr:"):
        return load_named(str(data)[4:])[1]
    reader = {k: v for k, v in (source.get("reader") or {}).items() if v is not None}
    return read_series_file(data, require_labels=require_labels, **(reader | schema_options(source.get("schema"))))
