"""Input scaling, fitted on training data and saved with the run.

``znorm`` scales each series (and channel) to mean 0 and std ``gain`` on its
own; it makes the seed task amplitude-free. ``standard`` uses per-channel
statistics of the training set; ``none`` passes data through. ``both`` gives
the network each channel twice, z-normalised and standardised (``2C``
channels): the shape, and the level and scale that z-normalisation throws
away (on PickupGestureWiimoteZ the series' mean, the pull of gravity on the
accelerometer, tells the gestures apart; see benchmarks/README.md).
``znorm_level`` gives the same ``2C`` channels, but the network body sees
only the z-normalised half: the standardised half feeds logit offsets from
each series' level and scale (``tsattn.layers.LevelLogits``), never the
attention.

``diff`` gives the network each series' first differences (``x[t] - x[t-1]``;
0 at the first step), z-normalised: a flat stretch becomes a run of zeros at
any level or amplitude, which a recurrent network finds step by step.

``gain`` is the standard deviation of the scaled input (4 in the seed recipe; why:
``benchmarks/results/design_choices.md``). ``clip`` > 0 then limits the
scaled input to ``+-clip * gain`` (0: off): one jump, which first
differences turn into a spike tens of standard deviations high, can no
longer carry a series' class on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

EPS = 1e-8
#: Methods that hand the network each channel twice: z-normalised, then standardised (``2C`` channels).
TWO_VIEWS = ("both", "znorm_level")


@dataclass
class Scaler:
    """Input scaling: ``method`` (see the module's docstring), fitted on the training rows and saved with the run.

    Its statistics are plain lists, so a run's ``config.json`` holds it
    (:meth:`to_dict`); :meth:`torch_module` is the same transform in torch,
    which ONNX export puts inside the graph.

    Examples
    --------
    >>> X = np.array([[[1.0, 2.0, 3.0, 4.0]], [[10.0, 20.0, 30.0, 40.0]]], np.float32)
    >>> scaler = Scaler("znorm").fit(X)
    >>> np.allclose(scaler.transform(X)[0], scaler.transform(X)[1])  # each series to mean 0, std 1
    True
    >>> Scaler("znorm_level").fit(X).network_input
    {'views': 2, 'level_offsets': True}
    """

    method: str = "znorm"
    gain: float = 1.0
    clip: float = 0.0  # the scaled input is limited to +-clip * gain (0: off)
    mean: list[float] = field(default_factory=list)  # per channel, for "standard"
    std: list[float] = field(default_factory=list)

    @property
    def network_input(self) -> dict[str, Any]:
        """How the scaled input is laid out, as :func:`tsattn.models.create_network` takes it.

        ``views``: copies of each channel (2 under ``both`` and
        ``znorm_level``); ``level_offsets``: whether the second copy feeds
        level and scale logit offsets instead of the network's body.
        """
        return {"views": 2 if self.method in TWO_VIEWS else 1, "level_offsets": self.method == "znorm_level"}

    def fit(self, X: np.ndarray, index: np.ndarray | None = None, chunk: int = 65536) -> Scaler:
        """Fit on ``X`` (or its rows ``index``), read ``chunk`` rows at a time.

        In memory or out of core, the same float64 sums over the same chunks:
        the same statistics to the last bit either way.
        """
        if self.method == "standard" or self.method in TWO_VIEWS:
            rows = np.arange(len(X)) if index is None else np.sort(np.asarray(index))
            n = s1 = s2 = 0.0
            for i in range(0, len(rows), chunk):  # float64 sums: one pass, exact enough at any size
                xb = np.asarray(X[rows[i : i + chunk]], dtype=np.float64)
                n = n + np.sum(~np.isnan(xb), axis=(0, 2))
                s1 = s1 + np.nansum(xb, axis=(0, 2))
                s2 = s2 + np.nansum(xb * xb, axis=(0, 2))
            mean = s1 / n
            self.mean = np.asarray(mean).tolist()
            self.std = (np.sqrt(np.maximum(s2 / n - mean * mean, 0.0)) + EPS).tolist()
        elif self.method not in ("znorm", "diff", "none"):
            from typing import get_args

            from ..config import Scaling

            raise ValueError(f"scaling must be one of {', '.join(map(repr, get_args(Scaling)))}; got {self.method!r}")
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scale ``X`` of shape ``(n, C, T)``; returns float32.

        NaN marks the padding of variable-length series: statistics ignore it
        and it comes out as 0.0, which the models' masks then keep out.
        """
        out = self._scaled(np.asarray(X, dtype=np.float32))
        if self.clip > 0:
            bound = self.clip * self.gain
            out = np.clip(out, -bound, bound)
        return out

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        if self.method in TWO_VIEWS:
            return np.concatenate([self._with("znorm").transform(X), self._with("standard").transform(X)], axis=1)
        if self.method == "diff":
            return self._with("znorm").transform(first_differences(X))
        padded = bool(np.isnan(X).any())
        if self.method == "znorm":
            mean, std = (np.nanmean, np.nanstd) if padded else (np.mean, np.std)
            mu = mean(X, axis=2, keepdims=True)
            sd = std(X, axis=2, keepdims=True)
            out = (X - mu) * (self.gain / (sd + EPS))
        elif self.method == "standard":
            mu = np.asarray(self.mean, np.float32)[None, :, None]
            sd = np.asarray(self.std, np.float32)[None, :, None]
            if mu.shape[1] != X.shape[1]:
                raise ValueError(f"X must have {mu.shape[1]} channels to match the fitted scaler; got {X.shape[1]}")
            out = (X - mu) * (self.gain / sd)
        else:
            out = X
        if padded:
            out = np.nan_to_num(out, nan=0.0)
        return np.asarray(out, dtype=np.float32)

    def torch_module(self) -> Any:
        """The same transform as a torch module, ``(x (B, C, T), mask (B, T) or None) -> (B, C', T)``.

        It is what the ONNX graph runs (:func:`tsattn.export.export_onnx`):
        with a mask, the statistics of ``znorm`` are taken over the real steps
        only and the padding comes out as 0.0, whatever value it held (zero or
        NaN), exactly as :meth:`transform` treats NaN padding.
        """
        return _torch_scaler_class()(self)

    def _with(self, method: str) -> Scaler:
        return Scaler(method=method, gain=self.gain, mean=self.mean, std=self.std)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "gain": self.gain, "clip": self.clip, "mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaler:
        return cls(
            method=d["method"],
            gain=float(d.get("gain", 1.0)),
            clip=float(d.get("clip", 0.0)),  # runs saved before the clip existed were not clipped
            mean=list(d.get("mean", [])),
            std=list(d.get("std", [])),
        )


def first_differences(X: np.ndarray) -> np.ndarray:
    """``X[..., t] - X[..., t-1]`` along time, 0 at the first step; NaN padding stays NaN.

    Examples
    --------
    >>> first_differences(np.array([[[1.0, 3.0, 3.0, 3.0, 2.0, np.nan]]])).tolist()
    [[[0.0, 2.0, 0.0, 0.0, -1.0, nan]]]
    """
    X = np.asarray(X, dtype=np.float32)
    out = np.zeros_like(X)
    out[..., 1:] = X[..., 1:] - X[..., :-1]
    out[np.isnan(X)] = np.nan
    return out


def _torch_scaler_class() -> Any:
    import torch
    from torch import nn

    class TorchScaler(nn.Module):
        """:meth:`Scaler.transform` in torch (see :meth:`Scaler.torch_module`)."""

        mean: torch.Tensor
        std: torch.Tensor

        def __init__(self, scaler: Scaler) -> None:
            super().__init__()
            self.method, self.gain, self.bound = scaler.method, float(scaler.gain), float(scaler.clip * scaler.gain)
            C = max(len(scaler.mean), 1)
            mean = torch.tensor(scaler.mean or [0.0], dtype=torch.float32)
            std = torch.tensor(scaler.std or [1.0], dtype=torch.float32)
            self.register_buffer("mean", mean.view(1, C, 1))
            self.register_buffer("std", std.view(1, C, 1))

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            out = self._scaled(x, mask)
            return out.clamp(-self.bound, self.bound) if self.bound > 0 else out

        def _scaled(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
            m = None
            if mask is not None:
                m = mask[:, None, :]
                x = torch.where(m, x, torch.zeros_like(x))  # NaN padding too: never reaches a sum
            if self.method == "znorm":
                return self._znorm(x, m)
            if self.method == "diff":
                d = torch.cat([torch.zeros_like(x[..., :1]), x[..., 1:] - x[..., :-1]], dim=-1)
                return self._znorm(d, m)
            if self.method == "standard":
                return self._standard(x, m)
            if self.method in TWO_VIEWS:
                return torch.cat([self._znorm(x, m), self._standard(x, m)], dim=1)
            return x

        def _znorm(self, x: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
            if m is None:
                mu = x.mean(dim=2, keepdim=True)
                sd = (x - mu).pow(2).mean(dim=2, keepdim=True).sqrt()  # population std, as numpy's
                return (x - mu) * (self.gain / (sd + EPS))
            w = m.to(x.dtype)
            n = w.sum(dim=2, keepdim=True).clamp_min(1.0)
            mu = (x * w).sum(dim=2, keepdim=True) / n
            sd = ((x - mu).pow(2) * w).sum(dim=2, keepdim=True).div(n).sqrt()
            return (x - mu) * (self.gain / (sd + EPS)) * w

        def _standard(self, x: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
            out = (x - self.mean) * (self.gain / self.std)
            return out if m is None else out * m.to(x.dtype)

    return TorchScaler
