"""Per-time-step relevance for any model: attention, the class map, attention x gradient, or Integrated Gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch.nn import Module

__all__ = ["METHODS", "default_method", "explain", "has_class_map", "randomized_copy"]

METHODS = ("attention", "class_map", "attention_x_gradient", "integrated_gradients")


def has_class_map(net: Any) -> bool:
    """Does ``net`` build its logits step by step, so that ``method="class_map"`` applies (conjunctive or average
    pooling)?"""
    import torch

    if not hasattr(net, "class_relevance") or not hasattr(net, "n_channels"):
        return False
    probe = torch.zeros(1, net.n_channels, max(int(getattr(net, "seq_len", 8)), 1))
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            return net.class_relevance(probe) is not None
    finally:
        net.train(was_training)


def default_method(model: Any) -> str:
    """The relevance that explains ``model`` (a loaded run or a network) unless told otherwise: its class map where
    its attention is uniform by construction (``pooling="average"`` throughout), else its attention (an ensemble
    that mixes poolings attends with its attention-pooling members)."""
    from ..layers import AdditiveAttention, AveragePooling, ConjunctivePooling

    net = getattr(model, "net", model)
    kinds = (AdditiveAttention, ConjunctivePooling, AveragePooling)
    poolers = [m for m in net.modules() if isinstance(m, kinds)] if hasattr(net, "modules") else []
    uniform = bool(poolers) and all(isinstance(m, AveragePooling) for m in poolers)
    return "class_map" if uniform else "attention"


def _predicted_class_map(net: Any, x: Any, mask: Any) -> Any:
    """Each step's signed share of the logit of the class predicted, ``(B, T)``: positive where it argues for it."""
    import torch

    class_map = net.class_relevance(x, mask)  # (B, K, T)
    logits = net(x, mask)[0]
    if logits.shape[-1] == 1:  # one binary column: its map argues for class 1; negated, for class 0
        return class_map[:, 0] * torch.where(logits[:, :1] >= 0, 1.0, -1.0)
    predicted = logits.argmax(1)[:, None, None].expand(-1, 1, class_map.shape[-1])
    return class_map.gather(1, predicted)[:, 0]


def _predicted_logit(logits: Any) -> Any:
    """The logit of the class each series is predicted as (binary: the positive-class logit, signed)."""
    if logits.shape[-1] == 1:
        return logits[:, 0]
    return logits.gather(1, logits.argmax(1, keepdim=True))[:, 0]


def _normalize(R: np.ndarray) -> np.ndarray:
    R = np.clip(R, 0, None)
    total = R.sum(1, keepdims=True)
    return np.where(total > 0, R / np.where(total > 0, total, 1), 1.0 / R.shape[1])


def _predicted_score(net: Any, x: Any, mask: Any) -> tuple[Any, Any]:
    """``(score, attention)``: the predicted class's logit that gradient methods differentiate, and the attention.

    For an ensemble it is the mean of its members' own logits for the class the ensemble predicts, not the
    logit of the ensemble's mean probability: that one is clamped away from 0 and 1, so on a saturated
    ensemble its gradient is exactly zero and every gradient method would collapse to uniform relevance.
    """
    import torch

    members = net.member_outputs(x, mask) if hasattr(net, "member_outputs") else [net(x, mask)]
    if len(members) == 1:
        logits, att = members[0]
        return _predicted_logit(logits), att
    logits, att = net.combine(members)
    if logits.shape[-1] == 1:
        return torch.stack([lg[:, 0] for lg, _ in members]).mean(0), att
    predicted = logits.argmax(1, keepdim=True)
    return torch.stack([lg.gather(1, predicted)[:, 0] for lg, _ in members]).mean(0), att


def explain(
    model: Any,
    X: np.ndarray,
    *,
    method: str = "attention",
    batch_size: int = 256,
    n_steps: int = 32,
    lengths: np.ndarray | None = None,
) -> np.ndarray:
    """Relevance of every time step, shape ``(n, T)``, each row summing to 1.

    Parameters
    ----------
    model : LoadedRun or torch.nn.Module
        A loaded run (``tsattn.run.load_run``; ``X`` is then raw and scaled
        here) or a network (``X`` already scaled).
    X : ndarray of shape (n, C, T) or (n, T)
    method : {"attention", "class_map", "attention_x_gradient", "integrated_gradients"}
        ``attention``: the model's own attention weights. ``class_map``: for a
        model with conjunctive or average pooling, each step's share of the
        predicted class's logit (``gate x step logit``; the class activation
        map under average pooling), its negative part set to 0.
        ``attention_x_gradient``:
        attention times the magnitude of input x gradient of the predicted
        logit. ``integrated_gradients``: captum's Integrated Gradients against
        an all-zero (mean) baseline, for any model, attention or not.
    lengths : ndarray of shape (n,), optional
        True lengths of zero-padded series; padding gets zero relevance.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn.models import create_model
    >>> net = create_model("cnn_attention", n_channels=1, n_classes=2, seq_len=50)
    >>> explain(net, np.zeros((3, 1, 50), np.float32)).shape
    (3, 50)
    """
    import torch

    from .._errors import ConfigError
    from ..layers.masking import lengths_to_mask

    if method not in METHODS:
        raise ConfigError(f"method: must be one of {', '.join(METHODS)}; got {method!r}")
    net = getattr(model, "net", model)
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 2:
        X = X[:, None, :]
    if hasattr(model, "scaler"):
        X = model.scaler.transform(X)
    if method != "integrated_gradients" and not getattr(net, "has_attention", True):
        raise ConfigError(f"method: {net.name} has no attention; use `method` integrated_gradients for this model")
    if method == "class_map" and not has_class_map(net):
        raise ConfigError(
            f"method: class_map needs a model with conjunctive or average pooling (model_params pooling='conjunctive' "
            f"or 'average'); "
            f"{net.name} pools otherwise"
        )
    net.eval()
    out = []
    for i in range(0, len(X), batch_size):
        xb = torch.from_numpy(X[i : i + batch_size])
        mask = None
        if lengths is not None:
            mask = lengths_to_mask(lengths[i : i + batch_size], X.shape[-1])
        if method == "attention":
            with torch.inference_mode():
                out.append(net(xb, mask)[1].numpy())
        elif method == "class_map":
            with torch.inference_mode():
                out.append(_predicted_class_map(net, xb, mask).numpy())
        elif method == "attention_x_gradient":
            xb.requires_grad_(True)
            score, att = _predicted_score(net, xb, mask)
            (grad,) = torch.autograd.grad(score.sum(), xb)
            out.append((att * (grad * xb).sum(1).abs()).detach().numpy())
        else:
            from captum.attr import IntegratedGradients

            def forward(x: Any, m: Any = mask) -> Any:  # captum feeds n_steps copies of the batch at once
                return _predicted_score(net, x, None if m is None else m.repeat(len(x) // len(m), 1))[0]

            ig = IntegratedGradients(forward)
            attr = ig.attribute(xb, baselines=torch.zeros_like(xb), n_steps=n_steps, internal_batch_size=len(xb) * 8)
            rel = attr.abs().sum(1)  # (B, T): magnitude over channels
            out.append((rel if mask is None else rel * mask).detach().numpy())
    return _normalize(np.concatenate(out)) if out else np.zeros((0, X.shape[-1]))


def randomized_copy(net: Module, seed: int = 0) -> Module:
    """A copy of ``net`` with every parameter re-drawn at random (Adebayo et al.'s model randomization test)."""
    import copy

    import torch

    clone = copy.deepcopy(net)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in clone.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (p.std() if p.numel() > 1 and p.std() > 0 else 0.1))
    return clone
