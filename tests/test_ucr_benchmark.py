"""benchmarks/ucr.py: resamples keep the official class counts, the summary's gaps and ranks, published means."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

from ucr import published_means, resample, summarize  # noqa: E402


def _ds(n: int, T: int, lengths=None, seed: int = 0):
    from tsattn.data import SeriesDataset

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2, T)).astype(np.float32)
    if lengths is not None:
        for i, L in enumerate(lengths):
            X[i, :, L:] = np.nan
    return SeriesDataset(X=X, y=np.arange(n) % 3, class_names=["a", "b", "c"], lengths=lengths)


def test_resample_zero_is_the_official_split_and_others_keep_its_class_counts():
    train, test = _ds(12, 10), _ds(30, 14, lengths=np.full(30, 14), seed=1)
    official = resample(train, test, 0)
    assert official[0] is train and official[1] is test
    a, b = resample(train, test, 1)
    assert len(a) == 12 and len(b) == 30
    assert np.bincount(a.y).tolist() == np.bincount(train.y).tolist()
    # every pooled series lands on exactly one side: the values of train + test, resampled
    pooled = np.sort(np.concatenate([train.X[:, 0, 0], test.X[:, 0, 0]]))
    np.testing.assert_array_equal(np.sort(np.concatenate([a.X[:, 0, 0], b.X[:, 0, 0]])), pooled)
    # the shorter set's series keep their length and are NaN beyond it
    assert a.X.shape[2] == 14 and a.lengths is not None
    short = a.lengths == 10
    assert np.isnan(a.X[short][:, :, 10:]).all() and not np.isnan(a.X[short][:, :, :10]).any()
    c, _ = resample(train, test, 2)
    assert not np.array_equal(c.X, a.X)  # another resample, other rows
    np.testing.assert_array_equal(resample(train, test, 1)[0].X, a.X)  # the same resample, the same rows


def test_summary_gaps_and_average_ranks():
    def entry(ours, peer, fcn):
        return {
            "0": {
                "ours": {"accuracy": ours, "train_seconds": 1.0},
                "minirocket": {"accuracy": peer, "train_seconds": 0.1},
                "cnn": {"accuracy": fcn, "train_seconds": 2.0},
            }
        }

    rows = {
        "A": {"by_resample": entry(0.9, 0.8, 0.7), "mean_accuracy": {"ours": 0.9, "minirocket": 0.8, "cnn": 0.7}},
        "B": {"by_resample": entry(0.5, 0.7, 0.7), "mean_accuracy": {"ours": 0.5, "minirocket": 0.7, "cnn": 0.7}},
    }
    s = summarize(rows, "ours")
    assert s["gap_points_by_dataset"] == {"A": 10.0, "B": -20.0}
    assert s["mean_gap_points"] == -5.0 and s["worst_gap_points"] == -20.0
    # A: ours 1, minirocket 2, cnn 3; B: ours 3, the tied two share 1.5
    assert s["average_rank"] == {"ours": 2.0, "minirocket": 1.75, "cnn": 2.25}
    assert s["max_train_seconds"]["cnn"] == 2.0


def test_published_means_come_from_the_files_aeon_ships():
    pytest.importorskip("aeon")
    means = published_means()
    assert set(means) == {"InceptionTime", "HC2"}
    assert 0.8 < means["InceptionTime"]["ArrowHead"] < 0.95
    assert 0.9 < means["HC2"]["GunPoint"] <= 1.0
