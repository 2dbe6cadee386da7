"""Non-neural peers, registered beside the networks so that ``tsattn models`` and ``tsattn benchmark`` list and
run them alike. They are for comparison: ``tsattn train`` trains networks only."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import ConfigError, install_hint
from ._registry import register_model


def pad_with_last_value(X: np.ndarray, lengths: np.ndarray | None, length: int | None = None) -> np.ndarray:
    """``(n, C, T)`` float64 with every series padded to ``length`` (or ``T``) by repeating its last value.

    A flat continuation invents no new shape, so a peer that needs series of
    one length (MiniRocket) sees each series as it is.

    Examples
    --------
    >>> X = np.array([[[1.0, 2.0, np.nan]]])
    >>> pad_with_last_value(X, np.array([2]), 4).tolist()
    [[[1.0, 2.0, 2.0, 2.0]]]
    """
    X = np.asarray(X, dtype=np.float64)
    T = X.shape[2]
    if length is not None and length > T:
        X = np.concatenate([X, np.full((*X.shape[:2], length - T), np.nan)], axis=2)
    if lengths is None and length is None:
        return X
    lengths = np.asarray(lengths) if lengths is not None else np.full(len(X), T)
    last = X[np.arange(len(X)), :, lengths - 1]  # (n, C)
    pad = np.arange(X.shape[2])[None, None, :] >= lengths[:, None, None]
    return np.where(pad, last[:, :, None], X)


@register_model
class MiniRocket:
    """aeon's MiniRocket (Dempster et al. 2021): random convolutions and a ridge classifier; a peer (tsattn[aeon])."""

    name = "minirocket"
    kind = "peer"
    extra = "aeon"
    has_attention = False
    variable_length = True  # series are padded with their last value to the longest length

    def __init__(self, random_state: int = 0, n_jobs: int = 1) -> None:
        try:
            from aeon.classification.convolution_based import MiniRocketClassifier
        except ImportError:
            raise ConfigError(
                f"model: {self.name} needs aeon, which is not installed ({install_hint('aeon')})",
            ) from None
        self.classifier = MiniRocketClassifier(random_state=random_state, n_jobs=n_jobs)

    @staticmethod
    def available() -> bool:
        """Is aeon installed?"""
        try:
            import aeon.classification.convolution_based  # noqa: F401
        except ImportError:
            return False
        return True

    def fit(self, X: np.ndarray, y: np.ndarray) -> MiniRocket:
        """Fit on equal-length ``(n, C, T)`` float64 series (MiniRocket normalises them itself)."""
        self.classifier.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.classifier.predict(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class scores as probabilities: a softmax (sigmoid for two classes) of the ridge decision function.

        Ridge regression has no probabilities; these rank the series as its
        scores do, which is what ROC AUC needs.
        """
        scores = self.classifier.pipeline_.decision_function(X)
        if scores.ndim == 1:
            p1 = 1 / (1 + np.exp(-scores))
            return np.asarray(np.c_[1 - p1, p1])
        e = np.exp(scores - scores.max(1, keepdims=True))
        return np.asarray(e / e.sum(1, keepdims=True))

    @property
    def n_params(self) -> int:
        est = self.classifier.estimator_
        return int(np.size(est.coef_) + np.size(est.intercept_))

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "n_kernels": self.classifier.n_kernels,
            "n_jobs": self.classifier.n_jobs,
            "input": "raw (MiniRocket normalises itself)",
        }
