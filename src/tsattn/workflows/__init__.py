"""What a user does with tsattn, one module each: train, evaluate, explain, predict, export, benchmark.

Workflows sit above the library (data, models, training, evaluation) and below
the CLI, which only parses options and calls one of them. Each takes and
returns plain Python values and raises :class:`~tsattn.TsattnError` subclasses
that name the Python parameter at fault.
"""

from __future__ import annotations

from ._data import DataSpec, load_data, resolve_data
from .evaluate import evaluate_run
from .examples import example_run
from .explain import explain_run, locate_run, relevance_report
from .train import resume_run, train_command, train_run

__all__ = [
    "DataSpec",
    "evaluate_run",
    "example_run",
    "explain_run",
    "load_data",
    "locate_run",
    "relevance_report",
    "resolve_data",
    "resume_run",
    "train_command",
    "train_run",
]
