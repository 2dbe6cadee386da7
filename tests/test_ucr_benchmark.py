"""benchmarks/ucr.py: resamples keep the official class counts, the summary's gaps and ranks, published means."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

from ucr import published_means, resample, summarize  # noqa: E402


def _ds(n: int, T: int, lengths=None, seed: int = 0):
    from tsattn.data import SeriesDataset

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2, T)).astype(np.float32)
    if lengths is not None:
        for i, L in enumerate(lengths):
            X[i, :, L:] = np.nan
    return SeriesDataset(X=X, y=np.arange(n) % 3, class_names=["a", "b", "c"], lengths=lengths)


def test_resample_zero_is_the_official_split_and_others_keep_its_class_counts():
    train, test = _ds(12, 10), _ds(30, 14, lengths=np.full(30, 14), seed=1)
    official = resample(train, test, 0)
    assert official[0] is train and official[1] is test
    a, b = resample(train, test, 1)
    assert len(a) == 12 and len(b) == 30
    assert np.bincount(a.y).tolist() == np.bincount(train.y).tolist()
    # every pooled series lands on exactly one side: the values of train + test, resampled
    pooled = np.sort(np.concatenate([train.X[:, 0, 0], test.X[:, 0, 0]]))
    np.testing.assert_array_equal(np.sort(np.concatenate([a.X[:, 0, 0], b.X[:, 0, 0]])), pooled)
    # the shorter set's series keep their length and are NaN beyond it
    assert a.X.shape[2] == 14 and a.lengths is not None
    short = a.lengths == 10
    assert np.isnan(a.X[short][:, :, 10:]).all() and not np.isnan(a.X[short][:, :, :10]).any()
    c, _ = resample(train, test, 2)
    assert not np.array_equal(c.X, a.X)  # another resample, other rows
    np.testing.assert_array_equal(resample(train, test, 1)[0].X, a.X)  # the same resample, the same rows


def test_summary_gaps_and_average_ranks():
    def entry(ours, peer, fcn):
        return {
            "0": {
                "ours": {"accuracy": ours, "train_seconds": 1.0},
                "minirocket": {"accuracy": peer, "train_seconds": 0.1},
                "cnn": {"accuracy": fcn, "train_seconds": 2.0},
            }
        }

    rows = {
        "A": {"by_resample": entry(0.9, 0.8, 0.7), "mean_accuracy": {"ours": 0.9, "minirocket": 0.8, "cnn": 0.7}},
        "B": {"by_resample": entry(0.5, 0.7, 0.7), "mean_accuracy": {"ours": 0.5, "minirocket": 0.7, "cnn": 0.7}},
    }
    s = summarize(rows, "ours")
    assert s["gap_points_by_dataset"] == {"A": 10.0, "B": -20.0}
    assert s["mean_gap_points"] == -5.0 and s["worst_gap_points"] == -20.0
    # A: ours 1, minirocket 2, cnn 3; B: ours 3, the tied two share 1.5
    assert s["average_rank"] == {"ours": 2.0, "minirocket": 1.75, "cnn": 2.25}
    assert s["max_train_seconds"]["cnn"] == 2.0


def test_published_means_come_from_the_files_aeon_ships():
    pytest.importorskip("aeon")
    means = published_means()
    assert set(means) == {"InceptionTime", "HC2"}
    assert 0.8 < means["InceptionTime"]["ArrowHead"] < 0.95
    assert 0.9 < means["HC2"]["GunPoint"] <= 1.0


def test_faithfulness_real_reads_kept_runs_and_counts_datasets_that_beat_random(tmp_path):
    import json

    from faithfulness_real import collect, markdown, summarize

    from tsattn.evaluation.faithfulness import GAINS, SCORES

    def scores(gain: float) -> dict[str, float]:
        s = dict.fromkeys(SCORES, 0.5) | {f"random_{k}": 0.4 for k in SCORES}
        return s | dict.fromkeys(GAINS, gain)

    layout = {  # dataset, resample, model -> the attention's gain (MiniRocket has no faithfulness block)
        ("A", 0, "net"): 0.2,
        ("A", 1, "net"): 0.0,
        ("B", 0, "net"): -0.1,
        ("B", 0, "minirocket"): None,
    }
    for (dataset, r, model), gain in layout.items():
        run = tmp_path / dataset / f"resample{r}" / "runs" / model
        run.mkdir(parents=True)
        block = {} if gain is None else {"n_series": 8, "attention": scores(gain), "random_seed": 0}
        (run / "metrics.json").write_text(json.dumps({"accuracy": 1.0, "faithfulness": block}))
    rows = collect(tmp_path)
    assert set(rows) == {"A", "B"} and set(rows["B"]) == {"net"}
    assert rows["A"]["net"]["attention"]["deletion_gain"] == pytest.approx(0.1)  # the mean over resamples
    summary = summarize(rows)["net"]["attention"]
    assert summary["mean_deletion_gain"] == pytest.approx(0.0) and summary["datasets"] == 2
    assert summary["datasets_deletion_gain_above_0"] == 1
    assert "| B | net | attention | 0.500 (0.400) |" in markdown(rows)


def test_merge_joins_resamples_from_several_files_and_refuses_one_twice(tmp_path):
    import json

    from ucr import merge

    def results(resample: int, acc: float) -> dict:
        scores = {"net": {"accuracy": acc, "train_seconds": 1.0}, "minirocket": {"accuracy": 0.5, "train_seconds": 0.1}}
        return {"results": {"GunPoint": {"by_resample": {str(resample): scores}}}}

    files = []
    for r, acc in [(1, 0.7), (0, 0.9)]:
        files.append(tmp_path / f"r{r}.json")
        files[-1].write_text(json.dumps(results(r, acc)))
    rows = merge(files, ["net", "minirocket"])
    assert list(rows["GunPoint"]["by_resample"]) == ["0", "1"]  # in resample order, whatever the files' order
    assert rows["GunPoint"]["mean_accuracy"] == {"net": 0.8, "minirocket": 0.5}
    with pytest.raises(SystemExit, match="resample 0 of GunPoint is in more than one file"):
        merge([*files, files[1]], ["net", "minirocket"])
    with pytest.raises(SystemExit, match="has no cnn"):
        merge(files, ["net", "cnn"])


def test_aeon_protocol_draws_aeons_resamples_and_puts_the_published_figures_of_the_same_resample_beside():
    pytest.importorskip("aeon")
    from aeon.benchmarking.resampling import stratified_resample_data
    from aeon_protocol import published_by_resample, split, summarize

    from tsattn.data.ucr import load

    X0, y0, Xt0, yt0 = split("ItalyPowerDemand", 0)
    train, test = load("ItalyPowerDemand", download=False)
    assert len(y0) == len(train.y) and len(yt0) == len(test.y)  # resample 0: the official split
    X2, y2, _, yt2 = split("ItalyPowerDemand", 2)
    ref = stratified_resample_data(X0, y0, Xt0, yt0, random_state=2)
    np.testing.assert_array_equal(X2, ref[0])
    np.testing.assert_array_equal(yt2, ref[3])
    assert not np.array_equal(X2, X0)
    assert sorted(np.unique(y2, return_counts=True)[1]) == sorted(np.unique(y0, return_counts=True)[1])

    published = published_by_resample()
    lines = [
        {
            "dataset": "GunPoint",
            "resample": r,
            "tsattn": {"accuracy": a, "train_seconds": 5.0},
            "minirocket": {"accuracy": 0.99},
        }
        for r, a in [(1, 0.98), (0, 1.0)]
    ]
    s = summarize(lines, published)
    row = s["results"]["GunPoint"]
    assert list(row["by_resample"]) == ["0", "1"]  # in resample order
    assert row["by_resample"]["1"]["InceptionTime (pub.)"] == published["InceptionTime"]["GunPoint"][1]
    assert row["mean"]["tsattn"] == pytest.approx(0.99)
    assert s["gap_to_minirocket_points"]["GunPoint"] == pytest.approx(0.0)
    it = np.mean(published["InceptionTime"]["GunPoint"][:2])
    assert s["gap_to_inceptiontime_points"]["GunPoint"] == pytest.approx(round(100 * (0.99 - it), 2))


def test_aeon_protocol_pads_unequal_series_with_their_last_value_to_one_length():
    from aeon_protocol import longest, padded

    X = [np.array([[1.0, 2.0]]), np.array([[3.0, 4.0, 5.0]])]
    assert longest(X, [np.zeros((1, 4))]) == 4
    assert padded(X, 4).tolist() == [[[1.0, 2.0, 2.0, 2.0]], [[3.0, 4.0, 5.0, 5.0]]]


def test_the_wall_clock_benchmark_runs_tsattn_train_on_each_data_source_and_keeps_its_phases(tmp_path, monkeypatch):
    import json
    import subprocess

    import seed_config_wall

    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):  # writes what a finished run writes; nothing trains
        seen.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        metrics = {"accuracy": 0.9, "phases": {"train_seconds": 12.34, "faithfulness_seconds": None}}
        (out / "metrics.json").write_text(json.dumps(metrics))
        (out / "config.json").write_text(json.dumps({"train": {"ensemble": 3, "max_steps": 1000}}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(seed_config_wall.subprocess, "run", fake_run)
    row = seed_config_wall.run(2, None, "ucr:GunPoint")
    cmd = seen[0]
    assert cmd[cmd.index("--data") + 1] == "ucr:GunPoint" and "--config" not in cmd
    assert cmd[cmd.index("--seed") + 1] == "2"
    assert row["source"] == "ucr:GunPoint" and row["accuracy"] == 0.9 and row["ensemble"] == 3
    assert row["phases"] == {"train_seconds": 12.3}  # a phase the run did not time is left out
    assert seed_config_wall.run(0, Path("cfg.json"))["source"] == "config"
    assert seen[1][seen[1].index("--config") + 1] == "cfg.json"


def test_the_wall_clock_benchmark_runs_each_variant_once_per_source_and_skips_what_is_logged(tmp_path, monkeypatch):
    import json
    import sys

    import seed_config_wall

    calls: list[tuple[str, int, str]] = []

    def fake_run(seed, config, data=None, flags=""):
        calls.append((data, seed, flags))
        return {"source": data, "seed": seed, "flags": flags, "wall_seconds": 1.0}

    monkeypatch.setattr(seed_config_wall, "run", fake_run)
    out = tmp_path / "wall.json"
    argv = ["seed_config_wall.py", "--seeds", "0", "--data", "ucr:A", "ucr:B", "--variants", "", "--precision x"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    seed_config_wall.main()
    # each source runs its variants one after the other, so that they share the machine's hour
    assert calls == [("ucr:A", 0, ""), ("ucr:A", 0, "--precision x"), ("ucr:B", 0, ""), ("ucr:B", 0, "--precision x")]
    assert [r["flags"] for r in json.loads(out.read_text())["runs"]] == ["", "--precision x"] * 2
    calls.clear()
    seed_config_wall.main()  # everything is in the .jsonl already
    assert calls == []


def test_the_wall_clock_benchmark_passes_a_variants_flags_to_tsattn_train(monkeypatch):
    import json
    import subprocess

    import seed_config_wall

    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps({"accuracy": 1.0}))
        (out / "config.json").write_text(json.dumps({"train": {"ensemble": 3, "max_steps": 0}}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(seed_config_wall.subprocess, "run", fake_run)
    row = seed_config_wall.run(0, None, "ucr:GunPoint", "--precision bf16-mixed --max-epochs 2")
    assert seen[0][seen[0].index("--precision") + 1] == "bf16-mixed"
    assert seen[0][seen[0].index("--max-epochs") + 1] == "2"
    assert row["flags"] == "--precision bf16-mixed --max-epochs 2"
