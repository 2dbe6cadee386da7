import numpy as np
import pytest

from tsattn._errors import DataError
from tsattn.data.npyrows import NpyRows


@pytest.fixture
def arr(tmp_path):
    a = np.random.default_rng(0).normal(size=(50, 2, 7)).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    return a, NpyRows(tmp_path / "a.npy")


def test_indexing_matches_numpy(arr):
    a, rows = arr
    assert rows.shape == a.shape and rows.ndim == 3 and len(rows) == 50 and rows.dtype == a.dtype
    for key in (
        3,
        -1,
        slice(5, 12),
        slice(0, 50, 7),
        np.array([0, 1, 2, 9, 10, 49]),
        np.array([4, 2, 4]),
        np.arange(50) % 3 == 0,
        slice(48, 60),
    ):
        assert np.array_equal(rows[key], a[key]), key
    assert np.array_equal(np.asarray(rows), a)


def test_out_of_range_and_bad_files(arr, tmp_path):
    _, rows = arr
    with pytest.raises(IndexError):
        rows[np.array([50])]
    (tmp_path / "t.npy").write_bytes((tmp_path / "a.npy").read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated"):
        NpyRows(tmp_path / "t.npy")
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="object arrays"):
        NpyRows(tmp_path / "o.npy")
    (tmp_path / "n.npy").write_text("not numpy")
    with pytest.raises(DataError, match=r"not a readable .npy"):
        NpyRows(tmp_path / "n.npy")
