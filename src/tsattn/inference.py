"""Batched inference: probabilities and attention from a trained network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch.nn import Module

#: Time steps per forward pass on a CPU (series x length). Larger batches run slower per series there, and
#: shorter ones faster: ``benchmarks/results/inference_batch.json``. Accelerators take 1024 series.
CPU_STEPS = 131072
ACCELERATOR_BATCH = 1024


def inference_batch(device: torch.device, length: int) -> int:
    """How many series of ``length`` steps one forward pass takes on ``device``.

    On a CPU: the power of two nearest below ``CPU_STEPS / length``, from 32
    to 1024 series. Elsewhere: :data:`ACCELERATOR_BATCH`.

    Examples
    --------
    >>> import torch
    >>> cpu = torch.device("cpu")
    >>> inference_batch(cpu, 24), inference_batch(cpu, 500), inference_batch(cpu, 2000), inference_batch(cpu, 10**5)
    (1024, 256, 64, 32)
    >>> inference_batch(torch.device("meta"), 500)
    1024
    """
    if device.type != "cpu":
        return ACCELERATOR_BATCH
    fits = max(CPU_STEPS // max(int(length), 1), 1)
    return int(min(1024, max(32, 1 << (fits.bit_length() - 1))))


def predict_arrays(
    net: Module,
    X: np.ndarray,
    *,
    batch_size: int | None = None,
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
    batch_size = batch_size or inference_batch(dev, X.shape[-1])
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
    net: Module, X: np.ndarray, *, batch_size: int | None = None, lengths: np.ndarray | None = None
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
    return predict_outputs(net, X, batch_size=batch_size, lengths=lengths)[1]


def predict_outputs(
    net: Module, X: np.ndarray, *, batch_size: int | None = None, lengths: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (as :func:`predict_arrays`) and logits (as :func:`predict_logits`) of ``net`` on
    already-scaled ``X``, both from one forward pass.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> net = create_model("cnn_attention", n_channels=1, n_classes=3, seq_len=20)
    >>> X = np.random.default_rng(0).normal(size=(4, 1, 20)).astype(np.float32)
    >>> proba, logits = predict_outputs(net, X)
    >>> bool(np.allclose(proba, predict_arrays(net, X)[0])), bool(np.allclose(logits, predict_logits(net, X)))
    (True, True)
    """
    import torch

    from .layers.masking import lengths_to_mask
    from .models import logits_to_proba

    net.eval()
    dev = next(net.parameters()).device
    batch_size = batch_size or inference_batch(dev, X.shape[-1])
    probas, out = [], []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size], dtype=np.float32)).to(dev)
            mask = None if lengths is None else lengths_to_mask(np.asarray(lengths[i : i + batch_size]), xb.shape[-1])
            model: Any = net
            if hasattr(model, "member_outputs"):
                members = model.member_outputs(xb, mask)
                combined = model.combine(members)[0]  # what the network's forward returns
            else:
                members = [model(xb, mask)]
                combined = members[0][0]
            logits = torch.stack([lg for lg, _ in members]).mean(0)
            if logits.shape[-1] == 1:
                logits = torch.cat([-logits / 2, logits / 2], dim=-1)
            probas.append(logits_to_proba(combined).cpu().numpy())
            out.append(logits.cpu().numpy())
    if not out:
        empty = np.zeros((0, getattr(net, "n_classes", 2)), np.float32)
        return empty, empty.copy()
    return np.concatenate(probas), np.concatenate(out)
