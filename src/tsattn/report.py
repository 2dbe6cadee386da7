"""A self-contained ``report.html`` for a run or a benchmark.

Rendered with Jinja2 from ``templates/``. Every figure is inline: charts as
SVG drawn by matplotlib, the attention gallery as an embedded PNG. The page
loads nothing from the network (its Content-Security-Policy forbids it), so
it can be mailed, archived or opened offline.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import run as rundir
from ._errors import RunError
from ._io import atomic_write_text

REPORT = "report.html"
PREDICTIONS = "predictions.npz"

LOCALIZATION_ROWS = [
    ("pointing_game", "pointing game", "share of series whose attention peak lies in the true segment (±1% of T)"),
    ("mass_inside", "mass inside", "mean share of attention inside the segment"),
    ("uniform_mass", "uniform mass", "what uniform attention would put inside (the segment's share of T)"),
    ("auprc", "AUPRC", "attention as a per-step score against the segment mask"),
    ("shift_median", "shift median", "attention centre minus segment centre, in time steps"),
    ("shift_iqr", "shift IQR", "spread of that shift, in time steps"),
    ("span_iou", "span IoU", "overlap of the predicted span with the true segment"),
]


def _env() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("tsattn", "templates"), autoescape=select_autoescape(["html", "j2"]))


def hardware() -> dict[str, str]:
    info = {"platform": platform.platform(), "cpus": str(os.cpu_count())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    try:
        import torch

        info["torch threads"] = str(torch.get_num_threads())
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        pass
    return info


def _svg(fig: Any) -> str:
    """A matplotlib figure as inline SVG markup (no XML prolog, stable ids)."""
    import matplotlib

    from .evaluation.plots import _pyplot

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "tsattn", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _png_data_uri(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _confusion_svg(cm: list[list[int]], names: list[str]) -> str:
    from .evaluation.plots import confusion_matrix_figure

    return _svg(confusion_matrix_figure(cm, names))


#: Above this many classes the ROC and precision-recall curves share one legend line instead of one each.
MAX_LEGEND_CLASSES = 10


def _roc_pr_svg(y: np.ndarray, proba: np.ndarray, names: list[str]) -> str:
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    from .evaluation.plots import _pyplot

    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    classes = [1] if len(names) == 2 else range(len(names))
    many = len(classes) > MAX_LEGEND_CLASSES  # one legend line per class would not fit: one summary line instead
    style: dict[str, Any] = {"lw": 0.8, "alpha": 0.5} if many else {}
    aucs, aps = [], []
    for c in classes:
        truth = (y == c).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, proba[:, c])
        prec, rec, _ = precision_recall_curve(truth, proba[:, c])
        aucs.append(auc(fpr, tpr))
        aps.append(auc(rec, prec))
        ax1.plot(fpr, tpr, label=None if many else f"{names[c]} (AUC {aucs[-1]:.3f})", **style)
        ax2.plot(rec, prec, label=None if many else f"{names[c]} (AP {aps[-1]:.3f})", **style)
    if many and aucs:
        ax1.plot([], [], c="grey", label=f"{len(aucs)} classes, one vs rest (mean AUC {np.mean(aucs):.3f})")
        ax2.plot([], [], c="grey", label=f"{len(aps)} classes, one vs rest (mean AP {np.mean(aps):.3f})")
    ax1.plot([0, 1], [0, 1], ls=":", c="grey")
    ax1.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax2.set(xlabel="recall", ylabel="precision", title="precision-recall", ylim=(0, 1.02))
    for ax in (ax1, ax2):
        ax.legend(fontsize=8, loc="lower right" if ax is ax1 else "lower left")
    fig.tight_layout()
    return _svg(fig)


def _history_svg(rows: list[dict[str, Any]], best_epoch: int | None) -> str:
    from .evaluation.plots import _pyplot

    plt = _pyplot()
    ep = [int(r["epoch"]) + 1 for r in rows]  # counted from 1, as the training log counts them
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.2))
    for ax, key in ((ax1, "loss"), (ax2, "acc")):
        ax.plot(ep, [float(r[f"train_{key}"]) for r in rows], marker="o", ms=3, label="train")
        ax.plot(ep, [float(r[f"val_{key}"]) for r in rows], marker="o", ms=3, label="validation")
        if best_epoch is not None and best_epoch >= 0:
            ax.axvline(best_epoch + 1, ls="--", c="grey", lw=1)
        ax.set(xlabel="epoch", title="loss" if key == "loss" else "accuracy")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _svg(fig)


def _room_share(scores: dict[str, Any], n_series: int | None) -> str:
    """The deletion gain as a share of the room from chance to the intact probability, or why there is none."""
    if n_series and scores.get("uninformative_series") == n_series:
        return "uninformative (saturated model)"
    share = scores.get("deletion_gain_of_room")
    return "n/a" if share is None else f"{100 * share:+.0f}%"


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:  # a score that is undefined (ROC AUC on one class), stored as null
        return "n/a"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.{digits}f}"
    return str(value)


#: The faithfulness table's score columns, each beside random's (then the room share and AOPCR).
FAITHFULNESS_COLUMNS = (
    "deletion_auc",
    "random_deletion_auc",
    "insertion_auc",
    "random_insertion_auc",
    "comprehensiveness",
    "random_comprehensiveness",
    "sufficiency",
    "random_sufficiency",
)


def _faithfulness_rows(faith: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per relevance method of the ``faithfulness`` block."""
    return [
        (
            method.replace("_", " "),
            *(_fmt(s.get(key), 3) for key in FAITHFULNESS_COLUMNS),
            _room_share(s, faith.get("n_series")),
            _fmt(s.get("aopcr"), 3),
            _fmt(s.get("aopcr_normalized"), 3),
        )
        for method, s in faith.items()
        if isinstance(s, dict)
    ]


def _localization_rows(loc: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """``(label, value, meaning)`` of the attention's localization scores, then the class map's (if any)."""
    return [
        (prefix + label, _fmt(block[key], 1 if key.startswith("shift") else 4), meaning)
        for prefix, block in (("", loc), ("class map: ", (loc or {}).get("class_map")))
        if block
        for key, label, meaning in LOCALIZATION_ROWS
        if key in block
    ]


def _run_figures(
    run: Path, m: dict[str, Any], fit: dict[str, Any], faith: dict[str, Any] | None
) -> dict[str, str | None]:
    """The report's figures, from the run's metrics, predictions, history and PNGs (None where the run has none)."""
    from .evaluation.plots import faithfulness_figure

    names = m["class_names"]
    figures: dict[str, str | None] = {"confusion": _confusion_svg(m["confusion_matrix"], names)}
    pred_path = run / PREDICTIONS
    if pred_path.is_file():
        with np.load(pred_path, allow_pickle=False) as z:
            figures["roc_pr"] = _roc_pr_svg(z["y"], z["proba"], names)
    else:
        figures["roc_pr"] = (
            "<p class='note'>No predictions.npz in this run: run tsattn evaluate to draw the curves.</p>"
        )
    history = list(csv.DictReader((run / rundir.HISTORY).open())) if (run / rundir.HISTORY).is_file() else []
    figures["history"] = _history_svg(history, fit.get("best_epoch")) if history else None
    figures["gallery"] = _png_data_uri(run / "gallery.png")
    figures["attention"] = _png_data_uri(run / "attention.png")
    figures["faithfulness"] = _svg(faithfulness_figure(faith)) if faith else None
    return figures


def _headline(m: dict[str, Any], loc: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The headline figures; binary precision, recall and F1 name their positive class."""
    headline = [
        ("accuracy", _fmt(m["accuracy"])),
        ("ROC AUC", _fmt(m["roc_auc"])),
        ("F1", _fmt(m["f1"])),
        ("precision", _fmt(m["precision"])),
        ("recall", _fmt(m["recall"])),
    ]
    if m.get("positive_class"):  # binary: precision, recall and F1 are one class's
        one_class = ("F1", "precision", "recall")
        headline = [(f"{k} ({m['positive_class']})" if k in one_class else k, v) for k, v in headline]
    if loc:
        headline.append(("pointing game", _fmt(loc["pointing_game"], 3)))
    return headline


def write_run_report(run: str | os.PathLike[str]) -> Path:
    """Render ``report.html`` in the run directory from what the run holds; return its path."""
    run = Path(run)
    config = rundir.read_config(run)
    metrics_path = run / rundir.METRICS
    if not metrics_path.is_file():
        raise RunError(f"run: {run} has no {rundir.METRICS}; run `tsattn evaluate --run {run}` first")
    m = json.loads(metrics_path.read_text())
    fit = json.loads((run / "fit.json").read_text()) if (run / "fit.json").is_file() else {}
    from .evaluation.faithfulness import CAVEAT

    names = m["class_names"]
    faith = m.get("faithfulness") or {}
    faithfulness = _faithfulness_rows(faith)
    loc = m.get("localization")
    localization = _localization_rows(loc)
    figures = _run_figures(run, m, fit, faith if faithfulness else None)
    headline = _headline(m, loc)
    phases = [(k.removesuffix("_seconds"), float(v)) for k, v in (m.get("phases") or {}).items() if v is not None]
    sections = [
        ("metrics", "metrics"),
        ("confusion", "confusion & curves"),
        ("curves", "training"),
        ("localization", "localization"),
        ("faithfulness", "faithfulness"),
        ("gallery", "attention"),
        ("timing", "timing"),
        ("environment", "config & environment"),
    ]
    html = (
        _env()
        .get_template("run.html.j2")
        .render(
            model=m.get("model", config.model),
            run_name=run.resolve().name,
            evaluated_on=m.get("evaluated_on", ""),
            n_test=m["n_test"],
            seed=config.seed,
            state=rundir.read_status(run).get("state"),
            generated=time.strftime("%Y-%m-%d %H:%M:%S"),
            sections=sections,
            headline=headline,
            per_class=m.get("per_class", {}),
            figures=figures,
            n_classes=len(names),
            best_epoch=None if fit.get("best_epoch") is None else fit["best_epoch"] + 1,  # from 1, as the log
            localization=localization,
            faithfulness=faithfulness,
            faithfulness_series=faith.get("n_series"),
            faithfulness_caveat=CAVEAT,
            localization_note="This dataset has no ground-truth segments (or the model has no attention), "
            "so attention cannot be scored here.",
            phases=phases,
            epochs_run=fit.get("epochs_run"),
            resumed_from=fit.get("resumed_from_epoch"),
            peak_rss=fit.get("peak_rss_mb"),
            versions=config.versions,
            hardware=hardware(),
            config_json=json.dumps(config.to_json(), indent=2),
        )
    )
    atomic_write_text(run / REPORT, html)
    return run / REPORT


def write_benchmark_report(out: str | os.PathLike[str]) -> Path:
    """Render ``report.html`` for a ``tsattn benchmark`` output directory from its ``benchmark.json``."""
    out = Path(out)
    path = out / "benchmark.json"
    if not path.is_file():
        raise RunError(f"run: {out} has no benchmark.json")
    result = json.loads(path.read_text())
    rows = []
    for r in result["models"]:
        loc = r.get("localization") or {}
        rows.append(
            r
            | {
                "pointing": _fmt(loc["pointing_game"], 3) if "pointing_game" in loc else "-",
                "mass": _fmt(loc["mass_inside"], 3) if "mass_inside" in loc else "-",
            }
        )
    from .evaluation.plots import benchmark_figure
    from .run import versions

    html = (
        _env()
        .get_template("benchmark.html.j2")
        .render(
            n_models=len(rows),
            dataset=result["dataset"],
            seed=result["seed"],
            date=result.get("date", ""),
            sections=[("table", "comparison"), ("charts", "charts"), ("environment", "environment")],
            rows=rows,
            classes=result["dataset"].get("classes") or [],
            skipped=result.get("skipped", []),
            figures={"comparison": _svg(benchmark_figure(result))},
            versions=versions(),
            hardware=hardware(),
            source_json=json.dumps(result["dataset"], indent=2),
        )
    )
    atomic_write_text(out / REPORT, html)
    return out / REPORT


def write_report(path: str | os.PathLike[str]) -> Path:
    """A run directory or a benchmark directory: whichever ``path`` is.

    Examples
    --------
    >>> from tsattn.workflows import example_run
    >>> run = example_run()  # a small finished run in a temporary directory (cnn_attention, one epoch)
    >>> write_report(run).name
    'report.html'
    """
    path = Path(path)
    if (path / "benchmark.json").is_file():
        return write_benchmark_report(path)
    if not path.is_dir():
        raise RunError(f"run: not a directory: {path}")
    return write_run_report(path)
