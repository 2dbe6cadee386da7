"""Poolings with a class map (MILLET's conjunctive pooling; average pooling and its CAM): the contract, the class
map, and where it points."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tsattn.cli import app
from tsattn.layers import AttentionAveragePooling, AveragePooling, ConjunctivePooling

runner = CliRunner()


def test_the_logits_are_the_mean_over_real_steps_of_gate_times_step_logits():
    torch.manual_seed(0)
    pool = ConjunctivePooling(in_dim=5, n_outputs=3, attn_dim=4, positional=False).eval()
    h = torch.randn(2, 7, 5)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    logits, attention, class_map = pool(h, mask)
    assert logits.shape == (2, 3) and attention.shape == (2, 7) and class_map.shape == (2, 3, 7)
    # independently, from the layer's weights
    gate = torch.sigmoid(torch.tanh(h @ pool.proj.weight.T + pool.proj.bias) @ pool.score.weight.T + pool.score.bias)
    step_logits = h @ pool.classifier.weight.T + pool.classifier.bias  # (2, 7, 3)
    for b, n in enumerate((7, 4)):
        expected = (gate[b, :n] * step_logits[b, :n]).mean(0)
        torch.testing.assert_close(logits[b], expected)
        torch.testing.assert_close(attention[b, :n], gate[b, :n, 0] / gate[b, :n, 0].sum())
    assert torch.all((gate >= 0) & (gate <= 1))
    assert torch.all(attention[1, 4:] == 0) and torch.all(class_map[1, :, 4:] == 0)  # padding: exactly zero
    torch.testing.assert_close(attention.sum(-1), torch.ones(2))


def test_average_pooling_is_a_linear_head_on_the_mean_of_the_real_steps_and_its_cam_sums_to_it():
    torch.manual_seed(0)
    pool = AveragePooling(in_dim=5, n_outputs=3).eval()
    h = torch.randn(2, 7, 5)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    logits, attention, class_map = pool(h, mask)
    for b, n in enumerate((7, 4)):  # independently: the head on the mean feature vector
        torch.testing.assert_close(logits[b], pool.classifier(h[b, :n].mean(0)))
        torch.testing.assert_close(attention[b, :n], torch.full((n,), 1 / n))
        step_logits = h[b, :n] @ pool.classifier.weight.T + pool.classifier.bias  # (n, 3)
        torch.testing.assert_close(class_map[b, :, :n], step_logits.T / n)
    assert torch.all(attention[1, 4:] == 0) and torch.all(class_map[1, :, 4:] == 0)  # padding: exactly zero
    torch.testing.assert_close(class_map.sum(-1), logits)


def test_attention_and_average_pooling_add_two_heads_and_their_class_map_splits_the_logits():
    torch.manual_seed(0)
    pool = AttentionAveragePooling(in_dim=5, n_outputs=3, attn_dim=4).eval()
    torch.nn.init.normal_(pool.score.weight)  # attention that is not uniform
    h = torch.randn(2, 7, 5)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    logits, attention, class_map = pool(h, mask)
    att = pool.attention
    for b, n in enumerate((7, 4)):  # independently: softmax of the scores, two heads, their sum
        scores = torch.tanh(h[b, :n] @ att.proj.weight.T + att.proj.bias) @ att.score.weight.T + att.score.bias
        a = torch.softmax(scores[:, 0], 0)
        torch.testing.assert_close(attention[b, :n], a)
        expected = pool.head(a @ h[b, :n]) + h[b, :n].mean(0) @ pool.average.weight.T
        torch.testing.assert_close(logits[b], expected)
    assert not torch.allclose(attention[0], torch.full((7,), 1 / 7))
    assert torch.all(attention[1, 4:] == 0) and torch.all(class_map[1, :, 4:] == 0)  # padding: exactly zero
    torch.testing.assert_close(class_map.sum(-1), logits)
    torch.testing.assert_close(attention.sum(-1), torch.ones(2))
    from tsattn.models import create_model

    net = create_model("inception_attention", 1, 2, 50, pooling="attention_average").eval()
    with (
        torch.no_grad()
    ):  # the default model starts its attention uniform (InceptionTime's pooling), as under "attention"
        _, start = net(torch.randn(3, 1, 50))
    torch.testing.assert_close(start, torch.full((3, 50), 1 / 50))


@pytest.mark.parametrize("pooling", ["conjunctive", "average", "attention_average"])
@pytest.mark.parametrize("model", ["cnn_attention", "inception_attention"])
def test_a_class_map_model_keeps_the_attention_contract_and_its_class_map_sums_to_its_logits(model, pooling):
    from tsattn.models import create_model

    torch.manual_seed(0)
    net = create_model(model, n_channels=2, n_classes=3, seq_len=60, pooling=pooling).eval()
    x = torch.randn(3, 2, 60)
    mask = torch.arange(60)[None, :] < torch.tensor([[60], [45], [31]])
    with torch.no_grad():
        logits, attention = net(x, mask)
        class_map = net.class_relevance(x, mask)
    assert class_map.shape == (3, 3, 60)
    torch.testing.assert_close(class_map.sum(-1), logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(attention.sum(-1), torch.ones(3))
    assert torch.all(attention[~mask] == 0) and torch.all(class_map.transpose(1, 2)[~mask] == 0)
    assert create_model(model, 2, 3, 60).class_relevance(x) is None  # additive attention has no class map


def test_an_unknown_pooling_is_refused_in_one_line():
    from tsattn._errors import ConfigError
    from tsattn.models import create_model

    with pytest.raises(
        ConfigError, match=r"^pooling: must be one of attention, conjunctive, average, attention_average; got 'max'$"
    ):
        create_model("cnn_attention", 1, 2, 30, pooling="max")


def test_an_ensemble_class_map_is_the_mean_of_its_members():
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network("cnn_attention", 1, 2, 40, ensemble=2, pooling="conjunctive").eval()
    x = torch.randn(4, 1, 40)
    with torch.no_grad():
        maps = [m.class_relevance(x) for m in net.members]
        torch.testing.assert_close(net.class_relevance(x), (maps[0] + maps[1]) / 2)


@pytest.mark.parametrize("pooling", ["conjunctive", "average", "attention_average"])
def test_where_only_one_step_carries_the_class_the_class_map_peaks_there(pooling):
    from tsattn.evaluation.explain import explain
    from tsattn.models import create_model

    rng = np.random.default_rng(0)
    n, T, where = 256, 40, 23
    y = np.arange(n) % 2
    X = rng.normal(scale=0.3, size=(n, 1, T)).astype(np.float32)
    X[:, 0, where] = np.where(y == 1, 2.0, -2.0)
    torch.manual_seed(0)
    net = create_model("cnn_attention", 1, 2, T, pooling=pooling, channels=(8,), dilations=(1,), kernel_size=3, pool=1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(X), torch.from_numpy(y).float()
    for _ in range(150 if pooling == "conjunctive" else 300):  # an average dilutes the one step 40 times
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt)[0][:, 0], yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    assert loss.item() < 0.1
    R = explain(net, X, method="class_map")
    assert np.mean(np.abs(R.argmax(1) - where) <= 1) >= 0.95  # a kernel of 3 sees the step from its neighbours


@pytest.mark.parametrize("pooling", ["conjunctive", "average", "attention_average"])
def test_train_takes_model_params_and_explains_and_scores_the_class_map(tmp_path, pooling):
    cfg = {
        "num_points": 64,
        "dataset_size": 160,
        "normal_anomalous_ratio": 0.5,
        "min_freq": 1,
        "max_freq": 2,
        "step_freq": 0.1,
        "min_amp": 1,
        "max_amp": 2,
        "step_amp": 0.1,
        "min_loc": 0.1,
        "max_loc": 0.6,
        "step_loc": 0.05,
        "min_length": 0.2,
        "max_length": 0.3,
        "step_length": 0.05,
    }
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    run = tmp_path / "run"
    args = ["train", "--config", str(tmp_path / "c.json"), "--out", str(run), "--model", "cnn_attention"]
    r = runner.invoke(app, [*args, "--max-epochs", "2", "--model-param", f"pooling={pooling}", "--quiet"])
    assert r.exit_code == 0, r.output
    config = json.loads((run / "config.json").read_text())
    assert config["model_params"] == {"pooling": pooling}
    m = json.loads((run / "metrics.json").read_text())
    assert {"pointing_game", "span_iou"} <= set(m["localization"]["class_map"])
    assert "class_map" in m["faithfulness"]
    data = tmp_path / "d.npz"
    from tsattn.config import DatasetConfig
    from tsattn.data import generate

    ds = generate(DatasetConfig(**cfg), seed=1)
    np.savez(data, X=ds.X, y=np.asarray(ds.class_names)[ds.y])
    r = runner.invoke(
        app,
        [
            "explain",
            "--run",
            str(run),
            "--data",
            str(data),
            "--index",
            "0",
            "--method",
            "class_map",
            "--out",
            str(tmp_path / "e.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "e.png").stat().st_size > 0
    # without --method: the attention, except under average pooling, whose attention is uniform by construction
    r = runner.invoke(app, ["explain", "--run", str(run), "--data", str(data), "--out", str(tmp_path / "d.png")])
    assert r.exit_code == 0, r.output
    assert f"Faithfulness of {'class_map' if pooling == 'average' else 'attention'} here" in r.output
    r = runner.invoke(app, ["report", str(run)])
    assert r.exit_code == 0, r.output
    assert "class map: pointing game" in (run / "report.html").read_text()
    r = runner.invoke(app, ["evaluate", "--run", str(run), "--data", str(data)])
    assert r.exit_code == 0, r.output


def test_bad_model_params_fail_in_one_line_without_a_traceback(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 1, 16)).astype(np.float32)
    np.savez(tmp_path / "d.npz", X=X, y=np.arange(20) % 2)
    base = ["train", "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "r"), "--model", "cnn_attention"]
    r = runner.invoke(app, [*base, "--model-param", "pooling"])
    assert r.exit_code != 0 and "--model-param: must be KEY=VALUE; got 'pooling'" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, [*base, "--model-param", "pooling=max"])
    assert (
        r.exit_code != 0
        and "pooling: must be one of attention, conjunctive, average, attention_average; got 'max'" in r.output
    )
    assert not (tmp_path / "r" / "weights.safetensors").exists()


@pytest.mark.parametrize("pooling", ["conjunctive", "average", "attention_average"])
def test_onnx_export_gives_the_class_map_and_matches_the_network(tmp_path, pooling):
    pytest.importorskip("onnxruntime")
    from tsattn.estimator import AttentionClassifier
    from tsattn.workflows.export import export_onnx

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2, 24)).astype(np.float32)
    y = np.arange(40) % 3
    X[y == 1, 0, 5:9] += 2
    clf = AttentionClassifier(model="cnn_attention", max_epochs=1, model_params={"pooling": pooling}).fit(X, y)
    clf.save(tmp_path / "run")
    report = export_onnx(tmp_path / "run", tmp_path / "m.onnx")
    assert report["outputs"] == ["probabilities", "attention", "class_map"]
    assert report["max_abs_diff_class_map"] <= 1e-5
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    proba, attention, class_map = sess.run(None, {"series": X[:5]})
    assert class_map.shape == (5, 3, 24) and np.allclose(attention.sum(1), 1, atol=1e-5)
    assert np.allclose(proba.sum(1), 1, atol=1e-5)


def test_an_attention_floor_mixes_in_average_pooling_and_keeps_the_attention_contract():
    from tsattn._errors import ConfigError
    from tsattn.layers import AdditiveAttention
    from tsattn.models import create_model

    torch.manual_seed(0)
    plain = AdditiveAttention(5, 4).eval()
    floored = AdditiveAttention(5, 4, floor=0.25).eval()
    floored.load_state_dict(plain.state_dict())
    h = torch.randn(2, 6, 5)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    (_, a0), (c1, a1) = plain(h, mask), floored(h, mask)
    uniform = mask.float() / mask.float().sum(-1, keepdim=True)
    torch.testing.assert_close(a1, 0.75 * a0 + 0.25 * uniform)  # independently: the mix
    torch.testing.assert_close(c1, torch.bmm(a1[:, None], h)[:, 0])  # the context pools with the mix
    torch.testing.assert_close(a1.sum(-1), torch.ones(2))
    assert torch.all(a1[1, 4:] == 0) and torch.all(a1[mask] >= 0.25 / 6 - 1e-7)
    net = create_model("inception_attention", 1, 2, 50, attention_floor=0.5).eval()
    with torch.no_grad():
        _, attention = net(torch.randn(3, 1, 50))
    assert float(attention.min()) >= 0.5 / 50 - 1e-7
    with pytest.raises(ConfigError, match=r"^attention_floor: must be in \[0, 1\); got 1.0$"):
        create_model("cnn_attention", 1, 2, 30, attention_floor=1.0)
    with pytest.raises(ConfigError, match=r"^attention_floor: applies to pooling='attention' only"):
        create_model("cnn_attention", 1, 2, 30, attention_floor=0.5, pooling="average")


def test_attention_dropout_hides_one_block_of_real_steps_in_training_only():
    from tsattn._errors import ConfigError
    from tsattn.layers import AdditiveAttention
    from tsattn.models import create_model

    torch.manual_seed(0)
    plain = AdditiveAttention(5, 4)
    dropped = AdditiveAttention(5, 4, dropout=0.25)
    dropped.load_state_dict(plain.state_dict())
    h = torch.randn(2, 8, 5)
    mask = torch.tensor([[True] * 8, [True] * 4 + [False] * 4])
    _, a0 = plain.eval()(h, mask)
    c1, a1 = dropped.train()(h, mask)
    hidden = (a1 == 0) & mask
    assert hidden.sum(-1).tolist() == [2, 1]  # a quarter of 8 and of 4 real steps
    for row in hidden:  # one block of consecutive steps
        idx = torch.nonzero(row)[:, 0]
        assert int(idx.max() - idx.min()) + 1 == len(idx)
    assert torch.all(a1[1, 4:] == 0)  # padding stays out
    kept = mask & ~hidden
    expected = torch.where(kept, a0, torch.zeros_like(a0))  # the rest share the weight, in the same ratios
    torch.testing.assert_close(a1, expected / expected.sum(-1, keepdim=True))
    torch.testing.assert_close(c1, torch.bmm(a1[:, None], h)[:, 0])
    torch.testing.assert_close(dropped.eval()(h, mask)[1], a0)  # evaluation: nothing hidden
    _, one = dropped.train()(h[:1, :1], None)  # a single step is never hidden
    assert one.tolist() == [[1.0]]
    net = create_model("inception_attention", 1, 2, 50, attention_dropout=0.2).train()
    torch.manual_seed(1)
    first = net(torch.randn(2, 1, 50))[1]
    torch.manual_seed(1)
    assert torch.equal(net(torch.randn(2, 1, 50))[1], first)  # seeded: the same blocks
    with pytest.raises(ConfigError, match=r"^attention_dropout: must be in \[0, 1\); got 1.0$"):
        create_model("cnn_attention", 1, 2, 30, attention_dropout=1.0)
    with pytest.raises(ConfigError, match=r"^attention_dropout: applies to pooling='attention' only"):
        create_model("inception_attention", 1, 2, 30, attention_dropout=0.1, pooling="conjunctive")
