import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from tsattn import AttentionClassifier, DataError

FAST = {"max_epochs": 4, "batch_size": 16}


def _easy(n=80, T=40, seed=0, labels=("calm", "bump")):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, size=(n, T)).astype(np.float32)
    y = np.array([labels[i % 2] for i in range(n)])
    for i in np.flatnonzero(y == labels[1]):
        s = rng.integers(0, T - 6)
        X[i, s : s + 6] += 2.5
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _easy()
    return AttentionClassifier("cnn_attention", **FAST).fit(X, y), X, y


def test_init_only_stores_parameters():
    clf = AttentionClassifier("mlp", lr=0.5, max_epochs=-3)  # not validated until fit
    assert clf.get_params()["lr"] == 0.5 and clf.get_params()["max_epochs"] == -3
    with pytest.raises(Exception, match="max_epochs"):
        clf.fit(*_easy())


def test_fit_predict_with_string_labels(fitted):
    clf, X, y = fitted
    assert list(clf.classes_) == ["bump", "calm"]
    assert set(clf.predict(X)) <= {"bump", "calm"}
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-6)
    assert clf.score(X, y) > 0.8
    assert len(clf.history_) == 4 and {"train_loss", "val_loss"} <= set(clf.history_[0])


def test_explain_shape(fitted):
    clf, X, _ = fitted
    R = clf.explain(X[:5])
    assert R.shape == (5, 40)
    np.testing.assert_allclose(R.sum(1), 1, atol=1e-5)


def test_save_load_round_trip(fitted, tmp_path):
    clf, X, _ = fitted
    clf.save(tmp_path / "run")
    back = AttentionClassifier.load(tmp_path / "run")
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=0, rtol=0)
    assert back.get_params()["max_epochs"] == 4


def test_runs_saved_before_the_length_offsets_still_load(fitted, tmp_path):
    """Weights without the ``length.*`` entries load as zero offsets: the same predictions."""
    from safetensors.numpy import load_file, save_file

    clf, X, _ = fitted
    clf.save(tmp_path / "run")
    path = tmp_path / "run" / "weights.safetensors"
    state = load_file(path)
    length_keys = {k for k in state if k.split(".")[-2] == "length"}  # "body.length.*" under znorm_level
    assert len(length_keys) == 2
    save_file({k: v for k, v in state.items() if k not in length_keys}, path)
    back = AttentionClassifier.load(tmp_path / "run")
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=0, rtol=0)


def test_three_d_and_variable_length_inputs():
    X, y = _easy(n=60)
    X3 = np.stack([X, -X], axis=1)  # (n, 2, T)
    clf = AttentionClassifier("cnn_attention", **FAST).fit(X3, y)
    assert clf.predict(X3).shape == (60,)
    with pytest.raises(DataError, match="fitted on 2 channel"):
        clf.predict(X)
    series = [x[: 30 + (i % 10)] for i, x in enumerate(X)]  # lengths 30..39
    clf = AttentionClassifier("lstm_attention", **FAST).fit(series, y)
    assert clf.predict(series).shape == (60,)
    R = clf.explain(series[:3])
    assert R.shape == (3, 32) and (R[0, 30:] == 0).all()  # padding gets no relevance


def test_sklearn_tooling():
    X, y = _easy(n=160)
    pipe = Pipeline(
        [("scale", FunctionTransformer(lambda a: a * 2.0)), ("clf", AttentionClassifier("cnn_attention", **FAST))]
    )
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and scores.mean() > 0.7, scores


def test_grid_search_tells_a_working_setting_from_a_broken_one():
    """GridSearchCV really refits with each setting: a learning rate too small to move the weights in 4 epochs
    scores at chance, and the search must pick the one that learns."""
    X, y = _easy(n=160)
    grid = GridSearchCV(AttentionClassifier("cnn_attention", **FAST), {"lr": [1e-9, 3e-3]}, cv=2)
    grid.fit(X, y)
    scores = dict(zip(grid.cv_results_["param_lr"], grid.cv_results_["mean_test_score"], strict=False))
    assert grid.best_params_["lr"] == 3e-3
    assert scores[3e-3] > 0.8 and scores[1e-9] < 0.7, scores


def test_mlp_refuses_other_lengths():
    X, y = _easy(n=40)
    clf = AttentionClassifier("mlp", **FAST).fit(X, y)
    with pytest.raises(DataError, match="exactly 40 steps"):
        clf.predict(X[:, None, :30])
    with pytest.raises(ValueError, match="X has 30 features, but AttentionClassifier is expecting 40"):
        clf.predict(X[:, :30])  # 2-D input follows scikit-learn's n_features_in_ rule


def test_load_keeps_the_feature_count_check_of_a_2d_fit(fitted, tmp_path):
    clf, X, _ = fitted
    back = AttentionClassifier.load(clf.save(tmp_path / "run"))
    assert back.n_features_in_ == 40
    with pytest.raises(ValueError, match="X has 30 features, but AttentionClassifier is expecting 40"):
        back.predict(X[:, :30])
    assert back.predict(X[:, None, :30]).shape == (80,)  # 3-D input of another length is still welcome


def test_list_of_multichannel_series_of_several_lengths():
    X, y = _easy(n=60)
    series = [np.stack([x[: 25 + i % 15], -x[: 25 + i % 15]]) for i, x in enumerate(X)]  # (2, 25..39) each
    clf = AttentionClassifier("cnn_attention", **FAST).fit(series, y)
    assert clf.n_channels_ == 2 and clf.seq_len_ == 39
    assert clf.score(series, y) > 0.8
    R = clf.explain(series[:2])  # lengths 25 and 26: padded to the longer one
    assert R.shape == (2, 26) and R[0, 25] == 0 and (R[1] > 0).all()
    np.testing.assert_allclose(R.sum(1), 1, atol=1e-5)
    with pytest.raises(DataError, match="same number of channels"):
        clf.predict([series[0], series[1][:1]])


def test_load_a_run_trained_by_the_cli(tmp_path):
    """The estimator reads `tsattn train`'s run directory and predicts what `tsattn predict` writes."""
    import csv

    from typer.testing import CliRunner

    from tsattn.cli import app

    X, y = _easy(n=80)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "d.npz"),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "3",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    clf = AttentionClassifier.load(tmp_path / "run")
    assert list(clf.classes_) == ["bump", "calm"] and clf.model == "cnn_attention"
    np.save(tmp_path / "X.npy", X[:, None, :])
    r = runner.invoke(
        app,
        [
            "predict",
            "--run",
            str(tmp_path / "run"),
            "--data",
            str(tmp_path / "X.npy"),
            "--out",
            str(tmp_path / "p.csv"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    np.testing.assert_allclose(
        clf.predict_proba(X[:, None, :])[:, 0], [float(r["proba_bump"]) for r in rows], atol=1e-5
    )
    assert list(clf.predict(X[:, None, :])) == [r["predicted"] for r in rows]


# scikit-learn's estimator checks. They feed tabular blobs with 2-5 features, so the instance uses dataset
# standardisation (per-series z-normalisation would erase the signal) and no input pooling (pool=2 would
# halve 2 features to 1). Left out, by name: check_array_api_input, which runs only with SCIPY_ARRAY_API set
# and otherwise skips; AttentionClassifier takes NumPy input and does not claim Array API support.
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

_ESTIMATOR = AttentionClassifier(
    "cnn_attention", max_epochs=20, batch_size=16, scaling="standard", model_params={"pool": 1}
)
NOT_CLAIMED = {"check_array_api_input"}
SKLEARN_CHECKS = [
    (est, check)
    for est, check in estimator_checks_generator(_ESTIMATOR)
    if getattr(check, "func", check).__name__ not in NOT_CLAIMED
]


def _check_id(check) -> str:
    func = getattr(check, "func", check)
    kwargs = getattr(check, "keywords", {}) or {}
    return func.__name__ + (f"({','.join(f'{k}={v}' for k, v in kwargs.items())})" if kwargs else "")


@pytest.mark.slow
@pytest.mark.parametrize("estimator, check", SKLEARN_CHECKS, ids=[_check_id(c) for _, c in SKLEARN_CHECKS])
def test_sklearn_estimator_checks(estimator, check):
    assert len(SKLEARN_CHECKS) > 40  # the filter above leaves the suite whole
    check(estimator)
