"""Faithfulness scores: exact values on hand-made models, for perfect, inverted and random maps and every baseline."""

from __future__ import annotations

import numpy as np
import pytest

from tsattn.evaluation.faithfulness import (
    AOPCR_FRACTIONS,
    ERASER_FRACTIONS,
    FRACTIONS,
    aopcr_scores,
    faithfulness_scores,
    perturb,
    perturbation_curves,
)

T, STEP = 20, 7


def one_step_model(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """p(class 1) = sigmoid(3 * x[STEP]); it reads nothing else."""
    p = 1 / (1 + np.exp(-3.0 * X[:, 0, STEP].astype(np.float64)))
    return np.stack([1 - p, p], axis=1)


def _series(n: int = 4) -> np.ndarray:
    X = np.zeros((n, 1, T), np.float32)
    X[:, 0, STEP] = 2.0  # class 1, confidently; each series' mean is 0.1
    return X


def _sigmoid(v: float) -> float:
    return float(1 / (1 + np.exp(-v)))


FULL, BASE = _sigmoid(6.0), _sigmoid(0.3)  # intact; the step replaced by the series' mean (2 / 20)


def test_a_perfect_map_drops_the_probability_at_the_first_step_removed_and_an_inverted_one_at_the_last():
    X = _series()
    perfect = np.tile(np.eye(T)[STEP], (len(X), 1))
    counts = np.rint(np.array(FRACTIONS) * T)
    curves = perturbation_curves(one_step_model, X, perfect, baseline="mean")
    np.testing.assert_allclose(curves["full"], FULL)
    np.testing.assert_allclose(curves["deletion"], np.tile(np.where(counts >= 1, BASE, FULL), (len(X), 1)))
    np.testing.assert_allclose(curves["insertion"], np.tile(np.where(counts >= 1, FULL, BASE), (len(X), 1)))
    inverted = perturbation_curves(one_step_model, X, 1 - perfect, baseline="mean")
    np.testing.assert_allclose(inverted["deletion"], np.tile(np.where(counts >= T, BASE, FULL), (len(X), 1)))
    np.testing.assert_allclose(inverted["insertion"], np.tile(np.where(counts >= T, FULL, BASE), (len(X), 1)))


def test_scores_have_their_exact_values_and_rank_perfect_random_inverted():
    X = _series(40)
    perfect = np.tile(np.eye(T)[STEP], (len(X), 1))
    s_perfect = faithfulness_scores(one_step_model, X, perfect, baseline="mean")
    s_inverted = faithfulness_scores(one_step_model, X, 1 - perfect, baseline="mean")
    s_random = faithfulness_scores(one_step_model, X, np.random.default_rng(1).random((len(X), T)), baseline="mean")
    # deletion AUC of the perfect map: FULL at 0 %, BASE from the first step removed on (trapezoid over the grid)
    f = np.array(FRACTIONS)
    expected = np.where(np.rint(f * T) >= 1, BASE, FULL)
    assert s_perfect["deletion_auc"] == pytest.approx(np.sum((expected[1:] + expected[:-1]) * np.diff(f)) / 2)
    # ERASER: bins 1/5/10/20/50 % remove 0/1/2/4/10 of 20 steps; the step goes with the first one
    removed = np.rint(np.array(ERASER_FRACTIONS) * T) >= 1
    assert s_perfect["comprehensiveness"] == pytest.approx((FULL - BASE) * removed.mean())
    assert s_perfect["sufficiency"] == pytest.approx((FULL - BASE) * (~removed).mean())
    assert s_inverted["comprehensiveness"] == pytest.approx(0.0) and s_inverted["sufficiency"] == pytest.approx(
        FULL - BASE
    )
    # the ranking the scores exist for
    assert s_perfect["deletion_auc"] < s_random["deletion_auc"] < s_inverted["deletion_auc"]
    assert s_perfect["insertion_auc"] > s_random["insertion_auc"] > s_inverted["insertion_auc"]
    assert s_perfect["deletion_gain"] > 0.1 and s_inverted["deletion_gain"] < -0.1
    assert abs(s_random["deletion_gain"]) < 0.25 * s_perfect["deletion_gain"]  # chance, up to sampling noise
    assert len(s_perfect["curves"]["deletion"]) == len(FRACTIONS) == len(s_perfect["curves"]["random_insertion"])


def test_padding_is_never_ranked_nor_replaced():
    X = _series(2)
    X[:, :, 15:] = np.nan  # both series are 15 steps long
    lengths = np.array([15, 15])
    seen = []

    def model(Xp: np.ndarray, lengths_: np.ndarray | None = None) -> np.ndarray:
        assert np.isnan(Xp[:, :, 15:]).all() and not np.isnan(Xp[:, :, :15]).any()
        seen.append(lengths_)
        return one_step_model(np.nan_to_num(Xp))

    misleading = np.zeros((2, T))
    misleading[:, 16] = 1.0  # all the relevance on padding: ignored, the real steps keep their order
    misleading[:, STEP] = 0.5
    curves = perturbation_curves(model, X, misleading, lengths=lengths, fractions=[0.0, 1 / 15], baseline="mean")
    assert curves["deletion"][:, 1] == pytest.approx(_sigmoid(3 * 2 / 15))  # the step went first, baseline 2/15
    assert all(s is not None and (s == 15).all() for s in seen)


def test_random_rankings_are_seeded():
    X = _series()
    R = np.random.default_rng(0).random((4, T))
    a = faithfulness_scores(one_step_model, X, R, seed=3)
    b = faithfulness_scores(one_step_model, X, R, seed=3)
    assert a == b


def test_a_shared_forward_runs_each_distinct_series_once_and_gives_the_same_scores():
    """The intact and the fully removed series serve every map, and AOPCR's shares of 5, 10, 20, 30, 40 and
    50 % are points of the deletion curve: with 100 steps a map then runs 26 new series per series, not 37."""
    from tsattn.evaluation.faithfulness import SharedForward, random_reference

    n, T_ = 6, 100
    X = np.random.default_rng(0).standard_normal((n, 1, T_)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal(T_)
    rows: list[int] = []

    def outputs(Xb: np.ndarray, lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        rows.append(len(Xb))
        z = Xb[:, 0].astype(np.float64) @ w
        logits = np.stack([-z / 2, z / 2], axis=1)
        return np.exp(logits) / np.exp(logits).sum(1, keepdims=True), logits

    def proba(Xb: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        return outputs(Xb)[0]

    def logits(Xb: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        return outputs(Xb)[1]

    maps = [np.random.default_rng(2).random((n, T_)), np.abs(w)[None, :].repeat(n, 0)]
    shared = SharedForward(outputs)
    reference = random_reference(shared.proba, X, logits=shared.logits)
    # intact, all removed, then per random map 22 more curve points and AOPCR's 4 shares off the curve
    assert shared.run == n * (2 + 4 * 26)
    before = shared.run
    got = [faithfulness_scores(shared.proba, X, m, logits=shared.logits, reference=reference) for m in maps]
    assert shared.run - before == 2 * n * 26 and shared.asked > 1.4 * shared.run
    rows.clear()
    alone = [faithfulness_scores(proba, X, m, logits=logits) for m in maps]
    assert sum(rows) > 1.4 * shared.run  # the separate functions ran the repeats
    for a, b in zip(got, alone, strict=True):  # equal up to how BLAS sums rows in batches of other sizes
        assert a.keys() == b.keys()
        for key in a:
            if key == "curves":
                for k in a[key]:
                    np.testing.assert_allclose(a[key][k], b[key][k], rtol=1e-12)
            else:
                assert a[key] == (pytest.approx(b[key], rel=1e-12) if isinstance(a[key], float) else b[key])
    empty = np.zeros((0, 1, T_), np.float32)  # no series: the class axis stays, as the model's own outputs have it
    assert shared.proba(empty).shape == shared.logits(empty, np.zeros(0, np.int64)).shape == (0, 2)


def test_every_run_reports_the_faithfulness_of_its_relevance_methods(tmp_path):
    """metrics.json's faithfulness block, the report's section and figure, and `tsattn explain`'s line."""
    import json

    from typer.testing import CliRunner

    from tsattn.cli import app
    from tsattn.config import DatasetConfig, TrainConfig
    from tsattn.data import generate, save_npz
    from tsattn.workflows import train_run

    from ..conftest import TINY

    ds = generate(DatasetConfig(**TINY), seed=0)
    for model, methods in (
        ("cnn_attention", {"attention", "attention_x_gradient", "integrated_gradients"}),
        ("cnn", {"integrated_gradients"}),
    ):
        run = tmp_path / model
        train_run(ds, TrainConfig(model=model, max_epochs=2), run, progress=False, verbose=False, logger=None)
        block = json.loads((run / "metrics.json").read_text())["faithfulness"]
        assert block["n_series"] == 32
        assert {k for k, v in block.items() if isinstance(v, dict)} == methods
        for s in (block[k] for k in methods):
            assert "n_series" not in s  # said once, at the block's top
            assert 0 <= s["deletion_auc"] <= 1 and 0 <= s["random_insertion_auc"] <= 1
            assert s["deletion_gain"] == pytest.approx(s["random_deletion_auc"] - s["deletion_auc"])
            assert len(s["curves"]["deletion"]) == len(FRACTIONS)
        html = (run / "report.html").read_text()
        assert 'data-section="faithfulness"' in html and 'data-figure="faithfulness"' in html
        assert 'data-caveat="faithfulness"' in html and "share of the room" in html
    save_npz(ds, tmp_path / "data.npz")
    r = CliRunner().invoke(
        app,
        [
            "explain",
            "--run",
            str(tmp_path / "cnn_attention"),
            "--data",
            str(tmp_path / "data.npz"),
            "--index",
            "3",
            "--out",
            str(tmp_path / "e.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Faithfulness of attention here: deletion AUC" in r.output and (tmp_path / "e.png").stat().st_size > 0


def test_gains_are_also_given_on_the_scale_from_chance_to_the_intact_probability():
    X = _series()
    s = faithfulness_scores(one_step_model, X, np.eye(T)[[STEP] * 4])
    assert s["chance"] == 0.5 and s["room"] == pytest.approx(FULL - 0.5)
    # the perfect map removes the one step read at the first fraction: its deletion AUC is near BASE, random's higher
    for gain in ("deletion_gain", "insertion_gain", "comprehensiveness_gain", "sufficiency_gain"):
        assert s[f"{gain}_of_room"] == pytest.approx(s[gain] / (FULL - 0.5))
    assert s["deletion_gain_of_room"] > 0.15 and s["uninformative_series"] == 0


def test_a_saturated_model_is_flagged_uninformative_not_scored():
    from tsattn.workflows.evaluate import format_faithfulness

    def saturated(X, lengths=None):
        return np.tile([0.0, 1.0], (len(X), 1))

    s = faithfulness_scores(saturated, _series(), np.eye(T)[[STEP] * 4])
    assert s["uninformative_series"] == 4 and s["deletion_gain"] == 0.0
    text = format_faithfulness({"n_series": 4, "attention": s})
    assert "attention" in text and "uninformative" in text and "deletion AUC" not in text
    assert "does not say whether those steps are where the class evidence truly lies" in text


def _flat_detector(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Logits of "has a flat stretch": the count of steps equal to the one before, minus 2 (real steps only)."""
    n, _, T_ = X.shape
    L = np.full(n, T_) if lengths is None else lengths
    flat = np.array([(np.abs(np.diff(X[i, 0, : L[i]])) < 1e-6).sum() for i in range(n)], np.float64)
    z = flat - 2.0
    return np.stack([-z / 2, z / 2], axis=1)


def test_removal_and_interpolation_take_a_flat_segment_away_where_the_mean_recreates_it():
    T_ = 40
    t = np.arange(T_)
    X = np.sin(2 * np.pi * t / 13.0)[None, None, :].astype(np.float32).repeat(3, axis=0)
    X[:, 0, 10:18] = X[:, 0, 10:11]  # flattened: 7 steps equal to the one before
    segment = np.zeros((3, T_))
    segment[:, 10:18] = 1.0
    fraction = [0.0, 0.2]  # 8 of 40 steps: the segment
    got = {
        b: perturbation_curves(_flat_detector, X, segment, fractions=fraction, baseline=b)["deletion"][:, 1]
        for b in ("mean", "interpolation", "removal", "blur")
    }
    full = _flat_detector(X)[:, 1]
    np.testing.assert_allclose(full, 2.5)
    np.testing.assert_allclose(got["mean"], 2.5)  # a constant in place of a constant: the evidence stays
    np.testing.assert_allclose(got["interpolation"], -1.0)  # a sloped line: nothing flat is left
    np.testing.assert_allclose(got["removal"], -1.0)  # gone, the series 8 steps shorter
    np.testing.assert_allclose(got["blur"], -1.0)
    Xp, Lp = perturb(X, (segment > 0)[:, None, :], np.full(3, T_), "removal")
    assert Lp.tolist() == [32, 32, 32] and np.all(Xp[:, :, 32:] == 0)


def test_aopcr_in_logits_is_exact_on_a_linear_model():
    def linear(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        z = 3.0 * X[:, 0, STEP].astype(np.float64)  # logit of class 1; the classes' logits are -z/2 and z/2
        return np.stack([-z / 2, z / 2], axis=1)

    X = _series(40)  # x[STEP] = 2: class 1 with logit 3; its neighbours are 0, so interpolation gives 0 there
    perfect = np.tile(np.eye(T)[STEP], (len(X), 1))
    s = aopcr_scores(linear, X, perfect, n_random=8)
    # every share removes >= 1 step (5 % of 20): the step goes first, the logit falls from 3 to 0
    assert s["aopc"] == pytest.approx(3.0)
    # a random ranking removes the step with probability k/20 at k steps: 3 * mean(k/20, k = 1..10) = 0.825
    assert s["random_aopc"] == pytest.approx(3.0 * np.mean(np.rint(np.array(AOPCR_FRACTIONS) * T) / T), abs=0.25)
    assert s["aopcr"] == pytest.approx(s["aopc"] - s["random_aopc"])
    assert s["aopcr_normalized"] == pytest.approx(s["aopcr"] / (3.0 + s["random_aopc"]))
    inverted = aopcr_scores(linear, X, 1 - perfect, n_random=8)
    assert inverted["aopc"] == pytest.approx(0.0) and inverted["aopcr_normalized"] == pytest.approx(-1.0)


def test_ties_are_broken_at_random_by_the_seed_never_toward_the_earliest_step():
    def first_step(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        p = 1 / (1 + np.exp(-3.0 * X[:, 0, 0].astype(np.float64)))
        return np.stack([1 - p, p], axis=1)

    X = np.ones((200, 1, T), np.float32)
    X[:, 0, 0] = 2.0
    flat = np.full((200, T), 1.0 / T)  # every step tied
    a = perturbation_curves(first_step, X, flat, fractions=[0.0, 0.05], baseline="mean", seed=1)
    b = perturbation_curves(first_step, X, flat, fractions=[0.0, 0.05], baseline="mean", seed=1)
    c = perturbation_curves(first_step, X, flat, fractions=[0.0, 0.05], baseline="mean", seed=2)
    hit = a["deletion"][:, 1] < a["full"] - 1e-9  # the one step removed was step 0
    assert 0.0 < hit.mean() < 0.2  # about 1 in 20, not every series (a stable sort would pick step 0)
    np.testing.assert_array_equal(a["deletion"], b["deletion"])
    assert not np.array_equal(a["deletion"], c["deletion"])


def test_every_entry_point_uses_one_number_of_random_rankings():
    from tsattn.evaluation.faithfulness import N_RANDOM

    s = faithfulness_scores(one_step_model, _series(), np.tile(np.eye(T)[STEP], (4, 1)))
    assert s["n_random"] == N_RANDOM and s["baseline"] == "interpolation"


def test_under_a_scaler_the_kept_steps_reach_the_network_exactly_as_scaled(tmp_path, monkeypatch):
    """Perturbation happens after the run's scaler: with per-series z-normalisation, removing steps before
    scaling would rescale every kept step; here each kept step reaches the network unchanged."""
    import dataclasses

    import torch

    from tsattn.config import DatasetConfig, TrainConfig
    from tsattn.data import generate
    from tsattn.evaluation.faithfulness import _grid
    from tsattn.run import load_run
    from tsattn.workflows import train_run
    from tsattn.workflows.evaluate import faithfulness_block

    from ..conftest import TINY

    ds = generate(DatasetConfig(**TINY), seed=0)
    cfg = TrainConfig(model="cnn", max_epochs=1, scaling="znorm")
    train_run(ds, cfg, tmp_path / "run", progress=False, verbose=False, logger=None)
    loaded = load_run(tmp_path / "run")
    seen: list[np.ndarray] = []

    class Recording(torch.nn.Module):
        def __init__(self, net: torch.nn.Module) -> None:
            super().__init__()
            self.net, self.has_attention, self.n_classes = net, False, net.n_classes

        def forward(self, x, mask=None):
            seen.append(x.detach().numpy().copy())
            return self.net(x, mask)

    class EveryBatch:  # the network sees each perturbed batch whole, repeats included, as without sharing
        def __init__(self, outputs):
            self.proba = lambda X, lengths=None: outputs(X, lengths)[0]
            self.logits = lambda X, lengths=None: outputs(X, lengths)[1]

    monkeypatch.setattr("tsattn.evaluation.faithfulness.SharedForward", EveryBatch)
    n = 4
    faithfulness_block(dataclasses.replace(loaded, net=Recording(loaded.net)), ds, max_series=n)
    rows = np.unique(np.linspace(0, len(ds) - 1, n).astype(np.int64))
    scaled = loaded.scaler.transform(np.asarray(ds.X, np.float32)[rows])
    L = scaled.shape[-1]
    grid = _grid()
    curves = [b for b in seen if len(b) == n * len(grid)]
    assert curves  # the deletion and insertion batches of every map and random ranking
    deletions = 0
    for batch in curves:
        deletion = np.allclose(batch[0], scaled[0], rtol=0, atol=1e-6)  # its 0 % row is the series itself
        deletions += deletion
        for r, x in enumerate(batch):
            i, f = divmod(r, len(grid))
            same = np.isclose(x, scaled[i], rtol=0, atol=1e-6).all(axis=0).sum()
            removed = int(np.rint(grid[f] * L))
            assert same >= (L - removed if deletion else removed)  # every kept step, exactly as scaled
    assert 0 < deletions < len(curves)


def _linear_logits(X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    z = 3.0 * X[:, 0, STEP].astype(np.float64)  # logit of class 1; the classes' logits are -z/2 and z/2
    return np.stack([-z / 2, z / 2], axis=1)


def test_occlusion_finds_the_one_step_a_linear_model_reads_and_scores_maps_against_it():
    from tsattn.evaluation.faithfulness import OCCLUSION_KEYS, occlusion_drops, occlusion_scores

    X = _series(6)
    occ = occlusion_drops(_linear_logits, X)
    # windows of 1 step (5 % of 20): the one holding STEP drops the logit from 3 to 0 (interpolated between zeros)
    assert occ["windows"].shape == (6, 20, 20) and occ["valid"].all()
    np.testing.assert_allclose(occ["drops"][:, STEP], 3.0)
    np.testing.assert_allclose(np.delete(occ["drops"], STEP, axis=1), 0.0)
    perfect = np.tile(np.eye(T)[STEP], (6, 1))
    good = occlusion_scores(perfect + 0.01 * np.arange(T), occ)  # the peak at STEP, the rest a slope
    assert good["occlusion_pointing"] == 1.0 and good["occlusion_pointing_weighted"] == 1.0
    assert good["random_occlusion_pointing"] == pytest.approx(1 / T)
    assert good["occlusion_pointing_gain"] == pytest.approx(1 - 1 / T)
    assert good["occlusion_correlation"] > 0.3  # only the top window's drop differs: ranks tie elsewhere
    wrong = occlusion_scores(np.tile(np.eye(T)[3], (6, 1)), occ)
    assert wrong["occlusion_pointing"] == 0.0 and wrong["occlusion_pointing_weighted"] == 0.0
    assert set(good) == set(OCCLUSION_KEYS)
    # not part of the faithfulness block (it doubled its cost and does not track the ground truth)
    assert not set(OCCLUSION_KEYS) & set(faithfulness_scores(one_step_model, X, perfect, logits=_linear_logits))


def test_occlusion_windows_cover_each_series_to_its_own_length_and_ties_go_by_the_seed():
    from tsattn.evaluation.faithfulness import occlusion_drops, occlusion_scores

    X = np.zeros((300, 1, 40), np.float32)
    X[:, 0, STEP] = 2.0
    lengths = np.where(np.arange(300) % 2 == 0, 40, 20)
    occ = occlusion_drops(_linear_logits, X, lengths=lengths)
    # 40 steps: windows of 2 every step (39); 20 steps: windows of 1 every step (20); none reaches the padding
    assert occ["valid"][0].sum() == 39 and occ["valid"][1].sum() == 20
    assert not occ["windows"][1][:, 20:].any() and np.isnan(occ["drops"][1, 20:]).all()
    flat = np.ones((300, 40))  # every step tied: the peak is drawn at random among the real steps
    a, b, c = (occlusion_scores(flat, occ, lengths=lengths, seed=s) for s in (1, 1, 2))
    assert a == b and a != c
    # the top windows: the two of 2 steps that hold STEP (3 steps of 40), or the one of 1 step (1 of 20)
    assert a["random_occlusion_pointing"] == pytest.approx((3 / 40 + 1 / 20) / 2)
    assert 0.01 < a["occlusion_pointing"] < 0.12
    assert a["occlusion_correlation"] is None  # a constant map correlates with nothing
