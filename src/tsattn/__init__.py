"""tsattn: time-series classification with attention you can see and measure.

Importing the package is cheap: torch and Lightning are imported only when a
model is built or trained.
"""

from __future__ import annotations

from ._errors import ConfigError, DataError, RunError, TsattnError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DataError", "RunError", "TsattnError", "__version__"]
