"""Using a trained run: streaming predict and ONNX export."""

import csv

import numpy as np
import pytest
from typer.testing import CliRunner

from tsattn.cli import app
from tsattn.config import DatasetConfig, TrainConfig
from tsattn.data import generate, save_npz

from .conftest import TINY

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from tsattn.workflows import train_run

    tmp = tmp_path_factory.mktemp("use")
    ds = generate(DatasetConfig(**TINY), seed=0)
    save_npz(ds, tmp / "data.npz")
    np.save(tmp / "X.npy", ds.X)
    out = {}
    for name in ("cnn_attention", "lstm_attention"):  # every model and scaling against ONNX: test_onnx.py
        train_run(
            ds,
            TrainConfig(model=name, max_epochs=2, batch_size=32, scaling_gain=2.0),
            tmp / name,
            progress=False,
            verbose=False,
        )
        out[name] = tmp / name
    for scaling in ("both", "znorm_level"):
        train_run(
            ds,
            TrainConfig(model="cnn_attention", max_epochs=2, batch_size=32, scaling=scaling),
            tmp / scaling,
            progress=False,
            verbose=False,
        )
        out[scaling] = tmp / scaling
    return tmp, ds, out


def _read_csv(path):
    return list(csv.DictReader(path.open()))


def test_predict_chunks_match_the_in_memory_path(runs, tmp_path):
    from tsattn.inference import predict_arrays
    from tsattn.run import load_run

    tmp, ds, out = runs
    r = invoke(
        "predict",
        "--run",
        out["cnn_attention"],
        "--data",
        tmp / "X.npy",
        "--out",
        tmp_path / "p.csv",
        "--chunk",
        37,
        "--with-attention",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    rows = _read_csv(tmp_path / "p.csv")
    assert len(rows) == 200 and rows[0].keys() == {"id", "predicted", "proba_normal", "proba_rectified"}
    loaded = load_run(out["cnn_attention"])
    proba, att = predict_arrays(loaded.net, loaded.scaler.transform(ds.X))
    got = np.array([[float(row["proba_normal"]), float(row["proba_rectified"])] for row in rows])
    np.testing.assert_allclose(got, proba, atol=1e-5)
    assert [row["predicted"] for row in rows] == [loaded.class_names[i] for i in proba.argmax(1)]
    np.testing.assert_allclose(np.load(tmp_path / "p.attention.npy"), att, atol=1e-6)


def test_predict_npz_and_parquet(runs, tmp_path):
    pa = pytest.importorskip("pyarrow.parquet", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    tmp, _, out = runs
    r = invoke(
        "predict",
        "--run",
        out["lstm_attention"],
        "--data",
        tmp / "data.npz",
        "--out",
        tmp_path / "p.parquet",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    table = pa.read_table(tmp_path / "p.parquet")
    assert table.num_rows == 200 and table.column_names == ["id", "predicted", "proba_normal", "proba_rectified"]


def test_predict_rejects_a_channel_mismatch_and_writes_nothing(runs, tmp_path):
    _tmp, ds, out = runs
    np.save(tmp_path / "two.npy", np.concatenate([ds.X, ds.X], axis=1))
    r = invoke("predict", "--run", out["cnn_attention"], "--data", tmp_path / "two.npy", "--out", tmp_path / "p.csv")
    assert r.exit_code == 2 and "expects 1 channel(s); the file has 2" in r.output
    assert not (tmp_path / "p.csv").exists() and not list(tmp_path.glob(".*tmp"))


def test_predict_refuses_nan_without_leaving_a_file(runs, tmp_path):
    _tmp, ds, out = runs
    X = ds.X.copy()
    X[150, 0, 3] = np.nan
    np.save(tmp_path / "nan.npy", X)
    r = invoke(
        "predict",
        "--run",
        out["cnn_attention"],
        "--data",
        tmp_path / "nan.npy",
        "--out",
        tmp_path / "p.csv",
        "--chunk",
        64,
    )
    assert r.exit_code == 2 and "NaN" in r.output and "(150, 0, 3)" in r.output
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("scaling", ["both", "znorm_level"])
def test_two_view_scaling_predicts_from_raw_series(runs, tmp_path, scaling):
    """The net takes 2C channels (both views of each channel); predict still takes the raw C (ONNX: test_onnx.py)."""
    from tsattn.inference import predict_arrays
    from tsattn.run import load_run

    tmp, ds, out = runs
    loaded = load_run(out[scaling])
    if scaling == "both":
        assert loaded.net.n_channels == 2 * ds.n_channels
    else:  # the body sees the z-normalised channels; the tiny seed data's amplitudes vary, so the offsets are live
        assert loaded.net.body.n_channels == ds.n_channels and (loaded.net.level.stats[1] > 0).all()
        assert loaded.net.level.weight.abs().sum() > 0
    proba, _ = predict_arrays(loaded.net, loaded.scaler.transform(ds.X))
    r = invoke("predict", "--run", out[scaling], "--data", tmp / "X.npy", "--out", tmp_path / "p.csv", "--quiet")
    assert r.exit_code == 0, r.output
    got = np.array(
        [[float(row["proba_normal"]), float(row["proba_rectified"])] for row in _read_csv(tmp_path / "p.csv")]
    )
    np.testing.assert_allclose(got, proba, atol=1e-5)


def test_export_cli(runs, tmp_path):
    pytest.importorskip("onnxruntime", reason="export needs the optional onnxruntime (tsattn[onnx])")
    _, _, out = runs
    r = invoke("export", "--run", out["cnn_attention"], "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert r.exit_code == 0, r.output
    assert "inputs series; outputs probabilities, attention" in r.output
    assert "Max |ONNX - tsattn predict|" in r.output and (tmp_path / "m.onnx").stat().st_size > 1000
    r = invoke("export", "--run", out["cnn_attention"], "--format", "tflite", "--out", tmp_path / "m.x")
    assert r.exit_code == 2 and "--format: must be 'onnx'" in r.output


def test_predict_reads_csv_in_chunks(runs, tmp_path):
    """A wide CSV read 50 rows at a time predicts as the .npy of the same series (all formats: test_predict_formats)."""
    import pandas as pd

    tmp, ds, out = runs
    df = pd.DataFrame(ds.X[:, 0], columns=[f"t{i}" for i in range(64)])
    df.insert(0, "label", "unknown")  # a label column is ignored at predict time
    df.to_csv(tmp_path / "x.csv", index=False)
    r = invoke(
        "predict", "--run", out["cnn_attention"], "--data", tmp / "X.npy", "--out", tmp_path / "ref.csv", "--quiet"
    )
    assert r.exit_code == 0, r.output
    r = invoke(
        "predict",
        "--run",
        out["cnn_attention"],
        "--data",
        tmp_path / "x.csv",
        "--out",
        tmp_path / "p.csv",
        "--chunk",
        50,
        "--with-attention",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    ref, got = _read_csv(tmp_path / "ref.csv"), _read_csv(tmp_path / "p.csv")
    assert [row["predicted"] for row in got] == [row["predicted"] for row in ref]
    np.testing.assert_allclose(
        [float(r["proba_rectified"]) for r in got], [float(r["proba_rectified"]) for r in ref], atol=2e-5
    )  # CSV text round-trip of the input
    assert np.load(tmp_path / "p.attention.npy").shape == (200, 64)
