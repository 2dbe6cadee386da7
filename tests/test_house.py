"""The house: one fit path, the typed run format, errors that name parameters, the estimator's model parameters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tsattn import AttentionClassifier, ConfigError, DataError, RunError
from tsattn.cli import app

LEGACY_RUN = Path(__file__).parent / "data" / "legacy_run_v1"


def _tiny_npz(path: Path, n: int = 60, T: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 1, T)).astype(np.float32)
    X[y == 1, :, 10:16] += 2.0
    np.savez(path, X=X, y=y)
    return X, y


def test_the_recipe_is_resolved_by_one_rule():
    from tsattn.training.pipeline import resolve_train_config
    from tsattn.training.recipes import recipe_for

    recipe = recipe_for("cnn_attention")
    cfg = resolve_train_config("cnn_attention")
    assert (cfg.max_epochs, cfg.min_steps, cfg.scaling) == (
        recipe["max_epochs"],
        recipe["min_steps"],
        recipe["scaling"],
    )
    assert resolve_train_config("cnn_attention", {"max_epochs": 3}).min_steps == 0  # an explicit budget is kept
    assert resolve_train_config("cnn_attention", {"max_epochs": 3, "min_steps": 50}).min_steps == 50
    with pytest.raises(ConfigError, match=r"^model: unknown model 'cnn_atention'. Did you mean 'cnn_attention'"):
        resolve_train_config("cnn_atention")


def test_run_config_round_trips_and_a_legacy_run_loads(tmp_path):
    from tsattn import run as rundir
    from tsattn.workflows import evaluate_run

    legacy = tmp_path / "legacy"
    shutil.copytree(LEGACY_RUN, legacy)
    rc = rundir.read_config(legacy)
    assert rc.format_version == 1 and rc.model == "cnn_attention" and rc.data.kind == "synthetic"
    assert rundir.RunConfig.model_validate_json(rc.model_dump_json()) == rc
    loaded = rundir.load_run(legacy)
    m = evaluate_run(legacy, verbose=False, plots=False)  # the data are generated again from the recorded config
    assert m["n_test"] == 40 and 0 <= m["accuracy"] <= 1
    from tsattn.inference import predict_arrays

    X = np.random.default_rng(0).normal(size=(3, 1, rc.seq_len)).astype(np.float32)
    expected, _ = predict_arrays(loaded.net, loaded.scaler.transform(X))
    np.testing.assert_allclose(AttentionClassifier.load(legacy).predict_proba(X), expected, rtol=1e-6)
    # written again, the config says its format
    rundir.write_config(tmp_path / "new", rc.model_copy(update={"format_version": rundir.FORMAT_VERSION}))
    assert json.loads((tmp_path / "new" / "config.json").read_text())["format_version"] == rundir.FORMAT_VERSION


def test_an_inception_attention_run_of_format_2_keeps_its_16_filters(tmp_path):
    from tsattn import run as rundir
    from tsattn.config import DatasetConfig, TrainConfig
    from tsattn.data import generate
    from tsattn.models.inception_attention import InceptionAttention
    from tsattn.workflows import train_run

    data = generate(DatasetConfig(num_points=32, dataset_size=40), seed=0)
    config = TrainConfig(model="inception_attention", max_epochs=1, model_params={"filters": 16, "depth": 1})
    train_run(data, config, tmp_path / "r", progress=False, verbose=False, logger=None, plots=False)
    path = tmp_path / "r" / "config.json"
    raw = json.loads(path.read_text())
    assert raw["format_version"] == rundir.FORMAT_VERSION == 3
    for holder in (raw, raw["train"]):  # as format 2 wrote it: the width left to the default, then 16
        holder["model_params"] = {"depth": 1}
    path.write_text(json.dumps(raw | {"format_version": 2}))
    net = rundir.load_run(tmp_path / "r").net
    assert [m.filters for m in net.modules() if isinstance(m, InceptionAttention)] == [16]
    assert rundir.read_config(tmp_path / "r").train.model_params == {"depth": 1, "filters": 16}
    path.write_text(json.dumps(raw))  # format 3 without the key: 32 steps take the full width, not these weights
    with pytest.raises(RunError):
        rundir.load_run(tmp_path / "r")


def test_a_run_from_a_newer_format_or_an_edited_config_fails_in_one_line(tmp_path):
    from tsattn import run as rundir

    run = tmp_path / "r"
    shutil.copytree(LEGACY_RUN, run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(config | {"format_version": 99}))
    with pytest.raises(RunError, match=r"^run: .* has run format 99, newer than this tsattn reads .*upgrade tsattn"):
        rundir.load_run(run)
    (run / "config.json").write_text(json.dumps(config | {"n_channels": "two"}))
    with pytest.raises(RunError, match=r"^run: .* is not a valid run config: 'n_channels'") as err:
        rundir.load_run(run)
    assert "\n" not in str(err.value)


def test_library_errors_name_python_parameters_and_the_cli_shows_flags(tmp_path):
    from tsattn._errors import as_flags
    from tsattn.workflows import explain_run

    _tiny_npz(tmp_path / "tiny.npz")
    with pytest.raises(RunError) as err:
        explain_run(tmp_path / "nowhere", tmp_path / "tiny.npz", 0, tmp_path / "x.png")
    assert err.value.param == "run" and str(err.value).startswith("run: ")
    with pytest.raises(DataError) as err:
        AttentionClassifier(nan_policy="interpolate").fit(np.zeros((4, 5, 6, 7)), [0, 1, 0, 1])
    assert err.value.param == "X" and str(err.value).startswith("X: ")
    with pytest.raises(ConfigError) as err:
        AttentionClassifier(lr=-1.0).fit(np.zeros((20, 8)), np.arange(20) % 2)
    assert err.value.param == "lr" and str(err.value).startswith("lr: ") and "--" not in str(err.value)
    assert as_flags(err.value).startswith("--lr: ")
    assert (
        as_flags(DataError("nan_policy: NaNs; use `nan_policy` interpolate"))
        == "--nan-policy: NaNs; use --nan-policy interpolate"
    )
    r = CliRunner().invoke(
        app,
        [
            "explain",
            "--run",
            str(tmp_path / "nowhere"),
            "--data",
            str(tmp_path / "tiny.npz"),
            "--out",
            str(tmp_path / "x.png"),
        ],
    )
    assert r.exit_code == 2 and r.output.startswith("Error: --run: not a directory"), r.output
    r = CliRunner().invoke(
        app, ["train", "--data", str(tmp_path / "tiny.npz"), "--lr", "-1", "--out", str(tmp_path / "r")]
    )
    assert r.exit_code == 2 and r.output.startswith("Error: --lr: input should be greater than 0"), r.output


class TinyNet(__import__("torch").nn.Module):
    """A custom network honouring the model contract: mean-pooled 1x1 convolution, uniform attention."""

    def __init__(self, n_channels: int, n_classes: int, seq_len: int, width: int = 4) -> None:
        import torch

        super().__init__()
        self.n_classes = n_classes
        self.conv = torch.nn.Conv1d(n_channels, width, 3, padding=1)
        self.head = torch.nn.Linear(width, 1 if n_classes == 2 else n_classes)

    def forward(self, x, mask=None):
        import torch

        h = torch.relu(self.conv(x))
        m = torch.ones_like(x[:, 0]) if mask is None else mask.to(x.dtype)
        attention = m / m.sum(-1, keepdim=True)
        return self.head((h * attention[:, None]).sum(-1)), attention

    def fit_lengths(self, lengths) -> None:  # the contract's hook; nothing to fit here
        pass


def test_a_custom_module_class_trains_through_the_estimator():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 40)).astype(np.float32)
    X[y == 1, 5:20] += 3.0
    clf = AttentionClassifier(TinyNet, max_epochs=40, patience=40, lr=2e-2, scaling="none", model__width=6).fit(X, y)
    assert isinstance(clf.model_, TinyNet) and clf.model_.conv.out_channels == 6
    assert clf.score(X, y) > 0.8
    att = clf.explain(X[:3])
    np.testing.assert_allclose(att.sum(1), 1, rtol=1e-5)
    with pytest.raises(RunError, match=r"^model: TinyNet is not a registered model"):
        clf.save("unused")


def test_grid_search_over_model_hyperparameters(tmp_path):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(1)
    y = np.arange(48) % 2
    X = rng.normal(size=(48, 24)).astype(np.float32)
    X[y == 1, 4:10] += 2
    est = AttentionClassifier("cnn", max_epochs=2, model__channels=(8, 8, 8))
    assert est.get_params()["model__channels"] == (8, 8, 8) == clone(est).get_params()["model__channels"]
    search = GridSearchCV(est, {"model__channels": [(4, 4, 4), (8, 8, 8)]}, cv=2).fit(X, y)
    assert search.best_params_["model__channels"] in ((4, 4, 4), (8, 8, 8))
    assert search.best_estimator_.model_.n_channels == 1
    channels = {p["model__channels"] for p in search.cv_results_["params"]}
    assert channels == {(4, 4, 4), (8, 8, 8)}
    fitted = clone(est).set_params(model__channels=(4, 4, 4)).fit(X, y)
    assert fitted._train_config().model_params == {"channels": (4, 4, 4)}
    fitted.save(tmp_path / "r")
    assert AttentionClassifier.load(tmp_path / "r").get_params()["model__channels"] in ((4, 4, 4), [4, 4, 4])
    with pytest.raises(TypeError, match="model__channels"):
        AttentionClassifier(channels=4)


def test_offsets_live_outside_the_models_and_the_network_is_chosen_by_model_parameters():
    import torch

    from tsattn.layers import LengthLogits, LevelLogits
    from tsattn.models import create_model, create_network, get_model_class, list_models
    from tsattn.models._offsets import OffsetNet
    from tsattn.training.scaling import Scaler

    for name in list_models():
        body = create_model(name, n_channels=1, n_classes=2, seq_len=40)
        assert not any(isinstance(m, (LengthLogits, LevelLogits)) for m in body.modules()), name
        net = create_network(name, 1, 2, 40, **Scaler("znorm").network_input)
        assert isinstance(net, OffsetNet) == get_model_class(name).length_offsets, name
        level = create_network(name, 1, 2, 40, **Scaler("znorm_level").network_input)
        assert isinstance(level, OffsetNet) and level.level is not None and level.body.n_channels == 1
        both = create_network(name, 1, 2, 40, **Scaler("both").network_input)
        assert getattr(both, "body", both).n_channels == 2
    # the offsets add to the body's logits; the body's own forward is untouched
    net = create_network("cnn_attention", 1, 2, 40)
    net.fit_lengths(np.array([20, 30, 40]))
    torch.nn.init.normal_(net.length.weight)
    x = torch.randn(2, 1, 40)
    with torch.no_grad():
        logits, att = net(x)
        body_logits, body_att = net.body(x)
    torch.testing.assert_close(logits, body_logits + net.length(x))
    assert torch.equal(att, body_att)


def test_install_hints_pin_each_extra_as_constraints_txt_does():
    import tomllib

    from tsattn._errors import EXTRA_PINS

    root = Path(__file__).parent.parent
    pins = dict(line.split("==") for line in (root / "constraints.txt").read_text().splitlines() if "==" in line)
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra, hint in EXTRA_PINS.items():
        wanted = {req.split(">")[0].split("=")[0].split("[")[0] for req in extras[extra]}
        assert {p.split("==")[0] for p in hint} == wanted, extra  # every package of the extra, nothing else
        for p in hint:
            name, version = p.split("==")
            assert pins[name] == version, (extra, p, pins.get(name))


def test_a_data_spec_reads_its_file_with_its_reader_options_and_refuses_a_config_beside_a_file(tmp_path):
    from tsattn.workflows import DataSpec

    rng = np.random.default_rng(0)
    rows = ["unit,y," + ",".join(f"t{i}" for i in range(8))]
    values = rng.normal(size=(6, 8))
    rows += [f"{100 + i},{'ab'[i % 2]}," + ",".join(f"{v:.6f}" for v in values[i]) for i in range(6)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n")
    data, test, source = DataSpec(str(path), reader={"id_column": "unit", "label_column": "y"}).resolve(seed=0)
    assert test is None and data.X.shape == (6, 1, 8)  # the id column is never a time step
    np.testing.assert_allclose(data.X[:, 0, :], values, atol=1e-6)
    assert source["kind"] == "file" and source["reader"] == {"id_column": "unit", "label_column": "y"}
    config = tmp_path / "cfg.json"
    config.write_text("{}")
    with pytest.raises(DataError, match=r"^config: give a dataset config or a data file, not both; got "):
        DataSpec(str(path), config).resolve(seed=0)
