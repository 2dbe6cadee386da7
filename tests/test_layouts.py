"""The data contract, table-driven: files laid out the way people have them.

Two runs are trained, one on a wide CSV (``label, t0..t23``) and one on a
long CSV (``unit, t, channel, v, label`` with channels ``ax`` and ``ay``).
Each row writes the same series in another layout and runs ``tsattn
predict``. It must either give the predictions of the same series as a clean
``.npz`` (to 1e-6, matched by id, with the ids in the prediction file equal
to the input's ids in input order), or be refused with one line and exit
code 2, writing nothing. A column that might be an id or a label is never
read as data.
"""

import csv
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tsattn.cli import app

runner = CliRunner()
T, N = 24, 30
CLASSES = ("a", "b", "c")
SAME, REFUSED = "same", "refused"


def _series(n, seed, channels=1):
    rng = np.random.default_rng(seed)
    y = np.array([i % 3 for i in range(n)])
    X = rng.normal(size=(n, channels, T)).astype(np.float32)
    X[:, 0, 4:9] += (2.0 * y)[:, None]
    return X, y


def _num(v):
    return f"{v:.9g}"


def _wide(X, y, label=True):
    df = pd.DataFrame(X[:, 0].astype(np.float64), columns=[f"t{i}" for i in range(X.shape[2])])
    if label:
        df.insert(0, "label", [CLASSES[c] for c in y])
    return df


def _long(X, y, ids=None):
    rows = []
    for i in range(len(X)):
        for ch, name in enumerate(("ax", "ay")):
            for t in range(X.shape[2]):
                rows.append(
                    {
                        "unit": ids[i] if ids is not None else f"u{i:03d}",
                        "t": t,
                        "channel": name,
                        "v": float(X[i, ch, t]),
                        "label": CLASSES[y[i]],
                    }
                )
    return pd.DataFrame(rows)


def _csv(df, path, **kw):
    df.to_csv(path, float_format="%.9g", **({"index": False} | kw))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layouts")
    Xw, yw = _series(90, 0)
    _csv(_wide(Xw, yw), tmp / "train_wide.csv")
    Xl, yl = _series(90, 1, channels=2)
    _csv(_long(Xl, yl), tmp / "train_long.csv")
    for name, args in (
        ("wide", ["--data", tmp / "train_wide.csv"]),
        (
            "long",
            [
                "--data",
                tmp / "train_long.csv",
                "--id-column",
                "unit",
                "--time-column",
                "t",
                "--channel-column",
                "channel",
                "--value-column",
                "v",
            ],
        ),
    ):
        r = runner.invoke(
            app,
            [
                "train",
                *map(str, args),
                "--model",
                "cnn_attention",
                "--max-epochs",
                "2",
                "--out",
                str(tmp / name),
                "--quiet",
            ],
        )
        assert r.exit_code == 0, r.output
    schema = json.loads((tmp / "wide" / "config.json").read_text())["data"]["schema"]
    assert schema["value_columns"] == [f"t{i}" for i in range(T)] and schema["id_column"] is None
    schema = json.loads((tmp / "long" / "config.json").read_text())["data"]["schema"]
    assert schema["channels"] == ["ax", "ay"] and schema["layout"] == "long"
    X, y = _series(N, 7)
    X2, y2 = _series(N, 8, channels=2)
    refs = {}
    for run, (XX, yy) in (("wide", (X, y)), ("long", (X2, y2))):
        np.savez(tmp / f"clean_{run}.npz", X=XX, y=np.array([CLASSES[c] for c in yy]))
        refs[run] = _predict(tmp / run, tmp / f"clean_{run}.npz", tmp / f"ref_{run}.csv")[1]
    return tmp, {"wide": (X, y), "long": (X2, y2)}, refs


def _predict(run, data, out, *extra):
    r = runner.invoke(
        app, ["predict", "--run", str(run), "--data", str(data), "--out", str(out), "--quiet", *map(str, extra)]
    )
    if r.exit_code != 0:
        return r, None, None
    if out.suffix == ".csv":
        rows = list(csv.DictReader(out.open()))
    else:
        rows = pd.read_parquet(out).astype(str).to_dict("records")
    return r, np.array([[float(row[f"proba_{c}"]) for c in CLASSES] for row in rows]), [row["id"] for row in rows]


# Each builder gets (folder, X, y) and returns (path, extra predict args, the ids the file holds in file order or
# None for row numbers, the permutation of the series in the file).
def wide_as_trained(d, X, y):
    _csv(_wide(X, y), d / "f.csv")
    return d / "f.csv", [], None, None


def wide_no_label(d, X, y):
    _csv(_wide(X, y, label=False), d / "f.csv")
    return d / "f.csv", [], None, None


def _first_column_ids(d, X, y, name, ids):
    """A wide CSV with a text id column ``name`` first: predict must return ``ids``, in file order."""
    df = _wide(X, y)
    df.insert(0, name, ids)
    _csv(df, d / "f.csv")
    return d / "f.csv", [], ids, None


def wide_text_id_first(d, X, y):
    return _first_column_ids(d, X, y, "unit", [f"unit-{i:03d}" for i in range(len(X))])


def wide_text_id_last_undeclared(d, X, y):
    df = _wide(X, y)
    df["unit"] = [f"unit-{i}" for i in range(len(X))]
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "not among the run's value columns"


def wide_text_id_last_declared(d, X, y):
    df = _wide(X, y)
    ids = [f"unit-{i}" for i in range(len(X))]
    df["unit"] = ids
    _csv(df, d / "f.csv")
    return d / "f.csv", ["--id-column", "unit"], ids, None


def wide_pandas_index(d, X, y):
    _csv(_wide(X, y), d / "f.csv", index=True)  # pandas' default: an unnamed index column first
    return d / "f.csv", [], [str(i) for i in range(len(X))], None


def wide_pandas_index_shuffled_rows(d, X, y):
    perm = np.random.default_rng(3).permutation(len(X))
    _csv(_wide(X, y).iloc[perm], d / "f.csv", index=True)  # the index keeps each series' original number
    return d / "f.csv", [], [str(i) for i in perm], perm


def wide_numeric_id_undeclared(d, X, y):
    df = _wide(X, y)
    df.insert(0, "series_id", np.arange(len(X)) * 7 + 3)
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "'series_id'"


def wide_numeric_id_declared(d, X, y):
    df = _wide(X, y)
    ids = np.arange(len(X)) * 7 + 3
    df.insert(0, "series_id", ids)
    _csv(df, d / "f.csv")
    return d / "f.csv", ["--id-column", "series_id"], [str(i) for i in ids], None


def wide_shuffled_columns(d, X, y):
    df = _wide(X, y)
    cols = list(df.columns)
    rng = np.random.default_rng(0)
    _csv(df[[cols[0], *list(rng.permutation(cols[1:]))]], d / "f.csv")
    return d / "f.csv", [], None, None


def wide_shuffled_rows_with_ids(d, X, y):
    perm = np.random.default_rng(4).permutation(len(X))
    df = _wide(X, y)
    df.insert(0, "unit", [f"u{i}" for i in range(len(X))])
    _csv(df.iloc[perm], d / "f.csv")
    return d / "f.csv", [], [f"u{i}" for i in perm], perm


def _one_column_more(d, X, y, name, value):
    """The trained layout plus one numeric column ``name``: refused, with the column named."""
    df = _wide(X, y)
    df[name] = value
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, f"'{name}'"


def wide_extra_numeric_column(d, X, y):
    return _one_column_more(d, X, y, "temperature", 21.5)


def wide_missing_value_column(d, X, y):
    _csv(_wide(X, y).drop(columns=["t5"]), d / "f.csv")
    return d / "f.csv", [], REFUSED, "lacks the run's value column(s) ['t5']"


def wide_longer_series(d, X, y):
    return _one_column_more(d, X, y, "t24", 0.0)


def wide_other_label_name(d, X, y):
    df = _wide(X, y).rename(columns={"label": "cls"})
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "column 'cls' of f.csv holds text that repeats"  # a label, never data or an id


def wide_integer_labels(d, X, y):
    df = _wide(X, y)
    df["label"] = [int(c) * 5 for c in y]
    _csv(df, d / "f.csv")
    return d / "f.csv", [], None, None


def wide_float_labels(d, X, y):
    df = _wide(X, y)
    df["label"] = [c + 0.5 for c in y]
    _csv(df, d / "f.csv")
    return d / "f.csv", [], None, None


def wide_labels_with_commas(d, X, y):
    df = _wide(X, y)
    df["label"] = [f'kind "{c}", v2' for c in y]
    _csv(df, d / "f.csv")
    return d / "f.csv", [], None, None


def wide_ids_with_commas(d, X, y):
    return _first_column_ids(d, X, y, "where", [f"site {i}, bed {i % 4}" for i in range(len(X))])


def wide_parquet(d, X, y):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    df = _wide(X, y)
    df.insert(0, "unit", [f"p{i}" for i in range(len(X))])
    df.to_parquet(d / "f.parquet", index=False)
    return d / "f.parquet", [], [f"p{i}" for i in range(len(X))], None


def wide_parquet_with_index(d, X, y):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    df = _wide(X, y)
    df.index = pd.Index([f"r{i}" for i in range(len(X))], name="record")
    df.reset_index().to_parquet(d / "f.parquet", index=False)
    return d / "f.parquet", [], [f"r{i}" for i in range(len(X))], None


def wide_nan_inside(d, X, y):
    df = _wide(X, y)
    df.loc[4, "t7"] = np.nan
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "NaN or inf"


def wide_text_value(d, X, y):
    df = _wide(X, y).astype({"t3": object})
    df.loc[2, "t3"] = "n/a?"
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "'t3' is not a number"


def wide_header_only(d, X, y):
    (d / "f.csv").write_text(",".join(_wide(X, y).columns) + "\n")
    return d / "f.csv", [], REFUSED, "header but no rows"


def npz_plain(d, X, y):
    np.savez(d / "f.npz", X=X, y=y)
    return d / "f.npz", [], None, None


def npy_plain(d, X, y):
    np.save(d / "f.npy", X)
    return d / "f.npy", [], None, None


def npy_two_d(d, X, y):
    np.save(d / "f.npy", X[:, 0])  # (n, T): one channel
    return d / "f.npy", [], None, None


def _ucr(fmt):
    def build(d, X, y):
        pytest.importorskip("aeon", reason=f".{fmt} files are read by the optional aeon (tsattn[aeon])")
        labels = [CLASSES[c] for c in y]
        path = d / f"f.{fmt}"
        if fmt == "ts":
            head = [
                "@problemName f",
                "@timeStamps false",
                "@univariate true",
                "@equalLength true",
                f"@classLabel true {' '.join(CLASSES)}",
                "@data",
            ]
            path.write_text(
                "\n".join(head + [",".join(map(_num, x[0])) + f":{c}" for x, c in zip(X, labels, strict=False)]) + "\n"
            )
        elif fmt == "tsv":
            path.write_text("\n".join("\t".join([c, *map(_num, x[0])]) for x, c in zip(X, labels, strict=False)) + "\n")
        else:
            head = ["@relation f"] + [f"@attribute t{i} numeric" for i in range(T)]
            head += [f"@attribute target {{{','.join(CLASSES)}}}", "@data"]
            path.write_text(
                "\n".join(head + [",".join([*map(_num, x[0]), c]) for x, c in zip(X, labels, strict=False)]) + "\n"
            )
        return path, [], None, None

    build.__name__ = fmt
    return build


def long_shuffled_rows(d, X, y):
    df = _long(X, y).sample(frac=1.0, random_state=0)
    _csv(df, d / "f.csv")
    return d / "f.csv", [], list(pd.unique(df["unit"])), [int(u[1:]) for u in pd.unique(df["unit"])]


def long_channel_rows_swapped(d, X, y):
    df = _long(X, y)
    df = pd.concat([df[df.channel == "ay"], df[df.channel == "ax"]])  # every ay row before every ax row
    _csv(df, d / "f.csv")
    return d / "f.csv", [], [f"u{i:03d}" for i in range(len(X))], None


def long_channels_renamed(d, X, y):
    df = _long(X, y)
    df["channel"] = df["channel"].map({"ax": "z", "ay": "y"})
    _csv(df, d / "f.csv")
    return d / "f.csv", [], REFUSED, "trained on ['ax', 'ay']"


def long_extra_channel(d, X, y):
    df = _long(X, y)
    extra = df[df.channel == "ax"].assign(channel="az")
    _csv(pd.concat([df, extra]), d / "f.csv")
    return d / "f.csv", [], REFUSED, "trained on ['ax', 'ay']"


def long_missing_time_column(d, X, y):
    _csv(_long(X, y).drop(columns=["t"]), d / "f.csv")
    return d / "f.csv", [], REFUSED, "lacks ['t']"


def long_numeric_ids(d, X, y):
    ids = [100 + 3 * i for i in range(len(X))]
    df = _long(X, y, ids=ids).sample(frac=1.0, random_state=1)
    _csv(df, d / "f.csv")
    order = list(pd.unique(df["unit"]))
    return d / "f.csv", [], [str(i) for i in order], [(i - 100) // 3 for i in order]


def long_no_label(d, X, y):
    _csv(_long(X, y).drop(columns=["label"]), d / "f.csv")
    return d / "f.csv", [], [f"u{i:03d}" for i in range(len(X))], None


def long_parquet(d, X, y):
    pytest.importorskip("pyarrow", reason="Parquet needs the optional pyarrow (tsattn[parquet])")
    _long(X, y).to_parquet(d / "f.parquet", index=False)
    return d / "f.parquet", [], [f"u{i:03d}" for i in range(len(X))], None


TABLE = [
    ("wide", f)
    for f in (
        wide_as_trained,
        wide_no_label,
        wide_text_id_first,
        wide_text_id_last_undeclared,
        wide_text_id_last_declared,
        wide_pandas_index,
        wide_pandas_index_shuffled_rows,
        wide_numeric_id_undeclared,
        wide_numeric_id_declared,
        wide_shuffled_columns,
        wide_shuffled_rows_with_ids,
        wide_extra_numeric_column,
        wide_missing_value_column,
        wide_longer_series,
        wide_other_label_name,
        wide_integer_labels,
        wide_float_labels,
        wide_labels_with_commas,
        wide_ids_with_commas,
        wide_parquet,
        wide_parquet_with_index,
        wide_nan_inside,
        wide_text_value,
        wide_header_only,
        npz_plain,
        npy_plain,
        npy_two_d,
        _ucr("ts"),
        _ucr("tsv"),
        _ucr("arff"),
    )
] + [
    ("long", f)
    for f in (
        long_shuffled_rows,
        long_channel_rows_swapped,
        long_channels_renamed,
        long_extra_channel,
        long_missing_time_column,
        long_numeric_ids,
        long_no_label,
        long_parquet,
    )
]
IDS = [f"{run}-{f.__name__}" for run, f in TABLE]


def _snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("run, build", TABLE, ids=IDS)
def test_layout(setup, tmp_path, run, build):
    root, data, refs = setup
    X, y = data[run]
    path, extra, ids, perm = build(tmp_path, X, y)
    before = _snapshot(tmp_path)
    r, proba, got_ids = _predict(root / run, path, tmp_path / "p.csv", *extra)
    if ids == REFUSED:
        assert r.exit_code == 2, r.output
        line = r.output.strip()
        assert "\n" not in line and line.startswith("Error: ") and perm in line, line
        assert "Traceback" not in r.output
        assert _snapshot(tmp_path) == before  # nothing written
        return
    assert r.exit_code == 0, r.output
    expected = refs[run] if perm is None else refs[run][np.asarray(perm)]
    # Both sides are written with 6 decimals: float noise below 1e-8 can round them 1e-6 apart, and no more.
    np.testing.assert_allclose(proba, expected, atol=1.5e-6, rtol=0)
    assert got_ids == (ids if ids is not None else [str(i) for i in range(len(X))])


def test_ragged_rows_are_variable_length_series_with_their_ids(setup, tmp_path):
    """Rows of different lengths (blank cells at the end) are variable-length series when the user says so:
    the same predictions as the in-memory path with their lengths, ids kept, no attention past each end."""
    from tsattn.inference import predict_arrays
    from tsattn.run import load_run

    root, data, _ = setup
    X, y = data["wide"]
    lengths = np.array([T - (i % 5) for i in range(N)])
    df = _wide(X, y)
    for i, n in enumerate(lengths):
        df.loc[i, [f"t{j}" for j in range(n, T)]] = np.nan
    df.insert(0, "unit", [f"r{i}" for i in range(N)])
    _csv(df, tmp_path / "f.csv")
    # Short rows are a choice the user makes: without --variable-length the first one is refused by number.
    r, _, _ = _predict(root / "wide", tmp_path / "f.csv", tmp_path / "p.csv", "--with-attention")
    assert r.exit_code == 2 and "f.csv row 1 has 23 values where the file has 24" in r.output, r.output
    assert "--variable-length" in r.output and not (tmp_path / "p.csv").exists()
    r, proba, ids = _predict(
        root / "wide", tmp_path / "f.csv", tmp_path / "p.csv", "--with-attention", "--variable-length"
    )
    assert r.exit_code == 0, r.output
    assert ids == [f"r{i}" for i in range(N)]
    loaded = load_run(root / "wide")
    Xp = X.copy()
    Xp[np.arange(T)[None, None, :] >= lengths[:, None, None]] = np.nan
    ref, _att = predict_arrays(loaded.net, loaded.scaler.transform(Xp), lengths=lengths)
    np.testing.assert_allclose(proba, ref, atol=1e-6, rtol=0)
    saved = np.load(tmp_path / "p.attention.npy")
    assert (saved[np.arange(T)[None, :] >= lengths[:, None]] == 0).all()


def test_training_never_reads_an_id_or_an_index_as_a_time_step(tmp_path):
    """The issue's own examples: `series_id, cls, t0..` and pandas' default `to_csv()` index. Declared or detected,
    the id is not data: training gives the clean file's weights byte for byte."""
    X, y = _series(60, 2)
    clean = _wide(X, y)
    _csv(clean, tmp_path / "clean.csv")
    with_id = clean.rename(columns={"label": "cls"})
    with_id.insert(0, "series_id", np.arange(60) + 1000)
    _csv(with_id, tmp_path / "id.csv")
    _csv(clean, tmp_path / "index.csv", index=True)

    def train(data, out, *extra):
        return runner.invoke(
            app,
            [
                "train",
                "--data",
                str(data),
                "--model",
                "cnn_attention",
                "--max-epochs",
                "2",
                "--out",
                str(tmp_path / out),
                "--quiet",
                *extra,
            ],
        )

    assert train(tmp_path / "clean.csv", "clean").exit_code == 0
    r = train(tmp_path / "id.csv", "refused", "--label-column", "cls")
    assert r.exit_code == 2 and "'series_id'" in r.output and "--id-column series_id" in r.output
    assert not (tmp_path / "refused").exists()
    for name, data, extra in (
        ("declared", tmp_path / "id.csv", ["--label-column", "cls", "--id-column", "series_id"]),
        ("index", tmp_path / "index.csv", []),
    ):
        r = train(data, name, *extra)
        assert r.exit_code == 0, r.output
        config = json.loads((tmp_path / name / "config.json").read_text())
        assert (
            config["seq_len"] == T
            and config["scaler"] == json.loads((tmp_path / "clean" / "config.json").read_text())["scaler"]
        )
        assert (tmp_path / name / "weights.safetensors").read_bytes() == (
            tmp_path / "clean" / "weights.safetensors"
        ).read_bytes(), name
