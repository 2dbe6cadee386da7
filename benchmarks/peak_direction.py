"""Whose is the late peak, the network's or the data's? Attention on series as they are, negated and reversed.

``peak_position.py`` finds the default model's misses mostly just past the segment's end. Two causes read the
same there: the data (the seed's held value and the frequency change start continuous and end with a jump) or
the network (learned kernels are not symmetric in time, so a detector can answer a few steps after what it
detects). This script runs each kept run's network on its test split's anomalous series three ways:

* ``as_is``;
* ``negated`` (every value times -1): a jump up becomes a jump down;
* ``reversed`` (each series' real steps in reverse order; the attention mapped back): the entry becomes the
  exit. A network symmetric in time would give the same map back; one that answers after what it detects now
  misses before the start.

For each: the pointing game (:func:`tsattn.evaluation.localization.pointing_game`, its tolerance of 1 % of T as
the family reports it), :func:`peak_position.misses`, and the accuracy on those series.

    python benchmarks/peak_direction.py --runs RUN [RUN ...] [--out benchmarks/results/peak_direction.json]
    python benchmarks/peak_direction.py --keep DIR  # every DIR/*/run that localization_family.py kept
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import rescore_kept_runs
from peak_position import anomaly_kinds, misses

VIEWS = ("as_is", "negated", "reversed")


def reverse_steps(A: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each row's first ``lengths[i]`` steps (the last axis) in reverse order; padding stays where it is. Its own
    inverse.

    >>> reverse_steps(np.array([[1, 2, 3, 0], [1, 2, 3, 4]]), np.array([3, 4])).tolist()
    [[3, 2, 1, 0], [4, 3, 2, 1]]
    """
    out = A.copy()
    for i, n in enumerate(np.asarray(lengths, dtype=np.int64)):
        out[i, ..., :n] = A[i, ..., :n][..., ::-1]
    return out


def view(name: str, X: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Series ``X`` ``(n, C, T)`` seen as ``name`` (:data:`VIEWS`), and the map from attention on them back to the
    original steps."""
    if name == "as_is":
        return X, lambda R: R
    if name == "negated":
        return -X, lambda R: R
    if name == "reversed":
        return reverse_steps(X, lengths), lambda R: reverse_steps(R, lengths)
    raise ValueError(f"view: must be one of {', '.join(VIEWS)}; got {name!r}")


def rescore(run: Path) -> dict | None:
    """One run's row: each view's pointing game, misses and accuracy on the test split's anomalous series."""
    from tsattn import run as rundir
    from tsattn.evaluation.explain import explain
    from tsattn.evaluation.localization import pointing_game
    from tsattn.workflows._data import data_source, split_part

    loaded = rundir.load_run(run)
    full, _ = data_source(loaded.config)
    if not getattr(loaded.net, "has_attention", True) or not full.has_segments:
        return None
    ds = full.subset(split_part(Path(run) / rundir.SPLIT, "test"))
    keep = ds.extras["segment_start"] >= 0
    X = np.asarray(ds.X[keep], np.float32)
    lengths = np.full(len(X), X.shape[-1]) if ds.lengths is None else np.asarray(ds.lengths)[keep]
    given = None if ds.lengths is None else lengths
    start, end = ds.extras["segment_start"][keep], ds.extras["segment_end"][keep]
    row: dict = {"run": str(run), "anomaly_kinds": anomaly_kinds(run)}
    for name in VIEWS:
        Xv, back = view(name, X, lengths)
        R = back(explain(loaded, Xv, method="attention", lengths=given))
        row[name] = {
            "pointing": round(pointing_game(R, start, end), 3),
            "accuracy": round(float(np.mean(loaded.predict_proba(Xv, given).argmax(1) == ds.y[keep])), 3),
            **misses(R, start, end),
        }
    return row


def summarize(rows: list[dict]) -> dict:
    """Per view, the median over runs of the pointing game and of its misses before and after the segment."""
    return {
        name: {
            key: float(np.median([r[name][key] for r in rows])) if rows else None
            for key in ("pointing", "before_start_missed", "after_end_missed")
        }
        for name in VIEWS
    }


def main() -> None:
    rescore_kept_runs(__doc__, "peak_direction", rescore, summarize)


if __name__ == "__main__":
    main()
