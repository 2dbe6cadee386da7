"""tsattn: time-series classification with attention you can see and measure.

Importing the package is cheap: torch and Lightning are imported only when a
model is built or trained.
"""

from __future__ import annotations

from ._errors import ConfigError, DataError, RunError, TsattnError
from ._version import __version__

__all__ = ["AttentionClassifier", "ConfigError", "DataError", "RunError", "TsattnError", "__version__"]


def __getattr__(name: str) -> type:
    # Lazy: importing the estimator imports scikit-learn; torch waits until fit.
    if name == "AttentionClassifier":
        from .estimator import AttentionClassifier

        return AttentionClassifier
    raise AttributeError(f"module 'tsattn' has no attribute {name!r}")
