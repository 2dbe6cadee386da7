"""The aeon classifier: aeon's own estimator checks, aeon's input formats, and runs the CLI opens."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("aeon", reason="the aeon classifier needs the optional aeon (tsattn[aeon])")

from tsattn.aeon import AttentionClassifier
from tsattn.cli import app

FAST = AttentionClassifier._get_test_params()


def _data(n: int = 24, C: int = 2, T: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array(["a", "b"])[np.arange(n) % 2]
    X = rng.normal(size=(n, C, T))
    X[y == "b", :, 8:14] += 3.0
    return X, y


def test_aeon_check_estimator_passes_every_check():
    from aeon.testing.estimator_checking import check_estimator

    results = check_estimator(AttentionClassifier, raise_exceptions=True)
    assert all(v == "PASSED" for v in results.values()), results
    names = " ".join(results)
    # every capability the tags declare is exercised by aeon's own data
    for datatype in (
        "EqualLengthMultivariate-Classification-numpy3D",
        "UnequalLengthMultivariate-Classification-np-list",
        "MissingValues-Classification-numpy3D",
        "MissingValues-Classification-np-list",
    ):
        assert datatype in names, datatype
    for check in ("check_fit_deterministic", "check_persistence_via_pickle", "check_fit_updates_state_and_cloning"):
        assert check in names, check


def test_equal_length_unequal_length_and_nan_input_each_fit_and_predict():
    X, y = _data()
    clf = AttentionClassifier(**FAST).fit(X, y)
    assert set(clf.predict(X)) <= {"a", "b"} and clf.predict_proba(X).shape == (24, 2)

    ragged = [x[:, : 20 + i % 7] for i, x in enumerate(X)]  # (C, T_i) arrays, 20-26 steps
    clf = AttentionClassifier(**FAST).fit(ragged, y)
    proba = clf.predict_proba(ragged)
    assert proba.shape == (24, 2) and np.allclose(proba.sum(1), 1.0)
    relevance = clf.explain(ragged)
    assert relevance.shape == (24, 26) and (relevance[0, 20:] == 0).all()  # nothing past the first series' end

    holes = X.copy()
    holes[::3, :, 5] = np.nan
    clf = AttentionClassifier(**FAST).fit(holes, y)
    # interpolate (the default): a NaN between two values is their mean, so filling it by hand changes nothing
    filled = holes.copy()
    filled[::3, :, 5] = (holes[::3, :, 4] + holes[::3, :, 6]) / 2
    np.testing.assert_allclose(clf.predict_proba(holes), clf.predict_proba(filled), atol=1e-6)


def test_nan_policy_error_declares_no_missing_values_and_aeon_refuses_them():
    X, y = _data()
    X[0, 0, 3] = np.nan
    clf = AttentionClassifier(**FAST | {"nan_policy": "error"})
    assert clf.get_tag("capability:missing_values") is False
    with pytest.raises(ValueError, match="missing values"):
        clf.fit(X, y)
    assert AttentionClassifier().get_tag("capability:missing_values") is True


def test_random_state_none_draws_a_seed_that_is_recorded(tmp_path):
    X, y = _data()
    np.random.seed(3)
    clf = AttentionClassifier(**FAST | {"random_state": None}).fit(X, y)
    seed = clf.estimator_.random_state
    assert isinstance(seed, int)
    again = AttentionClassifier(**FAST | {"random_state": seed}).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    clf.save(tmp_path / "run")
    assert AttentionClassifier.load(tmp_path / "run").estimator_.random_state == seed


def test_trains_on_every_row_but_the_validation_part():
    X, y = _data(n=40)
    clf = AttentionClassifier(**FAST).fit(X, y)  # cnn_attention's recipe keeps a validation part of any size
    assert (clf.estimator_.n_train_, clf.estimator_.n_val_) == (35, 5)  # 12.5 %, as --test-data splits
    clf = AttentionClassifier(**FAST | {"model": "inception_attention", "model_params": {"filters": 2}}).fit(X, y)
    assert (clf.estimator_.n_train_, clf.estimator_.n_val_) == (40, 0)  # the default's small-data rule


def test_a_saved_model_predicts_through_the_cli_as_it_does_in_aeon(tmp_path):
    X, y = _data(C=1, T=30)
    clf = AttentionClassifier(**FAST).fit(X, y)
    run = clf.save(tmp_path / "run")
    new, _ = _data(n=10, C=1, T=30, seed=5)
    np.save(tmp_path / "new.npy", new.astype(np.float32))
    r = CliRunner().invoke(
        app, ["predict", "--run", str(run), "--data", str(tmp_path / "new.npy"), "--out", str(tmp_path / "p.csv")]
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    np.testing.assert_allclose(
        [[float(row["proba_a"]), float(row["proba_b"])] for row in rows], clf.predict_proba(new), atol=1e-5
    )
    assert [row["predicted"] for row in rows] == list(clf.predict(new))
    loaded = AttentionClassifier.load(run)
    np.testing.assert_array_equal(loaded.predict(new), clf.predict(new))
    new_y = np.array(["a", "b"])[np.arange(10) % 2]
    np.savez(tmp_path / "labelled.npz", X=new.astype(np.float32), y=new_y)
    r = CliRunner().invoke(app, ["evaluate", "--run", str(run), "--data", str(tmp_path / "labelled.npz")])
    assert r.exit_code == 0, r.output
    metrics = json.loads((run / "evaluations" / "labelled.npz" / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(clf.score(new, new_y))
    with pytest.raises(Exception, match="already holds a run"):
        clf.save(run)


def test_importing_tsattn_leaves_aeon_alone_and_the_class_names_the_extra_without_it():
    code = "import sys, tsattn; from tsattn import AttentionClassifier; print('aeon' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    code = "import sys; sys.modules['aeon'] = None; import tsattn.aeon"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: tsattn.aeon needs aeon") and "tsattn[aeon]" in last
