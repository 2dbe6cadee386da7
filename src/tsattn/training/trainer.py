"""Build a Lightning Trainer and fit a network, keeping the best weights.

With a run directory, Lightning writes ``checkpoints/last.ckpt`` after every
epoch (atomically: a temporary file renamed over the old one). The
checkpoint holds the weights, optimiser and schedule, early stopping, the
best weights so far, the history and the RNG states, so
``fit(..., resume=True)`` continues to the same end as a run that never
stopped. Checkpoints are loaded with ``weights_only=True``: a checkpoint
that carries a pickled object is refused, not executed.
"""

from __future__ import annotations

import copy
import csv
import io
import logging
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, EarlyStopping

from .._errors import RunError, install_hint
from .._io import atomic_save, atomic_write_text
from ..config import TrainConfig
from .data import ArrayDataset, make_loader
from .module import LitClassifier

CHECKPOINT_DIR = "checkpoints"
LAST = "last.ckpt"
LOGGERS = ("csv", "tensorboard", "mlflow", "none")

#: One row per epoch in ``history.csv``. ``train_loss`` is the classification loss alone; the attention penalty
#: added to it in the training objective is ``train_attention_penalty`` (0 without one). New columns go last:
#: checkpoints store rows as lists in this order, and an older checkpoint's shorter rows still resume.
HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "train_attention_penalty",
]


@dataclass
class FitResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_loss: float = float("inf")
    epochs_run: int = 0
    optimizer_steps: int = 0
    train_seconds: float = 0.0
    is_global_zero: bool = True
    resumed_from_epoch: int | None = None


def interactive() -> bool:
    """Is stderr a terminal? Progress bars redraw in place only there; a pipe or a log gets plain lines."""
    return sys.stderr.isatty()


class _EpochLines(Callback):
    """One line per epoch on stderr, for output that is not a terminal."""

    def __init__(self, max_epochs: int) -> None:
        self.max_epochs = max_epochs

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.is_global_zero:
            m = trainer.callback_metrics
            scores = ", ".join(f"{k} {float(m[k]):.4f}" for k in ("train_loss", "val_loss", "val_acc") if k in m)
            print(f"epoch {trainer.current_epoch + 1}/{self.max_epochs}: {scores}", file=sys.stderr, flush=True)


class _StopAtStepCap(Callback):
    """At ``max_steps`` optimiser steps, stop partway through the epoch as early stopping does, so that the
    cut epoch is validated (and can be the best one) before training ends."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if trainer.global_step >= self.max_steps:
            trainer.should_stop = True


class _BestAndHistory(Callback):
    """Keep the best weights in memory, log one row per epoch, restore the best at the end."""

    def __init__(self, result: FitResult, history_path: Path | None, config_digest: str | None = None) -> None:
        self.result = result
        self.config_digest = config_digest
        self.history_path = history_path
        self.best_state: dict[str, Any] | None = None
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        m = trainer.callback_metrics
        val_loss = float(m.get("val_loss", float("nan")))
        row = {
            "epoch": trainer.current_epoch,
            "train_loss": float(m.get("train_loss", float("nan"))),
            "train_acc": float(m.get("train_acc", float("nan"))),
            "val_loss": val_loss,
            "val_acc": float(m.get("val_acc", float("nan"))),
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "seconds": round(time.perf_counter() - self._t0, 3),
            "train_attention_penalty": float(m.get("train_attention_penalty", 0.0)),
        }
        self.result.history.append(row)
        if val_loss < self.result.best_val_loss:
            self.result.best_val_loss, self.result.best_epoch = val_loss, trainer.current_epoch
            self.best_state = copy.deepcopy(pl_module.net.state_dict())
        if self.history_path is not None and trainer.is_global_zero:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS)
            writer.writeheader()
            writer.writerows(self.result.history)
            atomic_write_text(self.history_path, buf.getvalue())

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if self.best_state is not None:
            pl_module.net.load_state_dict(self.best_state)

    # What a checkpoint keeps of this callback: plain lists, numbers and tensors only (weights_only loading).
    def state_dict(self) -> dict[str, Any]:
        return {
            "history": [[row[c] for c in HISTORY_COLUMNS] for row in self.result.history],
            "best_epoch": self.result.best_epoch,
            "best_val_loss": self.result.best_val_loss,
            "best_state": self.best_state,
            "rng": _rng_state(),
            "config_digest": self.config_digest,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.result.history = [
            dict.fromkeys(HISTORY_COLUMNS, float("nan")) | dict(zip(HISTORY_COLUMNS, row, strict=False))
            for row in state["history"]
        ]
        self.result.best_epoch, self.result.best_val_loss = state["best_epoch"], state["best_val_loss"]
        self.best_state = state["best_state"]
        self.result.resumed_from_epoch = len(self.result.history)  # one row per completed epoch
        if self.result.history:  # the clock goes on from where the crashed run stopped
            self._t0 = time.perf_counter() - float(self.result.history[-1]["seconds"])
        _set_rng_state(state["rng"])


def _rng_state() -> dict[str, Any]:
    _kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [torch.from_numpy(np.asarray(keys).astype(np.int64)), pos, has_gauss, gauss],
        "python": [version, list(py_state), py_gauss],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, py_state, py_gauss = state["python"]
    random.setstate((version, tuple(py_state), py_gauss))


class _LastCheckpoint(Callback):
    """Save Lightning's full checkpoint to ``last.ckpt`` at the end of every training epoch.

    It runs after the other callbacks have recorded the epoch (it is last in
    the list), so the checkpoint holds the epoch's history row and best weights.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)  # False: the full state, to resume from


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary file and rename it into place: a kill never leaves half a file."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        atomic_save(path, lambda fh: torch.save(checkpoint, fh))


def budget(config: TrainConfig, n_train: int, *, holdout: bool = True) -> tuple[int, int, int]:
    """``(max_epochs, patience, passes)``: with ``min_steps``, small datasets get enough optimiser steps.

    A recipe tuned on 7,000 series (110 steps an epoch) would give a 50-series
    dataset 8 steps in 8 epochs; ``min_steps`` raises the epoch budget instead,
    and early stopping's patience grows with it to a quarter of the budget.
    ``max_steps`` caps the budget on large datasets: the epochs that hold that
    many steps, the last of them cut short where the cap falls (:func:`fit`
    stops after exactly ``max_steps`` optimiser steps).
    Without a validation holdout (``holdout=False``) nothing is checked between
    epochs, so the budget is met by ``passes`` over the data in each of
    ``max_epochs`` epochs instead: the same steps, with Lightning's cost per
    epoch paid fewer times.

    Examples
    --------
    >>> cfg = TrainConfig(max_epochs=10, min_steps=100, batch_size=10)
    >>> budget(cfg, 20), budget(cfg, 20, holdout=False)
    ((50, 12, 1), (10, 5, 5))
    >>> budget(cfg.model_copy(update={"max_steps": 250}), 1000)  # 100 steps an epoch: 2.5 epochs
    (3, 5, 1)
    """
    steps_per_epoch = max(1, -(-n_train // config.batch_size))
    if config.max_steps and config.max_epochs * steps_per_epoch > config.max_steps:
        return -(-config.max_steps // steps_per_epoch), config.patience, 1
    if not holdout:  # enough passes that every epoch holds min_steps / max_epochs batches
        series = -(-config.min_steps // config.max_epochs) * min(config.batch_size, max(n_train, 1))
        return config.max_epochs, config.patience, max(1, -(-series // max(n_train, 1)))
    epochs = max(config.max_epochs, -(-config.min_steps // steps_per_epoch))
    patience = config.patience if epochs == config.max_epochs else max(config.patience, epochs // 4)
    return epochs, patience, 1


#: How the step bounds work, as ``config.json`` records it beside the budget in force.
BUDGET_RULE = (
    "min_steps raises the epoch budget until it holds that many optimiser steps; max_steps stops training after "
    "exactly that many, partway through an epoch if need be; an explicit max_epochs sets both to 0 unless they "
    "are given too"
)


def budget_summary(config: TrainConfig, n_train: int, n_val: int) -> dict[str, Any]:
    """The budget in force for ``n_train`` training and ``n_val`` validation series, as ``config.json`` records it.

    Examples
    --------
    >>> s = budget_summary(TrainConfig(max_epochs=10, max_steps=250, batch_size=10), 1000, 100)
    >>> s["max_epochs"], s["steps_per_epoch"], s["max_optimizer_steps"], s["early_stopping"]
    (3, 100, 250, True)
    """
    epochs, patience, passes = budget(config, n_train, holdout=n_val > 0)
    batch = max(1, min(config.batch_size, max(n_train, 1)))  # no batch is bigger than the training set
    steps_per_epoch = max(1, -(-(n_train * passes) // batch))
    steps = epochs * steps_per_epoch
    return {
        "max_epochs": epochs,
        "patience": patience if n_val > 0 else None,
        "early_stopping": n_val > 0,
        "passes_per_epoch": passes,
        "steps_per_epoch": steps_per_epoch,
        "max_optimizer_steps": min(steps, config.max_steps) if config.max_steps else steps,
        "min_steps": config.min_steps,
        "max_steps": config.max_steps,
        "rule": BUDGET_RULE,
    }


def seed_everything(seed: int, deterministic: bool = True) -> None:
    L.seed_everything(seed, workers=True, verbose=False)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def global_rank() -> int:
    """This process's rank in a distributed job, from the launcher's environment (0 when not distributed)."""
    for var in ("RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        if var in os.environ:
            return int(os.environ[var])
    return int(os.environ.get("NODE_RANK", 0)) * int(os.environ.get("LOCAL_WORLD_SIZE", 1)) + int(
        os.environ.get("LOCAL_RANK", 0)
    )


def make_logger(kind: str | None, run_dir: Path | None) -> Any:
    """Lightning's CSV, TensorBoard or MLflow logger, writing under ``run_dir/logs``."""
    kind = kind or "none"
    if kind not in LOGGERS:
        raise RunError(f"logger: must be one of {', '.join(LOGGERS)}; got {kind!r}")
    import importlib.util

    needs = {"tensorboard": ("tensorboard", "tensorboardX"), "mlflow": ("mlflow",)}.get(kind, ())
    if needs and not any(importlib.util.find_spec(m) for m in needs):  # checked before any work, not mid-run
        raise RunError(f"logger: {kind} needs the {needs[0]} package, which is not installed ({install_hint(kind)})")
    if kind == "none" or run_dir is None:
        return False
    save_dir = run_dir / "logs"
    if kind == "csv":
        return _csv_logger(save_dir)
    if kind == "tensorboard":
        try:
            from lightning.pytorch.loggers import TensorBoardLogger

            return TensorBoardLogger(save_dir, name="", version="", default_hp_metric=False)
        except ModuleNotFoundError:
            raise RunError(
                f"logger: tensorboard needs the tensorboard package ({install_hint('tensorboard')})"
            ) from None
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise RunError(f"logger: mlflow needs the mlflow package ({install_hint('mlflow')})") from None
    from lightning.pytorch.loggers import MLFlowLogger

    # MLFLOW_TRACKING_URI, when set, names a tracking server; otherwise a SQLite store inside the run.
    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(save_dir / 'mlflow.db').resolve()}"
    save_dir.mkdir(parents=True, exist_ok=True)
    return MLFlowLogger(experiment_name="tsattn", run_name=run_dir.name, tracking_uri=uri)


def _csv_logger(save_dir: Path) -> Any:
    """Lightning's CSVLogger writing ``logs/metrics.csv`` atomically, and keeping earlier rows on resume.

    Lightning's own writer appends to the file in place and deletes an
    existing one; a kill mid-append would leave half a row, and a resumed run
    would lose the rows before the crash.
    """
    from lightning.pytorch.loggers import CSVLogger
    from lightning.pytorch.loggers.csv_logs import ExperimentWriter

    class AtomicWriter(ExperimentWriter):
        def _check_log_dir_exists(self) -> None:  # keep what a crashed run logged
            self._rows: list[dict[str, Any]] = []
            if os.path.isfile(self.metrics_file_path):
                with open(self.metrics_file_path, newline="") as fh:
                    self._rows = list(csv.DictReader(fh))
                for row in self._rows:
                    for key in row:
                        if key not in self.metrics_keys:
                            self.metrics_keys.append(key)

        def save(self) -> None:
            if not self.metrics:
                return
            self._rows += self.metrics
            self.metrics_keys = sorted(set(self.metrics_keys).union(*self.metrics))
            self.metrics = []
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=self.metrics_keys)
            writer.writeheader()
            writer.writerows(self._rows)
            atomic_write_text(self.metrics_file_path, buf.getvalue())

    class AtomicCSVLogger(CSVLogger):
        @property
        def experiment(self) -> Any:
            if self._experiment is None:
                self._fs.makedirs(self.root_dir, exist_ok=True)
                self._experiment = AtomicWriter(log_dir=self.log_dir)
            return self._experiment

    return AtomicCSVLogger(save_dir, name="", version="")


def _callbacks(
    keeper: Callback,
    config: TrainConfig,
    run_dir: Path | None,
    patience: int | None,
    max_epochs: int,
    progress: bool,
    bar: bool,
) -> list[Callback]:
    """Early stopping (``patience``; ``None`` without a holdout), the step cap, ``last.ckpt``, and progress."""
    callbacks: list[Callback] = [keeper]
    if patience is not None:
        callbacks.insert(0, EarlyStopping(monitor="val_loss", patience=patience, mode="min"))
    if config.max_steps:
        callbacks.append(_StopAtStepCap(config.max_steps))
    if run_dir is not None:
        callbacks.append(_LastCheckpoint(run_dir / CHECKPOINT_DIR / LAST))
    if bar:
        from lightning.pytorch.callbacks import TQDMProgressBar

        callbacks.insert(0, TQDMProgressBar(leave=False))
    elif progress:  # a pipe or a CI log: one plain line per epoch instead of a bar redrawn in place
        callbacks.append(_EpochLines(max_epochs))
    return callbacks


def fit(
    net: torch.nn.Module,
    train: ArrayDataset,
    val: ArrayDataset,
    config: TrainConfig,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    resume: bool = False,
    logger: str | None = None,
    config_digest: str | None = None,
) -> FitResult:
    """Train ``net`` in place; on return it holds the weights of the best validation epoch.

    Early stopping watches the validation loss with ``config.patience``.
    An empty ``val`` (the small-data rule of
    :func:`~tsattn.training.pipeline.split_rows`) means no early stopping:
    the whole budget is trained and the last weights are kept.
    With ``run_dir``, ``history.csv`` gets a row per epoch as training goes,
    ``checkpoints/last.ckpt`` is rewritten after every epoch, and ``logger``
    (csv, tensorboard, mlflow) writes under ``logs/``. ``resume`` continues
    from ``last.ckpt`` when it exists.
    """
    result = FitResult()
    run_dir = Path(run_dir) if run_dir is not None else None
    holdout = len(val) > 0
    max_epochs, patience, passes = budget(config, len(train), holdout=holdout)
    lit = LitClassifier(
        net,
        lr=config.lr,
        weight_decay=config.weight_decay,
        lr_schedule=config.lr_schedule,
        attention_smoothing=config.attention_smoothing,
        attention_entropy=config.attention_entropy,
        label_smoothing=config.label_smoothing,
    )
    keeper = _BestAndHistory(result, run_dir / "history.csv" if run_dir else None, config_digest)
    ckpt_path = None
    if run_dir is not None and resume and (run_dir / CHECKPOINT_DIR / LAST).is_file():
        ckpt_path = run_dir / CHECKPOINT_DIR / LAST
    bar = progress and interactive()
    callbacks = _callbacks(keeper, config, run_dir, patience if holdout else None, max_epochs, progress, bar)
    # Lightning's start-up chatter (device summary, tips) is noise in a CLI; warnings still show.
    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    trainer = L.Trainer(
        max_epochs=max_epochs,
        max_steps=config.max_steps or -1,  # an exact cap: the last epoch may stop partway
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        callbacks=callbacks,
        logger=make_logger(logger, run_dir),
        log_every_n_steps=10,
        enable_checkpointing=False,  # our _LastCheckpoint writes last.ckpt; no stray lightning_logs/
        default_root_dir=run_dir,
        enable_model_summary=False,
        enable_progress_bar=bar,
        num_sanity_val_steps=0,
        gradient_clip_val=config.grad_clip or None,
        deterministic=config.deterministic,
        precision=config.precision,
        plugins=[AtomicCheckpointIO()] if run_dir is not None else None,
    )
    # No batch is bigger than the training set, as without passes.
    batch_size = min(config.batch_size, max(len(train), 1))
    train_loader = make_loader(train, batch_size, shuffle=True, seed=config.seed, passes=passes)
    val_loader = make_loader(val, max(config.batch_size, 512), shuffle=False) if holdout else None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
        warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")
        warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", message=".*no `val_dataloader`.*")  # the small-data rule: no holdout
        try:
            trainer.fit(lit, train_loader, val_loader, ckpt_path=ckpt_path, weights_only=True)
        except Exception as exc:
            if ckpt_path is not None and _is_unsafe_checkpoint(exc):
                raise RunError(
                    f"resume: {ckpt_path} holds pickled objects beyond tensors and plain values; "
                    "refused (loading it could run arbitrary code)"
                ) from None
            raise
    result.train_seconds = time.perf_counter() - t0
    result.epochs_run = trainer.current_epoch
    result.optimizer_steps = trainer.global_step
    if not holdout:  # nothing to choose the best epoch by: the last one is kept
        result.best_epoch = result.epochs_run - 1
    result.is_global_zero = trainer.is_global_zero
    return result


def _is_unsafe_checkpoint(exc: BaseException) -> bool:
    import pickle

    return isinstance(exc, pickle.UnpicklingError) or "weights_only" in str(exc) or "Unsupported global" in str(exc)


def read_checkpoint_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{"epochs": completed epochs, "config_digest": ...}`` of ``checkpoints/last.ckpt``, or None without one.

    The file is loaded with ``weights_only=True``: one that carries pickled
    objects is refused with a :class:`RunError`, never executed.
    """
    path = Path(run_dir) / CHECKPOINT_DIR / LAST
    if not path.is_file():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if _is_unsafe_checkpoint(exc):
            raise RunError(
                f"resume: {path} holds pickled objects beyond tensors and plain values; refused "
                "(loading it could run arbitrary code)"
            ) from None
        raise RunError(
            f"resume: {path} is not a readable checkpoint ({type(exc).__name__}); it may be truncated"
        ) from None
    if not isinstance(ckpt, dict) or "epoch" not in ckpt:
        raise RunError(f"resume: {path} is not a Lightning checkpoint (no 'epoch' key)")
    keeper: dict[str, Any] = next((v for k, v in ckpt.get("callbacks", {}).items() if "_BestAndHistory" in k), {})
    return {"epochs": int(ckpt["epoch"]) + 1, "config_digest": keeper.get("config_digest")}
