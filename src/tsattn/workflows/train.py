"""Train a run: split, prepare, train, save and evaluate it; or resume one that was cut short."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import run as rundir
from .._errors import DataError, RunError, TrainingInterrupted
from .._io import atomic_save, atomic_write_json
from ..config import TrainConfig
from ..data import SeriesDataset
from ..training.pipeline import Prepared
from ..training.trainer import FitResult, budget_summary
from ._data import DataSpec, data_source, split_part
from .evaluate import evaluate_run

__all__ = ["check_new_run", "resume_run", "train_command", "train_run"]


def train_command(
    model: str,
    given: dict[str, Any],
    out: Path,
    data: DataSpec,
    *,
    quiet: bool = False,
    logger: str | None = "csv",
    replace: bool = False,
    faithfulness: bool = True,
) -> dict[str, Any]:
    """``tsattn train`` (and ``demo``) from the options as given: the model's recipe with ``given`` over it, the
    data that ``data`` names, then :func:`train_run`. The CLI parses; this decides.
    """
    from ..training.pipeline import resolve_train_config
    from ..training.trainer import global_rank

    tc = resolve_train_config(model, given)
    if not replace and global_rank() == 0:  # DDP's other ranks start after rank 0 has written the run's config
        check_new_run(out)
    ds, test_ds, source = data.resolve(tc.seed)
    return train_run(
        ds,
        tc,
        out,
        test_data=test_ds,
        data_source=source,
        progress=not quiet,
        verbose=not quiet,
        logger=logger,
        replace=replace,
        faithfulness=faithfulness,
    )


def train_run(
    data: SeriesDataset,
    config: TrainConfig,
    out: str | os.PathLike[str],
    *,
    test_data: SeriesDataset | None = None,
    data_source: dict[str, Any] | None = None,
    progress: bool = True,
    verbose: bool = True,
    resume: bool = False,
    logger: str | None = "csv",
    replace: bool = True,
    plots: bool = True,
    faithfulness: bool = True,
) -> dict[str, Any]:
    """Split, scale, train, evaluate and save a run in ``out``; return its metrics.

    ``plots=False`` writes no figures and no ``report.html`` (``tsattn report`` builds it later).
    ``faithfulness=False`` leaves the faithfulness block out of ``metrics.json`` (up to about a quarter of
    the wall time on small real datasets; ``tsattn evaluate --run`` adds it later).

    While it writes, ``out`` is locked (``out/.lock``): a second process
    training into it is refused at once. With ``replace=False`` (the CLI's
    ``train``), a directory that already holds a run is refused too, checked
    again once the lock is held, so two processes racing for one directory
    cannot both write it.

    Without ``test_data`` the data are split 70/10/20 (stratified, seeded);
    with it (an official test split), the data are split into train and
    validation only. ``data_source`` records where the data came from, so that
    ``evaluate_run`` can rebuild the test set. ``data.X`` may be out of core
    (``tsattn generate --shards``): it is then checked in chunks and scaled a
    batch at a time, never loaded whole.

    ``resume`` continues a crashed run in ``out`` from its last checkpoint;
    its ``config.json`` must match this call's. Under DDP every rank trains
    on its own shard of each epoch; only rank 0 writes files and evaluates
    (other ranks return an empty dict).

    Examples
    --------
    >>> import tempfile
    >>> from tsattn.config import DatasetConfig, TrainConfig
    >>> from tsattn.data import generate
    >>> data = generate(DatasetConfig(num_points=32, dataset_size=60), seed=0)
    >>> out = Path(tempfile.mkdtemp())
    >>> metrics = train_run(data, TrainConfig(model="cnn", max_epochs=1), out, progress=False, verbose=False,
    ...                     logger=None, plots=False)
    >>> metrics["n_test"], 0 <= metrics["accuracy"] <= 1, [p.name for p in out.glob("*.png")]
    (12, True, [])
    """
    from ..models import get_model_class
    from ..training.pipeline import prepare, split_rows
    from ..training.trainer import global_rank, make_logger

    out = Path(out)
    rank0 = global_rank() == 0
    phases: dict[str, float] = {}
    t = time.perf_counter()
    lengths = data.lengths
    if lengths is not None and not get_model_class(config.model).variable_length:
        raise DataError(
            f"model: {config.model} needs series of one length; these have lengths "
            f"{int(lengths.min())}..{int(lengths.max())}. Use cnn_attention, lstm_attention or transformer"
        )
    make_logger(logger, None)  # an unknown or uninstalled logger fails before any work
    present = [data.class_names[c] for c in np.unique(data.y)]
    if len(present) < 2:
        raise DataError(f"data: classification needs at least 2 classes; every label is {present}")
    train_idx, val_idx, test_idx = split_rows(data.y, config, official_test=test_data is not None)
    prepared = prepare(data.X, lengths, train_idx, len(data.class_names), config)
    config = prepared.config  # the settings in force for this training part
    phases["prepare_seconds"] = time.perf_counter() - t
    rc = rundir.new_run_config(
        config,
        class_names=data.class_names,
        classes=data.classes if data.label_kind != "str" else None,
        n_channels=data.n_channels,
        seq_len=data.seq_len,
        scaler=prepared.scaler,
        net=prepared.net,
        data=rundir.DataSource.model_validate(data_source or {"kind": "memory"}),
        split={
            "train": len(train_idx),
            "val": len(val_idx),
            "test": len(test_idx) if test_data is None else len(test_data),
            "official_test": test_data is not None,
        },
        budget=budget_summary(config, len(train_idx), len(val_idx)),
        logger=logger or "none",
    )
    lock = rundir.acquire_lock(out, "resume" if resume else "out") if rank0 else None
    try:
        mode = _Mode(progress, verbose, resume, logger, replace, rank0, plots, faithfulness)
        rows = _Rows(train_idx, val_idx, test_idx)
        return _write_and_train(out, data, rc, prepared, rows, test_data=test_data, phases=phases, mode=mode)
    finally:
        rundir.release_lock(lock)


@dataclass(frozen=True)
class _Rows:
    """The rows of the data a run trains on, early-stops on and tests on."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class _Mode:
    """How :func:`train_run` was asked to behave."""

    progress: bool
    verbose: bool
    resume: bool
    logger: str | None
    replace: bool
    rank0: bool
    plots: bool
    faithfulness: bool


def _write_and_train(
    out: Path,
    data: SeriesDataset,
    rc: rundir.RunConfig,
    prepared: Prepared,
    rows: _Rows,
    *,
    test_data: SeriesDataset | None,
    phases: dict[str, float],
    mode: _Mode,
) -> dict[str, Any]:
    """:func:`train_run` from the moment it holds the run directory's lock."""
    config = rc.train
    digest = _digest(rc)
    if mode.resume:
        _check_resumable(out, rc, digest, rows.train, rows.val, rows.test)
    elif mode.rank0:
        _record_new_run(out, data, rc, rows, official_test=test_data is not None, replace=mode.replace)
    if mode.verbose and mode.rank0:
        print(
            f"{'Resuming' if mode.resume else 'Training'} {config.model} on {len(rows.train)} + {len(rows.val)} series "
            f"(train + validation) x {data.n_channels} channel(s) x {data.seq_len} points -> {out}\n"
            f"  {_budget_line(config, len(rows.train), len(rows.val))}"
        )
    result = _train_and_record(out, data, prepared, rows, config, digest, phases, mode)
    if result is None:  # not rank 0
        return {}
    from ..evaluation.plots import plot_history

    if mode.plots:
        plot_history(result.history, out / "curves.png")
    # Evaluation works from what training holds: the trained network, its scaler and its config, not a re-read.
    prepared.net.eval()
    trained = rundir.LoadedRun(path=out, config=rc, net=prepared.net, scaler=prepared.scaler)
    return evaluate_run(
        out,
        data=data,
        test_data=test_data,
        verbose=mode.verbose,
        phases=phases,
        loaded=trained,
        plots=mode.plots,
        faithfulness=mode.faithfulness,
    )


def _record_new_run(
    out: Path, data: SeriesDataset, rc: rundir.RunConfig, rows: _Rows, *, official_test: bool, replace: bool
) -> None:
    """Write a new run's config and split (with fingerprints of the series it learns from) before training."""
    if not replace and (out / rundir.CONFIG).is_file():
        state = rundir.read_status(out).get("state")
        raise RunError(f"out: {out} already holds a run (state '{state}'); use another `out`, or remove it first")
    rundir.write_config(out, rc)
    parts: dict[str, np.ndarray] = {
        "train": rows.train,
        "val": rows.val,
        "test": rows.test,
        "official_test": np.array(official_test),
    }
    seen = _seen_hashes(data, np.concatenate([rows.train, rows.val]))
    if seen is not None:  # fingerprints of the series trained on, for evaluations on other files
        parts["seen"] = seen
    atomic_save(out / rundir.SPLIT, lambda fh: np.savez(fh, **parts))  # type: ignore[arg-type]


def _train_and_record(
    out: Path,
    data: SeriesDataset,
    prepared: Prepared,
    rows: _Rows,
    config: TrainConfig,
    digest: str,
    phases: dict[str, float],
    mode: _Mode,
) -> FitResult | None:
    """Train, keeping ``status.json`` true throughout: running, then done, failed or interrupted (resumable).

    Returns the training result on rank 0 (weights and ``fit.json`` written), None on other ranks.
    """
    from .._memory import PeakMemory
    from ..training.pipeline import train

    if mode.rank0:
        if mode.resume:
            _remove_stale_temporaries(out)
        rundir.write_status(out, "running", **({"resumed": True} if mode.resume else {}))
    try:
        with PeakMemory(interval=0.1) as peak:
            result = train(
                prepared,
                data.y,
                data.lengths,
                rows.train,
                rows.val,
                config,
                run_dir=out,
                progress=mode.progress and mode.rank0,
                resume=mode.resume,
                logger=mode.logger,
                config_digest=digest,
            )
        if not result.is_global_zero:
            return None
        phases["train_seconds"] = result.train_seconds
        rundir.save_weights(prepared.net, out / rundir.WEIGHTS)
        fit_info = {
            "prepare_seconds": phases["prepare_seconds"],
            "train_seconds": result.train_seconds,
            "epochs_run": result.epochs_run,
            "optimizer_steps": result.optimizer_steps,
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "resumed_from_epoch": result.resumed_from_epoch,
            "peak_rss_mb": round(peak.peak_mb, 1),
        }
        atomic_write_json(out / "fit.json", fit_info)
        rundir.write_status(out, "done")
        return result
    except BaseException as exc:
        # Lightning answers Ctrl-C with sys.exit(1) raised while handling the KeyboardInterrupt.
        interrupted = isinstance(exc, KeyboardInterrupt) or (
            isinstance(exc, SystemExit) and isinstance(exc.__context__, KeyboardInterrupt)
        )
        if mode.rank0:
            if interrupted:
                rundir.write_status(out, "interrupted", resume=f"tsattn train --resume {out}")
            else:
                rundir.write_status(out, "failed", error=f"{type(exc).__name__}: {exc}")
        if interrupted:
            import signal

            signal.signal(signal.SIGINT, signal.default_int_handler)  # Lightning leaves Ctrl-C ignored
            raise TrainingInterrupted(out) from None
        raise


def _budget_line(config: TrainConfig, n_train: int, n_val: int) -> str:
    """What the epoch budget and early stopping will be, and why: the patience in force, or the small-data rule."""
    from ..training.trainer import budget

    epochs, patience, _ = budget(config, n_train, holdout=n_val > 0)
    if n_val:
        return f"up to {epochs} epochs; early stopping on the validation loss with patience {patience} epochs"
    if config.min_val_size:
        why = (
            f"no validation set: fewer than min_val_size ({config.min_val_size}) validation series would remain, "
            "so they are trained on (the small-data rule)"
        )
    else:
        why = "no validation set"
    return f"{why}; all {epochs} epochs run and the last weights are kept"


def _seen_hashes(data: SeriesDataset, rows: np.ndarray) -> np.ndarray | None:
    """Fingerprints of the series a run trains or early-stops on (in memory only; none for out-of-core data)."""
    from ..data import series_hashes

    if not isinstance(data.X, np.ndarray):
        return None
    rows = np.sort(rows)
    return np.unique(series_hashes(data.X[rows], None if data.lengths is None else data.lengths[rows]))


def check_new_run(out: str | os.PathLike[str]) -> None:
    """Refuse ``out`` when it holds another run, before any data are read: nothing already saved is lost."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunError(f"out: {out} exists and is not a directory")
    if (out / rundir.CONFIG).is_file():
        state = rundir.read_status(out).get("state")
        resumable = ("running", "failed", "interrupted", "unknown")
        hint = f"tsattn train --resume {out}" if state in resumable else "another `out`"
        raise RunError(f"out: {out} already holds a run (state '{state}'); use {hint}, or remove it first")


def _remove_stale_temporaries(run: Path) -> None:
    """Delete the temporary files a killed process was writing (``.NAME.XXXX.tmp``); their targets are intact."""
    for tmp in [*run.glob(".*.tmp"), *run.glob("*/.*.tmp")]:
        tmp.unlink(missing_ok=True)


def _identity(rc: rundir.RunConfig) -> dict[str, Any]:
    """What a run is, as config.json stores it: not the package versions, the logger or the format version."""
    return {k: v for k, v in rc.to_json().items() if k not in ("logger", "versions", "format_version")}


def _digest(rc: rundir.RunConfig) -> str:
    """A fingerprint of what a run is: a checkpoint carries it, and ``--resume`` compares it."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(_identity(rc), sort_keys=True).encode()).hexdigest()


def _check_resumable(
    out: Path, rc: rundir.RunConfig, digest: str, train_idx: np.ndarray, val_idx: np.ndarray, test_idx: np.ndarray
) -> None:
    """A run resumes only with the config, split and checkpoint it started with; this writes nothing."""
    from ..training.trainer import read_checkpoint_meta

    saved_rc = _identity(rundir.read_config(out))
    state = rundir.read_status(out).get("state")
    if state in ("done", "evaluated"):
        raise RunError(f"resume: {out} already finished training (state '{state}'); nothing to resume")
    now = _identity(rc)
    changed = sorted(k for k in now.keys() | saved_rc.keys() if saved_rc.get(k) != now.get(k))
    meta = read_checkpoint_meta(out)  # refuses a checkpoint that would need unpickling
    if not changed and meta and meta.get("config_digest") not in (None, digest):
        changed = ["train"]
    if changed:
        raise RunError(
            f"resume: {out / rundir.CONFIG} differs from the run that wrote the checkpoint in "
            f"{changed}; it was edited or the data changed"
        )
    split = out / rundir.SPLIT
    if not split.is_file():
        raise RunError(f"resume: {split} is missing; the run directory is incomplete")
    for part, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
        saved = split_part(split, part)
        if not np.array_equal(saved, idx):
            raise RunError(f"resume: the {part} split in {split} differs from the data's; the data changed")


def resume_run(run: str | os.PathLike[str], *, progress: bool = True, verbose: bool = True) -> dict[str, Any]:
    """Continue a crashed or killed run from ``checkpoints/last.ckpt`` with its own config, seed and data.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> resume_run(run)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    tsattn._errors.RunError: resume: ... already finished training (state 'done'); nothing to resume
    """
    run = Path(run)
    config = rundir.read_config(run)
    data, test_data = data_source(config)
    return train_run(
        data,
        config.train,
        run,
        test_data=test_data,
        data_source=config.data.to_json(),
        progress=progress,
        verbose=verbose,
        resume=True,
        logger=config.logger,
    )
