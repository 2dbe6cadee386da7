import json

import pytest
from typer.testing import CliRunner

from tsattn.cli import app

from .conftest import TINY

REQUIRED = {
    "name",
    "accuracy",
    "f1",
    "roc_auc",
    "train_seconds",
    "epochs",
    "inference_series_per_s",
    "peak_rss_mb",
    "n_params",
}


def test_benchmark_end_to_end_on_two_fast_models(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_aeon(name, *args, **kwargs):  # behave as if aeon were not installed
        if name.startswith("aeon"):
            raise ImportError("no aeon")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_aeon)
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    out = tmp_path / "bench"
    r = CliRunner().invoke(
        app,
        [
            "benchmark",
            "--config",
            str(cfg),
            "--models",
            "cnn_attention,mlp,minirocket",
            "--seed",
            "0",
            "--out",
            str(out),
            "--max-epochs",
            "2",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "minirocket: skipped, aeon is not installed" in r.output
    result = json.loads((out / "benchmark.json").read_text())
    assert [m["name"] for m in result["models"]] == ["cnn_attention", "mlp"]
    for m in result["models"]:
        assert set(m) >= REQUIRED
        assert 0 <= m["accuracy"] <= 1 and m["inference_series_per_s"] > 0 and m["peak_rss_mb"] > 0
        assert m["n_params"] > 0 and m["epochs"] == 2
    assert result["skipped"][0]["name"] == "minirocket"
    md_lines = (out / "benchmark.md").read_text().splitlines()
    assert sum(line.startswith("| ") for line in md_lines) == 3  # header + 2 rows
    assert (out / "benchmark.png").stat().st_size > 1000


@pytest.mark.slow  # aeon's numba compilation alone takes about 30 s
def test_benchmark_with_minirocket(tmp_path):
    pytest.importorskip("aeon", reason="UCR/UEA names and files need the optional aeon (tsattn[aeon])")
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    r = CliRunner().invoke(
        app, ["benchmark", "--config", str(cfg), "--models", "minirocket", "--out", str(tmp_path / "b"), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "b" / "benchmark.json").read_text())["models"][0]
    assert m["name"] == "minirocket" and m["accuracy"] > 0.8


def test_benchmark_rejects_unknown_models(tmp_path):
    r = CliRunner().invoke(app, ["benchmark", "--models", "cnn_atention", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "Did you mean 'cnn_attention'" in r.output


def test_minirocket_input_pads_variable_length_with_the_last_value():
    import numpy as np

    from tsattn.models.peers import pad_with_last_value

    X = np.array([[[1, 2, np.nan]], [[4, 5, 6]]], np.float32)
    np.testing.assert_array_equal(pad_with_last_value(X, np.array([2, 3]), 5)[:, 0], [[1, 2, 2, 2, 2], [4, 5, 6, 6, 6]])
    assert pad_with_last_value(X[1:], None).shape == (1, 1, 3)


def test_minirocket_is_registered_beside_the_networks_and_never_trained_as_one():
    from tsattn import ConfigError
    from tsattn.models import get_model_class, is_peer, list_models
    from tsattn.training.pipeline import resolve_train_config

    assert "minirocket" in list_models(peers=True) and "minirocket" not in list_models()
    assert is_peer("minirocket") and not is_peer("cnn") and get_model_class("minirocket").name == "minirocket"
    r = CliRunner().invoke(app, ["models"])
    assert any(line.split()[0] == "minirocket" for line in r.output.splitlines())
    with pytest.raises(ConfigError, match=r"^model: minirocket is a peer to compare against"):
        resolve_train_config("minirocket")
