"""The input boundary, table-driven: every bad input gives one line, exit code 2, and writes nothing.

Each row builds its bad input in a fresh folder, runs the command, and checks
that the message names the problem, that nothing in the folder changed (no
new, half-written or removed file), and that no traceback was printed.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import TINY
from tsattn.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny finished runs (lstm_attention and cnn_attention) for the rows that damage a run directory."""
    tmp = tmp_path_factory.mktemp("bad-input")
    cfg = tmp / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    out = {}
    for model in ("lstm_attention", "cnn_attention"):
        r = runner.invoke(
            app,
            [
                "train",
                "--config",
                str(cfg),
                "--model",
                model,
                "--max-epochs",
                "2",
                "--out",
                str(tmp / model),
                "--quiet",
            ],
        )
        assert r.exit_code == 0, r.output
        out[model] = tmp / model
    return out


class Payload:
    """Unpickling this creates a marker file: the proof that a loader ran pickled code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _config(d: Path, **change) -> str:
    p = d / "cfg.json"
    p.write_text(json.dumps(TINY | change))
    return str(p)


def _text(d: Path, name: str, text: str) -> str:
    (d / name).write_text(text)
    return str(d / name)


def _npz(d: Path, X, y, name="data.npz") -> str:
    np.savez(d / name, X=np.asarray(X, np.float32), y=np.asarray(y))
    return str(d / name)


def _wide_csv(n: int, classes=("a", "b")) -> str:
    rows = ["label,t0,t1,t2,t3"]
    rows += [f"{classes[i % len(classes)]},{i},{i + 1},{i * 2},{i - 3}" for i in range(n)]
    return "\n".join(rows) + "\n"


def _copy_run(runs, d: Path, model="lstm_attention") -> Path:
    dst = d / "run"
    shutil.copytree(runs[model], dst)
    return dst


def _truncate_weights(runs, d):
    run = _copy_run(runs, d)
    w = run / "weights.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    return ["evaluate", "--run", str(run)]


def _foreign_weights(runs, d):
    run = _copy_run(runs, d)
    shutil.copy(runs["cnn_attention"] / "weights.safetensors", run / "weights.safetensors")
    return ["evaluate", "--run", str(run)]


def _missing_config(runs, d):
    run = _copy_run(runs, d)
    (run / "config.json").unlink()
    return ["evaluate", "--run", str(run)]


def _edited_config(runs, d):
    run = _copy_run(runs, d)
    cfg = json.loads((run / "config.json").read_text())
    del cfg["scaler"]
    (run / "config.json").write_text(json.dumps(cfg))
    return ["evaluate", "--run", str(run)]


def _edited_config_on_resume(runs, d):
    run = _copy_run(runs, d)
    (run / "status.json").write_text(json.dumps({"state": "running"}))
    cfg = json.loads((run / "config.json").read_text())
    cfg["train"]["lr"] = 0.5
    (run / "config.json").write_text(json.dumps(cfg))
    return ["train", "--resume", str(run)]


def _pickle_checkpoint(runs, d):
    import torch

    run = _copy_run(runs, d)
    (run / "status.json").write_text(json.dumps({"state": "failed"}))
    torch.save({"epoch": 1, "state_dict": {}, "payload": Payload(str(d / "MARKER"))}, run / "checkpoints" / "last.ckpt")
    return ["train", "--resume", str(run)]


def _resume_finished(runs, d):
    return ["train", "--resume", str(_copy_run(runs, d))]


def _train_over_a_run(runs, d):
    run = _copy_run(runs, d)
    return ["train", "--config", _config(d), "--out", str(run)]


def _wrong_channels(runs, d):
    run = _copy_run(runs, d, "cnn_attention")
    np.save(d / "new.npy", np.zeros((4, 3, TINY["num_points"]), np.float32))
    return ["predict", "--run", str(run), "--data", str(d / "new.npy"), "--out", str(d / "p.csv")]


def _nan_at_predict(runs, d):
    run = _copy_run(runs, d, "cnn_attention")
    X = np.zeros((4, 1, TINY["num_points"]), np.float32)
    X[2, 0, 5] = np.nan
    np.save(d / "new.npy", X)
    return ["predict", "--run", str(run), "--data", str(d / "new.npy"), "--out", str(d / "p.csv")]


def _nan(value):
    def build(runs, d):
        X = np.random.default_rng(0).normal(size=(60, 1, 16))
        X[7, 0, 3] = value
        return ["train", "--data", _npz(d, X, np.arange(60) % 2), "--out", str(d / "r")]

    return build


def _object_npz(runs, d):
    np.savez(d / "obj.npz", X=np.array([[1.0, 2.0]], dtype=object), y=np.array([0]))
    return ["train", "--data", str(d / "obj.npz"), "--out", str(d / "r")]


def _cfg(**change):
    return lambda runs, d: ["train", "--config", _config(d, **change), "--out", str(d / "r")]


def _data(name, text):
    return lambda runs, d: ["train", "--data", _text(d, name, text), "--out", str(d / "r")]


# (id, builder, fragments the one-line message must contain)
TABLE = [
    (
        "malformed-json",
        lambda r, d: ["train", "--config", _text(d, "c.json", '{"num_points": 100,'), "--out", str(d / "r")],
        ["malformed JSON", "line 1"],
    ),
    ("unknown-key", _cfg(num_point=100), ["unknown key 'num_point'", "Did you mean 'num_points'"]),
    ("wrong-type", _cfg(dataset_size="many"), ["'dataset_size'", "'many'"]),
    ("min-above-max", _cfg(min_freq=5, max_freq=1), ["min_freq must be < max_freq"]),
    ("step-zero", _cfg(step_loc=0), ["'step_loc'", "greater than 0", "got 0"]),
    ("step-negative", _cfg(step_amp=-0.1), ["'step_amp'", "greater than 0"]),
    ("ratio-above-1", _cfg(normal_anomalous_ratio=1.5), ["'normal_anomalous_ratio'", "1.5"]),
    ("ratio-below-0", _cfg(normal_anomalous_ratio=-0.2), ["'normal_anomalous_ratio'", "-0.2"]),
    ("dataset-size-0", _cfg(dataset_size=0), ["'dataset_size'", "got 0"]),
    ("dataset-size-negative", _cfg(dataset_size=-5), ["'dataset_size'", "got -5"]),
    ("segment-longer-than-series", _cfg(max_length=1.5), ["'max_length'", "1.5"]),
    ("empty-config", lambda r, d: ["train", "--config", _text(d, "c.json", ""), "--out", str(d / "r")], ["empty"]),
    ("empty-data-file", _data("d.csv", ""), ["d.csv is empty"]),
    ("header-only-csv", _data("d.csv", "label,t0,t1\n"), ["header but no rows"]),
    (
        "ragged-rows",
        _data("d.csv", "label,t0,t1\na,1,2\nb,1,2,3,4\n"),
        ["d.csv is not a readable CSV file", "Expected 3 fields in line 3, saw 5"],
    ),
    ("missing-label-column", _data("d.csv", "t0,t1\n1,2\n3,4\n"), ["--label-column", "'label'"]),
    ("single-class", _data("d.csv", _wide_csv(40, classes=("a",))), ["at least 2 classes", "['a']"]),
    ("too-few-series", _data("d.csv", _wide_csv(6)), ["need at least", "got 6 series"]),
    ("nan-default-policy", _nan(np.nan), ["NaN or inf", "found 1", "(7, 0, 3)"]),
    ("inf-default-policy", _nan(np.inf), ["NaN or inf", "(7, 0, 3)"]),
    ("object-array-npz", _object_npz, ["object arrays", "refused"]),
    (
        "unknown-model",
        lambda r, d: ["train", "--config", _config(d), "--model", "lstm", "--out", str(d / "r")],
        ["unknown model 'lstm'"],
    ),
    (
        "zero-epochs",
        lambda r, d: ["train", "--config", _config(d), "--max-epochs", "0", "--out", str(d / "r")],
        ["--max-epochs:", "got 0"],
    ),
    (
        "bad-nan-policy",
        lambda r, d: ["train", "--config", _config(d), "--nan-policy", "drop", "--out", str(d / "r")],
        ["--nan-policy:", "'drop'"],
    ),
    (
        "negative-attention-smoothing",
        lambda r, d: ["train", "--config", _config(d), "--attention-smoothing", "-1", "--out", str(d / "r")],
        ["--attention-smoothing:", "-1"],
    ),
    (
        "negative-attention-entropy",
        lambda r, d: ["train", "--config", _config(d), "--attention-entropy", "-0.1", "--out", str(d / "r")],
        ["--attention-entropy:", "-0.1"],
    ),
    (
        "negative-scaling-clip",
        lambda r, d: ["train", "--config", _config(d), "--scaling-clip", "-0.5", "--out", str(d / "r")],
        ["--scaling-clip:", "-0.5"],
    ),
    (
        "bad-benchmark-scaling",
        lambda r, d: [
            "benchmark",
            "--config",
            _config(d),
            "--models",
            "cnn",
            "--scaling",
            "unit",
            "--out",
            str(d / "b"),
        ],
        ["--scaling", "both", "'unit'"],
    ),
    (
        "bad-logger",
        lambda r, d: ["train", "--config", _config(d), "--logger", "wandb", "--out", str(d / "r")],
        ["--logger", "'wandb'"],
    ),
    (
        "zero-shards",
        lambda r, d: ["generate", "--config", _config(d), "--shards", "0", "--out", str(d / "g")],
        ["--shards", "got 0"],
    ),
    ("wrong-channel-count", _wrong_channels, ["expects 1 channel", "has 3"]),
    ("nan-at-predict", _nan_at_predict, ["NaN or inf", "(2, 0, 5)"]),
    ("truncated-weights", _truncate_weights, ["weights.safetensors", "truncated"]),
    ("foreign-weights", _foreign_weights, ["does not match the 'lstm_attention' architecture"]),
    ("missing-config", _missing_config, ["no config.json"]),
    ("edited-config", _edited_config, ["lacks the keys", "'scaler'"]),
    ("edited-config-on-resume", _edited_config_on_resume, ["--resume", "differs", "'train'"]),
    ("pickle-payload-checkpoint", _pickle_checkpoint, ["--resume", "pickled", "refused"]),
    ("resume-a-finished-run", _resume_finished, ["already finished"]),
    ("train-over-a-finished-run", _train_over_a_run, ["already holds a run", "state 'done'"]),
]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("builder, fragments", [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_bad_input(runs, tmp_path, builder, fragments):
    args = builder(runs, tmp_path)
    before = _snapshot(tmp_path)
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert _snapshot(tmp_path) == before, "the command wrote or removed files"
    assert not (tmp_path / "MARKER").exists(), "a pickled payload was executed"
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_pickle_payload_is_real(tmp_path):
    """The payload does create the marker when unpickled without weights_only: the check above has teeth."""
    import torch

    path = tmp_path / "p.ckpt"
    torch.save({"payload": Payload(str(tmp_path / "MARKER"))}, path)
    torch.load(path, weights_only=False)
    assert (tmp_path / "MARKER").exists()
    os.remove(tmp_path / "MARKER")
