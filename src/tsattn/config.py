"""Typed, validated configs.

:class:`DatasetConfig` accepts the seed tutorial's JSON config with its exact
keys and meaning, so ``shared/seed/default_dataset.json`` loads unchanged.
:class:`TrainConfig` holds everything about a training run that is not data.

Bad values raise :class:`~tsattn.ConfigError` with a one-line message naming
the key, the rule and the value received; an unknown key suggests the closest
valid one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Literal, Self, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ._defaults import DEFAULT_MODEL
from ._errors import ConfigError, did_you_mean

__all__ = ["DatasetConfig", "Recipe", "TrainConfig", "load_dataset_config", "parse_config"]

_M = TypeVar("_M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "config") -> Self:
        """Validate ``data``; any problem becomes a one-line :class:`ConfigError`."""
        return parse_config(cls, data, source=source)


def parse_config(cls: type[_M], data: Any, *, source: str = "config") -> _M:
    """Validate ``data`` as ``cls``; any problem becomes a one-line :class:`ConfigError`.

    ``source`` names where the values came from (a file, ``"options"``). For
    keyword arguments (``source=PARAMETERS``) the error names the field itself
    as the parameter, so that the CLI can show its flag.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a JSON object of key/value pairs; got {type(data).__name__}", param="")
    valid = list(cls.model_fields)
    for key in data:
        if key not in cls.model_fields:
            raise ConfigError(
                f"{source}: unknown key '{key}'.{did_you_mean(str(key), valid)} Valid keys: {', '.join(valid)}",
                param="",
            )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        message, field = _one_line(exc, source)
        raise ConfigError(message, param=field if source == PARAMETERS else "") from None


#: ``parse_config``'s source for values given as keyword arguments or command-line options.
PARAMETERS = "parameters"


def _one_line(exc: ValidationError, source: str) -> tuple[str, str]:
    """The first problem in one line, and the field it concerns (``""`` when it concerns the whole)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    got = f"; got {err['input']!r}" if loc and "input" in err else ""
    extra = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    body = f"{msg[0].lower() + msg[1:]}{got}{extra}"
    if source == PARAMETERS and loc:
        return f"{loc}: {body}", loc
    where = f"'{loc}' " if loc else ""
    return f"{source}: {where}{body}", loc


AnomalyKind = Literal["rectified", "spike", "level_shift", "frequency_change", "noise_burst"]


def _grid_indices(lo: float, hi: float, step: float, n: int) -> tuple[int, int, int]:
    """Fractions of ``n`` as sample indices, as the seed does: ``int(fraction * n)``.

    A tiny epsilon guards against float artefacts (``0.29 * 500 = 144.99999...``)
    so that the grid is exactly 0, 5, ..., 445 for the seed's defaults.
    """

    def as_index(f: float) -> int:
        return math.floor(f * n + 1e-9)

    return as_index(lo), as_index(hi), max(1, as_index(step))


class DatasetConfig(_Strict):
    """The seed's sine / rectified-sine dataset.

    Every key of the seed's JSON is here with its meaning and default. Grids
    follow ``numpy.arange(min, max, step)``: ``max`` is excluded.

    Examples
    --------
    >>> cfg = DatasetConfig(num_points=200, noise_std=0.05)
    >>> cfg.index_grid("length")  # the flat part's length grid in samples: 10 % to 50 % of 200, step 1 %
    (20, 100, 2)
    >>> DatasetConfig.from_dict({"num_point": 200})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    tsattn._errors.ConfigError: config: unknown key 'num_point'. Did you mean 'num_points'? Valid keys: ...
    """

    num_points: int = Field(500, ge=2, description="samples per series; t = linspace(0, 2*pi, num_points)")
    dataset_size: int = Field(10000, ge=1, description="number of series")
    normal_anomalous_ratio: float = Field(0.5, ge=0.0, le=1.0, description="probability that a series is normal")
    min_freq: float = Field(1.0, description="frequency grid start")
    max_freq: float = Field(4.0, description="frequency grid end (excluded)")
    step_freq: float = Field(0.01, gt=0, description="frequency grid step")
    min_amp: float = Field(1.0, description="amplitude grid start")
    max_amp: float = Field(10.0, description="amplitude grid end (excluded)")
    step_amp: float = Field(0.01, gt=0, description="amplitude grid step")
    min_loc: float = Field(0.0, ge=0.0, le=1.0, description="flat part's start, as a fraction of num_points")
    max_loc: float = Field(0.9, ge=0.0, le=1.0, description="flat part's start grid end (excluded)")
    step_loc: float = Field(0.01, gt=0, le=1.0, description="flat part's start grid step, as a fraction")
    min_length: float = Field(0.1, ge=0.0, le=1.0, description="flat part's length, as a fraction of num_points")
    max_length: float = Field(0.5, ge=0.0, le=1.0, description="flat part's length grid end (excluded)")
    step_length: float = Field(0.01, gt=0, le=1.0, description="flat part's length grid step, as a fraction")
    output_folder: str = Field("output", description="seed key: where the seed wrote outputs (kept, unused)")
    picture_folder: str = Field("pictures", description="seed key: where the seed wrote pictures (kept, unused)")
    # Extensions, all off by default so the seed's semantics stay exact.
    noise_std: float = Field(0.0, ge=0.0, description="Gaussian noise, as a fraction of each series' amplitude")
    random_phase: bool = Field(False, description="draw a phase uniformly in [0, 2*pi) for every series")
    anomaly_kinds: list[AnomalyKind] = Field(
        default_factory=lambda: list[AnomalyKind](["rectified"]),
        min_length=1,
        description="anomalies an anomalous series draws from (uniformly): rectified (the seed), spike, "
        "level_shift, frequency_change, noise_burst",
    )
    multiclass: bool = Field(False, description="label = 1 + index of the anomaly kind (0 = normal)")
    spike_length: int = Field(5, ge=1, description="samples of a spike")
    spike_height: float = Field(1.0, description="spike height, as a fraction of amplitude")
    level_shift: float = Field(0.5, description="level shift, as a fraction of amplitude")
    frequency_factor: float = Field(2.0, gt=0, description="frequency multiplier inside the segment")
    burst_std: float = Field(0.3, ge=0, description="noise-burst std, as a fraction of amplitude")

    @model_validator(mode="after")
    def _check_ranges(self) -> DatasetConfig:
        if len(set(self.anomaly_kinds)) != len(self.anomaly_kinds):
            raise ValueError(f"anomaly_kinds must not repeat a kind; got {self.anomaly_kinds}")
        for name in ("freq", "amp", "loc", "length"):
            lo, hi = getattr(self, f"min_{name}"), getattr(self, f"max_{name}")
            if not lo < hi:
                raise ValueError(
                    f"min_{name} must be < max_{name} (numpy.arange excludes max); got min_{name}={lo}, max_{name}={hi}"
                )
        grids: tuple[Literal["loc", "length"], ...] = ("loc", "length")
        for name in grids:
            lo, hi, _step = self.index_grid(name)
            if lo >= hi:
                raise ValueError(
                    f"the {name} grid is empty at num_points={self.num_points}: int(min_{name}*num_points)={lo} "
                    f">= int(max_{name}*num_points)={hi}"
                )
        if self.index_grid("length")[0] < 1:
            raise ValueError(f"min_length must give a flat part of at least 1 sample; got min_length={self.min_length}")
        return self

    def index_grid(self, name: Literal["loc", "length"]) -> tuple[int, int, int]:
        """``(start, stop, step)`` in samples for the ``loc`` or ``length`` grid."""
        return _grid_indices(
            getattr(self, f"min_{name}"), getattr(self, f"max_{name}"), getattr(self, f"step_{name}"), self.num_points
        )


Scaling = Literal["znorm", "znorm_level", "standard", "both", "diff", "none"]
#: Lightning's names of the training precisions offered (half precision, "16-mixed", is for GPUs only).
Precision = Literal["32-true", "bf16-mixed"]


class TrainConfig(_Strict):
    """Everything about a training run that is not the data.

    Examples
    --------
    >>> cfg = TrainConfig(model="cnn", max_epochs=5)
    >>> cfg.lr_schedule, cfg.val_fraction, cfg.test_fraction
    ('onecycle', 0.1, 0.2)
    """

    model: str = Field(DEFAULT_MODEL, description="registered model name (see tsattn.models.list_models())")
    model_params: dict[str, Any] = Field(default_factory=dict, description="hyperparameters passed to the model")
    seed: int = Field(0, ge=0, description="seeds the split, the weights and the batch order")
    max_epochs: int = Field(50, ge=1, description="epoch budget; early stopping usually ends sooner")
    patience: int = Field(5, ge=1, description="epochs without a better val loss before stopping")
    min_steps: int = Field(
        0,
        ge=0,
        description="raise the epoch budget until it holds this many optimiser steps "
        "(small datasets); patience then grows to a quarter of the budget",
    )
    max_steps: int = Field(
        0,
        ge=0,
        description="stop after exactly this many optimiser steps, partway through an epoch if need be "
        "(large datasets; 0: no cap); an explicit max_epochs sets it and min_steps to 0 unless they are given too",
    )
    min_val_size: int = Field(
        0,
        ge=0,
        description="early-stop on the validation split only when it holds at least this many "
        "series; a smaller one is trained on instead, for the whole epoch budget, keeping the last weights",
    )
    ensemble: int = Field(1, ge=1, description="networks trained with different initial weights, averaged")
    ensemble_below: int = Field(
        0,
        ge=0,
        description="train `ensemble` networks only on a training part of fewer series than this; from this many, "
        "one network (0: always `ensemble`); config.json records the ensemble in force",
    )
    batch_size: int = Field(64, ge=1, description="series per optimisation step")
    lr: float = Field(3e-3, gt=0, description="peak learning rate of Adam")
    weight_decay: float = Field(0.0, ge=0, description="decoupled weight decay (AdamW) when > 0")
    lr_schedule: Literal["constant", "onecycle", "cosine"] = Field(
        "onecycle", description="onecycle: warm up then anneal over max_epochs"
    )
    grad_clip: float = Field(1.0, ge=0, description="clip the gradient norm to this (0: off)")
    attention_smoothing: float = Field(
        0.0,
        ge=0,
        description="weight of a penalty on the attention's total variation (attention "
        "models; see training.module.attention_variation): spreads attention evenly over an "
        "anomalous stretch instead of piling it on its sharpest edge",
    )
    label_smoothing: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="train towards targets of 1 - e + e/k for the true class and e/k for the others (k classes), "
        "so that the loss has a finite optimum; the logged losses stay plain cross-entropy",
    )
    attention_entropy: float = Field(
        0.0,
        ge=0,
        description="weight of a penalty on the attention's entropy, in units of log(length) (attention models; see "
        "training.module.attention_entropy): less weight where the model has no evidence",
    )
    scaling: Scaling = Field(
        "znorm",
        description="znorm: each series to mean 0, std 1; znorm_level: znorm, plus "
        "logit offsets from each series' level and scale; standard: dataset "
        "mean/std; both: each channel twice, z-normalised and standardised; diff: first differences along time, "
        "z-normalised",
    )
    scaling_gain: float = Field(1.0, gt=0, description="standard deviation of the scaled input")
    scaling_clip: float = Field(
        0.0,
        ge=0,
        description="limit the scaled input to +-scaling_clip x scaling_gain (0: off), so that one jump cannot "
        "carry a series' class on its own",
    )
    nan_policy: Literal["error", "interpolate", "zero"] = Field(
        "error", description="missing values inside a series: error, interpolate along time, or zero"
    )
    val_fraction: float = Field(0.1, gt=0, lt=1, description="share of all series used for validation")
    test_fraction: float = Field(0.2, gt=0, lt=1, description="share of all series used for testing")
    accelerator: str = Field("auto", description="Lightning accelerator: auto, cpu, gpu, ...")
    devices: int | str = Field("auto", description="Lightning devices")
    num_nodes: int = Field(1, ge=1, description="Lightning num_nodes")
    strategy: str = Field("auto", description="Lightning strategy, e.g. ddp")
    deterministic: bool = Field(True, description="use deterministic algorithms (bit-identical reruns on CPU)")
    precision: Precision = Field(
        "32-true",
        description="Lightning precision of training: 32-true, or bf16-mixed (the forward and backward passes "
        "in bfloat16 under autocast, the weights, the optimiser and every prediction after training in float32)",
    )

    @model_validator(mode="after")
    def _check_split(self) -> TrainConfig:
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError(
                f"val_fraction + test_fraction must be < 1; got {self.val_fraction} + {self.test_fraction}"
            )
        return self


class Recipe(TypedDict, total=False):
    """A model's training recipe: the :class:`TrainConfig` settings of how a model trains, each optional.

    Each key has its ``TrainConfig`` field's type, so a misspelt key or a wrong
    type in a recipe fails the type check; ``training.recipes`` also validates
    every recipe as a ``TrainConfig`` when it is imported. What a recipe leaves
    out (the model, the seed, the split, the hardware) comes from the run.
    """

    model_params: dict[str, Any]
    max_epochs: int
    patience: int
    min_steps: int
    max_steps: int
    min_val_size: int
    ensemble: int
    ensemble_below: int
    batch_size: int
    lr: float
    weight_decay: float
    lr_schedule: Literal["constant", "onecycle", "cosine"]
    grad_clip: float
    attention_smoothing: float
    attention_entropy: float
    label_smoothing: float
    scaling: Scaling
    scaling_gain: float
    scaling_clip: float
    precision: Precision


def load_dataset_config(path: str | os.PathLike[str]) -> DatasetConfig:
    """Read a dataset config from a JSON file, such as the seed's ``default_dataset.json``.

    Examples
    --------
    >>> import json, tempfile
    >>> path = tempfile.mktemp(suffix=".json")
    >>> _ = open(path, "w").write(json.dumps({"num_points": 300, "dataset_size": 50}))
    >>> load_dataset_config(path).num_points
    300
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise ConfigError(f"config: file is empty: {path}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"config: malformed JSON in {path} at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return parse_config(DatasetConfig, data, source=f"config {path.name}")
