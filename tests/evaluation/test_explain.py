"""Relevance methods on hand-made models whose answers are known exactly."""

import numpy as np
import pytest
import torch
from torch import nn

from tsattn import ConfigError
from tsattn.evaluation.explain import explain


class Linear(nn.Module):
    """Logits ``W @ x`` (one row per output) with a fixed attention ``att``: gradients are ``W`` exactly."""

    has_attention = True
    name = "linear"

    def __init__(self, W: np.ndarray, att: np.ndarray) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.tensor(W, dtype=torch.float32))
        self.register_buffer("att", torch.tensor(att, dtype=torch.float32))

    def forward(self, x, mask=None):
        logits = x[:, 0] @ self.W.T  # (B, K)
        att = self.att.expand(len(x), -1)
        if mask is not None:
            att = att * mask
            att = att / att.sum(-1, keepdim=True)
        return logits, att


T = 6
ATT = np.array([0.1, 0.1, 0.4, 0.2, 0.1, 0.1])


def _x():
    return np.array([[[1.0, -2.0, 0.5, 3.0, 0.0, 1.0]], [[-1.0, 1.0, 1.0, -1.0, 2.0, 0.5]]], np.float32)


def test_attention_x_gradient_of_a_binary_model():
    w = np.array([0.5, 1.0, -2.0, 0.0, 1.0, 3.0])
    R = explain(Linear(w[None, :], ATT), _x(), method="attention_x_gradient")
    expected = ATT * np.abs(w * _x()[:, 0])  # attention x |gradient x input| of the single (signed) logit
    np.testing.assert_allclose(R, expected / expected.sum(1, keepdims=True), rtol=1e-6)
    assert R[0, 3] == 0 and R[0, 4] == 0  # a step the logit ignores, and a zero input, get nothing


def test_attention_x_gradient_follows_the_predicted_class():
    W = np.array([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0], [0, 0, 2.0, 0, 0, 0]])
    X = _x()
    R = explain(Linear(W, ATT), X, method="attention_x_gradient")
    assert [int(np.argmax(W @ x[0])) for x in X] == [0, 2]  # two different predicted classes
    for i in range(2):
        k = int(np.argmax(W @ X[i, 0]))  # series 0: logits [1, 1, 1] -> class 0; series 1: [-1, .5, 2] -> class 2
        expected = ATT * np.abs(W[k] * X[i, 0])
        np.testing.assert_allclose(R[i], expected / expected.sum(), rtol=1e-6)


def test_attention_is_returned_as_the_model_gives_it_and_padding_gets_none():
    X = _x()
    net = Linear(np.ones((1, T)), ATT)
    np.testing.assert_allclose(explain(net, X), np.tile(ATT, (2, 1)), rtol=1e-6)
    R = explain(net, X, method="attention_x_gradient", lengths=np.array([4, 6]))
    assert (R[0, 4:] == 0).all() and R[1, 4:].sum() > 0
    np.testing.assert_allclose(R.sum(1), 1, rtol=1e-6)


def test_integrated_gradients_of_a_linear_model_is_input_times_weight():
    w = np.array([0.5, 1.0, -2.0, 0.0, 1.0, 3.0])
    R = explain(Linear(w[None, :], ATT), _x(), method="integrated_gradients", n_steps=8)
    expected = np.abs(w * _x()[:, 0])  # exact for a linear model against a zero baseline, whatever the steps
    np.testing.assert_allclose(R, expected / expected.sum(1, keepdims=True), rtol=1e-5)


def test_a_model_without_attention_takes_integrated_gradients_only():
    net = Linear(np.ones((1, T)), ATT)
    net.has_attention = False
    with pytest.raises(ConfigError, match="has no attention; use `method` integrated_gradients"):
        explain(net, _x(), method="attention_x_gradient")


@pytest.mark.parametrize("method", ["attention_x_gradient", "integrated_gradients"])
def test_gradient_relevance_of_a_saturated_ensemble_does_not_collapse(method):
    """An ensemble's logits are those of its mean probability, clamped away from 0 and 1: on a saturated ensemble
    their gradient is exactly zero. The gradient methods differentiate the members' own logits instead."""
    from tsattn import AttentionClassifier

    rng = np.random.default_rng(0)
    y = np.arange(48) % 2
    X = rng.normal(size=(48, 1, 32)).astype(np.float32)
    X[y == 1, :, 10:16] += 3.0
    clf = AttentionClassifier("cnn_attention", ensemble=2, max_epochs=5, random_state=0).fit(X, y)
    with torch.no_grad():  # saturate: every member's head scaled up, so the ensemble's probability is clamped
        for name, p in clf.model_.named_parameters():
            if ".head." in name:
                p.mul_(1e4)
    pos = X[y == 1][:4]
    assert (1 - clf.predict_proba(pos).max(1) < 1e-6).all()  # saturated
    R = clf.explain(pos, method=method)
    assert (R.std(1) > 0.01).all()  # not uniform
    assert all(10 <= int(r.argmax()) < 16 + 4 for r in R), R.argmax(1)  # near the evidence
