"""The real-data default: inception_attention, ensembles, the small-data rule and one default everywhere."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tsattn import AttentionClassifier
from tsattn.cli import app
from tsattn.config import TrainConfig

runner = CliRunner()


def _tiny(n: int = 40, T: int = 32, C: int = 1, n_classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, C, T)).astype(np.float32)
    for c in range(1, n_classes):
        X[y == c, :, 4 * c : 4 * c + 6] += 2.5
    return X, y


def test_an_ensemble_averages_its_members_probabilities_and_attention():
    from tsattn.models import create_network

    def proba(logits: torch.Tensor) -> torch.Tensor:  # by hand: a sigmoid for one binary column, else a softmax
        if logits.shape[-1] == 1:
            p = torch.sigmoid(logits[:, 0])
            return torch.stack([1 - p, p], dim=1)
        return torch.softmax(logits, dim=-1)

    for n_classes in (2, 4):
        torch.manual_seed(0)
        net = create_network("inception_attention", 2, n_classes, 30, ensemble=3).eval()
        with torch.no_grad():  # attention starts uniform in every member; give each its own
            for pname, p in net.named_parameters():
                if pname.endswith("attention.score.weight"):
                    p.normal_(0.0, 0.5)
        x = torch.randn(5, 2, 30)
        mask = torch.arange(30)[None, :] < torch.tensor([30, 22, 30, 9, 17])[:, None]
        with torch.no_grad():
            logits, att = net(x, mask)
            members = [m(x, mask) for m in net.members]  # each member run on its own
        torch.testing.assert_close(
            proba(logits), torch.stack([proba(lg) for lg, _ in members]).mean(0), atol=1e-6, rtol=0
        )
        torch.testing.assert_close(att, torch.stack([a for _, a in members]).mean(0))
        assert att.shape == (5, 30)
        torch.testing.assert_close(att.sum(-1), torch.ones(5))
        assert (att[~mask] == 0).all()  # exactly no attention on padding


def test_members_trained_from_their_own_draws_attend_differently():
    X, y = _tiny(n=48, T=32)
    clf = AttentionClassifier("inception_attention", ensemble=2, max_epochs=3, random_state=0).fit(X, y)
    x = torch.as_tensor(clf.scaler_.transform(X[:6]))
    with torch.no_grad():
        (_, a0), (_, a1) = (m(x) for m in clf.model_.members)
    torch.testing.assert_close(a0.sum(-1), torch.ones(6))
    # The scoring layers start at zero, so both start uniform (1/32 each): whatever differs now, training on
    # their own draws made differ (after 9 steps, by several percent of a weight; float noise is 1e-8).
    assert (a0 - a1).abs().max() > 1e-4
    assert (a0 - 1 / 32).abs().max() > 1e-4 and (a1 - 1 / 32).abs().max() > 1e-4


def test_the_first_member_of_an_ensemble_is_the_single_network_of_that_seed():
    from tsattn.models import create_network

    torch.manual_seed(3)
    single = create_network("cnn_attention", 1, 2, 40)
    torch.manual_seed(3)
    ensemble = create_network("cnn_attention", 1, 2, 40, ensemble=2)
    for (k, a), b in zip(single.state_dict().items(), ensemble.members[0].state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_ensemble_must_be_positive():
    from tsattn import ConfigError
    from tsattn.models import create_network

    with pytest.raises(ConfigError, match=r"^ensemble: must be >= 1; got 0$"):
        create_network("cnn", 1, 2, 10, ensemble=0)


def test_a_mixed_ensemble_pools_as_told_and_attends_with_its_attention_members_only():
    from tsattn.evaluation.explain import default_method
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network("inception_attention", 1, 3, 30, ensemble=3, ensemble_pooling=["attention", "average"]).eval()
    bodies = [getattr(m, "body", m) for m in net.members]
    assert [b.pooling for b in bodies] == ["attention", "average", "attention"]  # cycled over the members
    with torch.no_grad():
        for pname, p in net.named_parameters():
            if pname.endswith("attention.score.weight"):
                p.normal_(0.0, 0.5)
        x = torch.randn(4, 1, 30)
        mask = torch.arange(30)[None, :] < torch.tensor([30, 12, 25, 30])[:, None]
        _, att = net(x, mask)
        (_, a0), (_, a1), (_, a2) = (m(x, mask) for m in net.members)
    torch.testing.assert_close(a1[0], torch.full((30,), 1 / 30))  # the average member's attention: uniform
    torch.testing.assert_close(att, (a0 + a2) / 2)  # ... is left out of the ensemble's
    assert (att[~mask] == 0).all()
    assert default_method(net) == "attention"
    only_average = create_network("inception_attention", 1, 3, 30, ensemble=2, ensemble_pooling=["average"])
    assert default_method(only_average) == "class_map"
    # The first member is the single network of the seed, whatever the others pool with.
    torch.manual_seed(1)
    single = create_network("inception_attention", 1, 3, 30)
    torch.manual_seed(1)
    mixed = create_network("inception_attention", 1, 3, 30, ensemble=3, ensemble_pooling=["attention", "average"])
    for (k, a), b in zip(single.state_dict().items(), mixed.members[0].state_dict().values(), strict=True):
        assert torch.equal(a, b), k


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ensemble_pooling": "average"}, r"^ensemble_pooling: must be a non-empty list of attention, .*'average'$"),
        ({"ensemble_pooling": []}, r"^ensemble_pooling: must be a non-empty list of .*; got \[\]$"),
        ({"ensemble_pooling": ["avg"]}, r"^ensemble_pooling: must be a non-empty list of .*; got \['avg'\]$"),
        (
            {"ensemble_pooling": ["average"], "pooling": "attention"},
            r"^ensemble_pooling: set it or pooling, not both; got pooling='attention'$",
        ),
    ],
)
def test_a_bad_ensemble_pooling_is_named(params, message):
    from tsattn import ConfigError
    from tsattn.models import create_network

    with pytest.raises(ConfigError, match=message):
        create_network("inception_attention", 1, 2, 30, ensemble=2, **params)


def test_ensemble_pooling_on_a_model_without_a_pooling_choice_says_so():
    from tsattn import ConfigError
    from tsattn.models import create_network

    with pytest.raises(ConfigError, match=r"^ensemble_pooling: applies to models with a pooling choice; lstm_att"):
        create_network("lstm_attention", 1, 2, 30, ensemble=2, ensemble_pooling=["attention", "average"])
    create_network("cnn_attention", 1, 2, 30, ensemble=2, ensemble_pooling=["attention", "average"])  # has one


def test_a_mixed_ensemble_run_trains_saves_and_reloads_through_the_cli(tmp_path):
    X, y = _tiny(n=60, n_classes=3)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "d.npz"),
            "--max-epochs",
            "2",
            "--ensemble",
            "2",
            "--quiet",
            "--out",
            str(out),
            "--model-param",
            'ensemble_pooling=["attention", "average"]',
        ],
    )
    assert r.exit_code == 0, r.output
    config = json.loads((out / "config.json").read_text())
    assert config["model_params"]["ensemble_pooling"] == ["attention", "average"]
    from tsattn.run import load_run

    loaded = load_run(out)
    assert [getattr(m, "body", m).pooling for m in loaded.net.members] == ["attention", "average"]
    assert loaded.net.attends == [True, False]


def test_an_ensemble_run_saves_loads_predicts_and_exports_as_one(tmp_path):
    X, y = _tiny(n=60, n_classes=3)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    r = runner.invoke(
        app,
        [
            "train",
            "--data",
            tmp_path / "d.npz",
            "--model",
            "cnn_attention",
            "--ensemble",
            "3",
            "--max-epochs",
            "2",
            "--out",
            tmp_path / "run",
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["ensemble"] == 3
    from tsattn.run import load_run

    loaded = load_run(tmp_path / "run")
    assert type(loaded.net).__name__ == "Ensemble" and len(loaded.net.members) == 3
    # tsattn predict gives the probabilities of the loaded ensemble
    np.save(tmp_path / "new.npy", X[:7])
    r = runner.invoke(
        app, ["predict", "--run", tmp_path / "run", "--data", tmp_path / "new.npy", "--out", tmp_path / "p.csv"]
    )
    assert r.exit_code == 0, r.output
    import csv

    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    proba = loaded.predict_proba(X[:7])
    assert [row["predicted"] for row in rows] == [str(c) for c in proba.argmax(1)]
    np.testing.assert_allclose([[float(row[f"proba_{c}"]) for c in range(3)] for row in rows], proba, atol=1e-6)
    # a second load predicts identically (the weights round-trip exactly)
    np.testing.assert_array_equal(load_run(tmp_path / "run").predict_proba(X[:7]), proba)
    # attention: one row per series over its steps, summing to 1
    from tsattn.inference import predict_arrays

    _, att = predict_arrays(loaded.net, loaded.scaler.transform(X[:7]))
    assert att.shape == (7, 32)
    np.testing.assert_allclose(att.sum(1), 1, atol=1e-5)
    pytest.importorskip("onnxruntime")
    r = runner.invoke(app, ["export", "--run", tmp_path / "run", "--out", tmp_path / "m.onnx"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.onnx").is_file()


def test_the_estimator_takes_an_ensemble_and_keeps_it_through_save_and_load(tmp_path):
    X, y = _tiny()
    clf = AttentionClassifier("cnn_attention", ensemble=2, max_epochs=2).fit(X, y)
    assert len(clf.model_.members) == 2
    clf.save(tmp_path / "est")
    again = AttentionClassifier.load(tmp_path / "est")
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_the_small_data_rule_trains_on_a_tiny_holdout_instead_of_early_stopping_on_it():
    from tsattn.training.pipeline import prepare, resolve_train_config, split_rows, train

    X, y = _tiny(n=30)  # 10 % of 30: a 3-series holdout
    X = np.random.default_rng(0).normal(size=X.shape).astype(np.float32)  # no signal: a holdout's loss rises
    cfg = resolve_train_config("cnn_attention", {"max_epochs": 6, "patience": 1, "min_val_size": 20})
    rows, val, test = split_rows(y, cfg)
    assert len(val) == 0 and len(rows) + len(test) == 30 and len(rows) == 24  # the 3 series are trained on
    result = train(prepare(X, None, rows, 2, cfg), y, None, rows, val, cfg)
    assert result.epochs_run == 6  # the whole budget: nothing to stop on
    assert result.best_epoch == 5  # the last weights are kept
    # the control: with the rule off, the 3-series holdout is kept, and patience 1 stops the same run early
    control = cfg.model_copy(update={"min_val_size": 0})
    rows, val_kept, _ = split_rows(y, control)
    assert len(val_kept) == 3
    stopped = train(prepare(X, None, rows, 2, control), y, None, rows, val_kept, control)
    assert stopped.epochs_run < 6


def test_without_a_holdout_the_step_budget_is_met_in_fewer_epochs():
    from tsattn.training.data import ArrayDataset, EpochSampler
    from tsattn.training.trainer import budget

    cfg = TrainConfig(max_epochs=4, min_steps=40, batch_size=8)
    assert budget(cfg, 16) == (20, 5, 1)  # with a holdout: 2 steps an epoch, so 20 epochs
    assert budget(cfg, 16, holdout=False) == (4, 5, 5)  # 4 epochs of 5 passes: 10 steps each, 40 in all
    X, y = _tiny(n=16)
    sampler = EpochSampler(ArrayDataset(X, y), seed=0, passes=3)
    order = list(sampler)
    assert len(order) == len(sampler) == 48
    assert all(sorted(order[i : i + 16]) == list(range(16)) for i in (0, 16, 32))  # three whole permutations
    sampler.set_epoch(1)
    assert list(sampler) != order


def test_the_default_model_is_one_everywhere():
    from tsattn._defaults import DEFAULT_MODEL
    from tsattn.training.pipeline import resolve_train_config
    from tsattn.workflows.benchmark import check_benchmark

    assert DEFAULT_MODEL == "inception_attention"
    assert TrainConfig().model == DEFAULT_MODEL
    assert AttentionClassifier()._train_config() == resolve_train_config(DEFAULT_MODEL, {"seed": 0})
    r = runner.invoke(app, ["train", "--help"])
    assert "inception_attention" in r.output
    r = runner.invoke(app, ["benchmark", "--help"])
    assert DEFAULT_MODEL in r.output
    assert DEFAULT_MODEL in check_benchmark([DEFAULT_MODEL, "minirocket"], 0)


def test_the_default_trains_the_same_weights_through_train_benchmark_and_the_estimator(tmp_path):
    # One fit path: the estimator's X is a training set, as a CLI --data file given --test-data is.
    X, y = _tiny(n=40, T=24)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.savez(tmp_path / "t.npz", X=X[:8], y=y[:8])
    small = ["--test-data", tmp_path / "t.npz", "--max-epochs", "1", "--seed", "1", "--quiet"]
    r = runner.invoke(app, ["train", "--data", tmp_path / "d.npz", "--out", tmp_path / "cli", *small])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        ["benchmark", "--data", tmp_path / "d.npz", "--models", "inception_attention", "--out", tmp_path / "b", *small],
    )
    assert r.exit_code == 0, r.output
    AttentionClassifier(max_epochs=1, random_state=1).fit(X, y).save(tmp_path / "est")
    cli = (tmp_path / "cli" / "weights.safetensors").read_bytes()
    assert (tmp_path / "b" / "runs" / "inception_attention" / "weights.safetensors").read_bytes() == cli
    assert (tmp_path / "est" / "weights.safetensors").read_bytes() == cli
    # the three record one training config: the recipe's, with the explicit budget kept as given
    configs = [
        json.loads(p.read_text())["train"]
        for p in (
            tmp_path / "cli" / "config.json",
            tmp_path / "b" / "runs" / "inception_attention" / "config.json",
            tmp_path / "est" / "config.json",
        )
    ]
    assert configs[0] == configs[1] == configs[2]
    assert configs[0]["model"] == "inception_attention" and configs[0]["ensemble"] == 3
    assert configs[0]["max_epochs"] == 1 and configs[0]["min_steps"] == 0


def test_ensemble_members_are_clipped_separately():
    from tsattn.models import create_network
    from tsattn.training.module import LitClassifier

    torch.manual_seed(0)
    lit = LitClassifier(create_network("cnn_attention", 1, 2, 20, ensemble=2))
    big, small = lit.net.members
    for p in big.parameters():
        p.grad = torch.full_like(p, 100.0)  # a huge gradient in one member
    for p in small.parameters():
        p.grad = torch.full_like(p, 1e-4)  # a small one in the other: its norm is far below the clip
    before = [p.grad.clone() for p in small.parameters()]
    lit.configure_gradient_clipping(None, gradient_clip_val=1.0)
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in big.parameters()]))
    assert norm == pytest.approx(1.0, rel=1e-4)  # the big member clipped to the norm
    for p, g in zip(small.parameters(), before, strict=True):
        assert torch.equal(p.grad, g)  # the other untouched: a shared clip would have shrunk it ~1e6 times
    single = LitClassifier(create_network("cnn_attention", 1, 2, 20))
    for p in single.net.parameters():
        p.grad = torch.full_like(p, 100.0)
    single.configure_gradient_clipping(None, gradient_clip_val=1.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in single.net.parameters()]))
    assert total == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("below, members", [(42, 1), (43, 3)])
def test_from_ensemble_below_training_series_one_network_trains_and_the_run_records_it(tmp_path, below, members):
    """60 series split 42 / 6 / 12: at 42 training series and ``ensemble_below`` 42 the rule gives one network."""
    from tsattn.data import SeriesDataset
    from tsattn.run import load_run
    from tsattn.workflows import train_run

    X, y = _tiny(n=60)
    data = SeriesDataset(X=X, y=y, class_names=["a", "b"])
    cfg = TrainConfig(model="cnn_attention", ensemble=3, ensemble_below=below, max_epochs=1)
    train_run(data, cfg, tmp_path / "run", progress=False, verbose=False, logger=None, plots=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["split"]["train"] == 42
    assert config["train"]["ensemble"] == members and config["train"]["ensemble_below"] == below
    net = load_run(tmp_path / "run").net
    assert len(getattr(net, "members", [net])) == members


def test_the_estimator_follows_the_same_training_size_rule():
    X, y = _tiny()
    clf = AttentionClassifier("cnn_attention", ensemble=2, max_epochs=1, ensemble_below=len(X) - 10).fit(X, y)
    assert clf.config_.ensemble == 1 and not hasattr(clf.model_, "members")


def test_an_explicit_ensemble_turns_the_recipes_training_size_rule_off(monkeypatch):
    from tsattn.training import recipes
    from tsattn.training.pipeline import resolve_train_config

    monkeypatch.setitem(recipes.RECIPES, "cnn", {**recipes.RECIPES["cnn"], "ensemble": 3, "ensemble_below": 100})
    assert resolve_train_config("cnn").ensemble_below == 100
    assert resolve_train_config("cnn", {"ensemble": 2}).ensemble_below == 0
    assert resolve_train_config("cnn", {"ensemble": 2, "ensemble_below": 50}).ensemble_below == 50


def test_the_default_recipe_trains_one_network_for_at_most_1000_steps_on_the_seed_configs_7000_series():
    from tsattn.training.pipeline import for_training_size, resolve_train_config
    from tsattn.training.trainer import budget_summary

    cfg = resolve_train_config("inception_attention")
    assert for_training_size(cfg, 1599).ensemble == 3
    big = for_training_size(cfg, 7000)
    assert big.ensemble == 1
    assert budget_summary(big, 7000, 1000)["max_optimizer_steps"] == 1000
    # below the rule's size, 10 epochs of 16-series steps never reach the cap: the ensemble is never cut short
    small = budget_summary(cfg, 1599, 200)
    assert small["max_epochs"] * small["steps_per_epoch"] <= cfg.max_steps
