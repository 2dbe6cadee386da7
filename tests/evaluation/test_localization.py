import re

import numpy as np
import pytest

from tsattn.evaluation.localization import (
    LEVELS,
    SpanRule,
    average_precision,
    choose_mass,
    choose_span_rule,
    format_localization,
    localization_scores,
    mass_inside,
    pointing_game,
    shift,
    smooth_relevance,
    span_iou,
    span_rule_of,
    spans_from_contrast,
    spans_from_mass,
    spans_from_peak,
)

T = 100
START = np.array([10, 40, 70, -1])
END = np.array([30, 50, 100, -1])  # the last series is normal: no segment, never scored


def _mask(start, end, k=0):
    R = np.zeros((len(start), T))
    for i, (s, e) in enumerate(zip(start, end, strict=False)):
        if s >= 0:
            R[i, max(s + k, 0) : min(e + k, T)] = 1.0
        else:
            R[i] = 1.0
    return R


def test_perfect_map():
    s = localization_scores(_mask(START, END), START, END)
    assert s["n_series"] == 3
    assert s["pointing_game"] == 1.0 and s["mass_inside"] == pytest.approx(1.0) and s["auprc"] == pytest.approx(1.0)
    assert s["shift_median"] == pytest.approx(0.0) and s["shift_iqr"] == pytest.approx(0.0)
    assert s["span_iou"] == pytest.approx(1.0)
    assert s["uniform_mass"] == pytest.approx(np.mean([0.2, 0.1, 0.3]))


def test_uniform_map_scores_chance():
    R = np.ones((4, T))
    mi, uni = mass_inside(R, START, END)
    assert mi == pytest.approx(uni) == pytest.approx(0.2)
    s = localization_scores(R, START, END)
    assert s["auprc"] == pytest.approx(np.mean([0.2, 0.1, 0.3]))  # AP of a constant score is the prevalence
    # centre of mass 49.5 against segment centres 19.5, 44.5, 84.5
    assert s["shift_median"] == pytest.approx(5.0)


def test_average_precision_is_scikit_learns_row_by_row_ties_included():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    score = np.round(rng.random((40, 30)) * 4) / 4  # five distinct values: many ties
    y = rng.random((40, 30)) < 0.3
    y[:, 0] = True
    expected = [average_precision_score(t, s) for t, s in zip(y, score, strict=True)]
    np.testing.assert_allclose(average_precision(y, score), expected, rtol=0, atol=1e-12)
    assert average_precision(np.zeros((1, 4), bool), np.ones((1, 4))).tolist() == [0.0]  # no positive


@pytest.mark.parametrize("k", [3, -4])
def test_map_shifted_by_k(k):
    start, end = np.array([20, 40]), np.array([40, 70])
    R = _mask(start, end, k)
    med, iqr = shift(R, start, end)
    assert med == pytest.approx(k) and iqr == pytest.approx(0.0)
    mi, _ = mass_inside(R, start, end)
    assert mi == pytest.approx(np.mean([(20 - abs(k)) / 20, (30 - abs(k)) / 30]))
    ious = span_iou(spans_from_mass(R, 1.0), start, end)
    np.testing.assert_allclose(ious, [(20 - abs(k)) / (20 + abs(k)), (30 - abs(k)) / (30 + abs(k))])


def test_pointing_game_tolerance_is_one_percent_of_T_each_side():
    start, end = np.array([50]), np.array([60])
    for peak, hit in [(48, False), (49, True), (59, True), (60, True), (61, False)]:
        R = np.zeros((1, T))
        R[0, peak] = 1
        assert pointing_game(R, start, end) == float(hit), peak


def test_no_segment_gives_nan():
    s = localization_scores(np.ones((2, T)), np.array([-1, -1]), np.array([-1, -1]), span_rule=SpanRule("mass", 0.9))
    assert s["n_series"] == 0
    assert np.isnan(s["pointing_game"]) and np.isnan(s["mass_inside"]) and np.isnan(s["shift_median"])


def test_spans_from_mass_and_its_choice():
    R = np.zeros((1, T))
    R[0, 20] = R[0, 39] = 0.5  # relevance at a segment's two ends only: the window must span both
    np.testing.assert_array_equal(spans_from_mass(R, 0.9), [[20, 40]])
    np.testing.assert_array_equal(spans_from_mass(R, 0.5), [[20, 21]])
    R2 = np.zeros((1, T))
    R2[0, 30:40] = 1.0
    np.testing.assert_array_equal(spans_from_mass(R2, 0.5), [[30, 35]])
    np.testing.assert_array_equal(spans_from_mass(np.ones((1, T)), 1.0), [[0, T]])
    q, iou = choose_mass(R, np.array([20]), np.array([40]))
    assert iou == pytest.approx(1.0) and q > 0.5


def test_randomization_sanity_check_on_a_tiny_model(tmp_path):
    """Scores of a trained attention model must beat those after its weights are randomized."""
    from tsattn.config import DatasetConfig, TrainConfig
    from tsattn.data import generate
    from tsattn.workflows import relevance_report, train_run

    from ..conftest import TINY

    cfg = DatasetConfig(**TINY | {"dataset_size": 400})
    ds = generate(cfg, seed=0)
    source = {"kind": "synthetic", "dataset_config": cfg.model_dump(), "seed": 0}
    train_run(
        ds,
        TrainConfig(model="cnn_attention", max_epochs=8, batch_size=32, lr=5e-3),
        tmp_path / "run",
        data_source=source,
        progress=False,
        verbose=False,
    )
    report = relevance_report(tmp_path / "run", methods=("attention", "integrated_gradients"))
    # attention is sharp even on a tiny model; integrated gradients less so, but both must beat chance
    # and both must lose their localization once the weights are random.
    for method, margin in (("attention", 0.2), ("integrated_gradients", 0.04)):
        trained, randomized = report["methods"][method]["trained"], report["methods"][method]["randomized"]
        assert trained["mass_inside"] > trained["uniform_mass"] + margin, method
        assert randomized["mass_inside"] < trained["mass_inside"] - margin, method
    assert report["n_series"] > 20


def test_a_peak_span_is_the_run_of_steps_above_the_level_that_holds_the_peak():
    R = np.zeros((2, T))
    R[0, 10:20] = 0.6  # a strong stretch cut off from the peak by a gap
    R[0, 30:45] = 0.5
    R[0, 37] = 1.0
    R[1, 70:80] = 1.0  # a plateau: its first step is the peak
    np.testing.assert_array_equal(spans_from_peak(R, 0.4), [[30, 45], [70, 80]])
    np.testing.assert_array_equal(spans_from_peak(R, 0.55), [[37, 38], [70, 80]])
    np.testing.assert_array_equal(spans_from_peak(np.ones((1, T)), 1.0), [[0, T]])


def _plateaus(backgrounds, start=40, end=60):
    """Series on a flat background of their own, a segment at 1.0 inside ``[start, end)`` whose first and last 5
    steps rise halfway from the background."""
    R = np.zeros((len(backgrounds), T))
    for i, b in enumerate(backgrounds):
        R[i] = b
        R[i, start:end] = b + 0.5 * (1 - b)
        R[i, start + 5 : end - 5] = 1.0
    return R


def test_a_contrast_span_is_the_run_above_the_median_by_a_share_of_the_peaks_height_over_it():
    R = _plateaus([0.3, 0.7])
    for level in (0.05, 0.5):  # background + level x (peak - background): the whole segment on either background
        np.testing.assert_array_equal(spans_from_contrast(R, level), [[40, 60], [40, 60]])
    np.testing.assert_array_equal(spans_from_contrast(R, 0.6), [[45, 55], [45, 55]])  # the core only
    # a share of the peak itself: 0.5 takes the first series' segment but the whole of the second
    np.testing.assert_array_equal(spans_from_peak(R, 0.5), [[40, 60], [0, T]])
    R[0, 10:20] = 1.0  # a bump apart from the peak's run is not joined to it
    np.testing.assert_array_equal(spans_from_contrast(R, 0.05)[0], [10, 20])  # the first peak is the bump's
    np.testing.assert_array_equal(spans_from_contrast(np.ones((1, T)), 0.5), [[0, T]])  # flat: all of it


def test_the_contrast_rule_is_chosen_where_each_series_has_its_own_background():
    R = _plateaus([0.3, 0.7, 0.5])
    start, end = np.full(3, 40), np.full(3, 60)
    rule, iou = choose_span_rule(R, start, end)
    assert (rule.kind, iou) == ("contrast", pytest.approx(1.0))
    # neither a share of the peak nor a mass window finds all three: below 1 by more than rounding
    peak_ious = [np.mean(span_iou(SpanRule("peak", q, w).spans(R), start, end)) for q in LEVELS["peak"] for w in (1, 3)]
    assert max(peak_ious) < 0.95 and choose_mass(R, start, end)[1] < 0.95
    assert "height over the median" in rule.describe()
    without, iou = choose_span_rule(R, start, end, kinds=("mass", "peak"))  # the choice without contrast runs
    assert without.kind != "contrast" and iou < 0.95


def test_smoothing_is_a_centred_moving_average_over_the_steps_there_are():
    rng = np.random.default_rng(0)
    R = rng.random((3, T))
    np.testing.assert_array_equal(smooth_relevance(R, 1), R)
    S = smooth_relevance(R, 5)
    np.testing.assert_allclose(S[:, 10], R[:, 8:13].mean(1))
    np.testing.assert_allclose(S[:, 0], R[:, 0:3].mean(1))  # at the start: the three steps there are
    np.testing.assert_allclose(S[:, -1], R[:, -3:].mean(1))
    np.testing.assert_allclose(smooth_relevance(R, 4)[:, 10], R[:, 8:12].mean(1))  # even: one more step before


def test_the_span_rule_is_chosen_by_iou_and_the_simpler_rule_wins_a_tie():
    start, end = np.array([40]), np.array([60])
    ends = np.zeros((1, T))
    ends[0, 40] = ends[0, 59] = 0.5  # relevance at the segment's two ends: only a mass window spans both
    rule, iou = choose_span_rule(ends, start, end)
    assert (rule.kind, rule.width, iou) == ("mass", 1, pytest.approx(1.0))
    stray = np.zeros((1, T))
    stray[0, 40:60] = 1.0
    stray[0, :30] = 0.8  # more relevance outside the segment than inside, all of it lower than inside
    rule, iou = choose_span_rule(stray, start, end)
    assert rule.kind == "peak" and iou == pytest.approx(1.0)
    assert choose_mass(stray, start, end)[1] < 0.8  # what mass windows alone reach
    noisy = np.zeros((1, T))
    noisy[0, 40:60:2] = 1.0  # every other step: the peak run alone would be one step
    noisy[0, :30] = 0.35  # more relevance outside than inside, so no mass window of 0.5 or more stays inside
    rule, iou = choose_span_rule(noisy, start, end)
    assert (rule.kind, rule.width > 1, iou) == ("peak", True, pytest.approx(20 / 21))  # averaged, then the peak run
    assert choose_mass(noisy, start, end)[1] < 0.6
    np.testing.assert_array_equal(SpanRule.from_dict(rule.to_dict()).spans(noisy), rule.spans(noisy))


def test_a_span_rule_refuses_bad_settings_in_one_line_and_old_metrics_blocks_still_read():
    from tsattn import ConfigError

    for kwargs, message in [
        ({"kind": "window"}, "kind: must be one of mass, peak, contrast; got 'window'"),
        ({"level": 0.0}, "level: must be in (0, 1]; got 0.0"),
        ({"width": 0}, "width: must be a whole number of steps, at least 1; got 0"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            SpanRule(**kwargs)
    with pytest.raises(ConfigError, match=re.escape("kinds: must be some of mass, peak, contrast; got ['window']")):
        choose_span_rule(np.eye(T)[:1], np.array([0]), np.array([5]), kinds=("window",))
    assert span_rule_of({"span_mass": 0.8, "span_mass_chosen_on": "validation data"}) == SpanRule("mass", 0.8, 1)
    block = localization_scores(np.eye(T)[:2], np.array([0, 1]), np.array([5, 6]), span_rule=SpanRule("peak", 0.5, 3))
    assert span_rule_of(block) == SpanRule("peak", 0.5, 3) and block["span_rule_chosen_on"] == "validation data"
    assert "after averaging over 3 steps" in format_localization(block)
