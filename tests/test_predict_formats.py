"""`tsattn predict` reads every format, and each gives the predictions of the same series held in memory.

The series are written with 9 significant digits, so every text format
carries the float32 values exactly; the reference is the run's own path
(``load_run``, its scaler, :func:`~tsattn.inference.predict_arrays`).
"""

import csv

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tsattn.cli import app

T = 24
CLASSES = ("a", "b", "c")
runner = CliRunner()


def _series(n=30, seed=0, variable=False):
    rng = np.random.default_rng(seed)
    y = np.array([CLASSES[i % 3] for i in range(n)])
    out = []
    for i in range(n):
        L = int(rng.integers(12, T + 1)) if variable else T
        x = rng.normal(size=L).astype(np.float32)
        x[3:8] += 2.0 * (i % 3)
        out.append(x)
    return out, y


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from tsattn import AttentionClassifier

    series, y = _series(60, seed=1, variable=True)
    path = tmp_path_factory.mktemp("fmt") / "run"
    AttentionClassifier("cnn_attention", max_epochs=2, batch_size=16).fit(series, y).save(path)
    return path


def _reference(run, series):
    from tsattn.data.readers import stack_ragged
    from tsattn.inference import predict_arrays
    from tsattn.run import load_run

    X, lengths = stack_ragged([s[None, :] for s in series])
    loaded = load_run(run)
    return predict_arrays(loaded.net, loaded.scaler.transform(X), lengths=lengths)


def _num(v):
    return f"{v:.9g}"


def _wide_frame(series, y, label=True):
    width = max(len(s) for s in series)
    df = pd.DataFrame(
        [np.pad(s.astype(np.float64), (0, width - len(s)), constant_values=np.nan) for s in series],
        columns=[f"t{i}" for i in range(width)],
    )
    if label:
        df.insert(0, "label", y)
    return df


def _csv(path, series, y):
    _wide_frame(series, y).to_csv(path, index=False, float_format="%.9g")


def _csv_unlabelled(path, series, y):
    _wide_frame(series, y, label=False).to_csv(path, index=False, float_format="%.9g")


def _parquet(path, series, y):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    _wide_frame(series, y).to_parquet(path)


def _ts(path, series, y):
    equal = len({len(s) for s in series}) == 1
    head = [
        "@problemName p",
        "@timeStamps false",
        "@univariate true",
        f"@equalLength {str(equal).lower()}",
        f"@classLabel true {' '.join(CLASSES)}",
        "@data",
    ]
    path.write_text(
        "\n".join(head + [",".join(map(_num, s)) + f":{c}" for s, c in zip(series, y, strict=False)]) + "\n"
    )


def _tsv(path, series, y):
    path.write_text("\n".join("\t".join([c, *map(_num, s)]) for s, c in zip(series, y, strict=False)) + "\n")


def _arff(path, series, y):
    head = ["@relation p"] + [f"@attribute t{i} numeric" for i in range(T)]
    head += [f"@attribute target {{{','.join(CLASSES)}}}", "@data"]
    path.write_text("\n".join(head + [",".join([*map(_num, s), c]) for s, c in zip(series, y, strict=False)]) + "\n")


def _npz(path, series, y):
    np.savez(path, X=np.stack(series)[:, None, :], y=y)


def _npy(path, series, y):
    np.save(path, np.stack(series)[:, None, :])


WRITERS = {
    "csv": _csv,
    "unlabelled.csv": _csv_unlabelled,
    "parquet": _parquet,
    "ts": _ts,
    "tsv": _tsv,
    "arff": _arff,
    "npz": _npz,
    "npy": _npy,
}
NEEDS_AEON = {"ts", "tsv", "arff"}


def _predict(run, data, out, *extra):
    r = runner.invoke(app, ["predict", "--run", str(run), "--data", str(data), "--out", str(out), "--quiet", *extra])
    assert r.exit_code == 0, r.output
    if out.suffix == ".parquet":
        return pd.read_parquet(out)
    return pd.DataFrame(list(csv.DictReader(out.open())))


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_predict_reads_every_format(run, tmp_path, fmt):
    if fmt in NEEDS_AEON:
        pytest.importorskip("aeon", reason=f".{fmt} files are read by the optional aeon (tsattn[aeon])")
    series, y = _series()
    path = tmp_path / f"new.{fmt}"
    WRITERS[fmt](path, series, y)
    got = _predict(run, path, tmp_path / "p.csv", "--with-attention")
    proba, att = _reference(run, series)
    assert len(got) == 30 and list(got["id"].astype(int)) == list(range(30))
    np.testing.assert_allclose(got[[f"proba_{c}" for c in CLASSES]].astype(float).to_numpy(), proba, atol=1e-5)
    assert list(got["predicted"]) == [CLASSES[i] for i in proba.argmax(1)]
    np.testing.assert_allclose(np.load(tmp_path / "p.attention.npy"), att, atol=1e-6)


@pytest.mark.parametrize("fmt", ["csv", "ts"])
def test_predict_reads_variable_length_files(run, tmp_path, fmt):
    """Ragged rows: NaN-padded (CSV) or unequal-length (.ts); the padding gets no attention."""
    if fmt == "ts":
        pytest.importorskip("aeon", reason=".ts files are read by the optional aeon (tsattn[aeon])")
    series, y = _series(seed=3, variable=True)
    WRITERS[fmt](tmp_path / f"v.{fmt}", series, y)
    # A wide file's short rows are shorter series only when the user says so; a .ts file says it itself.
    flags = ["--variable-length"] if fmt == "csv" else []
    got = _predict(run, tmp_path / f"v.{fmt}", tmp_path / "p.csv", "--with-attention", *flags)
    proba, att = _reference(run, series)
    np.testing.assert_allclose(got[[f"proba_{c}" for c in CLASSES]].astype(float).to_numpy(), proba, atol=1e-5)
    saved = np.load(tmp_path / "p.attention.npy")
    np.testing.assert_allclose(saved, att, atol=1e-6)
    lengths = np.array([len(s) for s in series])
    assert (saved[np.arange(saved.shape[1])[None, :] >= lengths[:, None]] == 0).all()


def test_predict_writes_parquet(run, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    series, y = _series()
    _npz(tmp_path / "x.npz", series, y)
    got = _predict(run, tmp_path / "x.npz", tmp_path / "p.parquet")
    assert list(got.columns) == ["id", "predicted"] + [f"proba_{c}" for c in CLASSES]
    np.testing.assert_allclose(got[[f"proba_{c}" for c in CLASSES]].to_numpy(), _reference(run, series)[0], atol=1e-6)


def test_predict_reads_long_csv_with_the_runs_layout(tmp_path):
    """A run trained on a long CSV (--id-column ...) reads new long files with the same columns, rows in any order."""
    rng = np.random.default_rng(0)

    def long_frame(n, seed):
        series, y = _series(n, seed=seed, variable=True)
        rows = [
            {"sid": f"s{i:03d}", "step": t, "reading": float(v), "label": c}
            for i, (s, c) in enumerate(zip(series, y, strict=False))
            for t, v in enumerate(s)
        ]
        return pd.DataFrame(rows).sample(frac=1.0, random_state=int(rng.integers(1000))), series

    train, _ = long_frame(60, 1)
    train.to_csv(tmp_path / "train.csv", index=False, float_format="%.9g")
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "train.csv"),
            "--id-column",
            "sid",
            "--time-column",
            "step",
            "--value-column",
            "reading",
            "--model",
            "cnn_attention",
            "--max-epochs",
            "2",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    new, series = long_frame(30, 5)
    new.to_csv(tmp_path / "new.csv", index=False, float_format="%.9g")
    got = _predict(tmp_path / "run", tmp_path / "new.csv", tmp_path / "p.csv")
    assert list(got["id"]) == list(pd.unique(new["sid"]))  # the file's own ids, in the order they first appear
    proba, _ = _reference(tmp_path / "run", series)  # series i has id s{i:03d}
    order = [int(i[1:]) for i in got["id"]]
    np.testing.assert_allclose(got[[f"proba_{c}" for c in CLASSES]].astype(float).to_numpy(), proba[order], atol=1e-5)
