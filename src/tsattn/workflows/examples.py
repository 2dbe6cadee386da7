"""A small finished run to try the API on, which the documentation's examples share."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

__all__ = ["example_run"]

_trained: Path | None = None  # this process's one trained example, copied by every call


def example_run() -> Path:
    """A copy of a small finished run, in a new temporary directory: its run directory.

    The run is cnn_attention trained for one epoch on 60 synthetic series of
    32 steps (the seed's generator, seed 0; no plots), and the series it was
    trained on lie beside it in ``series.npz``. It is trained once per
    process, in about a second; each call copies it, so each caller may
    change its own copy.

    Examples
    --------
    >>> run = example_run()
    >>> run.name, sorted(p.name for p in run.parent.iterdir())
    ('run', ['run', 'series.npz'])
    >>> example_run() != run  # another copy
    True
    """
    global _trained
    if _trained is None:
        from ..config import DatasetConfig, TrainConfig
        from ..data import save_npz
        from ._data import resolve_data
        from .train import train_run

        home = Path(tempfile.mkdtemp(prefix="tsattn-example-"))
        data, _, source = resolve_data(None, DatasetConfig(num_points=32, dataset_size=60), seed=0)
        config = TrainConfig(model="cnn_attention", max_epochs=1)
        run = home / "run"
        train_run(data, config, run, data_source=source, progress=False, verbose=False, logger=None, plots=False)
        save_npz(data, home / "series.npz")
        _trained = home
    copy = Path(tempfile.mkdtemp(prefix="tsattn-example-"))
    shutil.copytree(_trained / "run", copy / "run")
    shutil.copy2(_trained / "series.npz", copy / "series.npz")
    return copy / "run"
