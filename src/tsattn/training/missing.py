"""Missing values inside a series: preprocessing, applied beside the scaler, the same way in training and after it.

Padding after a series' length is never touched; only values inside it are.
"""

from __future__ import annotations

import numpy as np

from .._errors import DataError
from ..data import check_finite

__all__ = ["NAN_POLICIES", "apply_nan_policy"]

NAN_POLICIES = ("error", "interpolate", "zero")


def apply_nan_policy(
    X: np.ndarray, lengths: np.ndarray | None, policy: str, what: str = "data", offset: int = 0
) -> np.ndarray:
    """Handle missing values inside each series (padding after ``lengths`` is left alone).

    ``error`` raises with a count and the first place (series index plus
    ``offset``, for chunked data); ``interpolate`` fills
    linearly along time (the nearest value at the ends); ``zero`` writes 0.0.

    Examples
    --------
    >>> X = np.array([[[1.0, np.nan, 3.0, np.nan]]])
    >>> apply_nan_policy(X, np.array([3]), "interpolate").tolist()  # step 3 is padding: left alone
    [[[1.0, 2.0, 3.0, nan]]]
    """
    if policy not in NAN_POLICIES:
        raise DataError(f"nan_policy: must be one of {', '.join(NAN_POLICIES)}; got {policy!r}")
    valid = np.ones(X.shape[::2], bool) if lengths is None else np.arange(X.shape[2])[None, :] < lengths[:, None]
    valid = np.broadcast_to(valid[:, None, :], X.shape)
    bad = ~np.isfinite(X) & valid
    if not bad.any():
        return X
    if policy == "error":
        check_finite(np.where(valid, X, 0.0), what=what, offset=offset)
    X = X.copy()
    if policy == "zero":
        X[bad] = 0.0
        return X
    t = np.arange(X.shape[2])
    for i, c in zip(*np.nonzero(bad.any(axis=2)), strict=False):
        row, ok = X[i, c], valid[i, c] & ~bad[i, c]
        if not ok.any():
            raise DataError(f"{what}: series {i} channel {c} has no finite value to interpolate from")
        fill = bad[i, c]
        row[fill] = np.interp(t[fill], t[ok], row[ok])
    return X
