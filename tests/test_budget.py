"""Training budgets mean what they say, and padding never changes what a network computes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tsattn.cli import app

runner = CliRunner()


def _tiny(n: int, T: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 1, T)).astype(np.float32)
    X[y == 1, :, 4:10] += 2.5
    return X, y


def _train(n: int, **given):
    from tsattn.training.pipeline import prepare, resolve_train_config, split_rows, train

    X, y = _tiny(n)
    cfg = resolve_train_config("cnn_attention", given)
    rows, val, _ = split_rows(y, cfg)
    return train(prepare(X, None, rows, 2, cfg), y, None, rows, val, cfg), len(rows), len(val)


def test_max_steps_stops_after_exactly_that_many_steps_partway_through_an_epoch():
    # 140 training series in batches of 32: 5 steps an epoch; 7 steps is one epoch and two batches.
    result, n_train, n_val = _train(200, max_epochs=10, max_steps=7, batch_size=32, min_val_size=0)
    assert (n_train, n_val) == (140, 20)
    assert result.optimizer_steps == 7
    assert [row["epoch"] for row in result.history] == [0, 1]
    # the cut epoch was validated, not reported with the first epoch's loss
    assert result.history[1]["val_loss"] != result.history[0]["val_loss"]


def test_min_steps_is_met_on_a_30_series_set():
    from tsattn.training.pipeline import resolve_train_config
    from tsattn.training.trainer import budget_summary

    given = {"max_epochs": 4, "min_steps": 60, "batch_size": 7, "min_val_size": 20}
    result, n_train, n_val = _train(30, **given)
    assert n_val == 0  # the small-data rule: no holdout, so the whole budget runs
    assert result.optimizer_steps >= 60
    # config.json's budget says what ran: 4 epochs of several passes over the 24 training series
    summary = budget_summary(resolve_train_config("cnn_attention", given), n_train, n_val)
    assert summary["passes_per_epoch"] > 1 and summary["max_optimizer_steps"] == result.optimizer_steps
    result, _, n_val = _train(30, max_epochs=4, min_steps=60, batch_size=8, min_val_size=0, patience=100)
    assert n_val == 3 and result.optimizer_steps >= 60  # with a holdout, the epochs grow instead


def test_an_explicit_max_epochs_turns_the_step_bounds_off_and_config_json_says_so(tmp_path):
    X, y = _tiny(40)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "d.npz"),
            "--out",
            str(tmp_path / "run"),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "2",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["max_epochs"] == 2
    assert config["train"]["min_steps"] == 0 and config["train"]["max_steps"] == 0
    b = config["budget"]
    assert b["max_epochs"] == 2 and b["min_steps"] == 0 and b["max_steps"] == 0
    assert "explicit max_epochs sets both to 0" in b["rule"]
    assert b["max_optimizer_steps"] == 2 * b["steps_per_epoch"]
    fit = json.loads((tmp_path / "run" / "fit.json").read_text())
    assert fit["optimizer_steps"] <= b["max_optimizer_steps"]
    r = runner.invoke(app, ["train", "--help"])
    assert "min_steps and max_steps 0" in " ".join(r.output.split())


@pytest.mark.parametrize("model", ["inception_attention", "cnn_attention", "cnn"])
def test_padding_does_not_change_batchnorm_statistics_or_the_output(model):
    from tsattn.models import create_model

    torch.manual_seed(0)
    net = create_model(model, n_channels=2, n_classes=3, seq_len=30)
    torch.manual_seed(1)
    x = torch.randn(6, 2, 20)
    padded = torch.cat([x, torch.zeros(6, 2, 10)], dim=-1)
    mask = torch.arange(30)[None, :] < 20
    mask = mask.expand(6, -1)
    short, long = create_model(model, 2, 3, 30), create_model(model, 2, 3, 30)
    short.load_state_dict(net.state_dict())
    long.load_state_dict(net.state_dict())
    short.train(), long.train()
    logits_short, att_short = short(x)
    logits_long, att_long = long(padded, mask)
    torch.testing.assert_close(logits_long, logits_short, atol=1e-5, rtol=1e-4)
    if att_short is not None:
        torch.testing.assert_close(att_long[:, :20], att_short, atol=1e-6, rtol=1e-4)
        assert torch.all(att_long[:, 20:] == 0)
    for (name, a), b in zip(short.state_dict().items(), long.state_dict().values(), strict=True):
        if "running" in name:  # the running statistics inference will use
            torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4, msg=name)
