"""The library's workflows: train a run, evaluate it, explain a prediction.

The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from . import run as rundir
from ._errors import DataError, RunError, TrainingInterrupted
from ._io import atomic_save, atomic_write_json, atomic_write_text
from .config import DatasetConfig, TrainConfig
from .data import SeriesDataset, check_finite, generate, stratified_split
from .data.readers import read_with_contract

__all__ = ["evaluate_run", "explain_run", "load_data", "train_run"]


def load_data(data: str | os.PathLike[str] | None = None, dataset_config: DatasetConfig | None = None,
              seed: int = 0, **reader_options) -> SeriesDataset:
    """A dataset from a file of any supported format, or generated from a dataset config."""
    if data is not None:
        from .data.readers import read_series_file

        return read_series_file(data, **reader_options)
    return generate(dataset_config or DatasetConfig(), seed=seed)


def resolve_data(data: str | None, dataset_config: DatasetConfig | None, seed: int, *, test_data: str | None = None,
                 **reader_options) -> tuple[SeriesDataset, SeriesDataset | None, dict]:
    """``(data, test data or None, data source record)`` for a file, ``ucr:<Name>`` or a generated config."""
    if data is not None and str(data).startswith("ucr:"):
        from .datasets import load as load_named

        name = str(data)[4:]
        train, test = load_named(name)
        return train, test, {"kind": "named", "name": name}
    if data is not None:
        from .data.readers import schema_options

        ds = load_data(data, **reader_options)
        schema = ds.schema
        source = {"kind": "file", "path": str(Path(data).resolve()), "reader": reader_options,
                  **({"schema": schema} if schema else {})}
        test = None
        if test_data is not None:
            from .datasets import align_classes

            ds, test = align_classes(ds, load_data(test_data, **reader_options, **schema_options(schema)))
            source["test_path"] = str(Path(test_data).resolve())
        return ds, test, source
    cfg = dataset_config or DatasetConfig()
    return generate(cfg, seed=seed), None, {"kind": "synthetic", "dataset_config": cfg.model_dump(), "seed": seed}


def _data_source(config: dict) -> tuple[SeriesDataset, SeriesDataset | None]:
    src = config.get("data", {})
    if src.get("kind") == "synthetic":
        return generate(DatasetConfig.model_validate(src["dataset_config"]), seed=src["seed"]), None
    if src.get("kind") == "named":
        from .datasets import load as load_named

        return load_named(src["name"])
    if src.get("kind") == "file":
        test = src.get("test_path")
        ds, test_ds, _ = resolve_data(src["path"], None, 0, test_data=test, **src.get("reader", {}))
        return ds, test_ds
    raise RunError("run: config.json records no data source; pass `data` FILE")


def train_run(
    data: SeriesDataset,
    config: TrainConfig,
    out: str | os.PathLike[str],
    *,
    test_data: SeriesDataset | None = None,
    data_source: dict | None = None,
    progress: bool = True,
    verbose: bool = True,
    resume: bool = False,
    logger: str | None = "csv",
    replace: bool = True,
) -> dict:
    """Split, scale, train, evaluate and save a run in ``out``; return its metrics.

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
    """
    from .data.splits import stratified_train_val
    from .models import create_network, get_model_class
    from .models._level import fit_levels
    from .training.scaling import Scaler
    from .training.trainer import global_rank, make_logger, seed_everything

    out = Path(out)
    rank0 = global_rank() == 0
    phases: dict[str, float] = {}
    t = time.perf_counter()
    lengths = data.lengths
    if lengths is not None and not get_model_class(config.model).variable_length:
        raise DataError(f"model: {config.model} needs series of one length; these have lengths "
                        f"{int(lengths.min())}..{int(lengths.max())}. Use cnn_attention, lstm_attention or transformer")
    make_logger(logger, None)  # an unknown or uninstalled logger fails before any work
    X, batch_nan = _prepare_X(data.X, lengths, config.nan_policy)
    present = [data.class_names[c] for c in np.unique(data.y)]
    if len(present) < 2:
        raise DataError(f"data: classification needs at least 2 classes; every label is {present}")
    if test_data is None:
        train_idx, val_idx, test_idx = stratified_split(
            data.y, val_fraction=config.val_fraction, test_fraction=config.test_fraction, seed=config.seed
        )
    else:
        train_idx, val_idx = stratified_train_val(
            data.y, val_share=config.val_fraction / (1 - config.test_fraction), seed=config.seed)
        test_idx = np.arange(0)
    scaler = Scaler(config.scaling, gain=config.scaling_gain).fit(X, index=train_idx)

    def transform(xb: np.ndarray) -> np.ndarray:
        return scaler.transform(batch_nan(xb))

    phases["prepare_seconds"] = time.perf_counter() - t
    seed_everything(config.seed, config.deterministic)
    net = create_network(config.model, config.scaling, data.n_channels, len(data.class_names), data.seq_len,
                         **config.model_params)
    net.fit_lengths(lengths[train_idx] if lengths is not None else None)
    fit_levels(net, X, train_idx, lengths, transform)
    resolved = {
        "model": config.model,
        "model_params": config.model_params,
        "train": config.model_dump(),
        "seed": config.seed,
        "class_names": list(data.class_names),
        # the labels as the data typed them (1, 2, 10 stay integers), when they were not text
        **({"classes": data.classes} if data.label_kind != "str" else {}),
        "n_channels": data.n_channels,
        "seq_len": data.seq_len,
        "scaler": scaler.to_dict(),
        "data": data_source or {"kind": "memory"},
        "split": {"train": len(train_idx), "val": len(val_idx),
                  "test": len(test_idx) if test_data is None else len(test_data), "official_test": test_data is not None},
        "n_params": int(sum(p.numel() for p in net.parameters())),
        "logger": logger or "none",
    }
    digest = _digest(resolved)
    lock = rundir.acquire_lock(out, "resume" if resume else "out") if rank0 else None
    try:
        return _write_and_train(out, data, config, resolved, digest, net, X, lengths, transform, train_idx, val_idx,
                                test_idx, test_data=test_data, phases=phases, progress=progress, verbose=verbose,
                                resume=resume, logger=logger, replace=replace, rank0=rank0)
    finally:
        rundir.release_lock(lock)


def _write_and_train(out, data, config, resolved, digest, net, X, lengths, transform, train_idx, val_idx, test_idx, *,
                     test_data, phases, progress, verbose, resume, logger, replace, rank0) -> dict:
    """:func:`train_run` from the moment it holds the run directory's lock."""
    from ._memory import PeakMemory
    from .training.data import ArrayDataset
    from .training.trainer import fit

    if resume:
        _check_resumable(out, resolved, digest, train_idx, val_idx, test_idx)
    elif rank0:
        if not replace and (out / rundir.CONFIG).is_file():
            state = rundir.read_status(out).get("state")
            raise RunError(f"out: {out} already holds a run (state '{state}'); use another `out`, or remove it first")
        atomic_write_json(out / rundir.CONFIG, resolved | {"versions": rundir.versions()})
        atomic_save(out / rundir.SPLIT, lambda fh: np.savez(fh, train=train_idx, val=val_idx, test=test_idx,
                                                              official_test=np.array(test_data is not None)))
    if verbose and rank0:
        print(f"{'Resuming' if resume else 'Training'} {config.model} on {len(train_idx)} + {len(val_idx)} series "
              f"(train + validation) x {data.n_channels} channel(s) x {data.seq_len} points -> {out}")
    if rank0:
        if resume:
            _remove_stale_temporaries(out)
        rundir.write_status(out, "running", **({"resumed": True} if resume else {}))
    try:
        with PeakMemory(interval=0.1) as peak:
            result = fit(
                net,
                ArrayDataset(X, data.y, lengths, index=train_idx, transform=transform),
                ArrayDataset(X, data.y, lengths, index=val_idx, transform=transform),
                config, run_dir=out, progress=progress and rank0, resume=resume, logger=logger, config_digest=digest,
            )
        if not result.is_global_zero:
            return {}
        phases["train_seconds"] = result.train_seconds
        rundir.save_weights(net, out / rundir.WEIGHTS)
        fit_info = {
            "prepare_seconds": phases["prepare_seconds"], "train_seconds": result.train_seconds, "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch, "best_val_loss": result.best_val_loss,
            "resumed_from_epoch": result.resumed_from_epoch, "peak_rss_mb": round(peak.peak_mb, 1),
        }
        atomic_write_json(out / "fit.json", fit_info)
        rundir.write_status(out, "done")
    except BaseException as exc:
        # Lightning answers Ctrl-C with sys.exit(1) raised while handling the KeyboardInterrupt.
        interrupted = isinstance(exc, KeyboardInterrupt) or (
            isinstance(exc, SystemExit) and isinstance(exc.__context__, KeyboardInterrupt))
        if rank0:
            if interrupted:
                rundir.write_status(out, "interrupted", resume=f"tsattn train --resume {out}")
            else:
                rundir.write_status(out, "failed", error=f"{type(exc).__name__}: {exc}")
        if interrupted:
            import signal

            signal.signal(signal.SIGINT, signal.default_int_handler)  # Lightning leaves Ctrl-C ignored
            raise TrainingInterrupted(out) from None
        raise
    from .evaluation.plots import plot_history

    plot_history(result.history, out / "curves.png")
    return evaluate_run(out, data=data, test_data=test_data, verbose=verbose, phases=phases)


def _prepare_X(X, lengths: np.ndarray | None, policy: str):
    """Apply the NaN policy: to the whole array in memory, or per batch to an out-of-core one.

    Returns ``(X, per-batch function)``. Out-of-core ``X`` (a shard directory,
    read on demand) under the default policy is checked chunk by chunk, so a
    bad value is reported before training starts without loading the file.
    """
    from .data.readers import apply_nan_policy

    if isinstance(X, np.ndarray):
        return apply_nan_policy(X, lengths, policy), lambda xb: xb
    if policy == "error":
        for i in range(0, len(X), 65536):
            check_finite(X[i : i + 65536], what="data", offset=i)
        return X, lambda xb: xb
    return X, lambda xb: apply_nan_policy(xb, None, policy)


def _remove_stale_temporaries(run: Path) -> None:
    """Delete the temporary files a killed process was writing (``.NAME.XXXX.tmp``); their targets are intact."""
    for tmp in [*run.glob(".*.tmp"), *run.glob("*/.*.tmp")]:
        tmp.unlink(missing_ok=True)


def _digest(resolved: dict) -> str:
    """A fingerprint of what a run is (not the package versions or the logger): a checkpoint carries it."""
    import hashlib
    import json

    core = {k: v for k, v in resolved.items() if k not in ("logger", "versions")}
    return hashlib.sha256(json.dumps(_json_roundtrip(core), sort_keys=True).encode()).hexdigest()


def _check_resumable(out: Path, resolved: dict, digest: str, train_idx, val_idx, test_idx) -> None:
    """A run resumes only with the config, split and checkpoint it started with; this writes nothing."""
    from .training.trainer import read_checkpoint_meta

    config = rundir.read_config(out)
    state = rundir.read_status(out).get("state")
    if state in ("done", "evaluated"):
        raise RunError(f"resume: {out} already finished training (state '{state}'); nothing to resume")
    changed = sorted(k for k in resolved if k != "logger" and config.get(k) != _json_roundtrip(resolved[k]))
    meta = read_checkpoint_meta(out)  # refuses a checkpoint that would need unpickling
    if not changed and meta and meta.get("config_digest") not in (None, digest):
        changed = ["train"] if config.get("train") else ["config"]
    if changed:
        raise RunError(f"resume: {out / rundir.CONFIG} differs from the run that wrote the checkpoint in "
                       f"{changed}; it was edited or the data changed")
    split = out / rundir.SPLIT
    if not split.is_file():
        raise RunError(f"resume: {split} is missing; the run directory is incomplete")
    for part, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
        saved = _split_part(split, part)
        if saved is None or not np.array_equal(saved, idx):
            raise RunError(f"resume: the {part} split in {split} differs from the data's; the data changed")


def _json_roundtrip(value):
    """``value`` as config.json stores it (numpy values and paths as atomic_write_json writes them)."""
    import json

    from ._io import _json_default

    return json.loads(json.dumps(value, default=_json_default))


def resume_run(run: str | os.PathLike[str], *, progress: bool = True, verbose: bool = True) -> dict:
    """Continue a crashed or killed run from ``checkpoints/last.ckpt`` with its own config, seed and data."""
    run = Path(run)
    config = rundir.read_config(run)
    try:
        tc = TrainConfig.model_validate(config["train"])
    except Exception as exc:  # pydantic's ValidationError: the stored config was edited
        raise RunError(f"resume: {run / rundir.CONFIG} has an invalid train config: "
                       f"{str(exc).splitlines()[0]}") from None
    data, test_data = _data_source(config)
    return train_run(data, tc, run, test_data=test_data, data_source=config.get("data"), progress=progress,
                     verbose=verbose, resume=True, logger=config.get("logger", "csv"))


def evaluate_run(
    run: str | os.PathLike[str], *, data: SeriesDataset | str | os.PathLike[str] | None = None,
    test_data: SeriesDataset | None = None, verbose: bool = True, phases: dict | None = None, plots: bool = True,
    out: str | os.PathLike[str] | None = None,
) -> dict:
    """Score a run on its test split (or on all of ``data`` when it is a file or a ``ucr:`` name).

    Writes ``metrics.json``, ``report.txt`` and the plots; prints the article's report. The run's own
    test record is written in the run directory; a score on other data goes to ``out`` (default
    ``RUN/evaluations/<data name>/``) and never over that record.
    """
    import json

    from .data.readers import apply_nan_policy
    from .evaluation.localization import format_localization
    from .evaluation.metrics import classification_metrics, format_report
    from .inference import predict_arrays

    run = Path(run)
    loaded = rundir.load_run(run)
    t = time.perf_counter()
    val_ds = None
    scored = None  # (labels, probabilities) of every test series, when they differ from ds's
    if data is None or isinstance(data, SeriesDataset):
        if data is None:
            data, test_data = _data_source(loaded.config)
        split_path = run / rundir.SPLIT
        if not split_path.is_file():
            raise RunError(f"run: {split_path} is missing; pass `data` FILE to evaluate on a file")
        val_idx, test_idx = _split_part(split_path, "val"), _split_part(split_path, "test")
        if max(val_idx.max(initial=-1), test_idx.max(initial=-1)) >= len(data):
            raise RunError("run: the recorded split does not fit the data; pass `data` FILE")
        if test_data is None and not isinstance(data.X, np.ndarray):
            # Out of core: every test series is scored chunk by chunk; attention, localization and plots
            # use the first OUT_OF_CORE_ATTENTION of them, so memory stays bounded.
            nan_policy = loaded.config["train"].get("nan_policy", "error")
            scored = (data.y[test_idx], _chunked_proba(loaded, data.X, test_idx, nan_policy))
            val_idx, test_idx = val_idx[:OUT_OF_CORE_ATTENTION], test_idx[:OUT_OF_CORE_ATTENTION]
        val_ds = data.subset(val_idx)
        ds = test_data if test_data is not None else data.subset(test_idx)
        evaluated_on = "official test split" if test_data is not None else "test split"
        own_split = True
    else:
        ds = read_with_contract(data, loaded.config.get("data", {}), require_labels=True)
        evaluated_on, own_split = os.fspath(data), False
    dest = run
    if out is not None or not own_split:
        dest = Path(out) if out is not None else run / "evaluations" / _safe_name(evaluated_on)
        if dest.resolve() == run.resolve():
            raise RunError(f"out: {dest} is the run's own directory; a score on other data never replaces the "
                           "run's test record. Give another `out`")
    ds = _check_compatible(ds, loaded.config)
    nan_policy = loaded.config["train"].get("nan_policy", "error")
    Xs = loaded.scaler.transform(apply_nan_policy(ds.X, ds.lengths, nan_policy))
    proba, att = predict_arrays(loaded.net, Xs, lengths=ds.lengths)
    y_all, proba_all = scored if scored is not None else (ds.y, proba)
    m = classification_metrics(y_all, proba_all, loaded.class_names)
    if scored is not None:
        m["attention_scored_on"] = f"the first {len(ds)} test series (out-of-core data)"
    fit_info = json.loads((run / "fit.json").read_text()) if (run / "fit.json").is_file() else {}
    m.update({k: fit_info.get(k) for k in ("train_seconds", "epochs_run", "best_epoch")})
    m["model"] = loaded.model_name
    m["evaluated_on"] = evaluated_on
    # Training's phases come from fit.json when this is a later, separate evaluation.
    phases = dict(phases or {k: fit_info[k] for k in ("prepare_seconds", "train_seconds") if k in fit_info})
    phases["evaluate_seconds"] = time.perf_counter() - t
    m["phases"] = phases
    if att is not None and ds.has_segments and (ds.extras["segment_start"] >= 0).any():
        m["localization"] = _localization(loaded, att, ds, val_ds)
    if verbose:
        print(f"\n{loaded.model_name} on {evaluated_on} ({m['n_test']} series)")
        print(format_report(m))
        if "localization" in m:
            print(format_localization(m["localization"]))
    dest.mkdir(parents=True, exist_ok=True)  # only now: a refused evaluation leaves nothing behind
    atomic_write_json(dest / rundir.METRICS, m)
    atomic_write_text(dest / "report.txt", format_report(m) + "\n")
    # What metrics.json scored, for the report's ROC and precision-recall curves.
    atomic_save(dest / "predictions.npz", lambda fh: np.savez(fh, y=y_all, proba=proba_all.astype(np.float32)))
    if plots and len(loaded.class_names) > 2:
        from .evaluation.plots import plot_confusion_matrix

        plot_confusion_matrix(m["confusion_matrix"], loaded.class_names, dest / "confusion_matrix.png")
    if plots and att is not None:
        from .evaluation.localization import spans_from_mass
        from .evaluation.plots import plot_attention_examples, plot_gallery

        pred = proba.argmax(1)
        seg = {"segment_start": ds.extras.get("segment_start"), "segment_end": ds.extras.get("segment_end")}
        plot_attention_examples(ds.X, att, ds.y, pred, loaded.class_names, dest / "attention.png", **seg)
        span_mass = m.get("localization", {}).get("span_mass", 0.9)
        plot_gallery(ds.X, att, ds.y, pred, loaded.class_names, dest / "gallery.png",
                     spans=spans_from_mass(att, span_mass), **seg)
    if plots and dest == run:  # report.html is the run's own page
        from .report import write_run_report

        write_run_report(run)
    if verbose and dest != run:
        print(f"Wrote {dest}/ (metrics.json, report.txt); the run's own test record is unchanged")
    return m


OUT_OF_CORE_ATTENTION = 20000


def _safe_name(source: str) -> str:
    """A folder name for a data source: its file name (or ``ucr_<Name>``), in safe characters."""
    import re

    name = source[4:] if source.startswith("ucr:") else Path(source).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ("ucr_" if source.startswith("ucr:") else "") + name) or "data"


def _chunked_proba(loaded, X, rows: np.ndarray, nan_policy: str, chunk: int = 8192) -> np.ndarray:
    """Probabilities for ``X[rows]``, read, cleaned, scaled and predicted ``chunk`` rows at a time."""
    from .data.readers import apply_nan_policy
    from .inference import predict_arrays

    out = []
    for i in range(0, len(rows), chunk):
        xb = apply_nan_policy(np.asarray(X[rows[i : i + chunk]], np.float32), None, nan_policy)
        out.append(predict_arrays(loaded.net, loaded.scaler.transform(xb), with_attention=False)[0])
    return np.concatenate(out) if out else np.zeros((0, len(loaded.class_names)), np.float32)


def _split_part(path: Path, part: str) -> np.ndarray | None:
    with np.load(path, allow_pickle=False) as z:
        return z[part] if part in z.files else None


def _localization(loaded, att: np.ndarray, ds: SeriesDataset, val_ds: SeriesDataset | None) -> dict:
    """Score the attention against the true segments; the span mass comes from validation data."""
    from .evaluation.localization import choose_mass, localization_scores
    from .inference import predict_arrays

    span_mass = None
    if val_ds is not None and val_ds.has_segments and (val_ds.extras["segment_start"] >= 0).any():
        _, val_att = predict_arrays(loaded.net, loaded.scaler.transform(val_ds.X))
        span_mass, _ = choose_mass(val_att, val_ds.extras["segment_start"], val_ds.extras["segment_end"])
    scores = localization_scores(att, ds.extras["segment_start"], ds.extras["segment_end"], span_mass=span_mass)
    scores["relevance"] = "attention"
    return scores


def _check_compatible(ds: SeriesDataset, config: dict) -> SeriesDataset:
    """Check channels and labels against the run; return ``ds`` with labels coded as the run codes them."""
    if ds.n_channels != config["n_channels"]:
        raise DataError(f"data: the run expects {config['n_channels']} channel(s); the data have {ds.n_channels}")
    if not ds.labelled:
        return ds
    names = config["class_names"]
    if list(ds.class_names) == list(names):
        return ds
    unknown = [c for c in ds.class_names if c not in names]
    if unknown:
        raise DataError(f"data: labels {unknown} are not among the run's classes {names}")
    recode = np.array([names.index(c) for c in ds.class_names], np.int64)
    return SeriesDataset(X=ds.X, y=recode[ds.y], class_names=list(names), extras=ds.extras, lengths=ds.lengths,
                         label_kind=ds.label_kind, ids=ds.ids, schema=ds.schema)


def explain_run(run: str | os.PathLike[str], data: str | os.PathLike[str], index: int,
                out: str | os.PathLike[str], method: str = "attention") -> dict:
    """Plot series ``index`` of ``data`` with the run's relevance over it; return its prediction."""
    from .evaluation.explain import explain
    from .evaluation.plots import _pyplot, plot_attention, save_figure
    from .inference import predict_arrays

    from .data.readers import apply_nan_policy

    loaded = rundir.load_run(run)
    ds = read_with_contract(data, loaded.config.get("data", {}), require_labels=False)
    ds = _check_compatible(ds, loaded.config)
    if not 0 <= index < len(ds):
        raise DataError(f"index: must be in [0, {len(ds) - 1}]; got {index}")
    lengths = None if ds.lengths is None else ds.lengths[index : index + 1]
    x = apply_nan_policy(ds.X[index : index + 1], lengths, loaded.config["train"].get("nan_policy", "error"))
    if lengths is not None:
        x = x[..., : int(lengths[0])]  # one series: drop its padding
    relevance = explain(loaded, x, method=method)
    proba, _ = predict_arrays(loaded.net, loaded.scaler.transform(x), with_attention=False)
    names = loaded.class_names
    pred = int(proba[0].argmax())
    seg = None
    if ds.has_segments:
        seg = (int(ds.extras["segment_start"][index]), int(ds.extras["segment_end"][index]))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 3.2))
    true = names[ds.y[index]] if ds.labelled else None
    plot_attention(ax, x[0], relevance[0], segment=seg, label=method.replace("_", " "),
                   title=f"series {index}: {'' if true is None else f'true {true}, '}predicted {names[pred]} "
                         f"(p={proba[0, pred]:.3f}); {method}")
    save_figure(fig, out)
    return {"index": index, "predicted": names[pred], "proba": proba[0].tolist(), "true": true}


def locate_run(run: str | os.PathLike[str], data: str | os.PathLike[str], out: str | os.PathLike[str], *,
               method: str = "attention", mass: float | None = None) -> dict:
    """Turn relevance into one predicted anomaly span per series and write them as CSV.

    A span is the shortest window holding ``mass`` of the series' relevance;
    ``mass`` is chosen on the run's validation split when that has true
    segments, else 0.9, unless given. Returns a summary with the mass and,
    where ``data`` has true segments, the mean IoU over its anomalous series.
    """
    import csv
    import io

    from .evaluation.explain import explain
    from .evaluation.localization import choose_mass, span_iou, spans_from_mass
    from .inference import predict_arrays

    loaded = rundir.load_run(run)
    ds = read_with_contract(data, loaded.config.get("data", {}), require_labels=False)
    ds = _check_compatible(ds, loaded.config)
    if ds.lengths is not None:
        raise DataError("data: locate takes series of one length")
    check_finite(ds.X, what="data")
    source = "given"
    if mass is None:
        mass, source = 0.9, "default"
        split_path = Path(run) / rundir.SPLIT
        if loaded.config.get("data", {}).get("kind") in ("synthetic", "file") and split_path.is_file():
            try:
                full, _ = _data_source(loaded.config)
            except (RunError, DataError):
                full = None
            val = _split_part(split_path, "val")
            if full is not None and full.has_segments and val is not None:
                vds = full.subset(val)
                keep = vds.extras["segment_start"] >= 0
                if keep.any():
                    R = explain(loaded, vds.X[keep], method=method)
                    mass, _ = choose_mass(R, vds.extras["segment_start"][keep], vds.extras["segment_end"][keep])
                    source = "validation split"
    elif not 0 < mass <= 1:
        raise DataError(f"mass: must be in (0, 1] (the share of relevance a span holds); got {mass}")
    R = explain(loaded, ds.X, method=method)
    spans = spans_from_mass(R, mass)
    proba, _ = predict_arrays(loaded.net, loaded.scaler.transform(ds.X), with_attention=False)
    pred = proba.argmax(1)
    buf = io.StringIO()
    w = csv.writer(buf)
    header = ["index", "predicted", "probability", "span_start", "span_end"]
    truth = ds.has_segments
    if truth:
        header += ["true_start", "true_end", "iou"]
    w.writerow(header)
    ious = span_iou(spans, ds.extras["segment_start"], ds.extras["segment_end"]) if truth else None
    k = 0
    for i in range(len(ds)):
        row = [i, loaded.class_names[pred[i]], f"{proba[i, pred[i]]:.6f}", int(spans[i, 0]), int(spans[i, 1])]
        if truth:
            s, e = int(ds.extras["segment_start"][i]), int(ds.extras["segment_end"][i])
            row += [s, e, f"{ious[k]:.4f}" if s >= 0 else ""]
            k += s >= 0
        w.writerow(row)
    atomic_write_text(out, buf.getvalue())
    summary = {"mass": float(mass), "mass_source": source, "method": method, "n_series": len(ds)}
    if truth and len(ious):
        summary["mean_iou"] = float(np.mean(ious))
        summary["n_with_segment"] = int(len(ious))
    return summary


def relevance_report(run: str | os.PathLike[str], *, methods: tuple[str, ...] = ("attention", "integrated_gradients"),
                     sanity: bool = True, max_series: int = 1000, seed: int = 0) -> dict:
    """Localization scores of several relevance methods on the run's test split, side by side.

    With ``sanity``, each method is scored again after the network's weights
    are randomized (Adebayo et al., 2018): an explanation that keeps its scores
    then is not explaining the model. Span masses come from the validation split.
    """
    from .evaluation.explain import explain, randomized_copy
    from .evaluation.localization import choose_mass, localization_scores
    from .run import LoadedRun

    loaded = rundir.load_run(run)
    full, _ = _data_source(loaded.config)
    if not full.has_segments:
        raise DataError("run: the run's data have no ground-truth segments to score relevance against")
    split = Path(run) / rundir.SPLIT
    test, val = full.subset(_split_part(split, "test")), full.subset(_split_part(split, "val"))

    def anomalous(ds):
        idx = np.flatnonzero(ds.extras["segment_start"] >= 0)[:max_series]
        return ds.X[idx], ds.extras["segment_start"][idx], ds.extras["segment_end"][idx]

    Xt, st, et = anomalous(test)
    Xv, sv, ev = anomalous(val)
    models = {"trained": loaded}
    if sanity:
        models["randomized"] = LoadedRun(loaded.path, loaded.config, randomized_copy(loaded.net, seed), loaded.scaler)
    report: dict = {"model": loaded.model_name, "n_series": int(len(Xt)), "methods": {}}
    for method in methods:
        if method != "integrated_gradients" and not getattr(loaded.net, "has_attention", True):
            continue
        report["methods"][method] = {}
        for label, m in models.items():
            q, _ = choose_mass(explain(m, Xv, method=method), sv, ev)
            report["methods"][method][label] = localization_scores(explain(m, Xt, method=method), st, et, span_mass=q)
    return report
