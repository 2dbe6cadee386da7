import numpy as np
import pytest

from tsattn import DataError
from tsattn.config import DatasetConfig
from tsattn.data import SeriesDataset, generate, load_npz, save_npz, stratified_split

from ..conftest import TINY


def test_npz_round_trip(tmp_path):
    ds = generate(DatasetConfig(**TINY), seed=0)
    save_npz(ds, tmp_path / "d.npz")
    back = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.class_names == ds.class_names
    for key in ("segment_start", "segment_end", "freq", "amp"):
        np.testing.assert_array_equal(back.extras[key], ds.extras[key])
    with np.load(tmp_path / "d.npz") as z:
        assert {"X", "y", "segment_start", "segment_end", "freq", "amp"} <= set(z.files)
        assert z["X"].shape == (200, 1, 64) and z["X"].dtype == np.float32


def test_string_labels_and_2d_arrays(tmp_path):
    X = np.random.default_rng(0).normal(size=(6, 10))
    np.savez(tmp_path / "s.npz", X=X, y=np.array(["b", "a", "b", "a", "c", "c"]))
    ds = load_npz(tmp_path / "s.npz")
    assert ds.X.shape == (6, 1, 10)
    assert ds.class_names == ["a", "b", "c"]
    assert [ds.class_names[i] for i in ds.y] == ["b", "a", "b", "a", "c", "c"]


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    np.savez(tmp_path / "o.npz", X=np.zeros((2, 3)), y=np.array([object(), object()], dtype=object))
    with pytest.raises(DataError, match="unpickling"):
        load_npz(tmp_path / "o.npz")


@pytest.mark.parametrize("content, fragment", [(b"", "not a readable .npz"), (b"garbage" * 10, "not a readable .npz")])
def test_broken_files(tmp_path, content, fragment):
    (tmp_path / "b.npz").write_bytes(content)
    with pytest.raises(DataError, match=fragment):
        load_npz(tmp_path / "b.npz")


def test_missing_arrays(tmp_path):
    np.savez(tmp_path / "m.npz", X=np.zeros((2, 3)))
    with pytest.raises(DataError, match="must hold an array named 'y'"):
        load_npz(tmp_path / "m.npz")


def test_split_is_stratified_seeded_70_10_20():
    y = np.array([0] * 600 + [1] * 400)
    tr, va, te = stratified_split(y, seed=0)
    assert (len(tr), len(va), len(te)) == (700, 100, 200)
    assert len(set(tr) | set(va) | set(te)) == 1000
    for part in (tr, va, te):
        assert abs(y[part].mean() - 0.4) < 0.01
    _tr2, _, te2 = stratified_split(y, seed=0)
    np.testing.assert_array_equal(te, te2)
    _, _, te3 = stratified_split(y, seed=1)
    assert not np.array_equal(te, te3)


def test_split_refuses_a_single_class_or_too_few_series():
    with pytest.raises(DataError, match="at least 2 classes"):
        stratified_split(np.zeros(100, int))
    with pytest.raises(DataError, match="need at least"):
        stratified_split(np.array([0, 1, 0, 1, 0, 1]))


def test_dataset_shape_checks():
    with pytest.raises(DataError, match="one label per series"):
        SeriesDataset(X=np.zeros((3, 1, 4)), y=np.zeros(2, int), class_names=["a"])
