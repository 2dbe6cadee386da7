import numpy as np
import pytest

from tsattn.config import DatasetConfig
from tsattn.data import generate
from tsattn.data.synthetic import BLOCK, generate_block

from ..conftest import TINY


@pytest.fixture(scope="module")
def seed_like():
    # The seed's grids on fewer series: semantics are per series, so this is representative.
    return generate(DatasetConfig(dataset_size=3000), seed=0)


def test_shapes_and_dtypes(seed_like):
    ds = seed_like
    assert ds.X.shape == (3000, 1, 500) and ds.X.dtype == np.float32
    assert ds.y.dtype == np.int64 and set(np.unique(ds.y)) == {0, 1}
    for key in ("segment_start", "segment_end", "freq", "amp"):
        assert ds.extras[key].shape == (3000,)
    assert ds.class_names == ["normal", "rectified"]


def test_normal_series_are_plain_sines(seed_like):
    ds = seed_like
    t = np.linspace(0, 2 * np.pi, 500)
    normal = np.flatnonzero(ds.y == 0)
    assert (ds.extras["segment_start"][normal] == -1).all() and (ds.extras["segment_end"][normal] == -1).all()
    expected = ds.extras["amp"][normal, None] * np.sin(ds.extras["freq"][normal, None] * t)
    np.testing.assert_allclose(ds.X[normal, 0], expected, atol=1e-5)


def test_flat_segment_holds_the_value_at_its_start(seed_like):
    ds = seed_like
    t = np.linspace(0, 2 * np.pi, 500)
    for i in np.flatnonzero(ds.y == 1)[:300]:
        s, e = ds.extras["segment_start"][i], ds.extras["segment_end"][i]
        x = ds.X[i, 0]
        sine = ds.extras["amp"][i] * np.sin(ds.extras["freq"][i] * t)
        assert np.all(x[s:e] == x[s])
        np.testing.assert_allclose(x[s], sine[s], atol=1e-5)
        np.testing.assert_allclose(x[:s], sine[:s], atol=1e-5)  # untouched before
        np.testing.assert_allclose(x[e:], sine[e:], atol=1e-5)  # and after


def test_locations_and_lengths_fall_on_the_seed_grids(seed_like):
    ds = seed_like
    rect = ds.y == 1
    start, end = ds.extras["segment_start"][rect], ds.extras["segment_end"][rect]
    assert set(np.unique(start)) <= set(range(0, 450, 5))
    assert len(np.unique(start)) > 60  # the grid is actually explored
    length = end - start
    uncut = end < 500
    assert set(np.unique(length[uncut])) <= set(range(50, 250, 5))
    # Segments running past the end are cut at T.
    assert (end <= 500).all() and (end[~uncut] == 500).all() and (~uncut).any()
    assert set(np.round(ds.extras["freq"], 6)) <= set(np.round(np.arange(1, 4, 0.01), 6))
    assert set(np.round(ds.extras["amp"], 6)) <= set(np.round(np.arange(1, 10, 0.01), 6))


@pytest.mark.parametrize("ratio", [0.5, 0.8, 0.0, 1.0])
def test_class_ratio(ratio):
    ds = generate(DatasetConfig(**TINY | {"dataset_size": 4000, "normal_anomalous_ratio": ratio}), seed=3)
    share_normal = float((ds.y == 0).mean())
    assert abs(share_normal - ratio) < 0.03


def test_same_seed_byte_identical_other_seed_differs():
    cfg = DatasetConfig(**TINY | {"dataset_size": 5000})
    a, b, c = generate(cfg, seed=7), generate(cfg, seed=7), generate(cfg, seed=8)
    assert a.X.tobytes() == b.X.tobytes()
    for key in a.extras:
        assert a.extras[key].tobytes() == b.extras[key].tobytes()
    assert a.X.tobytes() != c.X.tobytes()


def test_blocks_are_independent_of_how_they_are_produced():
    cfg = DatasetConfig(**TINY | {"dataset_size": BLOCK + 100})
    whole = generate(cfg, seed=1)
    second = generate_block(cfg, 1, 1)
    np.testing.assert_array_equal(whole.X[BLOCK:], second["X"])
    np.testing.assert_array_equal(whole.extras["segment_start"][BLOCK:], second["segment_start"])


def test_noise_is_off_by_default_and_works_when_on():
    cfg = DatasetConfig(**TINY)
    assert cfg.noise_std == 0
    noisy = generate(DatasetConfig(**TINY | {"noise_std": 0.1}), seed=0)
    clean = generate(cfg, seed=0)
    resid = (noisy.X - clean.X)[:, 0] / clean.extras["amp"][:, None]
    assert 0.08 < resid.std() < 0.12


def _phases(ds):
    """Fit ``amp * sin(freq t + phase)`` to each normal series by least squares: (phase, residual, amplitude)."""
    t = np.linspace(0, 2 * np.pi, ds.X.shape[2])
    out = []
    for i in np.flatnonzero(ds.y == 0):
        f = ds.extras["freq"][i]
        A = np.stack([np.sin(f * t), np.cos(f * t)], axis=1)  # sin(ft + p) = cos(p) sin(ft) + sin(p) cos(ft)
        (a, b), *_ = np.linalg.lstsq(A, ds.X[i, 0].astype(np.float64), rcond=None)
        out.append((np.arctan2(b, a), np.abs(A @ [a, b] - ds.X[i, 0]).max(), np.hypot(a, b) / ds.extras["amp"][i]))
    return np.array(out)


def test_random_phase_is_off_by_default_and_draws_every_phase_when_on():
    assert DatasetConfig(**TINY).random_phase is False
    off = _phases(generate(DatasetConfig(**TINY), seed=0))
    np.testing.assert_allclose(off[:, 0], 0, atol=1e-5)  # every series starts its sine at phase 0
    cfg = DatasetConfig(**TINY | {"random_phase": True})
    ds = generate(cfg, seed=0)
    on = _phases(ds)
    assert on[:, 1].max() < 1e-4 and np.allclose(on[:, 2], 1, atol=1e-5)  # still exact sines of their amplitude
    counts, _ = np.histogram(np.mod(on[:, 0], 2 * np.pi), bins=4, range=(0, 2 * np.pi))
    assert counts.min() >= len(on) // 8, counts  # spread over the whole circle
    assert generate(cfg, seed=0).X.tobytes() == ds.X.tobytes()  # and seeded
    for i in np.flatnonzero(ds.y == 1)[:50]:  # the flat segment still holds the value at its start
        s, e = ds.extras["segment_start"][i], ds.extras["segment_end"][i]
        assert np.all(ds.X[i, 0, s:e] == ds.X[i, 0, s])


@pytest.mark.parametrize("kind", ["rectified", "spike", "level_shift", "frequency_change", "noise_burst"])
def test_every_anomaly_kind_stays_in_the_span_it_claims(kind):
    ds = generate(DatasetConfig(**TINY | {"dataset_size": 300, "anomaly_kinds": [kind]}), seed=2)
    assert ds.class_names == ["normal", kind]
    t = np.linspace(0, 2 * np.pi, 64)
    clean = ds.extras["amp"][:, None] * np.sin(ds.extras["freq"][:, None] * t)
    diff = np.abs(ds.X[:, 0] - clean) > 1e-4
    start, end = ds.extras["segment_start"], ds.extras["segment_end"]
    inside = (np.arange(64) >= start[:, None]) & (np.arange(64) < end[:, None])
    assert not (diff & ~inside).any()  # nothing changes outside the span
    rect = ds.y == 1
    assert rect.sum() > 100
    # inside, the series really differs from the clean sine (all of it, bar a step where curves meet)
    share = diff[rect].sum(1) / inside[rect].sum(1)
    assert np.median(share) > 0.9
    if kind == "spike":
        assert set(np.unique(end[rect] - start[rect])) <= {5}


def test_multiclass_labels_are_the_kind():
    kinds = ["rectified", "spike", "noise_burst"]
    ds = generate(DatasetConfig(**TINY | {"dataset_size": 600, "anomaly_kinds": kinds, "multiclass": True}), seed=0)
    assert ds.class_names == ["normal", *kinds]
    assert set(np.unique(ds.y)) == {0, 1, 2, 3}
    assert ((ds.y == 0) == (ds.extras["segment_start"] == -1)).all()
    spikes = ds.y == 2
    assert ((ds.extras["segment_end"] - ds.extras["segment_start"])[spikes] == 5).all()
    binary = generate(DatasetConfig(**TINY | {"dataset_size": 600, "anomaly_kinds": kinds}), seed=0)
    assert binary.class_names == ["normal", "anomalous"] and set(np.unique(binary.y)) == {0, 1}
