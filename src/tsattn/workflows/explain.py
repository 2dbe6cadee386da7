"""Explain a run's predictions: relevance plots, anomaly spans, relevance methods side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import run as rundir
from .._errors import DataError, RunError
from .._io import atomic_write_text
from ..data import SeriesDataset, check_finite
from ..data.sources import read_with_contract
from ._data import check_compatible, data_source, split_part

__all__ = ["explain_run", "locate_run", "relevance_report"]


def explain_run(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    index: int,
    out: str | os.PathLike[str],
    method: str | None = None,
) -> dict[str, Any]:
    """Plot series ``index`` of ``data`` with the run's relevance over it; return its prediction and faithfulness.

    ``method`` (:data:`~tsattn.evaluation.explain.METHODS`) defaults to the
    run's attention, or its class map where the attention is uniform by
    construction (average pooling); the returned ``method`` says which.

    Beside the series, the figure draws its deletion and insertion curves
    (:mod:`tsattn.evaluation.faithfulness`): how the predicted class's
    probability falls as the most relevant steps are replaced by the series'
    mean, and rises as only they are revealed, against random relevance. The
    returned ``faithfulness`` holds the scores.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> info = explain_run(run, run.parent / "series.npz", index=3, out=run / "series3.png")
    >>> info["predicted"] in ("normal", "rectified"), (run / "series3.png").is_file()
    (True, True)
    >>> sorted(info["faithfulness"])[:3]
    ['comprehensiveness', 'comprehensiveness_gain', 'comprehensiveness_gain_of_room']
    """
    from ..evaluation.explain import default_method, explain
    from ..evaluation.faithfulness import GAINS, SCORES, SharedForward, faithfulness_scores
    from ..evaluation.plots import _pyplot, plot_attention, save_figure
    from ..training.missing import apply_nan_policy

    loaded = rundir.load_run(run)
    method = default_method(loaded) if method is None else method
    ds = read_with_contract(data, loaded.config.data.to_json(), require_labels=False)
    ds = check_compatible(ds, loaded.config)
    if not 0 <= index < len(ds):
        raise DataError(f"index: must be in [0, {len(ds) - 1}]; got {index}")
    lengths = None if ds.lengths is None else ds.lengths[index : index + 1]
    x = apply_nan_policy(ds.X[index : index + 1], lengths, loaded.config.train.nan_policy)
    if lengths is not None:
        x = x[..., : int(lengths[0])]  # one series: drop its padding
    relevance = explain(loaded, x, method=method)
    proba = loaded.predict_proba(x)
    names = loaded.class_names
    pred = int(proba[0].argmax())
    seg = None
    if ds.has_segments:
        seg = (int(ds.extras["segment_start"][index]), int(ds.extras["segment_end"][index]))

    shared = SharedForward(loaded.outputs_of_scaled)
    faith = faithfulness_scores(shared.proba, loaded.scaler.transform(x), relevance, logits=shared.logits)
    plt = _pyplot()
    # Constrained layout keeps the attention axis (right of the signal) clear of the faithfulness panel, whose
    # probability axis goes on its own right side, with plain numbers (no offset such as "+9.9965e-1").
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(13, 3.2), gridspec_kw={"width_ratios": [3, 1]}, layout="constrained")
    true = names[ds.y[index]] if ds.labelled else None
    curves = faith["curves"]
    share = 100 * np.asarray(curves["fractions"])
    for kind, color in (("deletion", "C3"), ("insertion", "C2")):
        ax_f.plot(share, curves[kind], color=color, lw=1.6, label=kind)
        ax_f.plot(share, curves[f"random_{kind}"], color=color, lw=1, ls="--", alpha=0.7)
    ax_f.set_title("faithfulness (dashed: random)", fontsize=9)
    ax_f.set_xlabel("top steps removed / kept (%)", fontsize=8)
    ax_f.set_ylabel(f"p({names[pred]})", fontsize=8)
    ax_f.yaxis.tick_right()
    ax_f.yaxis.set_label_position("right")
    ax_f.ticklabel_format(axis="y", useOffset=False)
    ax_f.tick_params(labelsize=7)
    ax_f.legend(fontsize=7)
    name = index if ds.ids is None else f"{ds.ids[index]} (row {index})"  # the file's id where it has one
    plot_attention(
        ax,
        x[0],
        relevance[0],
        segment=seg,
        label=method.replace("_", " "),
        title=f"series {name}: {'' if true is None else f'true {true}, '}predicted {names[pred]} "
        f"(p={proba[0, pred]:.3f}); {method}",
    )
    save_figure(fig, out)
    keep = (*SCORES, *(f"random_{k}" for k in SCORES), *GAINS, *(f"{g}_of_room" for g in GAINS), "uninformative_series")
    scores = {k: faith[k] for k in keep}
    return {
        "index": index,
        "predicted": names[pred],
        "proba": proba[0].tolist(),
        "true": true,
        "method": method,
        "faithfulness": scores,
    }


def locate_run(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    method: str | None = None,
    mass: float | None = None,
) -> dict[str, Any]:
    """Turn relevance into one predicted anomaly span per series and write them as CSV.

    ``method`` defaults as in :func:`explain_run`.

    The span rule (:class:`~tsattn.evaluation.localization.SpanRule`) is chosen
    on the run's validation split when that has true segments; else, or when
    ``mass`` is given, a span is the shortest window holding ``mass`` (by
    default 0.9) of the series' relevance. Returns a summary with the rule
    and, where ``data`` has true segments, the mean IoU over its anomalous
    series.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> summary = locate_run(run, run.parent / "series.npz", run / "spans.csv")
    >>> summary["n_series"], summary["rule_source"]
    (60, 'validation split')
    """
    import csv
    import io

    from ..evaluation.explain import default_method, explain
    from ..evaluation.localization import SpanRule, choose_span_rule, span_iou

    loaded = rundir.load_run(run)
    method = default_method(loaded) if method is None else method
    ds = read_with_contract(data, loaded.config.data.to_json(), require_labels=False)
    ds = check_compatible(ds, loaded.config)
    if ds.lengths is not None:
        raise DataError("data: locate takes series of one length")
    check_finite(ds.X, what="data")
    if mass is not None:
        if not 0 < mass <= 1:
            raise DataError(f"mass: must be in (0, 1] (the share of relevance a span holds); got {mass}")
        rule, source = SpanRule("mass", mass), "given"
    else:
        rule, source = SpanRule(), "default"  # the shortest window with 90 % of the relevance
        split_path = Path(run) / rundir.SPLIT
        if loaded.config.data.kind in ("synthetic", "file") and split_path.is_file():
            try:
                full, _ = data_source(loaded.config)
            except (RunError, DataError):
                full = None
            val = split_part(split_path, "val")
            if full is not None and full.has_segments:
                vds = full.subset(val)
                keep = vds.extras["segment_start"] >= 0
                if keep.any():
                    R = explain(loaded, vds.X[keep], method=method)
                    rule, _ = choose_span_rule(R, vds.extras["segment_start"][keep], vds.extras["segment_end"][keep])
                    source = "validation split"
    R = explain(loaded, ds.X, method=method)
    spans = rule.spans(R)
    proba = loaded.predict_proba(ds.X)
    pred = proba.argmax(1)
    buf = io.StringIO()
    w = csv.writer(buf)
    header = ["index", "id", "predicted", "probability", "span_start", "span_end"]  # id: the file's, else the index
    truth = ds.has_segments
    if truth:
        header += ["true_start", "true_end", "iou"]
    w.writerow(header)
    ious = span_iou(spans, ds.extras["segment_start"], ds.extras["segment_end"]) if truth else np.zeros(0)
    k = 0
    for i in range(len(ds)):
        name = i if ds.ids is None else ds.ids[i]
        row = [i, name, loaded.class_names[pred[i]], f"{proba[i, pred[i]]:.6f}", int(spans[i, 0]), int(spans[i, 1])]
        if truth:
            s, e = int(ds.extras["segment_start"][i]), int(ds.extras["segment_end"][i])
            row += [s, e, f"{ious[k]:.4f}" if s >= 0 else ""]
            k += s >= 0
        w.writerow(row)
    atomic_write_text(out, buf.getvalue())
    summary = {"rule": rule.to_dict(), "rule_source": source, "method": method, "n_series": len(ds)}
    if truth and len(ious):
        summary["mean_iou"] = float(np.mean(ious))
        summary["n_with_segment"] = len(ious)
    return summary


def relevance_report(
    run: str | os.PathLike[str],
    *,
    methods: tuple[str, ...] = ("attention", "integrated_gradients"),
    sanity: bool = True,
    max_series: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Localization scores of several relevance methods on the run's test split, side by side.

    With ``sanity``, each method is scored again after the network's weights
    are randomized (Adebayo et al., 2018): an explanation that keeps its scores
    then is not explaining the model. Span rules are chosen on the validation split.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> report = relevance_report(run, methods=("attention",), sanity=False)
    >>> sorted(report["methods"]["attention"]["trained"])[:3]
    ['auprc', 'mass_inside', 'n_series']
    """
    from ..evaluation.explain import explain, randomized_copy
    from ..evaluation.localization import choose_span_rule, localization_scores
    from ..run import LoadedRun

    loaded = rundir.load_run(run)
    full, _ = data_source(loaded.config)
    if not full.has_segments:
        raise DataError("run: the run's data have no ground-truth segments to score relevance against")
    split = Path(run) / rundir.SPLIT
    test, val = full.subset(split_part(split, "test")), full.subset(split_part(split, "val"))

    def anomalous(ds: SeriesDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = np.flatnonzero(ds.extras["segment_start"] >= 0)[:max_series]
        return ds.X[idx], ds.extras["segment_start"][idx], ds.extras["segment_end"][idx]

    Xt, st, et = anomalous(test)
    Xv, sv, ev = anomalous(val)
    models = {"trained": loaded}
    if sanity:
        models["randomized"] = LoadedRun(loaded.path, loaded.config, randomized_copy(loaded.net, seed), loaded.scaler)
    report: dict[str, Any] = {"model": loaded.model_name, "n_series": len(Xt), "methods": {}}
    for method in methods:
        if method != "integrated_gradients" and not getattr(loaded.net, "has_attention", True):
            continue
        report["methods"][method] = {}
        for label, m in models.items():
            rule, _ = choose_span_rule(explain(m, Xv, method=method), sv, ev)
            report["methods"][method][label] = localization_scores(
                explain(m, Xt, method=method), st, et, span_rule=rule
            )
    return report
