"""Errors raised at the user-facing boundary.

Every error a user can trigger with bad input is a :class:`TsattnError`: the
CLI turns it into a one-line message and exit code 2, with no traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MENTION = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class TsattnError(ValueError):
    """Bad input: a one-line message naming the parameter, the rule and the value.

    The message starts with the Python parameter's name (``"data: file not
    found: x.csv"``), which is also kept as :attr:`param`; other parameters it
    mentions are written in backticks (`` `nan_policy` ``). The CLI shows the
    same message with flag names (``--data``, ``--nan-policy``), see
    :func:`as_flags`.

    Examples
    --------
    >>> err = DataError("nan_policy: must be one of error, interpolate, zero; got 'drop'")
    >>> err.param
    'nan_policy'
    >>> as_flags(err)
    "--nan-policy: must be one of error, interpolate, zero; got 'drop'"
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        head = message.split(":", 1)[0]
        if param is None:  # read it from the message; "" says the message names no parameter
            param = head if _PARAM.fullmatch(head) else ""
        self.param: str | None = param or None


class ConfigError(TsattnError):
    """A configuration that does not validate.

    Examples
    --------
    >>> from tsattn.config import TrainConfig
    >>> TrainConfig.from_dict({"lr": -1}, source="parameters")
    Traceback (most recent call last):
        ...
    tsattn._errors.ConfigError: lr: input should be greater than 0; got -1
    """


class DataError(TsattnError):
    """A data file or array that cannot be used.

    Examples
    --------
    >>> from tsattn.data.readers import read_series_file
    >>> read_series_file("missing.csv")
    Traceback (most recent call last):
        ...
    tsattn._errors.DataError: data: file not found: missing.csv
    """


class RunError(TsattnError):
    """A run directory that is missing, incomplete or inconsistent.

    Examples
    --------
    >>> from tsattn.run import load_run
    >>> load_run("no/such/run")
    Traceback (most recent call last):
        ...
    tsattn._errors.RunError: run: not a directory: no/such/run
    """


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the run directory keeps its last finished epoch and says ``interrupted``."""

    def __init__(self, run: object) -> None:
        super().__init__(str(run))
        self.run = run


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def as_flags(error: TsattnError, flags: Mapping[str, str] | None = None) -> str:
    """``error``'s message as the CLI shows it: Python parameter names replaced by flag names.

    A parameter ``nan_policy`` becomes ``--nan-policy`` unless ``flags`` maps
    it to another flag (``{"fmt": "--format"}``).
    """
    flags = flags or {}

    def flag(name: str) -> str:
        return flags.get(name, "--" + name.replace("_", "-"))

    message = str(error)
    if error.param is not None and message.startswith(error.param + ":"):
        message = flag(error.param) + message[len(error.param) :]
    return _MENTION.sub(lambda m: flag(m.group(1)), message)


#: The versions each optional extra was tested with (``constraints.txt``; tests/test_house.py keeps the two equal).
EXTRA_PINS: dict[str, tuple[str, ...]] = {
    "aeon": ("aeon==1.6.0",),
    "onnx": ("onnx==1.23.2", "onnxruntime==1.31.1"),
    "parquet": ("pyarrow==26.0.1",),
    "tensorboard": ("tensorboard==2.21.0",),
    "mlflow": ("mlflow-skinny==3.17.2", "sqlalchemy==2.1.9", "alembic==1.20.1"),
}


def install_hint(extra: str) -> str:
    """The command that installs an optional extra at the versions the project tested, for error messages.

    Examples
    --------
    >>> install_hint("onnx")
    "pip install 'tsattn[onnx]' onnx==1.23.2 onnxruntime==1.31.1"
    """
    return " ".join(("pip install", f"'tsattn[{extra}]'", *EXTRA_PINS[extra]))
