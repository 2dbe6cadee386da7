"""Every registered model goes through the same checks."""

import numpy as np
import pytest
import torch

from tsattn import ConfigError
from tsattn.models import create_model, get_model_class, list_models
from tsattn.models._base import classification_loss, logits_to_proba

MODELS = list_models()


def _x(B=4, C=1, T=40, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(B, C, T)).astype(np.float32))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("n_classes, n_channels", [(2, 1), (3, 2)])
def test_forward_contract(name, n_classes, n_channels):
    torch.manual_seed(0)
    net = create_model(name, n_channels=n_channels, n_classes=n_classes, seq_len=40)
    logits, att = net(_x(C=n_channels))
    assert logits.shape == (4, 1 if n_classes == 2 else n_classes)
    assert torch.isfinite(logits).all()
    proba = logits_to_proba(logits)
    assert proba.shape == (4, n_classes)
    torch.testing.assert_close(proba.sum(-1), torch.ones(4))
    if get_model_class(name).has_attention:
        assert att.shape == (4, 40)
        assert (att >= 0).all()
        torch.testing.assert_close(att.sum(-1), torch.ones(4))
    else:
        assert att is None


@pytest.mark.parametrize("name", MODELS)
def test_backward_pass_reaches_every_parameter(name):
    torch.manual_seed(0)
    net = create_model(name, n_channels=1, n_classes=2, seq_len=40)
    net.fit_lengths(np.array([30, 40, 50]))  # variable lengths: the length offsets are live too
    for pname, p in net.named_parameters():
        if pname.endswith("attention.score.weight") and not p.any():
            # A scoring layer that starts at zero (uniform attention) passes no gradient to the projection
            # before its first step; move it off zero, as that step would, so that the whole graph is checked.
            with torch.no_grad():
                p.normal_(0.0, 0.1)
    logits, _ = net(_x())
    classification_loss(logits, torch.tensor([0, 1, 0, 1])).backward()
    for pname, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        if pname.endswith("attention.score.bias"):
            # One bias added to every step's score: the softmax over time is blind to it, so its gradient is
            # 0 in exact arithmetic (its value on a given machine is rounding noise, sometimes exactly 0).
            assert p.grad.abs().sum() < 1e-6, pname
            continue
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", [m for m in MODELS if get_model_class(m).variable_length])
@pytest.mark.parametrize("lengths", [None, np.array([20, 30, 45])], ids=["equal-lengths", "variable-lengths"])
def test_padding_gets_zero_attention_and_does_not_change_the_prediction(name, lengths):
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network(name, n_channels=1, n_classes=2, seq_len=40).eval()
    net.fit_lengths(lengths)
    if lengths is not None:  # live length offsets: they must see the series' own length, not the padded one
        torch.nn.init.normal_(net.length.weight)
    x = _x(B=2, T=30)
    padded = torch.cat([x, torch.full((2, 1, 10), 123.0)], dim=-1)  # garbage in the padding
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[:, :30] = True
    with torch.no_grad():
        lo_ref, att_ref = net(x)
        lo_pad, att_pad = net(padded, mask)
    torch.testing.assert_close(lo_pad, lo_ref, atol=1e-5, rtol=0)
    if get_model_class(name).has_attention:
        assert (att_pad[:, 30:] == 0.0).all()
        torch.testing.assert_close(att_pad[:, :30], att_ref, atol=1e-5, rtol=0)


def test_lstm_attention_is_the_seed_architecture():
    net = create_model("lstm_attention", n_channels=1, n_classes=2, seq_len=500)
    assert net.lstm.input_size == 1 and net.lstm.hidden_size == 32 and net.lstm.bidirectional
    assert (net.attention.proj.in_features, net.attention.proj.out_features) == (64, 64)
    assert (net.attention.score.in_features, net.attention.score.out_features) == (64, 1)
    assert (net.head.in_features, net.head.out_features) == (64, 1)


def test_unknown_model_lists_what_exists():
    with pytest.raises(ConfigError, match=r"unknown model 'lstm_atention'.*Did you mean 'lstm_attention'.*Available"):
        create_model("lstm_atention", 1, 2, 10)


def test_losses():
    logits = torch.tensor([[2.0], [-1.0]])
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits.squeeze(-1)), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(classification_loss(logits, torch.tensor([1, 0])), expected)
    multi = torch.tensor([[2.0, 0.0, -1.0]])
    torch.testing.assert_close(
        classification_loss(multi, torch.tensor([0])), torch.nn.functional.cross_entropy(multi, torch.tensor([0]))
    )


def _easy_set(n=160, T=48, seed=0):
    """Noise; class 1 carries a bump at a random place. Every model should learn it in a few epochs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, size=(n, 1, T)).astype(np.float32)
    y = np.arange(n) % 2
    for i in np.flatnonzero(y):
        s = rng.integers(0, T - 8)
        X[i, 0, s : s + 8] += 2.0
    return X, y


@pytest.mark.parametrize("name", MODELS)
def test_tiny_fit_beats_chance(name):
    from tsattn.config import TrainConfig
    from tsattn.inference import predict_arrays
    from tsattn.training.data import ArrayDataset
    from tsattn.training.trainer import fit, seed_everything

    X, y = _easy_set()
    Xv, yv = _easy_set(seed=1)
    seed_everything(0)
    net = create_model(name, n_channels=1, n_classes=2, seq_len=48)
    cfg = TrainConfig(model=name, max_epochs=12, batch_size=16, lr=3e-3, patience=12)
    fit(net, ArrayDataset(X, y), ArrayDataset(Xv, yv), cfg, progress=False)
    proba, _ = predict_arrays(net, Xv)
    assert (proba.argmax(1) == yv).mean() >= 0.8


@pytest.mark.parametrize("name", [m for m in MODELS if get_model_class(m).variable_length])
def test_length_offsets_are_exactly_zero_on_equal_length_data(name):
    """Equal lengths (None, or all alike): the offsets add 0.0 whatever their weights, so nothing changes."""
    from tsattn.layers import LengthLogits
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network(name, n_channels=1, n_classes=3, seq_len=40)
    assert isinstance(net.length, LengthLogits) and not net.length.weight.any()  # starts at zero
    for lengths in (None, np.array([40, 40, 40])):
        net.fit_lengths(lengths)
        torch.nn.init.normal_(net.length.weight)
        for T in (40, 17, 90):
            assert (net.length(_x(T=T)) == 0.0).all()
    net.fit_lengths(np.array([20, 40]))
    assert net.length.stats.tolist() == pytest.approx([np.log(800) / 2, np.log(2) / 2])
    assert (net.length(_x(T=40)) != 0.0).all()


def test_length_offsets_learn_which_lengths_mean_which_class():
    """Noise whose class is only its length (short, middle, long): each length range gets its class."""
    from tsattn.estimator import AttentionClassifier

    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    lengths = np.choose(y, [rng.integers(12, 18, 90), rng.integers(24, 30, 90), rng.integers(36, 42, 90)])
    X = [rng.normal(size=n).astype(np.float32) for n in lengths]
    net = AttentionClassifier("cnn_attention", max_epochs=15, batch_size=16, scaling="znorm").fit(X, y).model_
    with torch.no_grad():
        favoured = [int(net.length(torch.zeros(1, 1, n)).argmax()) for n in (15, 27, 39)]
    assert favoured == [0, 1, 2]


def test_level_features_are_each_channels_masked_mean_and_log_std():
    from tsattn.layers import LevelLogits
    from tsattn.layers.level import STD_FLOOR

    x = _x(B=3, C=2, T=30).double()
    x[:, :, 20:] = 99.0  # padding, masked out below
    mask = torch.zeros(3, 30, dtype=torch.bool)
    mask[:, :20] = True
    f = LevelLogits.features(x, mask).numpy()
    real = x[:, :, :20].numpy()
    np.testing.assert_allclose(f[:, :2], real.mean(-1), atol=1e-12)
    np.testing.assert_allclose(f[:, 2:], np.log(real.std(-1) + STD_FLOOR), atol=1e-12)


def test_level_offsets_are_off_where_the_training_series_share_one_level_and_scale():
    """z-normalised data (UCR's GunPoint spreads its means and stds by ~1e-9): exactly 0, whatever the weights."""
    from tsattn.layers import LevelLogits

    rng = np.random.default_rng(0)
    layer = LevelLogits(n_channels=2, n_outputs=3)
    torch.nn.init.normal_(layer.weight)
    flat = np.column_stack(
        [rng.normal(0, 1e-9, 50), rng.normal(5, 1.0, 50), rng.normal(0, 1e-9, 50), rng.normal(0, 1e-9, 50)]
    )  # only channel 2's mean varies
    layer.fit(flat)
    assert layer.stats[1].tolist()[0] == 0 and layer.stats[1].tolist()[1] > 0
    assert layer.stats[1].tolist()[2:] == [0, 0]
    x = torch.zeros(4, 2, 30)
    x[:, 1] = torch.arange(4.0)[:, None] + 3.0  # channel 2 at levels 3..6: its bumps are live
    assert (layer(x) != 0).any()
    x[:, 1] = 0.0
    x[:, 0] = torch.arange(4.0)[:, None]  # channel 1 moves, but its features are off
    z = layer.fit(np.zeros((50, 4)))(x)  # every feature off
    assert (z == 0.0).all()
    with pytest.raises(ValueError, match=r"features must have shape \(n, 4\)"):
        layer.fit(np.zeros((5, 3)))


def test_znorm_level_equals_znorm_bit_for_bit_on_z_normalised_data():
    """The offsets are off, draw no random numbers and stay frozen: same weights, same predictions.

    On two threads too: a live zero gradient would enter gradient clipping's
    total norm, whose sum is then rounded differently (weights 4e-3 apart
    after 3 epochs here before the offsets were frozen while off).
    """
    from tsattn.estimator import AttentionClassifier

    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = rng.normal(size=(40, 32)) + np.where(y[:, None] == 1, np.sin(np.arange(32) / 3), 0)
    X = ((X - X.mean(1, keepdims=True)) / X.std(1, keepdims=True)).astype(np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        plain = AttentionClassifier("cnn_attention", max_epochs=3, batch_size=8, scaling="znorm").fit(X, y)
        level = AttentionClassifier("cnn_attention", max_epochs=3, batch_size=8, scaling="znorm_level").fit(X, y)
    finally:
        torch.set_num_threads(threads)
    assert (level.model_.level.stats[1] == 0).all() and not level.model_.level.weight.requires_grad
    body = level.model_.body.state_dict()
    for key, value in plain.model_.body.state_dict().items():
        assert torch.equal(body[key], value), key
    assert torch.equal(level.model_.length.weight, plain.model_.length.weight)
    np.testing.assert_array_equal(level.predict_proba(X), plain.predict_proba(X))


def test_level_offsets_learn_a_class_that_only_the_level_tells():
    """Noise at level 0 or 3: z-normalisation erases the class, the level offsets recover it."""
    from tsattn.estimator import AttentionClassifier

    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = (rng.normal(size=(120, 24)) + 3.0 * y[:, None]).astype(np.float32)
    train, test = slice(0, 80), slice(80, None)
    scores = {
        s: AttentionClassifier("cnn_attention", max_epochs=6, batch_size=16, scaling=s)
        .fit(X[train], y[train])
        .score(X[test], y[test])
        for s in ("znorm", "znorm_level")
    }
    assert scores["znorm"] <= 0.75 and scores["znorm_level"] >= 0.95, scores


def test_level_offsets_see_only_the_real_steps_of_a_padded_series():
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network("cnn_attention", n_channels=1, n_classes=2, seq_len=40, views=2, level_offsets=True).eval()
    net.fit_levels([(_x(B=8, C=2, T=40) * torch.arange(1.0, 9.0)[:, None, None], None)])
    torch.nn.init.normal_(net.level.weight)
    x = _x(B=2, C=2, T=30)
    padded = torch.cat([x, torch.full((2, 2, 10), 123.0)], dim=-1)
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[:, :30] = True
    with torch.no_grad():
        (lo_ref, att_ref), (lo_pad, att_pad) = net(x), net(padded, mask)
        assert (net.level(x[:, 1:]) != 0).all()
    torch.testing.assert_close(lo_pad, lo_ref, atol=1e-5, rtol=0)
    assert (att_pad[:, 30:] == 0.0).all()
    if att_ref is not None:
        torch.testing.assert_close(att_pad[:, :30], att_ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_takes_znorm_level_and_keeps_its_own_attention(name):
    """OffsetNet: the body sees the first C channels only; the offsets move the logits, never the attention."""
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network(name, n_channels=2, n_classes=3, seq_len=40, views=2, level_offsets=True).eval()
    assert (net.name, net.n_channels, net.has_attention) == (name, 2, get_model_class(name).has_attention)
    x = _x(C=4)
    net.fit_levels([(x * torch.arange(1.0, 5.0)[:, None, None], None)])
    torch.nn.init.normal_(net.level.weight)
    with torch.no_grad():
        logits, att = net(x)
        body_logits, body_att = net.body(x[:, :2])
        x2 = x.clone()
        x2[:, 2:] += 5.0  # another level: other logits, the same attention
        logits2, att2 = net(x2)
    torch.testing.assert_close(logits - body_logits, net.level(x[:, 2:]).detach())
    assert not torch.allclose(logits2, logits)
    if att is not None:
        assert torch.equal(att, body_att) and torch.equal(att2, att)


@pytest.mark.parametrize("name", ["inception_attention", "lstm_attention"])
def test_inference_gives_the_same_outputs_however_it_is_batched(name):
    """The CPU default batch (inference_batch) and any other split agree, with ragged lengths too."""
    from tsattn.inference import inference_batch, predict_arrays, predict_logits

    T = 2000
    torch.manual_seed(0)
    net = create_model(name, n_channels=2, n_classes=3, seq_len=T)
    n = inference_batch(torch.device("cpu"), T) + 5  # two default batches, the second short
    X = np.random.default_rng(0).standard_normal((n, 2, T)).astype(np.float32)
    lengths = np.random.default_rng(1).integers(T // 2, T + 1, n)
    X *= (np.arange(T)[None, :] < lengths[:, None])[:, None, :]
    p_default, a_default = predict_arrays(net, X, lengths=lengths)
    p_small, a_small = predict_arrays(net, X, lengths=lengths, batch_size=7)
    np.testing.assert_allclose(p_default, p_small, atol=1e-5)
    np.testing.assert_allclose(a_default, a_small, atol=1e-5)
    np.testing.assert_allclose(
        predict_logits(net, X, lengths=lengths), predict_logits(net, X, lengths=lengths, batch_size=n), atol=1e-5
    )


def test_one_forward_pass_gives_an_ensembles_probabilities_and_its_members_mean_logits():
    from tsattn.inference import predict_arrays, predict_logits, predict_outputs
    from tsattn.models import create_network

    torch.manual_seed(0)
    net = create_network("inception_attention", n_channels=1, n_classes=3, seq_len=40, ensemble=2)
    X = np.random.default_rng(0).standard_normal((5, 1, 40)).astype(np.float32)
    lengths = np.array([40, 31, 40, 25, 12])
    proba, logits = predict_outputs(net, X, lengths=lengths)
    np.testing.assert_array_equal(proba, predict_arrays(net, X, lengths=lengths)[0])
    np.testing.assert_array_equal(logits, predict_logits(net, X, lengths=lengths))
    with torch.no_grad():
        members = [
            m(torch.from_numpy(X), torch.from_numpy(np.arange(40)[None, :] < lengths[:, None]))[0] for m in net.members
        ]
    np.testing.assert_allclose(logits, torch.stack(members).mean(0).numpy(), atol=1e-5)
    assert not np.allclose(np.log(proba), logits, atol=1e-3)  # not the logits of the mean probability
