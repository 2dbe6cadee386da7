"""Errors raised at the user-facing boundary.

Every error a user can trigger with bad input is a :class:`TsattnError`: the
CLI turns it into a one-line message and exit code 2, with no traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TsattnError(ValueError):
    """Bad input: a one-line message naming the parameter, the rule and the value."""


class ConfigError(TsattnError):
    """A configuration that does not validate."""


class DataError(TsattnError):
    """A data file or array that cannot be used."""


class RunError(TsattnError):
    """A run directory that is missing, incomplete or inconsistent."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the run directory keeps its last finished epoch and says ``interrupted``."""

    def __init__(self, run) -> None:
        super().__init__(str(run))
        self.run = run


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""
