"""The default model's input downsampling (averaging, `mean`, or folding into channels, `fold`) and kernels."""

import re

import numpy as np
import pytest
import torch

from tsattn.layers import fold_time, pool_time
from tsattn.models import create_network
from tsattn.models.inception_attention import InceptionAttention


def test_fold_time_keeps_every_step_and_marks_a_window_real_if_any_step_is():
    x = torch.arange(2 * 2 * 7, dtype=torch.float32).view(2, 2, 7)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    h, m = fold_time(x, mask, 3)
    assert h.shape == (2, 6, 3)  # 2 channels x 3 steps per window, ceil(7 / 3) windows
    # channel c * 3 + j, window w holds step 3 w + j of channel c; the step past the end is 0
    for c in range(2):
        for j in range(3):
            for w in range(3):
                t = 3 * w + j
                assert h[0, c * 3 + j, w] == (x[0, c, t] if t < 7 else 0.0)
    assert m.tolist() == [[True, True, True], [True, True, False]]
    assert fold_time(x, mask, 1) == (x, mask)


def test_fold_sees_what_averaging_loses():
    # Two series with the same window means and different steps: averaging makes them one input, folding does not.
    a = torch.tensor([[[1.0, -1.0, 1.0, -1.0]]])
    b = torch.tensor([[[-1.0, 1.0, -1.0, 1.0]]])
    assert torch.equal(pool_time(a, None, 2)[0], pool_time(b, None, 2)[0])
    assert not torch.equal(fold_time(a, None, 2)[0], fold_time(b, None, 2)[0])


def _assert_padding_changes_nothing(net, x):
    """``net`` on ``x`` ``(2, C, 30)`` and on ``x`` padded with 10 steps of 99 under a mask: the same logits and
    attention, and exactly zero attention on the padding."""
    padded = torch.cat([x, torch.full((*x.shape[:2], 10), 99.0)], dim=-1)
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[:, :30] = True
    with torch.no_grad():
        lo_ref, att_ref = net(x)
        lo_pad, att_pad = net(padded, mask)
    assert att_ref.shape == (2, 30) and att_pad.shape == (2, 40)
    torch.testing.assert_close(att_pad.sum(-1), torch.ones(2))
    assert (att_pad[:, 30:] == 0.0).all()
    torch.testing.assert_close(att_pad[:, :30], att_ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(lo_pad, lo_ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("downsample", ["mean", "fold"])
def test_a_pooled_network_keeps_exact_zero_attention_on_padding_and_its_prediction(downsample):
    torch.manual_seed(0)
    net = create_network(
        "inception_attention", n_channels=2, n_classes=3, seq_len=40, max_length=16, downsample=downsample
    ).eval()
    assert net.body.pool == 3
    torch.nn.init.normal_(net.body.attention.score.weight)  # attention that is not uniform
    _assert_padding_changes_nothing(
        net, torch.from_numpy(np.random.default_rng(0).normal(size=(2, 2, 30)).astype(np.float32))
    )


def test_downsample_must_be_mean_or_fold():
    with pytest.raises(ValueError, match="downsample must be 'mean' or 'fold'; got 'max'"):
        InceptionAttention(n_channels=1, n_classes=2, seq_len=40, downsample="max")


@pytest.mark.parametrize(("T", "pool", "expected"), [(500, 1, (39, 19, 9)), (29, 1, (13, 7, 3)), (600, 3, (39, 19, 9))])
def test_kernels_by_rule_are_never_wider_than_half_the_series_the_convolutions_read(T, pool, expected):
    net = InceptionAttention(n_channels=2, n_classes=3, seq_len=T, kernels=None, pool=pool)
    assert net.kernels == expected
    steps = -(-T // pool)
    widths = [conv.kernel_size[0] for conv in net.blocks[0].convs]
    assert widths == list(expected) and max(widths) <= max(steps / 2, 3)
    logits, attention = net(torch.randn(4, 2, T))
    assert logits.shape == (4, 3) and torch.allclose(attention.sum(1), torch.ones(4))


def test_explicit_kernels_must_be_odd():
    with pytest.raises(ValueError, match=r"kernels must be odd and >= 1 .*got \(40, 20, 10\)"):
        InceptionAttention(n_channels=1, n_classes=2, seq_len=100, kernels=(40, 20, 10))


def test_attention_depth_scores_the_features_of_that_many_modules_and_pools_the_last():
    torch.manual_seed(0)
    net = InceptionAttention(n_channels=1, n_classes=3, seq_len=120, depth=6, attention_depth=2).eval()
    torch.nn.init.normal_(net.attention.score.weight)  # non-uniform attention (it starts uniform)
    x = torch.randn(2, 1, 120)
    x2 = x.clone()
    x2[:, :, 100:] += 5.0  # a change 100 steps in: modules 1-2 see about 2 x 19 steps each side, module 6 all
    _, a, _ = net._pooled(x, None)
    _, a2, _ = net._pooled(x2, None)
    # the weights far from the change are moved only through the softmax's normalisation: their ratios hold
    ratio, ratio2 = a[:, :40] / a[:, :40].sum(1, keepdim=True), a2[:, :40] / a2[:, :40].sum(1, keepdim=True)
    assert torch.allclose(ratio, ratio2, atol=1e-6)
    deep = InceptionAttention(n_channels=1, n_classes=3, seq_len=120, depth=6).eval()
    torch.nn.init.normal_(deep.attention.score.weight)  # non-uniform, so that a change can move its ratios
    _, d, _ = deep._pooled(x, None)
    _, d2, _ = deep._pooled(x2, None)
    assert not torch.allclose(d[:, :40] / d[:, :40].sum(1, keepdim=True), d2[:, :40] / d2[:, :40].sum(1, keepdim=True))


def test_attention_depth_is_checked():
    for bad in (7, [2, 2], [], [0, 6]):
        with pytest.raises(
            ValueError, match=rf"attention_depth must be in \[1, depth=6\], a list .*; got {re.escape(str(bad))}$"
        ):
            InceptionAttention(n_channels=1, n_classes=2, seq_len=50, attention_depth=bad)
    with pytest.raises(ValueError, match="attention_depth applies to pooling='attention' only"):
        InceptionAttention(n_channels=1, n_classes=2, seq_len=50, attention_depth=2, pooling="conjunctive")


def test_attention_depths_side_by_side_score_both_modules_features_and_start_uniform():
    from tsattn.layers import fold_time

    torch.manual_seed(0)
    net = InceptionAttention(n_channels=1, n_classes=3, seq_len=120, depth=6, attention_depth=[6, 2]).eval()
    assert net.attention_depth == [2, 6] and net.pool == 1
    width = net.filters * (len(net.kernels) + 1)
    assert net.attention.proj.in_features == 2 * width  # modules 2 and 6, side by side
    x = torch.randn(3, 1, 120)
    with torch.no_grad():
        _, a, _ = net._pooled(x, None)
        torch.testing.assert_close(a, torch.full((3, 120), 1 / 120))  # zero scoring weights: uniform at first
        torch.nn.init.normal_(net.attention.score.weight)
        _, a, _ = net._pooled(x, None)
        # The same scores by hand: every module's features, then modules 2 and 6 side by side.
        z, m = fold_time(x, None, net.pool)
        residual, feats = z, []
        for i, block in enumerate(net.blocks):
            z = block(z, m)
            if str(i) in net.shortcuts:
                z = residual = torch.relu(z + net.shortcuts[str(i)][1](net.shortcuts[str(i)][0](residual), m))
            feats.append(z)
        keys = torch.cat([feats[1], feats[5]], dim=1).transpose(1, 2)
        scores = net.attention.score(torch.tanh(net.attention.proj(keys))).squeeze(-1)
    torch.testing.assert_close(a, torch.softmax(scores, dim=-1))


def test_differences_read_the_series_and_its_first_differences_and_padding_changes_nothing():
    from tsattn.models.inception_attention import with_differences

    x = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 3, 30)).astype(np.float32))
    both = with_differences(x, None)
    assert both.shape == (2, 6, 30)
    torch.testing.assert_close(both[:, :3], x)
    torch.testing.assert_close(both[:, 3:, 1:], x[..., 1:] - x[..., :-1])  # independently: x[t] - x[t - 1]
    assert (both[:, 3:, 0] == 0).all()
    torch.manual_seed(0)
    net = create_network(
        "inception_attention", n_channels=3, n_classes=2, seq_len=40, max_length=16, differences=True
    ).eval()
    assert net.body.blocks[0].pool_conv.in_channels == 2 * 3 * net.body.pool  # both views, folded
    torch.nn.init.normal_(net.body.attention.score.weight)
    _assert_padding_changes_nothing(net, x)
    plain = create_network("inception_attention", n_channels=3, n_classes=2, seq_len=40, max_length=16).eval()
    assert plain.body.blocks[0].pool_conv.in_channels == 3 * plain.body.pool
