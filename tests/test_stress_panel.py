"""benchmarks/stress_panel.py: the panel spans what issue 27 asks, its data are what they say, its gaps add up."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from stress_panel import CONFIGS, make_stress, summarize


def test_the_panel_spans_the_issues_ranges():
    T, C, K, n, variable = zip(*CONFIGS.values(), strict=True)
    assert min(T) <= 16 and max(T) >= 2000
    assert min(C) == 1 and max(C) >= 12
    assert min(K) == 2 and max(K) >= 50
    assert min(n) <= 30 and max(n) >= 1000
    assert any(variable) and not all(variable)


def test_the_data_are_seeded_balanced_and_padded_only_past_each_length():
    X, y = make_stress(64, 3, 5, 40, True, seed=0)
    X2, y2 = make_stress(64, 3, 5, 40, True, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (40, 3, 64) and np.bincount(y).tolist() == [8] * 5
    real = ~np.isnan(X[:, 0, :])
    lengths = real.sum(-1)
    assert lengths.min() >= 39 and lengths.max() <= 64 and lengths.min() < 64
    assert all(real[i, : lengths[i]].all() for i in range(40))  # NaN only after the end
    assert np.isnan(X).any(axis=1).sum() == (64 - lengths).sum()
    assert not np.array_equal(make_stress(64, 3, 5, 40, True, seed=1)[0], X)  # another seed, other series


def test_the_summary_reports_the_worst_gap_and_the_configs_below_five_points():
    rows = [
        {"config": "a", "seed": 0, "models": {"ours": {"accuracy": 0.90}, "minirocket": {"accuracy": 0.97}}},
        {"config": "b", "seed": 0, "models": {"ours": {"accuracy": 0.99}, "minirocket": {"accuracy": 0.98}}},
    ]
    s = summarize(rows, "ours")
    assert s["gap_points_to_minirocket"] == {"a/seed0": -7.0, "b/seed0": 1.0}
    assert s["worst_gap"] == -7.0 and s["mean_gap"] == -3.0
    assert s["configs_more_than_5_points_below"] == ["a/seed0"]
