"""Readers: each format on a small file written here, and on a real dataset shipped with aeon."""

import numpy as np
import pandas as pd
import pytest

from tsattn import DataError
from tsattn.data.readers import read_series_file
from tsattn.training.missing import apply_nan_policy


@pytest.fixture
def aeon():
    """The UCR formats (.ts, .tsv, .arff) are parsed by the optional aeon; CSV, Parquet and NumPy are not."""
    return pytest.importorskip("aeon", reason=".ts/.tsv/.arff are read by the optional aeon (tsattn[aeon])")


def _wide_frame():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 5)).round(3)
    df = pd.DataFrame(X, columns=[f"t{i}" for i in range(5)])
    df.insert(0, "label", ["a", "b", "a", "b", "a", "b"])
    return df, X


def test_csv_wide(tmp_path):
    df, X = _wide_frame()
    df.to_csv(tmp_path / "w.csv", index=False)
    ds = read_series_file(tmp_path / "w.csv")
    assert ds.X.shape == (6, 1, 5) and ds.lengths is None
    np.testing.assert_allclose(ds.X[:, 0], X, rtol=1e-6)
    assert ds.class_names == ["a", "b"] and [ds.class_names[i] for i in ds.y] == list(df["label"])


def test_csv_wide_ragged_rows_are_refused_by_number_unless_variable_length_is_asked_for(tmp_path):
    (tmp_path / "r.csv").write_text("label,t0,t1,t2\na,1,2,3\nb,4,5,\na,7,,\nb,1,2,3\n")
    with pytest.raises(DataError, match=r"^data: r.csv row 1 has 2 values where the file has 3 time-step columns;"):
        read_series_file(tmp_path / "r.csv")
    ds = read_series_file(tmp_path / "r.csv", variable_length=True)
    assert ds.lengths.tolist() == [3, 2, 1, 3]
    (tmp_path / "short.csv").write_text("label,t0,t1,t2\na,1,2,3\nb,4,5\n")  # a row with fewer fields than the header
    with pytest.raises(DataError, match="row 1 has 2 values"):
        read_series_file(tmp_path / "short.csv")
    (tmp_path / "hole.csv").write_text("label,t0,t1,t2\na,1,,3\nb,4,5,6\n")  # a gap inside is the NaN policy's
    assert read_series_file(tmp_path / "hole.csv").lengths is None


def test_parquet_wide_and_custom_label(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    df, X = _wide_frame()
    df.rename(columns={"label": "y"}).to_parquet(tmp_path / "w.parquet")
    ds = read_series_file(tmp_path / "w.parquet", label_column="y")
    np.testing.assert_allclose(ds.X[:, 0], X, rtol=1e-6)


def test_csv_long_multivariate_variable_length(tmp_path):
    rows = []
    for sid, (label, T) in enumerate([("x", 4), ("y", 6), ("x", 5)]):
        for ch in ("acc", "gyro"):
            for t in range(T):
                rows.append({"id": f"s{sid}", "t": T - t, "channel": ch, "value": sid * 100 + t, "label": label})
    pd.DataFrame(rows).to_csv(tmp_path / "long.csv", index=False)
    ds = read_series_file(tmp_path / "long.csv", id_column="id", time_column="t", channel_column="channel")
    assert ds.X.shape == (3, 2, 6) and ds.lengths.tolist() == [4, 6, 5]
    assert [ds.class_names[i] for i in ds.y] == ["x", "y", "x"]
    np.testing.assert_array_equal(ds.X[1, 0], [105, 104, 103, 102, 101, 100])  # ordered by the time column
    assert np.isnan(ds.X[0, :, 4:]).all()


@pytest.mark.parametrize("fmt", ["ts", "tsv", "arff"])
def test_shipped_gunpoint_in_every_ucr_format(aeon, fmt):
    from tsattn.data.ucr import _shipped_dir

    ds = read_series_file(_shipped_dir() / "GunPoint" / f"GunPoint_TRAIN.{fmt}")
    assert ds.X.shape == (50, 1, 150) and ds.class_names == ["1", "2"]


def test_ts_variable_length_and_multivariate(aeon):
    from tsattn.data.ucr import _shipped_dir

    ds = read_series_file(_shipped_dir() / "PickupGestureWiimoteZ" / "PickupGestureWiimoteZ_TRAIN.ts")
    assert ds.lengths is not None and ds.lengths.min() < ds.lengths.max() == ds.X.shape[2]
    assert not np.isnan(ds.X[0, :, : ds.lengths[0]]).any() and np.isnan(ds.X[0, :, ds.lengths[0] :]).all()
    mv = read_series_file(_shipped_dir() / "BasicMotions" / "BasicMotions_TRAIN.ts")
    assert mv.X.shape == (40, 6, 100) and len(mv.class_names) == 4


def test_ts_file_written_here(aeon, tmp_path):
    (tmp_path / "t.ts").write_text(
        "@problemName t\n@timeStamps false\n@univariate true\n@equalLength false\n@classLabel true up down\n@data\n"
        "1,2,3:up\n3,2:down\n1,2,3,4:up\n4,3,2,1:down\n"
    )
    ds = read_series_file(tmp_path / "t.ts")
    assert ds.lengths.tolist() == [3, 2, 4, 4] and ds.class_names == ["down", "up"]


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("e.csv", "", "is empty"),
        ("h.csv", "label,t0,t1\n", "header but no rows"),
        ("m.csv", "t0,t1\n1,2\n", "'label' is not a column"),
        ("s.csv", "label,t0\na,hello\n", "is not a number"),
        ("x.xlsx", "whatever", "cannot tell the format"),
        ("p.parquet", "not parquet", "is not a Parquet file"),
        ("b.ts", "@data\nthis is not ts", "not a valid .ts file"),
    ],
)
def test_broken_files_give_clear_errors(tmp_path, name, content, fragment):
    if name.endswith(".ts"):
        pytest.importorskip("aeon", reason=".ts files are read by the optional aeon (tsattn[aeon])")
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError, match=fragment):
        read_series_file(tmp_path / name)


def test_nan_policies():
    X = np.array([[[1.0, np.nan, 3.0, np.nan]], [[np.nan, 2.0, 2.0, np.nan]]], np.float32)
    lengths = np.array([3, 4])  # series 0 is padded after 3 steps: its last NaN is padding, not missing
    with pytest.raises(DataError, match="found 3, the first at index \\(0, 0, 1\\)"):
        apply_nan_policy(X, lengths, "error")
    zero = apply_nan_policy(X, lengths, "zero")
    np.testing.assert_array_equal(zero[0, 0, :3], [1, 0, 3])
    assert np.isnan(zero[0, 0, 3])  # padding stays padding
    interp = apply_nan_policy(X, lengths, "interpolate")
    np.testing.assert_allclose(interp[0, 0, :3], [1, 2, 3])
    np.testing.assert_allclose(interp[1, 0], [2, 2, 2, 2])  # the ends take the nearest value
    assert np.isnan(interp[0, 0, 3])  # padding stays padding
    with pytest.raises(DataError, match="nan_policy: must be one of"):
        apply_nan_policy(X, lengths, "drop")


def test_tsv_and_arff_files_written_here(aeon, tmp_path):
    (tmp_path / "d.tsv").write_text("1\t0.5\t1.5\t2.5\n2\t3.0\t2.0\t1.0\n1\t0.1\t0.2\t0.3\n")
    ds = read_series_file(tmp_path / "d.tsv")
    assert ds.X.shape == (3, 1, 3) and ds.class_names == ["1", "2"]
    np.testing.assert_allclose(ds.X[1, 0], [3.0, 2.0, 1.0])
    (tmp_path / "d.arff").write_text(
        "@relation d\n@attribute t0 numeric\n@attribute t1 numeric\n@attribute target {a,b}\n@data\n"
        "1.0,2.0,a\n2.0,1.0,b\n"
    )
    ds = read_series_file(tmp_path / "d.arff")
    assert ds.X.shape == (2, 1, 2) and ds.class_names == ["a", "b"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ({"series_id": range(6)}, "'series_id' of w.csv looks like an identifier"),
        ({"Unnamed: 0": range(6)}, None),  # pandas' index: taken as the id
        ({"age": [30, 41, 52, 63, 74, 85]}, "'age' of w.csv does not follow the time steps' names"),
    ],
)
def test_a_wide_training_file_never_reads_an_extra_column_as_a_time_step(tmp_path, extra, fragment):
    df, X = _wide_frame()
    for k, v in extra.items():
        df.insert(1, k, list(v))
    df.to_csv(tmp_path / "w.csv", index=False)
    if fragment is None:
        ds = read_series_file(tmp_path / "w.csv")
        np.testing.assert_allclose(ds.X[:, 0], X, rtol=1e-6)
        assert ds.ids.tolist() == list(range(6)) and ds.schema["id_column"] == "Unnamed: 0"
    else:
        with pytest.raises(DataError, match=fragment):
            read_series_file(tmp_path / "w.csv")
