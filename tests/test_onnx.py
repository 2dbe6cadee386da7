"""ONNX export against the run's own prediction path: every model, every scaling, equal and variable length.

The reference is always what ``tsattn predict`` computes (the run's numpy
scaler and network), never the export module's own graph. Runs are trained
for one epoch on 3-class, 2-channel data whose classes differ in level, so
that the level offsets (``znorm_level``) and, on variable-length data, the
length offsets are live. The fast tier covers every model at its default
scaling and every scaling on cnn_attention; the ``slow`` tier the whole
cross product.
"""

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tsattn.cli import app
from tsattn.models import get_model_class

ort = pytest.importorskip("onnxruntime", reason="the ONNX tests need the optional onnxruntime (tsattn[onnx])")
pytest.importorskip("onnx", reason="the ONNX tests need the optional onnx (tsattn[onnx])")

MODELS = ["inception_attention", "cnn_attention", "lstm_attention", "transformer", "mlp", "cnn"]
SCALINGS = ["znorm", "standard", "none", "both", "znorm_level", "diff", "diff_clip"]
T = 24


def _data(variable: bool, n: int = 48, seed: int = 0):
    """``n`` series of 2 channels, 3 classes told apart by level and scale; lengths 14..24 if ``variable``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    series = []
    for c in y:
        L = int(rng.integers(14, T + 1)) if variable else T
        series.append((rng.normal(size=(2, L)) * (1 + c) + 2 * c).astype(np.float32))
    if not variable:
        return np.stack(series), y
    return series, y


def _fit_run(path, model, scaling, variable):
    from tsattn import AttentionClassifier

    X, y = _data(variable)
    clip = 1.0 if scaling.endswith("_clip") else None  # "diff_clip": diff, limited to +-1 standard deviation
    clf = AttentionClassifier(
        model, max_epochs=1, batch_size=16, scaling=scaling.removesuffix("_clip"), scaling_clip=clip
    )
    clf.fit(X, y).save(path)
    return path


def _padded(series, fill):
    """``(n, 2, T)`` with ``fill`` past each series' end, and the lengths."""
    n = np.array([s.shape[1] for s in series])
    X = np.full((len(series), 2, T), fill, np.float32)
    for i, s in enumerate(series):
        X[i, :, : s.shape[1]] = s
    return X, n


def _reference(run, X, lengths=None):
    """The run's own prediction path: load_run, its numpy scaler, predict_arrays."""
    from tsattn.inference import predict_arrays
    from tsattn.run import load_run

    loaded = load_run(run)
    return predict_arrays(loaded.net, loaded.scaler.transform(X), lengths=lengths)


def _check(run, tmp_path, model, variable):
    from tsattn.workflows.export import export_onnx

    report = export_onnx(run, tmp_path / "m.onnx")  # its own check against the predict path: raises above 1e-5
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    has_att = get_model_class(model).has_attention
    assert [o.name for o in sess.get_outputs()] == ["probabilities"] + (["attention"] if has_att else [])
    assert [i.name for i in sess.get_inputs()] == ["series"] + (["lengths"] if variable else [])
    X, _ = _data(variable, n=30, seed=1)  # series the run never saw
    if variable:
        nan_padded, n = _padded(X, np.nan)
        ref_p, ref_a = _reference(run, nan_padded, n)
        for fill in (0.0, np.nan):  # zero or NaN padding: the graph reads neither
            got = sess.run(None, {"series": _padded(X, fill)[0], "lengths": n})
            np.testing.assert_allclose(got[0], ref_p, atol=1e-5, rtol=0)
            if has_att:
                np.testing.assert_allclose(got[1], ref_a, atol=1e-5, rtol=0)
                assert (got[1][np.arange(T)[None, :] >= n[:, None]] == 0).all()  # exactly no attention on padding
    else:
        ref_p, ref_a = _reference(run, X)
        got = sess.run(None, {"series": X})
        np.testing.assert_allclose(got[0], ref_p, atol=1e-5, rtol=0)
        if has_att:
            np.testing.assert_allclose(got[1], ref_a, atol=1e-5, rtol=0)
    assert got[0].shape == (30, 3)
    meta = sess.get_modelmeta().custom_metadata_map
    assert json.loads(meta["class_names"]) == ["0", "1", "2"] and meta["tsattn_model"] == model
    return report


FAST = [(m, "znorm") for m in MODELS] + [("cnn_attention", s) for s in SCALINGS if s != "znorm"]
CASES = [
    pytest.param(
        m, s, v, marks=() if (m, s) in FAST else pytest.mark.slow, id=f"{m}-{s}-{'variable' if v else 'equal'}"
    )
    for m in MODELS
    for s in SCALINGS
    for v in (False, True)
    # the scalings wrap any model alike (cnn_attention covers them all): the default model runs at znorm only
    if m != "inception_attention" or s == "znorm"
]


@pytest.mark.parametrize("model, scaling, variable", CASES)
def test_onnx_matches_predict(tmp_path, model, scaling, variable):
    if variable and not get_model_class(model).variable_length:
        return _mlp_refuses_lengths(tmp_path)
    _check(_fit_run(tmp_path / "run", model, scaling, variable), tmp_path, model, variable)


def _mlp_refuses_lengths(tmp_path):
    """mlp has one weight per step: its variable-length case is a one-line refusal, not a graph."""
    from tsattn import RunError
    from tsattn.workflows.export import export_onnx

    run = _fit_run(tmp_path / "run", "mlp", "znorm", False)
    with pytest.raises(RunError, match="lengths: mlp takes series of one length only"):
        export_onnx(run, tmp_path / "m.onnx", lengths=True)
    assert not (tmp_path / "m.onnx").exists()


def _write_ts(path, series, y):
    """A multivariate, unequal-length UEA ``.ts`` file."""
    lines = [
        "@problemName toy",
        "@timeStamps false",
        "@univariate false",
        "@dimensions 2",
        "@equalLength false",
        "@classLabel true 0 1 2",
        "@data",
    ]
    for s, c in zip(series, y, strict=False):
        lines.append(":".join(",".join(f"{v:.9g}" for v in ch) for ch in s) + f":{c}")
    path.write_text("\n".join(lines) + "\n")


def test_variable_length_export_equals_tsattn_predict_on_a_padded_file(tmp_path):
    """What a user does: ``tsattn predict`` on a variable-length file, and the exported graph on the same series."""
    run = _fit_run(tmp_path / "run", "cnn_attention", "znorm_level", True)
    series, y = _data(True, n=40, seed=2)
    _write_ts(tmp_path / "new.ts", series, y)
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "predict",
            "--run",
            str(run),
            "--data",
            str(tmp_path / "new.ts"),
            "--out",
            str(tmp_path / "p.csv"),
            "--with-attention",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    predicted = np.array([[float(row[f"proba_{c}"]) for c in "012"] for row in rows])
    r = runner.invoke(app, ["export", "--run", str(run), "--format", "onnx", "--out", str(tmp_path / "m.onnx")])
    assert r.exit_code == 0, r.output
    assert "inputs series, lengths" in r.output
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    X, n = _padded(series, 0.0)
    proba, att = sess.run(None, {"series": X, "lengths": n})
    np.testing.assert_allclose(proba, predicted, atol=1e-5, rtol=0)  # the CSV keeps 6 significant digits
    np.testing.assert_allclose(att, np.load(tmp_path / "p.attention.npy"), atol=1e-5, rtol=0)
    # The graph before this fix had no lengths input: fed the zero-padded batch alone, the scaling, the attention
    # and the length offsets all counted the padding. That is what the lengths input is for.
    blind = _reference(run, X)[0]
    assert np.abs(blind - predicted).max() > 1e-3


def test_equal_length_run_can_opt_into_a_lengths_input(tmp_path):
    from tsattn.workflows.export import export_onnx

    run = _fit_run(tmp_path / "run", "cnn_attention", "znorm", False)
    report = export_onnx(run, tmp_path / "m.onnx", lengths=True)
    assert report["inputs"] == ["series", "lengths"] and report["max_abs_diff_probabilities"] <= 1e-5


@pytest.mark.parametrize("downsample", ["fold", "mean"])
@pytest.mark.parametrize("variable", [False, True])
def test_a_pooled_default_model_exports_with_its_attention_spread_over_every_step(tmp_path, downsample, variable):
    # max_length 5 pools 24 steps by 5 (windows that do not divide T): the graph must spread each window's weight
    # over its real steps exactly as the predict path does, at other batch sizes and lengths than it was traced at.
    from tsattn import AttentionClassifier

    X, y = _data(variable)
    params = {"max_length": 5, "downsample": downsample}
    AttentionClassifier("inception_attention", max_epochs=1, batch_size=16, model_params=params).fit(X, y).save(
        tmp_path / "run"
    )
    _check(tmp_path / "run", tmp_path, "inception_attention", variable)
