"""Batched inference: probabilities and attention from a trained network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch.nn import Module


def predict_arrays(
    net: Module,
    X: np.ndarray,
    *,
    batch_size: int = 1024,
    lengths: np.ndarray | None = None,
    with_attention: bool = True,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run ``net`` on already-scaled ``X`` ``(n, C, T)``.

    Returns probabilities ``(n, n_classes)`` and attention ``(n, T)`` (or
    ``None`` for models without attention or when not asked for).

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> net = create_model("cnn_attention", n_channels=1, n_classes=2, seq_len=50)
    >>> proba, attention = predict_arrays(net, np.zeros((3, 1, 50), np.float32))
    >>> proba.shape, attention.shape, np.allclose(proba.sum(1), 1)
    ((3, 2), (3, 50), True)
    """
    import torch

    from .layers.masking import lengths_to_mask
    from .models import logits_to_proba

    net.eval()
    dev = torch.device(device) if device else next(net.parameters()).device
    probas, atts = [], []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size], dtype=np.float32)).to(dev)
            mask = None
            if lengths is not None:
                lb = torch.from_numpy(np.asarray(lengths[i : i + batch_size])).to(dev)
                mask = lengths_to_mask(lb, xb.shape[-1])
            logits, att = net(xb, mask)
            probas.append(logits_to_proba(logits).cpu().numpy())
            if with_attention and att is not None:
                atts.append(att.cpu().numpy())
    proba = np.concatenate(probas) if probas else np.zeros((0, getattr(net, "n_classes", 2)), np.float32)
    att = np.concatenate(atts) if atts else None
    return proba, att


def predict_logits(
    net: Module, X: np.ndarray, *, batch_size: int = 1024, lengths: np.ndarray | None = None
) -> np.ndarray:
    """Class logits ``(n, n_classes)`` of ``net`` on already-scaled ``X``, unsaturated: what faithfulness in logit
    space measures.

    One binary output column ``l`` gives ``[-l/2, l/2]`` (whose softmax is the
    sigmoid of ``l``). An ensemble gives the mean of its members' logits, not
    the logits of its mean probability, which are clamped near 0 and 1.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> net = create_model("cnn_attention", n_channels=1, n_classes=2, seq_len=20)
    >>> z = predict_logits(net, np.zeros((3, 1, 20), np.float32))
    >>> z.shape, bool(np.allclose(z[:, 0], -z[:, 1]))
    ((3, 2), True)
    """
    import torch

    from .layers.masking import lengths_to_mask

    net.eval()
    dev = next(net.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size], dtype=np.float32)).to(dev)
            mask = None if lengths is None else lengths_to_mask(np.asarray(lengths[i : i + batch_size]), xb.shape[-1])
            model: Any = net
            members = model.member_outputs(xb, mask) if hasattr(model, "member_outputs") else [model(xb, mask)]
            logits = torch.stack([lg for lg, _ in members]).mean(0)
            if logits.shape[-1] == 1:
                logits = torch.cat([-logits / 2, logits / 2], dim=-1)
            out.append(logits.cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, getattr(net, "n_classes", 2)), np.float32)
