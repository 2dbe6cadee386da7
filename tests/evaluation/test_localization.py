import numpy as np
import pytest

from tsattn.evaluation.localization import (
    choose_mass,
    localization_scores,
    mass_inside,
    pointing_game,
    shift,
    span_iou,
    spans_from_mass,
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
    s = localization_scores(np.ones((2, T)), np.array([-1, -1]), np.array([-1, -1]), span_mass=0.9)
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
