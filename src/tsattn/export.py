"""ONNX export: raw series in, probabilities and attention out, the run's scaling inside the graph."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._errors import RunError

__all__ = ["export_onnx", "ScaledNet"]


def _scaled_net_class():
    import torch
    from torch import nn

    from .models._base import logits_to_proba
    from .training.scaling import TWO_VIEWS

    class ScaledNet(nn.Module):
        """Scaling + network + probabilities in one module, so that the exported graph takes raw series."""

        def __init__(self, net: nn.Module, scaler) -> None:
            super().__init__()
            self.net = net
            self.method = scaler.method
            self.gain = float(scaler.gain)
            C = len(scaler.mean) or net.n_channels  # the data's channels (the net takes 2C under TWO_VIEWS)
            mean = torch.tensor(scaler.mean if scaler.mean else [0.0] * C, dtype=torch.float32)
            std = torch.tensor(scaler.std if scaler.std else [1.0] * C, dtype=torch.float32)
            self.register_buffer("mean", mean.view(1, C, 1))
            self.register_buffer("std", std.view(1, C, 1))

        def forward(self, x: torch.Tensor):
            if self.method == "znorm":
                x = self._znorm(x)
            elif self.method == "standard":
                x = (x - self.mean) * (self.gain / self.std)
            elif self.method in TWO_VIEWS:
                x = torch.cat([self._znorm(x), (x - self.mean) * (self.gain / self.std)], dim=1)
            logits, att = self.net(x)
            proba = logits_to_proba(logits)
            return (proba, att) if att is not None else (proba,)

        def _znorm(self, x: torch.Tensor) -> torch.Tensor:
            mu = x.mean(dim=2, keepdim=True)
            sd = (x - mu).pow(2).mean(dim=2, keepdim=True).sqrt()  # population std, as numpy's
            return (x - mu) * (self.gain / (sd + 1e-8))

    return ScaledNet


def __getattr__(name: str):
    if name == "ScaledNet":
        return _scaled_net_class()
    raise AttributeError(name)


def export_onnx(run: str | os.PathLike[str], out: str | os.PathLike[str], *, opset: int = 17,
                check: bool = True, atol: float = 1e-5) -> dict:
    """Export a run's model to ONNX and check it against PyTorch with onnxruntime.

    The graph's input is ``series`` ``(batch, channels, time)`` of raw values;
    outputs are ``probabilities`` ``(batch, n_classes)`` and, for attention
    models, ``attention`` ``(batch, time)``. Batch is dynamic, and time too
    except for ``mlp`` (one weight per step) and ``transformer`` (its patch
    padding is frozen by tracing).
    """
    import io

    import torch

    from ._io import atomic_write_bytes
    from .run import load_run

    loaded = load_run(run)
    net = loaded.net.eval()
    wrapped = _scaled_net_class()(net, loaded.scaler).eval()
    C, T = loaded.config["n_channels"], loaded.config["seq_len"]
    has_att = getattr(net, "has_attention", True)
    outputs = ["probabilities"] + (["attention"] if has_att else [])
    dynamic = {"series": {0: "batch"}, "probabilities": {0: "batch"}}
    time_dynamic = getattr(net, "onnx_dynamic_time", True)
    if time_dynamic:
        dynamic["series"][2] = "time"
    if has_att:
        dynamic["attention"] = {0: "batch", **({1: "time"} if time_dynamic else {})}
    example = torch.randn(2, C, T)
    buf = io.BytesIO()
    import warnings

    try:
        with warnings.catch_warnings():
            # Tracer chatter; what matters is checked below: parity with PyTorch at other batch sizes and lengths.
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapped, (example,), buf, input_names=["series"], output_names=outputs,
                              dynamic_axes=dynamic, opset_version=opset, dynamo=False)
    except Exception as exc:  # an architecture the exporter cannot trace
        raise RunError(f"export: {loaded.model_name} cannot be exported to ONNX: {type(exc).__name__}: {exc}") from None
    data = buf.getvalue()
    report = {"model": loaded.model_name, "outputs": outputs, "dynamic_time": time_dynamic, "opset": opset,
              "bytes": len(data)}
    if check:
        report |= check_parity(data, wrapped, C, T, time_dynamic=time_dynamic, atol=atol)
    atomic_write_bytes(out, data)
    return report


def check_parity(onnx_bytes: bytes, wrapped, C: int, T: int, *, time_dynamic: bool, atol: float = 1e-5,
                 seed: int = 0) -> dict:
    """Max absolute difference between onnxruntime and PyTorch on random raw series; raises above ``atol``."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = {}
    shapes = [(7, T)] + ([(3, max(T // 2, 8)), (2, T + 17)] if time_dynamic else [])
    for B, L in shapes:
        x = (rng.normal(size=(B, C, L)) * 3 + 1).astype(np.float32)
        with torch.inference_mode():
            ref = [t.numpy() for t in wrapped(torch.from_numpy(x))]
        got = sess.run(None, {"series": x})
        for name, r, g in zip(("probabilities", "attention"), ref, got):
            worst[name] = max(worst.get(name, 0.0), float(np.abs(r - g).max()))
    for name, diff in worst.items():
        if diff > atol:
            raise RunError(f"export: ONNX {name} differ from PyTorch by {diff:.2e} > {atol:.0e}")
    return {f"max_abs_diff_{k}": v for k, v in worst.items()}
