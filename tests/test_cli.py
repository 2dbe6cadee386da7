"""End to end through the command line, on tiny seeded data."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from tsattn.cli import app

runner = CliRunner()
METRIC_KEYS = {
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "confusion_matrix",
    "n_test",
    "train_seconds",
    "epochs_run",
    "best_epoch",
}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """generate -> train, shared by the tests that only read the run."""
    import tests.conftest as c

    tmp = tmp_path_factory.mktemp("cli")
    cfg = tmp / "tiny.json"
    cfg.write_text(json.dumps(c.TINY))
    data = tmp / "data.npz"
    r = invoke("generate", "--config", cfg, "--seed", 0, "--out", data)
    assert r.exit_code == 0, r.output
    run = tmp / "run"
    r = invoke(
        "train",
        "--data",
        data,
        "--model",
        "lstm_attention",
        "--seed",
        0,
        "--out",
        run,
        "--max-epochs",
        3,
        "--batch-size",
        32,
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    return data, run


def test_train_writes_a_complete_run_directory(trained):
    _, run = trained
    for name in (
        "config.json",
        "weights.safetensors",
        "metrics.json",
        "history.csv",
        "status.json",
        "split.npz",
        "curves.png",
        "attention.png",
        "gallery.png",
        "report.txt",
    ):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert not list(run.glob(".*.tmp"))  # no temporary files left behind
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "lstm_attention" and config["seed"] == 0
    assert config["scaler"]["method"] == "diff"  # the seed recipe: first differences
    assert {"torch", "lightning", "numpy", "tsattn"} <= set(config["versions"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= METRIC_KEYS
    assert metrics["n_test"] == 40 and metrics["epochs_run"] == 3
    assert np.array(metrics["confusion_matrix"]).sum() == 40
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert {"train_loss", "train_acc", "val_loss", "val_acc"} <= set(rows[0])
    assert json.loads((run / "status.json").read_text())["state"] == "done"
    with (run / "curves.png").open("rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_evaluate_prints_the_report_and_rewrites_metrics(trained):
    data, run = trained
    (run / "metrics.json").unlink()
    r = invoke("evaluate", "--run", run)
    assert r.exit_code == 0, r.output
    assert "Accuracy:" in r.output and "ROC AUC:" in r.output and "Confusion Matrix" in r.output
    assert set(json.loads((run / "metrics.json").read_text())) >= METRIC_KEYS
    r = invoke("evaluate", "--run", run, "--data", data)  # another file: scored beside the run's record, not over it
    assert r.exit_code == 0, r.output
    assert json.loads((run / "metrics.json").read_text())["n_test"] == 40
    assert json.loads((run / "evaluations" / "data.npz" / "metrics.json").read_text())["n_test"] == 200


def test_explain_writes_a_plot(trained, tmp_path):
    data, run = trained
    out = tmp_path / "e.png"
    r = invoke("explain", "--run", run, "--data", data, "--index", 3, "--out", out)
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 1000
    r = invoke("explain", "--run", run, "--data", data, "--index", 999, "--out", tmp_path / "x.png")
    assert r.exit_code == 2 and "--index: must be in [0, 199]" in r.output
    assert not (tmp_path / "x.png").exists()


def test_same_seed_same_weights_and_metrics(trained, tmp_path):
    data, run = trained
    r = invoke(
        "train",
        "--data",
        data,
        "--model",
        "lstm_attention",
        "--seed",
        0,
        "--out",
        tmp_path / "again",
        "--max-epochs",
        3,
        "--batch-size",
        32,
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "again" / "weights.safetensors").read_bytes() == (run / "weights.safetensors").read_bytes()

    def history(r):  # every column but the wall-clock one
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader((r / "history.csv").open())]

    assert history(tmp_path / "again") == history(run)
    scores = []
    for r in (run, tmp_path / "again"):
        assert invoke("evaluate", "--run", r, "--data", data).exit_code == 0
        m = json.loads((r / "evaluations" / "data.npz" / "metrics.json").read_text())
        scores.append((m["confusion_matrix"], m["roc_auc"], m["f1"]))
    assert scores[0] == scores[1]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"num_point": 100}))
    out = tmp_path / "never.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "tsattn", "generate", "--config", str(cfg), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown key 'num_point'" in lines[0] and "Did you mean 'num_points'" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["train", "--out", "{tmp}/r"], "exactly one of --config"),
        (["train", "--config", "{tmp}/missing.json", "--out", "{tmp}/r"], "file not found"),
        (["train", "--data", "{tmp}/missing.npz", "--out", "{tmp}/r"], "file not found"),
        (["train", "--config", "{cfg}", "--model", "lstm", "--out", "{tmp}/r"], "unknown model 'lstm'"),
        (["train", "--config", "{cfg}", "--batch-size", "0", "--out", "{tmp}/r"], "--batch-size:"),
        (["evaluate", "--run", "{tmp}"], "has no config.json"),
    ],
)
def test_cli_errors(tmp_path, tiny_config_path, args, fragment):
    args = [a.format(tmp=tmp_path, cfg=tiny_config_path) for a in args]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert fragment in r.output
    assert not (tmp_path / "r").exists()


def test_help_has_examples():
    for cmd in ("generate", "train", "evaluate", "explain", "demo"):
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Example" in r.output, cmd


def test_explain_with_integrated_gradients(trained, tmp_path):
    data, run = trained
    r = invoke(
        "explain",
        "--run",
        run,
        "--data",
        data,
        "--index",
        1,
        "--method",
        "integrated_gradients",
        "--out",
        tmp_path / "ig.png",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ig.png").stat().st_size > 1000
    r = invoke("explain", "--run", run, "--data", data, "--method", "shap", "--out", tmp_path / "x.png")
    assert r.exit_code == 2 and "--method: must be one of" in r.output


def test_locate_writes_one_span_per_series(trained, tmp_path):
    data, run = trained
    r = invoke("locate", "--run", run, "--data", data, "--out", tmp_path / "spans.csv")
    assert r.exit_code == 0, r.output
    assert "validation split" in r.output and "Mean IoU" in r.output
    rows = list(csv.DictReader((tmp_path / "spans.csv").open()))
    assert len(rows) == 200
    for row in rows:
        assert 0 <= int(row["span_start"]) < int(row["span_end"]) <= 64
        assert (row["iou"] == "") == (int(row["true_start"]) == -1)
    r = invoke("locate", "--run", run, "--data", data, "--out", tmp_path / "s2.csv", "--mass", 1.5)
    assert r.exit_code == 2 and "--mass: must be in (0, 1]" in r.output and not (tmp_path / "s2.csv").exists()


def test_train_on_a_named_variable_length_dataset(tmp_path, monkeypatch):
    pytest.importorskip("aeon", reason="UCR/UEA names and files need the optional aeon (tsattn[aeon])")
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path / "cache"))
    r = invoke(
        "train",
        "--data",
        "ucr:PickupGestureWiimoteZ",
        "--model",
        "cnn_attention",
        "--out",
        tmp_path / "r",
        "--max-epochs",
        2,
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert m["evaluated_on"] == "official test split" and m["n_test"] == 50  # the official test split
    assert config["data"] == {"kind": "named", "name": "PickupGestureWiimoteZ"} and len(config["class_names"]) == 10
    assert (tmp_path / "r" / "confusion_matrix.png").is_file()  # multi-class: a confusion-matrix plot
    r = invoke("evaluate", "--run", tmp_path / "r")
    assert r.exit_code == 0 and "(macro)" in r.output
    r = invoke("train", "--data", "ucr:PickupGestureWiimoteZ", "--model", "mlp", "--out", tmp_path / "m", "--quiet")
    assert r.exit_code == 2 and "mlp needs series of one length" in r.output


def test_train_on_csv_with_string_labels_and_a_test_file(tmp_path):
    rng = np.random.default_rng(0)

    def frame(n):
        X = rng.normal(0, 0.3, size=(n, 30))
        y = np.where(np.arange(n) % 2, "bump", "calm")
        X[y == "bump", 10:16] += 2.5
        df = __import__("pandas").DataFrame(X, columns=[f"t{i}" for i in range(30)])
        df.insert(0, "cls", y)
        return df

    frame(80).to_csv(tmp_path / "train.csv", index=False)
    frame(40).to_csv(tmp_path / "test.csv", index=False)
    r = invoke(
        "train",
        "--data",
        tmp_path / "train.csv",
        "--test-data",
        tmp_path / "test.csv",
        "--label-column",
        "cls",
        "--model",
        "cnn_attention",
        "--out",
        tmp_path / "r",
        "--max-epochs",
        3,
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["n_test"] == 40 and m["class_names"] == ["bump", "calm"]
    r = invoke("evaluate", "--run", tmp_path / "r", "--data", tmp_path / "test.csv")
    assert r.exit_code == 0 and "bump" in r.output


def test_train_from_a_config_then_evaluate_regenerates_the_data(tiny_config_path, tmp_path):
    r = invoke(
        "train",
        "--config",
        tiny_config_path,
        "--model",
        "cnn_attention",
        "--seed",
        3,
        "--out",
        tmp_path / "r",
        "--max-epochs",
        2,
        "--no-faithfulness",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["data"]["kind"] == "synthetic" and config["data"]["seed"] == 3
    assert config["data"]["dataset_config"]["num_points"] == 64
    first = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert "localization" in first and {
        "pointing_game",
        "mass_inside",
        "uniform_mass",
        "auprc",
        "shift_median",
        "shift_iqr",
        "span_iou",
    } <= set(first["localization"])
    # --no-faithfulness: no block and no time spent on it; evaluate adds it later
    assert "faithfulness" not in first and "faithfulness_seconds" not in first["phases"]
    r = invoke("evaluate", "--run", tmp_path / "r")
    assert r.exit_code == 0 and "Localization" in r.output
    again = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert again["confusion_matrix"] == first["confusion_matrix"] and again["localization"] == first["localization"]
    assert again["faithfulness"]["n_series"] > 0 and "deletion_gain" in again["faithfulness"]["attention"]


def test_import_and_help_do_not_import_torch():
    code = (
        "import sys\nimport tsattn\nassert 'torch' not in sys.modules\nfrom tsattn.cli import main\n"
        "sys.argv = ['tsattn', '--help']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'lightning', 'sklearn', 'matplotlib') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


COMMANDS = [
    "generate",
    "train",
    "evaluate",
    "explain",
    "locate",
    "predict",
    "export",
    "benchmark",
    "report",
    "demo",
    "models",
]


def test_every_command_has_help_with_an_example():
    import typer.main

    assert sorted(typer.main.get_command(app).commands) == sorted(COMMANDS)  # this list is the whole CLI
    for cmd in COMMANDS:
        r = invoke(cmd, "--help")
        assert r.exit_code == 0 and "Example" in r.output and f"tsattn {cmd}" in r.output, cmd


def test_models_lists_every_registered_model_with_its_summary():
    from tsattn.models import get_model_class, list_models

    r = invoke("models")
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == list_models(peers=True)
    for line in lines:
        name = line.split()[0]
        assert get_model_class(name).__doc__.strip().splitlines()[0] in line


def test_demo_runs_the_tutorial_and_reruns_in_place(tmp_path, monkeypatch):
    """`tsattn demo` on a tiny stand-in for the seed's 10,000 x 500 data: the seed's model and recipe, every file."""
    import tests.conftest as c
    import tsattn.workflows._data
    from tsattn.config import DatasetConfig
    from tsattn.training import recipes

    monkeypatch.setattr(tsattn.workflows._data, "DatasetConfig", lambda: DatasetConfig(**c.TINY))
    monkeypatch.setitem(recipes.SEED_TASK_RECIPE, "max_epochs", 2)
    monkeypatch.setitem(recipes.SEED_TASK_RECIPE, "min_steps", 0)
    out = tmp_path / "demo"
    for _ in range(2):  # the second run replaces the first, as the tutorial re-runs
        r = invoke("demo", "--out", out, "--quiet")
        assert r.exit_code == 0, r.output
        assert "Demo done" in r.output and f"Look at {out}/attention.png" in r.output
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "lstm_attention" and config["data"]["kind"] == "synthetic"
    assert config["train"]["scaling_gain"] == 4.0 and config["train"]["lr_schedule"] == "onecycle"
    for name in ("attention.png", "curves.png", "report.html", "metrics.json", "weights.safetensors"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "status.json").read_text())["state"] == "done"


def test_locate_with_integrated_gradients_and_on_data_without_segments(trained, tmp_path):
    data, run = trained
    r = invoke("locate", "--run", run, "--data", data, "--method", "integrated_gradients", "--out", tmp_path / "ig.csv")
    assert r.exit_code == 0, r.output
    ig = list(csv.DictReader((tmp_path / "ig.csv").open()))
    assert len(ig) == 200 and all(0 <= int(row["span_start"]) < int(row["span_end"]) <= 64 for row in ig)
    # The same series with no ground truth: spans come from the default mass, and no IoU column is invented.
    with np.load(data) as z:
        np.savez(tmp_path / "plain.npz", X=z["X"], y=z["y"], class_names=z["class_names"])
    r = invoke("locate", "--run", run, "--data", tmp_path / "plain.npz", "--out", tmp_path / "plain.csv")
    assert r.exit_code == 0, r.output
    assert "Mean IoU" not in r.output
    rows = list(csv.DictReader((tmp_path / "plain.csv").open()))
    assert list(rows[0]) == ["index", "id", "predicted", "probability", "span_start", "span_end"] and len(rows) == 200
    assert [r["id"] for r in rows[:3]] == ["0", "1", "2"]  # an .npz has no ids: the row stands in


def _crash_after(epoch):
    from tsattn.training import trainer as tr

    save = tr._LastCheckpoint.on_train_epoch_end

    class Crash(Exception):
        pass

    def crash(self, trainer, pl_module):
        save(self, trainer, pl_module)
        if trainer.current_epoch == epoch:
            raise Crash

    return save, crash


@pytest.mark.parametrize(
    "source", ["file", pytest.param("named", marks=pytest.mark.slow), pytest.param("test-data", marks=pytest.mark.slow)]
)
def test_resume_reloads_every_kind_of_data_source(tmp_path, monkeypatch, source):
    """A run that crashed after epoch 1 of 3 resumes from its own record of where the data came from, and ends
    with the uninterrupted run's exact weights."""
    from tsattn.training import trainer as tr

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 20)).astype(np.float32)
    y = np.array(["lo", "hi"])[np.arange(60) % 2]
    X[y == "hi", 5:9] += 2
    if source == "file":
        np.savez(tmp_path / "d.npz", X=X, y=y)
        data = ["--data", tmp_path / "d.npz"]
    elif source == "named":
        pytest.importorskip("aeon", reason="ucr: names resolve through the optional aeon (tsattn[aeon])")
        monkeypatch.setenv("TSATTN_DATA", str(tmp_path / "cache"))
        data = ["--data", "ucr:ItalyPowerDemand"]
    else:
        import pandas as pd

        for name, rows in (("train", slice(0, 40)), ("test", slice(40, 60))):
            df = pd.DataFrame(X[rows], columns=[f"t{i}" for i in range(20)])
            df.insert(0, "label", y[rows])
            df.to_csv(tmp_path / f"{name}.csv", index=False)
        data = ["--data", tmp_path / "train.csv", "--test-data", tmp_path / "test.csv"]
    args = ["train", *data, "--model", "cnn_attention", "--max-epochs", 3, "--batch-size", 16, "--quiet"]
    r = invoke(*args, "--out", tmp_path / "whole")
    assert r.exit_code == 0, r.output
    save, crash = _crash_after(1)
    monkeypatch.setattr(tr._LastCheckpoint, "on_train_epoch_end", crash)
    r = invoke(*args, "--out", tmp_path / "run")
    assert r.exit_code != 0 and type(r.exception).__name__ == "Crash"
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "failed"
    monkeypatch.setattr(tr._LastCheckpoint, "on_train_epoch_end", save)
    r = invoke("train", "--resume", tmp_path / "run", "--quiet")
    assert r.exit_code == 0, r.output
    assert (
        json.loads((tmp_path / "run" / "fit.json").read_text())["resumed_from_epoch"] == 2
    )  # epochs 0 and 1 were done
    assert (tmp_path / "run" / "weights.safetensors").read_bytes() == (
        tmp_path / "whole" / "weights.safetensors"
    ).read_bytes()
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("run", "whole"))
    assert a["n_test"] == b["n_test"] and a["confusion_matrix"] == b["confusion_matrix"]
