"""The training objective: the attention penalties and label smoothing."""

import re

import numpy as np
import pytest
import torch

from tsattn import AttentionClassifier, ConfigError
from tsattn.config import DatasetConfig, TrainConfig
from tsattn.training.module import attention_variation


def test_attention_variation_exact_values():
    T = 20
    one_hot = torch.zeros(1, T)
    one_hot[0, 7] = 1.0
    even = torch.zeros(1, T)
    even[0, 5:15] = 0.1  # 10 steps
    flat = torch.full((1, T), 1 / T)
    assert attention_variation(one_hot).item() == pytest.approx(2 * T)
    assert attention_variation(even).item() == pytest.approx(2 / 0.5)  # even over half the series
    assert attention_variation(flat).item() == pytest.approx(0.0)
    # the batch mean
    assert attention_variation(torch.cat([one_hot, flat])).item() == pytest.approx(T)
    # the same shape at twice the length scores the same
    assert attention_variation(even.repeat_interleave(2, dim=1) / 2).item() == pytest.approx(4.0)


def test_attention_variation_ignores_padding():
    att = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False, False]])
    assert attention_variation(att).item() == pytest.approx(0.5 * 4)  # the drop into the padding
    assert attention_variation(att, mask).item() == pytest.approx(0.0)


def test_attention_smoothing_must_not_be_negative():
    with pytest.raises(ConfigError, match="attention_smoothing"):
        TrainConfig.from_dict({"attention_smoothing": -1.0})


def test_smoothing_spreads_the_attention_over_the_segment():
    """The recipe's weight evens the attention out inside the segment; far too much flattens it everywhere."""
    from tsattn.data import generate
    from tsattn.evaluation.localization import mass_inside

    from .conftest import TINY

    ds = generate(DatasetConfig(**TINY | {"dataset_size": 400}), seed=0)
    X, y = ds.X, ds.y
    start, end = ds.extras["segment_start"][300:], ds.extras["segment_end"][300:]
    variation, inside, accuracy = {}, {}, {}
    for weight in (0.0, 0.002, 0.03):
        clf = AttentionClassifier(
            "cnn_attention", max_epochs=10, batch_size=32, lr=5e-3, attention_smoothing=weight
        ).fit(X[:300], y[:300])
        att = clf.explain(X[300:])
        variation[weight] = attention_variation(torch.from_numpy(att.astype(np.float32))).item()
        inside[weight], uniform = mass_inside(att, start, end)
        accuracy[weight] = clf.score(X[300:], y[300:])
    assert variation[0.002] < 0.6 * variation[0.0], variation
    # Smoothing may cost a little mass inside: on CPU it costs none; on an H100 (torch 2.11, same seed)
    # 0.797 against 0.827.
    assert inside[0.002] >= inside[0.0] - 0.05 and inside[0.002] > uniform + 0.2, inside
    assert accuracy[0.002] >= accuracy[0.0] - 0.02, accuracy
    # Too strong a penalty: the network pools evenly and the attention stops pointing anywhere,
    # which the localization scores show (mass inside falls to what uniform attention gets).
    assert inside[0.03] < uniform + 0.05, inside


def test_both_scaling_gives_each_channel_z_normalised_and_standardised():
    from tsattn.training.scaling import Scaler

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(6, 2, 9)) * np.array([1.0, 5.0])[:, None] + np.array([0.0, 3.0])[:, None]).astype(np.float32)
    X[0, :, 6:] = np.nan  # padding of a shorter series
    both = Scaler("both", gain=2.0).fit(X)
    out = both.transform(X)
    assert out.shape == (6, 4, 9)
    np.testing.assert_array_equal(out[:, :2], Scaler("znorm", gain=2.0).fit(X).transform(X))
    np.testing.assert_array_equal(out[:, 2:], Scaler("standard", gain=2.0).fit(X).transform(X))
    assert (out[0, :, 6:] == 0.0).all()
    assert not np.allclose(out[1:, 3].mean(-1), 0, atol=0.1)  # each series' level survives in the standardised half
    back = Scaler.from_dict(both.to_dict())
    np.testing.assert_array_equal(back.transform(X), out)
    # znorm_level hands the network the same 2C channels; LevelNet routes the halves apart.
    np.testing.assert_array_equal(Scaler("znorm_level", gain=2.0).fit(X).transform(X), out)


@pytest.mark.parametrize("ensemble", [1, 2])
def test_the_attention_penalty_is_its_own_history_column_and_padding_keeps_zero_attention(ensemble):
    """Variable-length series under the smoothing penalty: the penalty is logged apart from the loss, and the
    padded steps get exactly no attention after training, from one network or an ensemble."""
    rng = np.random.default_rng(0)
    full = rng.normal(size=(120, 1, 48)).astype(np.float32)
    y = (full[:, 0, 4:12].mean(1) > 0).astype(int)
    lengths = rng.integers(24, 49, size=len(full))
    X = [series[:, :n] for series, n in zip(full, lengths, strict=True)]  # a list of series of their own lengths
    clf = AttentionClassifier("cnn_attention", max_epochs=3, ensemble=ensemble, attention_smoothing=0.01).fit(X, y)
    penalties = [row["train_attention_penalty"] for row in clf.history_]
    assert len(penalties) == len(clf.history_) >= 1 and all(p > 0 for p in penalties), penalties
    att = clf.explain(X)
    pad = np.arange(48)[None, :] >= lengths[:, None]
    assert (att[pad] == 0).all() and pad.any()
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)

    plain = AttentionClassifier("cnn_attention", max_epochs=2, ensemble=ensemble, attention_smoothing=0.0).fit(X, y)
    assert [row["train_attention_penalty"] for row in plain.history_] == [0.0, 0.0]
    # Against the run without a penalty: under a penalty far larger than the loss (about 60 in the first epoch),
    # train_loss stays the classification loss, within a few hundredths of the plain run's from the same weights.
    heavy = AttentionClassifier("cnn_attention", max_epochs=2, ensemble=ensemble, attention_smoothing=20.0).fit(X, y)
    first, base = heavy.history_[0], plain.history_[0]
    assert first["train_attention_penalty"] > 10 * base["train_loss"]
    assert abs(first["train_loss"] - base["train_loss"]) < 0.05, (first, base)


def test_a_clipped_scaler_limits_the_input_to_clip_times_gain_and_its_torch_form_agrees(monkeypatch):
    import torch

    from tsattn.training import recipes
    from tsattn.training.pipeline import resolve_train_config
    from tsattn.training.scaling import Scaler

    rng = np.random.default_rng(1)
    X = np.cumsum(rng.normal(size=(3, 1, 40)), axis=-1).astype(np.float32)
    X[:, :, 20:] += 50.0  # one jump: a spike of first differences
    X[2, :, 30:] = np.nan
    plain = Scaler("diff", gain=4.0).fit(X).transform(X)
    assert np.abs(plain).max() > 20  # the spike, unclipped
    scaler = Scaler("diff", gain=4.0, clip=1.5).fit(X)
    out = scaler.transform(X)
    np.testing.assert_allclose(out, np.clip(plain, -6.0, 6.0))
    assert (out[2, :, 30:] == 0.0).all()  # padding stays 0
    mask = torch.from_numpy(~np.isnan(X[:, 0, :]))
    torch_out = scaler.torch_module()(torch.from_numpy(np.nan_to_num(X)), mask)
    np.testing.assert_allclose(torch_out.numpy(), out, atol=1e-5)
    assert Scaler.from_dict(scaler.to_dict()).clip == 1.5
    assert Scaler.from_dict({"method": "diff", "gain": 4.0}).clip == 0.0  # a run saved before the clip existed
    # a recipe's clip belongs to its scaling: an explicit scaling turns it off unless it is given too
    monkeypatch.setitem(recipes.RECIPES, "lstm_attention", {**recipes.SEED_TASK_RECIPE, "scaling_clip": 1.5})
    assert resolve_train_config("lstm_attention").scaling_clip == 1.5
    assert resolve_train_config("lstm_attention", {"scaling": "znorm"}).scaling_clip == 0.0
    assert resolve_train_config("lstm_attention", {"scaling": "znorm", "scaling_clip": 2.0}).scaling_clip == 2.0


def test_diff_scaling_turns_a_flat_stretch_into_one_value_and_matches_its_torch_form():
    import torch

    from tsattn.training.scaling import Scaler

    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(size=(4, 2, 12)), axis=-1).astype(np.float32)
    X[:, :, 3:8] = X[:, :, 3:4]  # flat from step 3 to 7: differences 0 at steps 4-7
    X[1, :, 9:] = np.nan  # a shorter series
    out = Scaler("diff", gain=2.0).fit(X).transform(X)
    assert out.shape == X.shape and (out[1, :, 9:] == 0.0).all()
    flat = out[:, :, 4:8]
    np.testing.assert_allclose(flat, np.broadcast_to(flat[..., :1], flat.shape))  # one value: the scaled 0
    np.testing.assert_allclose(out[0, :, :].std(-1), 2.0, rtol=1e-4)
    np.testing.assert_allclose(out[1, :, :9].std(-1), 2.0, rtol=1e-4)  # statistics over the real steps only
    mask = torch.from_numpy(~np.isnan(X[:, 0, :]))
    torch_out = Scaler("diff", gain=2.0).torch_module()(torch.from_numpy(np.nan_to_num(X)), mask)
    np.testing.assert_allclose(torch_out.numpy(), out, atol=1e-5)


def test_the_entropy_penalty_is_zero_on_one_step_one_when_uniform_and_sharpens_the_attention():
    import torch

    from tsattn import AttentionClassifier
    from tsattn.training.module import attention_entropy

    one = torch.zeros(1, 10)
    one[0, 3] = 1.0
    assert attention_entropy(one).item() == pytest.approx(0.0, abs=1e-6)
    mask = torch.tensor([[True] * 6 + [False] * 4])
    padded = torch.tensor([[1 / 6] * 6 + [0.0] * 4])
    assert attention_entropy(padded, mask).item() == pytest.approx(1.0)  # uniform over the real steps
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 40)).astype(np.float32)
    y = np.arange(64) % 2
    X[y == 1, 15:25] += 3.0
    kw = {"max_epochs": 6, "batch_size": 16, "lr": 5e-3, "ensemble": 1}
    plain = AttentionClassifier("cnn_attention", attention_smoothing=0.0, **kw).fit(X, y)
    sharp = AttentionClassifier("cnn_attention", attention_smoothing=0.0, attention_entropy=0.5, **kw).fit(X, y)
    assert [row["train_attention_penalty"] for row in plain.history_] == [0.0] * len(plain.history_)
    assert all(row["train_attention_penalty"] > 0 for row in sharp.history_)
    h_plain = attention_entropy(torch.from_numpy(plain.explain(X))).item()
    h_sharp = attention_entropy(torch.from_numpy(sharp.explain(X))).item()
    assert h_sharp < h_plain - 0.05, (h_plain, h_sharp)


def test_label_smoothing_changes_what_is_fitted_and_not_what_is_logged():
    """The objective is cross-entropy against smoothed targets; the logged loss stays plain cross-entropy."""
    from tsattn.models import create_network
    from tsattn.models._base import classification_loss
    from tsattn.training.module import LitClassifier

    torch.manual_seed(0)
    net = create_network("cnn_attention", n_channels=1, n_classes=3, seq_len=16)
    x, y = torch.randn(8, 1, 16), torch.arange(8) % 3
    logged: dict[str, float] = {}
    for smoothing in (0.0, 0.3):
        lit = LitClassifier(net, label_smoothing=smoothing)
        # no Trainer here: keep what is logged
        lit.log = lambda name, value, **kw: logged.__setitem__(name, torch.as_tensor(value).detach().item())
        objective = lit.training_step((x, y, None), 0)
        logits = net(x)[0]
        # cross-entropy against targets 1 - 0.3 + 0.1 and 0.1, written out
        target = torch.nn.functional.one_hot(y, 3) * (1 - smoothing) + smoothing / 3
        expected = -(target * torch.log_softmax(logits, -1)).sum(-1).mean()
        assert objective.item() == pytest.approx(expected.item(), rel=1e-5)
        assert logged["train_loss"] == pytest.approx(classification_loss(logits, y).item(), rel=1e-5)
    binary = torch.tensor([[2.0], [-1.0]])
    by_hand = -(0.9 * torch.nn.functional.logsigmoid(binary[0]) + 0.1 * torch.nn.functional.logsigmoid(-binary[0]))
    by_hand += -(0.1 * torch.nn.functional.logsigmoid(binary[1]) + 0.9 * torch.nn.functional.logsigmoid(-binary[1]))
    got = classification_loss(binary, torch.tensor([1, 0]), smoothing=0.2)
    assert got.item() == pytest.approx(by_hand.item() / 2, rel=1e-6)
    assert AttentionClassifier("cnn_attention", label_smoothing=0.2)._train_config().label_smoothing == 0.2
    with pytest.raises(ConfigError, match=re.escape("'label_smoothing' input should be less than 1; got 1.0")):
        TrainConfig.from_dict({"label_smoothing": 1.0})


def test_bf16_mixed_precision_trains_under_bfloat16_autocast_and_keeps_float32_weights():
    """``precision="bf16-mixed"``: the convolutions see bfloat16 in training, never after; reruns are identical."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 40)).astype(np.float32)
    y = np.arange(48) % 2
    X[y == 1, 10:20] += 2.0
    seen: set[torch.dtype] = set()

    def record(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if isinstance(module, torch.nn.Conv1d):
            seen.add(output.dtype)

    def fit(precision: str) -> AttentionClassifier:
        return AttentionClassifier("cnn_attention", max_epochs=2, ensemble=1, precision=precision).fit(X, y)

    handle = torch.nn.modules.module.register_module_forward_hook(record)  # every module's forward, while it lasts
    try:
        plain = fit("32-true")
        assert seen == {torch.float32}
        seen.clear()
        half = fit("bf16-mixed")
        assert seen == {torch.bfloat16}  # every training and validation step
        seen.clear()
        half.predict_proba(X[:4])
        assert seen == {torch.float32}  # predictions after training
    finally:
        handle.remove()
    assert all(p.dtype == torch.float32 for p in half.model_.parameters())
    again = fit("bf16-mixed")
    for a, b in zip(half.model_.parameters(), again.model_.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, c) for a, c in zip(half.model_.parameters(), plain.model_.parameters(), strict=True))
    assert half._train_config().precision == "bf16-mixed"
    with pytest.raises(ConfigError, match=re.escape("'precision' input should be '32-true' or 'bf16-mixed'; got '16'")):
        TrainConfig.from_dict({"precision": "16"})
