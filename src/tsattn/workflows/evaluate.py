"""Score a run on its test split or on other data: metrics, report, plots."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import run as rundir
from .._errors import DataError, RunError
from .._io import atomic_save, atomic_write_json, atomic_write_text
from ..data import SeriesDataset
from ..data.sources import read_with_contract
from ._data import check_compatible, data_source, split_part

__all__ = ["evaluate_run"]


def evaluate_run(
    run: str | os.PathLike[str],
    *,
    data: SeriesDataset | str | os.PathLike[str] | None = None,
    test_data: SeriesDataset | None = None,
    verbose: bool = True,
    phases: dict[str, Any] | None = None,
    plots: bool = True,
    out: str | os.PathLike[str] | None = None,
    loaded: rundir.LoadedRun | None = None,
    faithfulness: bool = True,
    positive_class: str | None = None,
) -> dict[str, Any]:
    """Score a run on its test split (or on all of ``data`` when it is a file or a ``ucr:`` name).

    Writes ``metrics.json``, ``report.txt`` and the plots; prints the article's report. The run's own
    test record is written in the run directory; a score on other data goes to ``out`` (default
    ``RUN/evaluations/<data name>/``) and never over that record. ``loaded`` is the run as training
    returned it, so that a run just trained is not read back from disk. With ``faithfulness``,
    ``metrics.json`` gets a ``faithfulness`` block: deletion and insertion curves, comprehensiveness
    and sufficiency of every relevance method the model has, next to random relevance, on up to
    :data:`FAITHFULNESS_SERIES` test series (:func:`faithfulness_block`). With two classes, precision,
    recall and F1 are those of ``positive_class`` (default: the second class name), named in the report.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> metrics = evaluate_run(run, verbose=False, plots=False)
    >>> metrics["evaluated_on"], metrics["n_test"]
    ('test split', 12)
    """
    import json

    from ..evaluation.localization import format_localization
    from ..evaluation.metrics import classification_metrics, format_report
    from ..inference import predict_arrays
    from ..training.missing import apply_nan_policy

    run = Path(run)
    if loaded is None:  # training hands over the run it holds; otherwise read it
        loaded = rundir.load_run(run)
    t = time.perf_counter()
    target = _target(run, loaded, data, test_data, out)
    ds = target.ds
    nan_policy = loaded.config.train.nan_policy
    Xs = loaded.scaler.transform(apply_nan_policy(ds.X, ds.lengths, nan_policy))
    proba, att = predict_arrays(loaded.net, Xs, lengths=ds.lengths)
    y_all, proba_all = target.scored if target.scored is not None else (ds.y, proba)
    m = classification_metrics(y_all, proba_all, loaded.class_names, pos_label=_positive(loaded, positive_class))
    if target.scored is not None:
        m["attention_scored_on"] = f"the first {len(ds)} test series (out-of-core data)"
    fit_info = json.loads((run / "fit.json").read_text()) if (run / "fit.json").is_file() else {}
    m.update({k: fit_info.get(k) for k in ("train_seconds", "epochs_run", "best_epoch")})
    m["model"] = loaded.model_name
    m["evaluated_on"] = target.evaluated_on
    if not target.own_split:
        m["seen_in_training"] = seen_in_training(run, ds)
    # Training's phases come from fit.json when this is a later, separate evaluation.
    phases = dict(phases or {k: fit_info[k] for k in ("prepare_seconds", "train_seconds") if k in fit_info})
    phases["evaluate_seconds"] = time.perf_counter() - t
    m["phases"] = phases
    # The class map on these series, computed once whether localization or the plots ask first.
    class_map = functools.cache(lambda: _explained(loaded, ds, "class_map"))
    if att is not None and ds.has_segments and (ds.extras["segment_start"] >= 0).any():
        m["localization"] = _localization(loaded, att, ds, target.val_ds, class_map)
    if faithfulness and len(ds) > 0:
        t_f = time.perf_counter()
        m["faithfulness"] = faithfulness_block(loaded, ds, nan_policy)
        phases["faithfulness_seconds"] = time.perf_counter() - t_f
    if verbose:
        print(f"\n{loaded.model_name} on {target.evaluated_on} ({m['n_test']} series)")
        if m.get("seen_in_training"):
            print(m["seen_in_training"]["note"])
        print(format_report(m))
        if "localization" in m:
            print(format_localization(m["localization"]))
        if "faithfulness" in m:
            print(format_faithfulness(m["faithfulness"]))
    dest = target.dest
    dest.mkdir(parents=True, exist_ok=True)  # only now: a refused evaluation leaves nothing behind
    atomic_write_json(dest / rundir.METRICS, m)
    note = (m.get("seen_in_training") or {}).get("note")
    atomic_write_text(dest / "report.txt", (f"{note}\n" if note else "") + format_report(m) + "\n")
    # What metrics.json scored, for the report's ROC and precision-recall curves.
    ids = np.asarray(target.all_ids).astype(str)
    atomic_save(
        dest / "predictions.npz",
        lambda fh: np.savez(fh, y=y_all, proba=proba_all.astype(np.float32), ids=ids),
    )
    if plots:
        _plot(dest, loaded, ds, proba, att, m, target.all_ids[: len(ds)], class_map)
        if dest == run:  # report.html is the run's own page
            from ..report import write_run_report

            write_run_report(run)
    if verbose and dest != run:
        print(f"Wrote {dest}/ (metrics.json, report.txt); the run's own test record is unchanged")
    return m


@dataclass
class _Target:
    """What an evaluation scores and where it writes."""

    ds: SeriesDataset  # the series attention, localization and plots use
    val_ds: SeriesDataset | None  # the run's validation part (span masses are chosen on it)
    scored: tuple[np.ndarray, np.ndarray] | None  # (labels, probabilities) of every test series, out of core
    evaluated_on: str
    own_split: bool
    all_ids: np.ndarray  # the name of every scored series: the file's ids, else its row
    dest: Path


def _target(
    run: Path,
    loaded: rundir.LoadedRun,
    data: SeriesDataset | str | os.PathLike[str] | None,
    test_data: SeriesDataset | None,
    out: str | os.PathLike[str] | None,
) -> _Target:
    """The series to score: the run's own test split (``data`` ``None`` or in memory) or all of a file."""
    val_ds = None
    scored = None
    if data is None or isinstance(data, SeriesDataset):
        if data is None:
            data, test_data = data_source(loaded.config)
        split_path = run / rundir.SPLIT
        if not split_path.is_file():
            raise RunError(f"run: {split_path} is missing; pass `data` FILE to evaluate on a file")
        val_idx, test_idx = split_part(split_path, "val"), split_part(split_path, "test")
        test_rows = test_idx  # every test series' row in the data file (before out-of-core trimming)
        if max(val_idx.max(initial=-1), test_idx.max(initial=-1)) >= len(data):
            raise RunError("run: the recorded split does not fit the data; pass `data` FILE")
        if test_data is None and not isinstance(data.X, np.ndarray):
            # Out of core: every test series is scored chunk by chunk; attention, localization and plots
            # use the first OUT_OF_CORE_ATTENTION of them, so memory stays bounded.
            nan_policy = loaded.config.train.nan_policy
            scored = (data.y[test_idx], _chunked_proba(loaded, data.X, test_idx, nan_policy))
            val_idx, test_idx = val_idx[:OUT_OF_CORE_ATTENTION], test_idx[:OUT_OF_CORE_ATTENTION]
        val_ds = data.subset(val_idx)
        ds = test_data if test_data is not None else data.subset(test_idx)
        evaluated_on = "official test split" if test_data is not None else "test split"
        own_split = True
        source, rows = (test_data, np.arange(len(test_data))) if test_data is not None else (data, test_rows)
    else:
        ds = read_with_contract(data, loaded.config.data.to_json(), require_labels=True)
        evaluated_on, own_split = os.fspath(data), False
        source, rows = ds, np.arange(len(ds))
    # ds (attention, plots) is a prefix of every scored series.
    all_ids = np.asarray(source.ids)[rows] if source.ids is not None else rows
    dest = run
    if out is not None or not own_split:
        dest = Path(out) if out is not None else run / "evaluations" / _safe_name(evaluated_on)
        if dest.resolve() == run.resolve():
            raise RunError(
                f"out: {dest} is the run's own directory; a score on other data never replaces the "
                "run's test record. Give another `out`"
            )
    return _Target(check_compatible(ds, loaded.config), val_ds, scored, evaluated_on, own_split, all_ids, dest)


def _plot(
    dest: Path,
    loaded: rundir.LoadedRun,
    ds: SeriesDataset,
    proba: np.ndarray,
    att: np.ndarray | None,
    m: dict[str, Any],
    ids: np.ndarray,
    class_map: Callable[[], np.ndarray],
) -> None:
    """The confusion matrix (more than two classes), the attention examples and the gallery (the class map's in
    place of the attention where that is uniform by construction: average pooling)."""
    if len(loaded.class_names) > 2:
        from ..evaluation.plots import plot_confusion_matrix

        plot_confusion_matrix(m["confusion_matrix"], loaded.class_names, dest / "confusion_matrix.png")
    if att is None:
        return
    from ..evaluation.explain import default_method
    from ..evaluation.localization import span_rule_of
    from ..evaluation.plots import plot_attention_examples, plot_gallery

    pred = proba.argmax(1)
    seg: dict[str, Any] = {"segment_start": ds.extras.get("segment_start"), "segment_end": ds.extras.get("segment_end")}
    loc, label = m.get("localization"), "attention"
    if default_method(loaded) == "class_map":
        att = class_map()
        loc, label = (loc or {}).get("class_map"), "class map"
    names = loaded.class_names
    plot_attention_examples(ds.X, att, ds.y, pred, names, dest / "attention.png", ids=ids, label=label, **seg)
    spans = span_rule_of(loc).spans(att)
    plot_gallery(ds.X, att, ds.y, pred, names, dest / "gallery.png", spans=spans, ids=ids, label=label, **seg)


def _positive(loaded: rundir.LoadedRun, positive_class: str | None) -> str | None:
    """``positive_class``, checked against the run's classes (``None``: the second class)."""
    names = [str(c) for c in loaded.class_names]
    if positive_class is None:
        return None
    if len(names) != 2:
        raise DataError(f"positive_class: only for two classes; the run has {len(names)} ({', '.join(names)})")
    if str(positive_class) not in names:
        raise DataError(f"positive_class: must be one of {', '.join(names)}; got {positive_class!r}")
    return str(positive_class)


def seen_in_training(run: Path, ds: SeriesDataset) -> dict[str, Any] | None:
    """How many series of ``ds`` the run trained or early-stopped on, by fingerprint, and what that means.

    ``None`` when the run kept no fingerprints (a run of out-of-core data, or one saved by the estimator).

    Examples
    --------
    >>> import tempfile
    >>> from tsattn.data import SeriesDataset, series_hashes
    >>> run = Path(tempfile.mkdtemp())
    >>> X = np.arange(12.0).reshape(4, 1, 3)
    >>> np.savez(run / "split.npz", seen=series_hashes(X[:3]))
    >>> seen_in_training(run, SeriesDataset(X=X, y=np.zeros(4, int), class_names=["a"]))["n"]
    3
    """
    from ..data import series_hashes

    split = run / rundir.SPLIT
    if not split.is_file():
        return None
    with np.load(split, allow_pickle=False) as z:
        if "seen" not in z.files:
            return None
        seen = np.asarray(z["seen"])
    if not isinstance(ds.X, np.ndarray) or len(ds) == 0:
        return None
    n = int(np.isin(series_hashes(ds.X, ds.lengths), seen).sum())
    if n == len(ds):
        note = f"Warning: all {n} evaluated series were trained on (training or validation rows): not a test score"
    elif n:
        note = (
            f"Warning: {n} of the {len(ds)} evaluated series were trained on (training or validation rows); "
            "the score mixes seen and unseen series"
        )
    else:
        note = f"None of the {len(ds)} evaluated series was trained on"
    return {"n": n, "of": len(ds), "note": note}


OUT_OF_CORE_ATTENTION = 20000
#: Test series the faithfulness scores perturb (evenly spaced over the test set); each costs about 80 forward
#: passes per relevance method.
FAITHFULNESS_SERIES = 32


def faithfulness_block(
    loaded: rundir.LoadedRun,
    ds: SeriesDataset,
    nan_policy: str = "error",
    *,
    max_series: int = FAITHFULNESS_SERIES,
    methods: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Faithfulness scores (:func:`~tsattn.evaluation.faithfulness.faithfulness_scores`) of every relevance method.

    Attention, attention x gradient and Integrated Gradients for a model with
    attention; Integrated Gradients for one without. The scores are computed on
    up to ``max_series`` series of ``ds``, evenly spaced, through the run's own
    scaler and network; no ground truth is needed.

    Examples
    --------
    >>> import tempfile
    >>> from tsattn.config import DatasetConfig, TrainConfig
    >>> from tsattn.data import generate
    >>> from tsattn.run import load_run
    >>> from tsattn.workflows import train_run
    >>> data = generate(DatasetConfig(num_points=32, dataset_size=60), seed=0)
    >>> run = tempfile.mkdtemp()
    >>> _ = train_run(data, TrainConfig(model="cnn", max_epochs=1), run, progress=False, verbose=False, logger=None,
    ...               plots=False)
    >>> block = faithfulness_block(load_run(run), data, max_series=8)
    >>> block["n_series"], sorted(k for k in block if k != "n_series")
    (8, ['integrated_gradients'])
    """
    from ..evaluation.explain import explain, has_class_map
    from ..evaluation.faithfulness import SharedForward, faithfulness_scores, random_reference
    from ..training.missing import apply_nan_policy

    if methods is None:
        attention = getattr(loaded.net, "has_attention", True)
        methods = (
            ("attention", "attention_x_gradient", "integrated_gradients") if attention else ("integrated_gradients",)
        )
        if has_class_map(loaded.net):
            methods = ("attention", "class_map", *methods[1:])
    rows = np.unique(np.linspace(0, len(ds) - 1, min(max_series, len(ds))).astype(np.int64))
    lengths = None if ds.lengths is None else ds.lengths[rows]
    X = apply_nan_policy(np.asarray(ds.X[rows], dtype=np.float32), lengths, nan_policy)

    block: dict[str, Any] = {"n_series": len(rows)}
    scaled = loaded.scaler.transform(X)  # perturbed in the space the network sees: no scaler rescales what is kept
    shared = SharedForward(loaded.outputs_of_scaled)  # a series perturbed the same way twice runs once
    predict, logits = shared.proba, shared.logits
    reference = random_reference(predict, scaled, lengths=lengths, logits=logits)  # one set for every map
    for method in methods:
        relevance = explain(loaded, X, method=method, lengths=lengths)
        scores = faithfulness_scores(predict, scaled, relevance, lengths=lengths, logits=logits, reference=reference)
        scores.pop("n_series")  # the block says it once
        block[method] = scores
    return block


def format_faithfulness(block: dict[str, Any]) -> str:
    """The ``faithfulness`` block as a few readable lines: each score beside random's, gains as a share of the room.

    Examples
    --------
    >>> s = {"deletion_auc": 0.6, "random_deletion_auc": 0.7, "deletion_gain": 0.1, "deletion_gain_of_room": 0.4,
    ...      "insertion_auc": 0.8, "random_insertion_auc": 0.7, "insertion_gain": 0.1, "insertion_gain_of_room": 0.4,
    ...      "comprehensiveness": 0.2, "random_comprehensiveness": 0.1, "sufficiency": 0.1, "random_sufficiency": 0.2,
    ...      "chance": 0.5, "room": 0.25, "uninformative_series": 0}
    >>> print(format_faithfulness({"n_series": 4, "attention": s}).splitlines()[3])
      attention              deletion AUC 0.600 (random 0.700, gain +0.100 = 40% of the room) ...
    """
    from ..evaluation.faithfulness import CAVEAT

    lines = [
        (
            f"Faithfulness (no ground truth; {block['n_series']} test series; 'gain' = better than random "
            "relevance, also as a share of the room from chance (1/K) to the intact probability):"
        ),
        f"  What it tells: {CAVEAT}.",
    ]
    first = next((s for s in block.values() if isinstance(s, dict)), None)
    if first is not None and "room" in first:
        lines.append(f"  chance {first['chance']:.3f}; room (intact probability - chance) {first['room']:.3f}")
    for method, s in block.items():
        if not isinstance(s, dict):
            continue
        if s.get("uninformative_series", 0) == block["n_series"]:
            lines.append(
                f"  {method:22s} uninformative: no deletion or insertion moves the model's probability on any "
                "series (a saturated model); no score"
            )
            continue
        lines.append(
            f"  {method:22s} deletion AUC {s['deletion_auc']:.3f} (random {s['random_deletion_auc']:.3f}, gain "
            f"{s['deletion_gain']:+.3f}{_share(s, 'deletion_gain')})   insertion AUC {s['insertion_auc']:.3f} "
            f"(random {s['random_insertion_auc']:.3f}, gain {s['insertion_gain']:+.3f}{_share(s, 'insertion_gain')})   "
            f"comprehensiveness {s['comprehensiveness']:.3f} (random {s['random_comprehensiveness']:.3f})   "
            f"sufficiency {s['sufficiency']:.3f} (random {s['random_sufficiency']:.3f})"
            + (
                f"   AOPCR {s['aopcr']:+.3f} logit (normalized {s['aopcr_normalized']:+.3f})"
                if s.get("aopcr_normalized") is not None
                else ""
            )
            + (f"   [{s['uninformative_series']} series unmoved]" if s.get("uninformative_series") else "")
        )
    return "\n".join(lines)


def _share(scores: dict[str, Any], gain: str) -> str:
    v = scores.get(f"{gain}_of_room")
    return "" if v is None else f" = {100 * v:.0f}% of the room"


def _safe_name(source: str) -> str:
    """A folder name for a data source: its file name (or ``ucr_<Name>``), in safe characters."""
    import re

    name = source[4:] if source.startswith("ucr:") else Path(source).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ("ucr_" if source.startswith("ucr:") else "") + name) or "data"


def _chunked_proba(
    loaded: rundir.LoadedRun, X: Any, rows: np.ndarray, nan_policy: str, chunk: int = 8192
) -> np.ndarray:
    """Probabilities for ``X[rows]``, read, cleaned, scaled and predicted ``chunk`` rows at a time."""
    from ..training.missing import apply_nan_policy

    out = []
    for i in range(0, len(rows), chunk):
        xb = apply_nan_policy(np.asarray(X[rows[i : i + chunk]], np.float32), None, nan_policy)
        out.append(loaded.predict_proba(xb))
    return np.concatenate(out) if out else np.zeros((0, len(loaded.class_names)), np.float32)


def _explained(loaded: rundir.LoadedRun, ds: SeriesDataset, method: str) -> np.ndarray:
    """``method``'s relevance on every series of ``ds`` (raw; the run's scaler applies)."""
    from ..evaluation.explain import explain

    return explain(loaded, np.asarray(ds.X, np.float32), method=method, lengths=ds.lengths)


def _localization(
    loaded: rundir.LoadedRun,
    att: np.ndarray,
    ds: SeriesDataset,
    val_ds: SeriesDataset | None,
    class_map: Callable[[], np.ndarray],
) -> dict[str, Any]:
    """Score the attention (and a class map, where the pooling gives one) against the true segments; each map's
    span rule is chosen on validation data."""
    from ..evaluation.explain import has_class_map
    from ..evaluation.localization import choose_span_rule, localization_scores

    has_val = val_ds is not None and val_ds.has_segments and (val_ds.extras["segment_start"] >= 0).any()

    def scored(method: str, R: np.ndarray) -> dict[str, Any]:
        span_rule = None
        if has_val:
            assert val_ds is not None
            R_val = _explained(loaded, val_ds, method)
            span_rule, _ = choose_span_rule(R_val, val_ds.extras["segment_start"], val_ds.extras["segment_end"])
        return localization_scores(R, ds.extras["segment_start"], ds.extras["segment_end"], span_rule=span_rule)

    scores = scored("attention", att)
    scores["relevance"] = "attention"
    if has_class_map(loaded.net):  # conjunctive or average pooling: its class map is scored beside the attention
        scores["class_map"] = scored("class_map", class_map())
    return scores
