"""benchmarks/peak_position.py: where in its segment a map peaks, and what its centre of mass follows."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
from peak_position import describe  # noqa: E402


def test_a_late_peak_and_a_flat_background_are_told_apart():
    T, n = 100, 8
    start, end = np.full(n, 20), np.full(n, 50)  # a segment of 30 steps centred on 34.5
    late = np.full((n, T), 0.001)
    late[:, 48] = 1.0  # every peak at the segment's last steps, nothing else there
    d = describe(late / late.sum(1, keepdims=True), start, end)
    assert d["peak_share"]["last_third"] == 1.0 and d["peak_position"]["median"] > 0.9
    assert d["shift_above_median_pct"] > 13  # the peak itself is 13.5 steps right of the centre

    centred = np.full((n, T), 0.002)
    centred[:, 34:36] = 1.0  # the peak at the segment's centre, a flat background over the rest
    d = describe(centred / centred.sum(1, keepdims=True), start, end)
    assert d["peak_share"]["middle_third"] == 1.0
    assert d["shift_pct"] > 1  # the background pulls the centre of mass right, towards the series' middle
    assert abs(d["shift_above_median_pct"]) < 0.01  # and with the background off, the shift is gone

    outside = np.zeros((n, T))
    outside[:, 90] = 1.0
    d = describe(outside, start, end)
    assert d["peak_share"]["outside"] == 1.0
    assert d["misses"]["after_end"] == 1.0 and d["misses"]["after_end_missed"] == 1.0
    assert d["misses"]["after_end_median_steps"] == 41  # 90 - 49

    at_the_jump = np.zeros((n, T))
    at_the_jump[:, 50] = 1.0  # the first step after the segment: the pointing game's tolerance (1 step) takes it
    m = describe(at_the_jump, start, end)["misses"]
    assert m["after_end"] == 1.0 and m["after_end_missed"] == 0.0 and m["before_start"] == 0.0
    at_the_jump[:, 50], at_the_jump[:, 51] = 0.0, 1.0  # one step further: a miss
    assert describe(at_the_jump, start, end)["misses"]["after_end_missed"] == 1.0


def test_reversed_views_map_back_to_the_original_steps_and_keep_padding_in_place():
    from peak_direction import reverse_steps, view

    X = np.arange(2 * 1 * 6, dtype=np.float32).reshape(2, 1, 6)
    lengths = np.array([4, 6])
    Xr, back = view("reversed", X, lengths)
    assert Xr[0, 0].tolist() == [3, 2, 1, 0, 4, 5] and Xr[1, 0].tolist() == [11, 10, 9, 8, 7, 6]
    R = np.random.default_rng(0).random((2, 6))
    np.testing.assert_array_equal(back(reverse_steps(R, lengths)), R)  # attention on the reversed series, mapped back
    Xn, back = view("negated", X, lengths)
    assert np.array_equal(Xn, -X) and back(R) is R


def test_agreement_correlates_each_score_with_the_pointing_game_and_with_late_misses_counted_as_hits():
    from faithfulness_agreement import SCORES, summarize

    def row(pointing: float, late: float, score: float) -> dict:
        return {
            "pointing_game": pointing,
            "misses": {"after_end_missed": late},
            "faithfulness": dict.fromkeys(SCORES, score),
        }

    # the scores follow where the attention is (inside or just past the end), not the strict pointing game
    rows = [row(0.9, 0.05, 0.9), row(0.5, 0.4, 0.8), row(0.7, 0.1, 0.7), row(0.3, 0.1, 0.3)]
    s = summarize(rows)
    assert s["runs"] == 4 and s["spearman_with_late_misses_as_hits"]["aopcr"] == 1.0
    assert s["spearman_with_pointing"]["aopcr"] < 1.0
    assert summarize([*rows, {**row(0.8, 0.0, 0.1), "faithfulness": dict.fromkeys(SCORES)}])["runs"] == 4
