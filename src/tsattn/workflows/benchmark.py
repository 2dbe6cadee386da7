"""`tsattn benchmark`: train several models on the same split and compare them side by side."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError, install_hint
from .._io import atomic_write_json, atomic_write_text
from .._memory import PeakMemory
from ..config import TrainConfig
from ..data import SeriesDataset

__all__ = ["markdown_table", "run_benchmark"]

THROUGHPUT_SERIES = 1024  # series per timed call; the network takes them inference_batch() at a time


def _status(msg: str) -> None:
    print(msg, flush=True)


def _throughput(predict: Callable[[np.ndarray], Any], X: np.ndarray, min_seconds: float = 1.0) -> float:
    """Series per second on calls of ``THROUGHPUT_SERIES`` series, after one warm-up call."""
    reps = -(-THROUGHPUT_SERIES // len(X))
    batch = np.ascontiguousarray(np.concatenate([X] * reps)[:THROUGHPUT_SERIES])
    predict(batch)  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        predict(batch)
        n += len(batch)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds and n >= 3 * len(batch):
            return n / elapsed


def _bench_torch_model(
    name: str,
    ds: SeriesDataset,
    test_ds: SeriesDataset | None,
    cfg: TrainConfig,
    out: Path,
    data_source: dict[str, Any] | None,
    progress: bool,
) -> dict[str, Any]:
    from .. import run as rundir
    from ..inference import predict_arrays
    from ..training.missing import apply_nan_policy
    from .train import train_run

    with PeakMemory() as pm:
        m = train_run(ds, cfg, out / name, test_data=test_ds, data_source=data_source, progress=progress, verbose=False)
    loaded = rundir.load_run(out / name)
    held = loaded.config.split or {}  # this model's own split, after its recipe's small-data rule
    if test_ds is None:
        with np.load(out / name / rundir.SPLIT) as z:
            test_ds = ds.subset(z["test"])
    Xs = loaded.scaler.transform(apply_nan_policy(test_ds.X, test_ds.lengths, cfg.nan_policy))
    tput = _throughput(lambda b: predict_arrays(loaded.net, b), Xs)
    return {
        "name": name,
        "accuracy": m["accuracy"],
        "f1": m["f1"],
        "roc_auc": m["roc_auc"],
        "train_seconds": m["train_seconds"],
        "epochs": m["epochs_run"],
        "best_epoch": m["best_epoch"],
        "inference_series_per_s": tput,
        "phases": m.get("phases"),  # seconds of each phase: prepare, train, evaluate, faithfulness
        "peak_rss_mb": pm.peak_mb,
        "n_params": loaded.config.n_params,
        "n_train": held.get("train"),
        "n_val": held.get("val"),  # 0 where the small-data rule trained on the validation part
        "confusion_matrix": m["confusion_matrix"],
        "localization": m.get("localization"),
        "recipe": {
            k: v
            for k, v in cfg.model_dump().items()
            if k in ("max_epochs", "batch_size", "lr", "lr_schedule", "scaling", "scaling_gain", "model_params")
        },
    }


def _bench_peer(
    name: str,
    ds: SeriesDataset,
    test_ds: SeriesDataset | None,
    seed: int,
    split: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """Fit a registered peer (MiniRocket) on the same rows the networks train and validate on; score it alike."""
    from ..evaluation.metrics import classification_metrics
    from ..models import get_model_class
    from ..models.peers import pad_with_last_value

    train, val, test = split
    if test_ds is None:
        test_ds = ds.subset(test)
    train = np.concatenate([train, val])  # no early stopping: a peer fits on all the rows the networks see
    peer = get_model_class(name)(random_state=seed)
    varying = ds.lengths is not None or test_ds.lengths is not None
    length = max(ds.X.shape[2], test_ds.X.shape[2]) if varying else None
    Xtest = pad_with_last_value(test_ds.X, test_ds.lengths, length)
    Xtrain = pad_with_last_value(ds.X[train], ds.lengths[train] if ds.lengths is not None else None, length)
    with PeakMemory() as pm:
        t = time.perf_counter()
        peer.fit(Xtrain, ds.y[train])
        fit_seconds = time.perf_counter() - t
        proba = peer.predict_proba(Xtest)
    m = classification_metrics(test_ds.y, proba, ds.class_names)
    tput = _throughput(peer.predict, Xtest)
    return {
        "name": name,
        "accuracy": m["accuracy"],
        "f1": m["f1"],
        "roc_auc": m["roc_auc"],
        "train_seconds": fit_seconds,
        "epochs": None,
        "best_epoch": None,
        "inference_series_per_s": tput,
        "peak_rss_mb": pm.peak_mb,
        "n_params": peer.n_params,
        "confusion_matrix": m["confusion_matrix"],
        "recipe": peer.settings
        | (
            {"input": peer.settings["input"] + "; variable length padded with each series' last value"}
            if varying
            else {}
        ),
    }


def check_benchmark(models: list[str], seed: int, overrides: dict[str, Any] | None = None) -> dict[str, TrainConfig]:
    """The training settings of every network in ``models``; unknown or repeated names and bad settings fail here.

    Examples
    --------
    >>> sorted(check_benchmark(["cnn", "minirocket"], 0, {"max_epochs": 3}))  # a peer has no training settings
    ['cnn']
    >>> check_benchmark(["cnn", "cnn"], 0)
    Traceback (most recent call last):
        ...
    tsattn._errors.ConfigError: models: each model may appear once; got cnn,cnn
    """
    from ..models import get_model_class, is_peer
    from ..training.pipeline import resolve_train_config

    for name in models:
        get_model_class(name)  # an unknown name, with the closest known one
    if len(set(models)) != len(models):
        raise ConfigError(f"models: each model may appear once; got {','.join(models)}")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return {name: resolve_train_config(name, {"seed": seed} | given) for name in models if not is_peer(name)}


def run_benchmark(
    ds: SeriesDataset,
    models: list[str],
    seed: int,
    out: str | os.PathLike[str],
    *,
    test_data: SeriesDataset | None = None,
    data_source: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train every model in ``models`` on one split of ``ds``; write ``benchmark.json``, ``.md`` and ``.png``.

    With ``test_data`` (an official test split) every model is scored on it, and
    ``ds`` is split into train and validation only.

    Examples
    --------
    >>> import tempfile
    >>> from tsattn.config import DatasetConfig
    >>> from tsattn.data import generate
    >>> data = generate(DatasetConfig(num_points=32, dataset_size=60), seed=0)
    >>> result = run_benchmark(data, ["mlp"], 0, tempfile.mkdtemp(), overrides={"max_epochs": 1}, progress=False)
    ... # doctest: +ELLIPSIS
    [1/1] mlp: training ...
    [1/1] mlp: accuracy ...
    >>> [row["name"] for row in result["models"]]
    ['mlp']
    """
    import torch

    from ..inference import inference_batch
    from ..models import get_model_class, is_peer
    from ..training.pipeline import split_rows

    configs = check_benchmark(models, seed, overrides)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    split = split_rows(ds.y, TrainConfig(seed=seed), official_test=test_data is not None)  # train_run's own split
    rows, skipped = [], []
    for i, name in enumerate(models, 1):
        _status(f"[{i}/{len(models)}] {name}: training ...")
        if is_peer(name):
            peer = get_model_class(name)
            if not peer.available():
                reason = f"{peer.extra} is not installed ({install_hint(peer.extra)})"
                skipped.append({"name": name, "reason": reason})
                _status(f"[{i}/{len(models)}] {name}: skipped, {reason}")
                continue
            row = _bench_peer(name, ds, test_data, seed, split)
        else:
            cfg = configs[name]
            if ds.lengths is not None and not get_model_class(name).variable_length:
                reason = f"{name} needs series of one length"
                skipped.append({"name": name, "reason": reason})
                _status(f"[{i}/{len(models)}] {name}: skipped, {reason}")
                continue
            row = _bench_torch_model(name, ds, test_data, cfg, out / "runs", data_source, progress)
        rows.append(row)
        _status(
            f"[{i}/{len(models)}] {name}: accuracy {row['accuracy']:.4f}, ROC AUC {row['roc_auc']:.4f}, "
            f"{row['train_seconds']:.1f} s, {row['inference_series_per_s']:.0f} series/s"
        )
    result = {
        "dataset": {
            "n_series": len(ds),
            "n_channels": ds.n_channels,
            "seq_len": ds.seq_len,
            "classes": ds.class_names,
            "source": data_source or {"kind": "memory"},
            # Before any recipe's small-data rule; each model's row says what it held out (n_train, n_val).
            "split": {
                "train": len(split[0]),
                "val": len(split[1]),
                "test": len(split[2]) if test_data is None else len(test_data),
                "official_test": test_data is not None,
            },
        },
        "seed": seed,
        "models": rows,
        "skipped": skipped,
        # Series per forward pass in the throughput figures (runs are loaded on the CPU).
        "inference_batch": inference_batch(torch.device("cpu"), ds.seq_len),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    atomic_write_json(out / "benchmark.json", result)
    atomic_write_text(out / "benchmark.md", markdown_table(result))
    if rows:
        plot_benchmark(result, out / "benchmark.png")
    from ..report import write_benchmark_report

    write_benchmark_report(out)
    return result


def markdown_table(result: dict[str, Any]) -> str:
    classes = result.get("dataset", {}).get("classes") or []
    f1 = f"F1 ({classes[1]})" if len(classes) == 2 else "F1 (macro)" if classes else "F1"  # binary: one class's
    head = (
        f"| model | accuracy | {f1} | ROC AUC | train s | epochs | series/s | peak RSS MB | params | pointing game |\n"
    )
    head += "|---|---|---|---|---|---|---|---|---|---|\n"
    lines = []
    for r in result["models"]:
        loc = r.get("localization") or {}
        pg = f"{loc['pointing_game']:.3f}" if "pointing_game" in loc else "-"
        lines.append(
            f"| {r['name']} | {r['accuracy']:.4f} | {r['f1']:.4f} | {r['roc_auc']:.4f} | {r['train_seconds']:.1f} | "
            f"{r['epochs'] if r['epochs'] is not None else '-'} | {r['inference_series_per_s']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['n_params']:,} | {pg} |"
        )
    tail = "".join(f"\n{s['name']}: skipped, {s['reason']}\n" for s in result["skipped"])
    return head + "\n".join(lines) + "\n" + tail


def plot_benchmark(result: dict[str, Any], path: Path) -> None:
    from ..evaluation.plots import benchmark_figure, save_figure

    save_figure(benchmark_figure(result), path)
