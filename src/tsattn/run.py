"""The run directory: everything needed to reuse a trained model.

``config.json``
    the fully resolved config: data source, dataset config, train config,
    scaler statistics, class names, input shape, seed and package versions.
``weights.safetensors``
    the network's weights; loading them cannot execute code.
``status.json``
    ``running``, ``done`` or ``failed``, so a crashed run is never taken for
    a finished one.
``metrics.json``, ``history.csv``, ``split.npz``, plots
    what training and evaluation produced.

Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import RunError
from ._io import atomic_write_bytes, atomic_write_json
from ._version import __version__
from .config import TrainConfig

if TYPE_CHECKING:
    from torch.nn import Module

CONFIG = "config.json"
WEIGHTS = "weights.safetensors"
STATUS = "status.json"
METRICS = "metrics.json"
HISTORY = "history.csv"
SPLIT = "split.npz"
LOCK = ".lock"
LOCK_GRACE_S = 30.0  # an empty lock younger than this belongs to a writer between creating it and writing its id
REQUIRED_CONFIG_KEYS = ("model", "train", "class_names", "n_channels", "seq_len", "scaler")


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"tsattn": __version__, "python": platform.python_version()}
    for pkg in ("torch", "lightning", "numpy", "scikit-learn"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(run_dir: Path, what: str = "out") -> Path:
    """Claim ``run_dir`` for this process: create ``run_dir/.lock`` exclusively, holding this process's id.

    A second writer is refused with one line naming the process that holds
    it. A lock whose process is gone (a crash, SIGKILL) is stale and taken
    over. Returns the lock's path, for :func:`release_lock`.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                text = path.read_text().strip()
                age = time.time() - path.stat().st_mtime
            except FileNotFoundError:
                continue  # released between the two calls: try again
            except OSError:
                text, age = "?", LOCK_GRACE_S  # unreadable: stale, as before
            pid = int(text) if text.isdigit() else 0
            # An empty lock is one whose writer has created it and not yet written its id: held, unless old.
            # Anything else without a live id (garbage, a dead process) is stale.
            if (pid and pid != os.getpid() and _alive(pid)) or (not text and age < LOCK_GRACE_S):
                holder = f"pid {pid}" if pid else "its lock was created just now"
                raise RunError(
                    f"{what}: {run_dir} is being written by another process ({holder}); "
                    "wait for it to finish, or use another directory"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: the process that held it is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return path
    raise RunError(f"{what}: could not claim {run_dir}: its lock file keeps reappearing")


def release_lock(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_status(run_dir: Path, state: str, **info: Any) -> None:
    atomic_write_json(run_dir / STATUS, {"state": state, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **info})


def read_status(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / STATUS
    if not path.is_file():
        return {"state": "unknown"}
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def save_weights(net: Module, path: Path) -> None:
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    # One metadata key: safetensors orders metadata keys arbitrarily, so more would make the bytes vary.
    atomic_write_bytes(path, save(state, metadata={"model": getattr(net, "name", "")}))


def load_weights(net: Module, path: Path) -> None:
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load

    if not path.is_file():
        raise RunError(f"run: weights file not found: {path}")
    try:
        state = load(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as exc:
        raise RunError(f"run: {path.name} is not a valid safetensors file ({exc}); it may be truncated") from None
    from .models import legacy_state

    state = legacy_state(state, net.state_dict())  # runs saved while the offsets lived inside the models
    # Runs saved before the length offsets existed lack them; zero offsets are exactly what those models computed.
    for key, value in net.state_dict().items():
        if key.split(".")[-2:-1] == ["length"] and key not in state:
            state[key] = torch.zeros_like(value)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0:2]
        raise RunError(
            f"run: {path.name} does not match the '{getattr(net, 'name', '?')}' architecture in config.json: "
            + " ".join(s.strip() for s in first)
        ) from None


#: The run format this release writes. 1: the format before it was versioned (no ``format_version`` key).
#: 3: inception_attention's width follows the series' length; a run of an older format was 16 filters wide.
FORMAT_VERSION = 3


class DataSource(BaseModel):
    """Where a run's data came from, so that evaluation and ``--resume`` can read them again."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["synthetic", "named", "file", "memory", "estimator"] = "memory"
    dataset_config: dict[str, Any] | None = None
    """``synthetic``: the :class:`~tsattn.config.DatasetConfig` the data were generated from."""
    seed: int | None = None
    """``synthetic``: the generation seed."""
    name: str | None = None
    """``named``: the UCR/UEA dataset (``ucr:<name>``)."""
    path: str | None = None
    """``file``: the data file, resolved."""
    test_path: str | None = None
    """``file``: the separate test file, resolved."""
    reader: dict[str, Any] | None = None
    """``file``: the reader options (label, id, time, value and channel columns)."""
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    """``file``: the column contract of a CSV/Parquet file, which new files are checked against."""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class RunConfig(BaseModel):
    """``config.json``: everything needed to rebuild a trained model and the data it was trained on.

    It is written and read only here (:func:`write_config`, :func:`read_config`).

    Examples
    --------
    >>> from tsattn.config import TrainConfig
    >>> rc = RunConfig(model="cnn", train=TrainConfig(model="cnn"), seed=0, class_names=["a", "b"],
    ...                n_channels=1, seq_len=30, scaler={"method": "znorm"})
    >>> RunConfig.model_validate_json(rc.model_dump_json()) == rc
    True
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format_version: int = FORMAT_VERSION
    model: str
    model_params: dict[str, Any] = Field(default_factory=dict)
    train: TrainConfig
    seed: int
    class_names: list[str]
    classes: list[Any] | None = None
    """The labels as the data typed them (1, 2, 10 stay integers), when they were not text."""
    n_channels: int
    seq_len: int
    scaler: dict[str, Any]
    data: DataSource = Field(default_factory=DataSource)
    split: dict[str, Any] | None = None
    n_params: int | None = None
    logger: str = "none"
    versions: dict[str, str] = Field(default_factory=dict)
    budget: dict[str, Any] | None = None
    """The training budget in force (:func:`~tsattn.training.trainer.budget_summary`): epochs, steps, and the rule
    by which an explicit ``max_epochs`` turns the step bounds off."""
    estimator_params: dict[str, Any] | None = None
    """Runs saved by :class:`~tsattn.AttentionClassifier`: its ``get_params()``."""
    estimator_input: dict[str, Any] | None = None
    """Runs saved by :class:`~tsattn.AttentionClassifier`: how ``fit`` saw ``X`` (its ``ndim``, ``n_features_in``)."""

    @property
    def labels(self) -> list[Any]:
        """The class labels in the order of the model's outputs, typed as the data typed them."""
        return list(self.classes) if self.classes is not None else list(self.class_names)

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``config.json`` holds."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def new_run_config(
    config: TrainConfig,
    *,
    class_names: list[str],
    classes: list[Any] | None,
    n_channels: int,
    seq_len: int,
    scaler: Any,
    net: Any,
    data: DataSource,
    **extra: Any,
) -> RunConfig:
    """The config of a run just trained: the one place a :class:`RunConfig` is made, by ``tsattn train`` and the
    estimator alike (``extra``: the split, the logger, the estimator's parameters).

    Examples
    --------
    >>> from tsattn.config import TrainConfig
    >>> from tsattn.training.scaling import Scaler
    >>> from torch import nn
    >>> rc = new_run_config(TrainConfig(model="cnn"), class_names=["a", "b"], classes=None, n_channels=1,
    ...                     seq_len=30, scaler=Scaler("znorm"), net=nn.Linear(2, 3), data=DataSource(kind="memory"))
    >>> rc.model, rc.n_params, rc.scaler["method"]
    ('cnn', 9, 'znorm')
    """
    return RunConfig(
        model=config.model,
        model_params=config.model_params,
        train=config,
        seed=config.seed,
        class_names=list(class_names),
        classes=classes,
        n_channels=int(n_channels),
        seq_len=int(seq_len),
        scaler=scaler.to_dict(),
        data=data,
        n_params=int(sum(p.numel() for p in net.parameters())),
        versions=versions(),
        **extra,
    )


@dataclass
class LoadedRun:
    path: Path
    config: RunConfig
    net: Any
    scaler: Any

    @property
    def class_names(self) -> list[str]:
        return self.config.class_names

    @property
    def model_name(self) -> str:
        return self.config.model

    def predict_proba(self, X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities of raw series ``X`` ``(n, C, T)``: the run's scaler, then its network."""
        from .inference import predict_arrays

        return predict_arrays(self.net, self.scaler.transform(X), lengths=lengths, with_attention=False)[0]

    def logits_of_scaled(self, X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Class logits (:func:`~tsattn.inference.predict_logits`) of series already through the run's scaler."""
        from .inference import predict_logits

        return predict_logits(self.net, X, lengths=lengths)

    def outputs_of_scaled(self, X: np.ndarray, lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities and logits of series already through the run's scaler, from one forward pass."""
        from .inference import predict_outputs

        return predict_outputs(self.net, X, lengths=lengths)


def write_config(run_dir: Path, config: RunConfig) -> None:
    """Write ``config.json`` atomically."""
    atomic_write_json(Path(run_dir) / CONFIG, config.to_json())


def read_config(run_dir: str | os.PathLike[str]) -> RunConfig:
    """Read and validate ``config.json``; runs of format 1 (before versioning) read as they are, and an
    inception_attention run of format 1 or 2 keeps the 16 filters it was trained with.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> config = read_config(run)
    >>> config.format_version, config.train.max_epochs, config.data.kind
    (3, 1, 'synthetic')
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"run: not a directory: {run_dir}")
    path = run_dir / CONFIG
    if not path.is_file():
        raise RunError(f"run: {run_dir} has no {CONFIG}; it is not a tsattn run directory (or training never started)")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunError(f"run: {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(raw, dict):
        raise RunError(f"run: {path} must hold a JSON object; got {type(raw).__name__}")
    missing = [k for k in REQUIRED_CONFIG_KEYS if k not in raw]
    if missing:
        raise RunError(f"run: {path} lacks the keys {missing}; it was edited or is from another tool")
    version = raw.setdefault("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunError(
            f"run: {path} has run format {version!r}, newer than this tsattn reads ({FORMAT_VERSION}); "
            "upgrade tsattn (pip install -U tsattn) to load it"
        )
    if version < 3 and raw.get("model") == "inception_attention":
        _keep_old_width(raw)
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RunError(
            f"run: {path} is not a valid run config: '{where}' {err['msg'].lower()}; it was edited, "
            "or written by another tool; train the run again"
        ) from None


def _keep_old_width(raw: dict[str, Any]) -> None:
    """Before format 3, inception_attention was 16 filters wide on every series: say so where a run left it out."""
    train = raw.get("train")
    for holder in (raw, train if isinstance(train, dict) else {}):
        params = holder.setdefault("model_params", {})
        if isinstance(params, dict):
            params.setdefault("filters", 16)


def load_run(run_dir: str | os.PathLike[str], *, require_done: bool = True) -> LoadedRun:
    """Load a trained run: its config, scaler and network (weights via safetensors, no pickle).

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> loaded = load_run(run)
    >>> loaded.model_name, loaded.class_names
    ('cnn_attention', ['normal', 'rectified'])
    """
    from .training.pipeline import build_network
    from .training.scaling import Scaler

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    state = read_status(run_dir).get("state")
    if require_done and state not in ("done", "evaluated"):
        raise RunError(f"run: {run_dir} is in state '{state}', not 'done'; it did not finish training")
    try:
        scaler = Scaler.from_dict(config.scaler)
        net = build_network(
            config.model,
            config.n_channels,
            len(config.class_names),
            config.seq_len,
            scaler,
            ensemble=config.train.ensemble,
            model_params=config.model_params,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"run: {run_dir / CONFIG} is inconsistent: {exc}") from None
    load_weights(net, run_dir / WEIGHTS)
    net.eval()
    return LoadedRun(path=run_dir, config=config, net=net, scaler=scaler)
