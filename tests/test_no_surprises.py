"""No silent surprises, through the CLI on tiny files: short rows, evaluation on training rows, the positive class,
and a recorded id column found wherever it stands."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tsattn.cli import app

runner = CliRunner()
T = 20
FAST = ["--model", "cnn_attention", "--max-epochs", "1", "--quiet"]


def _frame(n: int, seed: int, ids: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.array(["faulty", "normal"])[np.arange(n) % 2]
    X = rng.normal(size=(n, T))
    X[y == "faulty", 5:9] += 3.0
    df = pd.DataFrame(X, columns=[f"t{i}" for i in range(T)])
    if ids:
        df.insert(0, "sensor_id", [f"s{seed}-{i:03d}" for i in range(n)])
    df["label"] = y
    return df


def _invoke(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_a_short_row_in_a_wide_file_is_refused_by_number_unless_variable_length_is_asked_for(tmp_path):
    df = _frame(30, 0)
    df.loc[11, [f"t{i}" for i in range(13, T)]] = np.nan  # row 11 is 7 values short
    df.to_csv(tmp_path / "train.csv", index=False)
    r = _invoke("train", "--data", tmp_path / "train.csv", "--out", tmp_path / "run", *FAST)
    assert r.exit_code == 2 and "Traceback" not in r.output
    line = r.output.strip()
    assert "\n" not in line and "train.csv row 11 has 13 values where the file has 20" in line, line
    assert "--variable-length" in line and not (tmp_path / "run").exists()
    r = _invoke("train", "--data", tmp_path / "train.csv", "--out", tmp_path / "run", "--variable-length", *FAST)
    assert r.exit_code == 0, r.output
    source = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert source["reader"]["variable_length"] is True and source["schema"]["lengths"].startswith("variable")


def test_evaluating_on_training_rows_says_how_many_were_trained_on(tmp_path):
    train, test = _frame(40, 0), _frame(20, 1)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    args = ["--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv", "--out", tmp_path / "run"]
    assert _invoke("train", *args, *FAST).exit_code == 0
    pd.concat([train.iloc[[3, 5, 7, 9, 11, 13, 15, 17, 19, 21]], test.iloc[:5]]).to_csv(
        tmp_path / "mix.csv", index=False
    )
    r = _invoke("evaluate", "--run", tmp_path / "run", "--data", tmp_path / "mix.csv")
    assert r.exit_code == 0, r.output
    assert "10 of the 15 evaluated series were trained on" in r.output
    m = json.loads((tmp_path / "run" / "evaluations" / "mix.csv" / "metrics.json").read_text())
    assert (m["seen_in_training"]["n"], m["seen_in_training"]["of"]) == (10, 15)
    r = _invoke("evaluate", "--run", tmp_path / "run", "--data", tmp_path / "train.csv")
    assert "all 40 evaluated series were trained on" in r.output and "not a test score" in r.output
    r = _invoke("evaluate", "--run", tmp_path / "run", "--data", tmp_path / "test.csv")
    assert "None of the 20 evaluated series was trained on" in r.output
    assert "not a test score" in (tmp_path / "run" / "evaluations" / "train.csv" / "report.txt").read_text()


def test_the_binary_headline_names_its_class_and_the_class_can_be_chosen(tmp_path):
    _frame(40, 0).to_csv(tmp_path / "train.csv", index=False)
    _frame(20, 1).to_csv(tmp_path / "test.csv", index=False)
    args = ["--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv", "--out", tmp_path / "run"]
    assert _invoke("train", *args, *FAST).exit_code == 0
    r = _invoke("evaluate", "--run", tmp_path / "run")
    assert "Precision (class 'normal'):" in r.output and "Recall (class 'normal'):" in r.output
    r = _invoke("evaluate", "--run", tmp_path / "run", "--data", tmp_path / "test.csv", "--positive-class", "faulty")
    assert r.exit_code == 0 and "Recall (class 'faulty'):" in r.output, r.output
    m = json.loads((tmp_path / "run" / "evaluations" / "test.csv" / "metrics.json").read_text())
    assert m["positive_class"] == "faulty" and m["recall"] == pytest.approx(m["per_class"]["faulty"]["recall"])
    r = _invoke("evaluate", "--run", tmp_path / "run", "--data", tmp_path / "test.csv", "--positive-class", "ok")
    assert r.exit_code == 2 and r.output.strip() == "Error: --positive-class: must be one of faulty, normal; got 'ok'"


@pytest.mark.parametrize("position", ["first", "last", "middle"])
def test_a_recorded_id_column_is_found_by_name_wherever_it_stands(tmp_path, position):
    _frame(40, 0).to_csv(tmp_path / "train.csv", index=False)  # sensor_id first: detected and recorded
    assert _invoke("train", "--data", tmp_path / "train.csv", "--out", tmp_path / "run", *FAST).exit_code == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["schema"]["id_column"] == "sensor_id"
    new = _frame(6, 2).drop(columns="label")
    cols = [c for c in new.columns if c != "sensor_id"]
    at = {"first": 0, "last": len(cols), "middle": len(cols) // 2}[position]
    new[[*cols[:at], "sensor_id", *cols[at:]]].to_csv(tmp_path / "new.csv", index=False)
    r = _invoke("predict", "--run", tmp_path / "run", "--data", tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in csv.DictReader((tmp_path / "p.csv").open())] == list(new["sensor_id"])


def test_the_files_ids_reach_locate_predictions_npz_and_the_plots(tmp_path, monkeypatch):
    from tsattn.evaluation import plots

    titles: list[str] = []
    real = plots.plot_attention

    def spy(ax, *args, **kwargs):  # the titles of every panel plot_attention_examples and explain draw
        titles.append(kwargs.get("title", ""))
        return real(ax, *args, **kwargs)

    monkeypatch.setattr(plots, "plot_attention", spy)
    train, test = _frame(40, 0), _frame(20, 1)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    args = ["--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv", "--out", tmp_path / "run"]
    assert _invoke("train", *args, "--model", "cnn_attention", "--max-epochs", "1").exit_code == 0
    with np.load(tmp_path / "run" / "predictions.npz") as z:
        assert list(z["ids"]) == list(test["sensor_id"])  # the official test file's ids, in its order
    assert titles and all(t.startswith("series s1-") for t in titles), titles
    r = _invoke("locate", "--run", tmp_path / "run", "--data", tmp_path / "test.csv", "--out", tmp_path / "s.csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert [row["id"] for row in rows] == list(test["sensor_id"]) and rows[3]["index"] == "3"
    titles.clear()
    r = _invoke(
        "explain",
        "--run",
        tmp_path / "run",
        "--data",
        tmp_path / "test.csv",
        "--index",
        "4",
        "--out",
        tmp_path / "e.png",
    )
    assert r.exit_code == 0 and titles[0].startswith("series s1-004 (row 4):"), (r.output, titles)


def test_the_training_log_says_the_budget_in_force_and_counts_epochs_from_one(tmp_path):
    _frame(40, 0).to_csv(tmp_path / "train.csv", index=False)
    _frame(20, 1).to_csv(tmp_path / "test.csv", index=False)
    args = ["--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv", "--max-epochs", "2"]
    # The default model's recipe keeps no validation set under 100 series: the line says why.
    r = _invoke("train", *args, "--out", tmp_path / "small", "--ensemble", "1")
    assert r.exit_code == 0, r.output
    assert "on 40 + 0 series" in r.output
    assert "no validation set: fewer than min_val_size (100) validation series would remain" in r.output
    assert "all 2 epochs run and the last weights are kept" in r.output
    assert "(2 epochs, best epoch 2," in r.output  # the last, counted from 1 as the per-epoch log counts
    r = _invoke("train", *args, "--out", tmp_path / "held", "--model", "cnn_attention", "--patience", "3")
    assert r.exit_code == 0, r.output
    assert "up to 2 epochs; early stopping on the validation loss with patience 3 epochs" in r.output
    fit = json.loads((tmp_path / "held" / "fit.json").read_text())
    assert f"best epoch {fit['best_epoch'] + 1}," in r.output


def test_the_benchmark_table_names_the_class_its_binary_f1_is_about():
    from tsattn.workflows.benchmark import markdown_table

    row = {"name": "m", "accuracy": 1, "f1": 1, "roc_auc": 1, "train_seconds": 1, "epochs": 1}
    row |= {"inference_series_per_s": 1, "peak_rss_mb": 1, "n_params": 1}
    table = markdown_table({"dataset": {"classes": ["faulty", "normal"]}, "models": [row], "skipped": []})
    assert "| F1 (normal) |" in table.splitlines()[0]
    table = markdown_table({"dataset": {"classes": ["a", "b", "c"]}, "models": [row], "skipped": []})
    assert "| F1 (macro) |" in table.splitlines()[0]


def test_benchmark_json_records_what_each_model_held_out(tmp_path):
    _frame(40, 0).to_csv(tmp_path / "train.csv", index=False)
    _frame(20, 1).to_csv(tmp_path / "test.csv", index=False)
    r = _invoke(
        "benchmark", "--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv",
        "--models", "inception_attention,cnn_attention", "--max-epochs", "1", "--ensemble", "1",
        "--out", tmp_path / "b", "--quiet",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = {m["name"]: m for m in json.loads((tmp_path / "b" / "benchmark.json").read_text())["models"]}
    assert (rows["inception_attention"]["n_train"], rows["inception_attention"]["n_val"]) == (40, 0)  # merged
    assert (rows["cnn_attention"]["n_train"], rows["cnn_attention"]["n_val"]) == (35, 5)  # held out, 12.5 %
