"""Pictures: attention over the signal, and training curves.

Figures are rendered off-screen (Agg) and written atomically.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from .._io import atomic_write_bytes

__all__ = ["plot_attention", "plot_attention_examples", "plot_history", "save_figure"]


def _pyplot() -> Any:
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # a script or the CLI: draw off-screen; a notebook keeps its backend
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> None:
    fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt if fmt in ("png", "svg", "pdf") else "png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    _pyplot().close(fig)


def plot_attention(
    ax: Any,
    x: np.ndarray,
    attention: np.ndarray | None,
    *,
    segment: tuple[int, int] | None = None,
    title: str = "",
    label: str = "attention",
    span: tuple[int, int] | None = None,
) -> None:
    """Draw a series (one line per channel) with its attention on a twin axis and the true segment shaded."""
    x = np.atleast_2d(x)
    t = np.arange(x.shape[-1])
    for c, row in enumerate(x):
        ax.plot(t, row, lw=1.2, color="C0" if len(x) == 1 else f"C{c}", label="signal" if c == 0 else None)
    if segment is not None and segment[0] >= 0:
        ax.axvspan(segment[0], segment[1] - 0.5, color="C2", alpha=0.18, label="true segment")
    if span is not None:
        ax.axvspan(span[0], span[1] - 0.5, fill=False, edgecolor="k", ls="--", lw=1.2, label="predicted span")
    ax.set_xlabel("time step")
    ax.set_ylabel("signal")
    ax.set_title(title, fontsize=10)
    if attention is not None:
        ax2 = ax.twinx()
        ax2.fill_between(t, 0, attention, color="C3", alpha=0.35, step="mid", label=label)
        ax2.plot(t, attention, color="C3", lw=0.8)
        ax2.set_ylabel(f"{label} weight", color="C3")
        ax2.set_ylim(0, max(float(np.max(attention)) * 1.15, 1e-6))
        handles = ax.get_legend_handles_labels()
        h2 = ax2.get_legend_handles_labels()
        ax.legend(handles[0] + h2[0], handles[1] + h2[1], loc="upper right", fontsize=8)
    else:
        ax.legend(loc="upper right", fontsize=8)


def _name(ids: np.ndarray | None, i: int) -> str:
    """How a plot names series ``i``: by its id where the data have ids, else by its position."""
    return str(i) if ids is None else str(ids[i])


def plot_attention_examples(
    X: np.ndarray,
    attention: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    class_names: list[str],
    path: str | os.PathLike[str],
    *,
    segment_start: np.ndarray | None = None,
    segment_end: np.ndarray | None = None,
    indices: list[int] | None = None,
    ids: np.ndarray | None = None,
    label: str = "attention",
) -> list[int]:
    """Plot attention (or the relevance ``label`` names) over the signal for one series of each class (the
    article's two plots).

    Titles name each series by ``ids`` (the file's ids), else by its position. Returns the indices plotted.
    """
    plt = _pyplot()
    if indices is None:
        indices = [int(np.flatnonzero(y == c)[0]) for c in range(len(class_names)) if (y == c).any()]
    fig, axes = plt.subplots(len(indices), 1, figsize=(10, 3.0 * len(indices)), squeeze=False)
    for ax, i in zip(axes[:, 0], indices, strict=False):
        seg = None
        if segment_start is not None and segment_end is not None:
            seg = (int(segment_start[i]), int(segment_end[i]))
        title = f"series {_name(ids, i)}: true {class_names[y[i]]}, predicted {class_names[pred[i]]}"
        relevance = attention[i] if attention is not None else None
        plot_attention(ax, X[i], relevance, segment=seg, title=title, label=label)
    fig.tight_layout()
    save_figure(fig, path)
    return indices


def plot_history(history: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Training and validation loss and accuracy per epoch; the best epoch marked."""
    plt = _pyplot()
    epochs = [h["epoch"] + 1 for h in history]  # counted from 1, as the training log counts them
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
    for key, ax in (("loss", a1), ("acc", a2)):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", ms=3, label=f"train {key}")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "o-", ms=3, label=f"val {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    if history:
        best = min(history, key=lambda h: h["val_loss"])["epoch"] + 1
        for ax in (a1, a2):
            ax.axvline(best, color="grey", ls="--", lw=1, label="best epoch")
    a1.legend(fontsize=8)
    a2.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def plot_gallery(
    X: np.ndarray,
    relevance: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    class_names: list[str],
    path: str | os.PathLike[str],
    *,
    segment_start: np.ndarray | None = None,
    segment_end: np.ndarray | None = None,
    spans: np.ndarray | None = None,
    per_group: int = 3,
    label: str = "attention",
    ids: np.ndarray | None = None,
) -> dict[str, list[int]]:
    """A gallery of test series: true positives, false positives and false negatives.

    Each panel shows the signal, the relevance as a heat band under it, the
    true segment shaded and the predicted span outlined. Multi-class tasks
    show correct and wrong predictions. Returns the indices in each group.
    """
    plt = _pyplot()
    if len(class_names) == 2:
        groups = {
            "true positive": (y == 1) & (pred == 1),
            "false positive": (y == 0) & (pred == 1),
            "false negative": (y == 1) & (pred == 0),
        }
    else:
        groups = {"correct": y == pred, "wrong": y != pred}
    chosen = {g: np.flatnonzero(m)[:per_group].tolist() for g, m in groups.items()}
    panels = [(g, i) for g, idx in chosen.items() for i in idx]
    if not panels:
        panels = [("series", 0)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.9 * len(panels)), squeeze=False)
    for ax, (group, i) in zip(axes[:, 0], panels, strict=False):
        x = np.atleast_2d(X[i])
        T = x.shape[-1]
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))  # NaN marks the padding of shorter series
        pad = 0.08 * (hi - lo or 1)
        band = (lo - 3 * pad, lo - pad)
        ax.imshow(
            relevance[i][None, :],
            aspect="auto",
            cmap="Reds",
            extent=(-0.5, T - 0.5, *band),
            vmin=0,
            vmax=float(relevance[i].max()) or 1,
        )
        for c, row in enumerate(x):
            ax.plot(np.arange(T), row, lw=1, color=f"C{c}" if len(x) > 1 else "C0")
        if segment_start is not None and segment_end is not None and segment_start[i] >= 0:
            ax.axvspan(segment_start[i], segment_end[i] - 0.5, color="C2", alpha=0.2)
        if spans is not None:
            ax.axvspan(spans[i][0], spans[i][1] - 0.5, fill=False, edgecolor="k", ls="--", lw=1.1)
        ax.set_ylim(band[0], hi + pad)
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_yticks([])
        ax.set_title(
            f"{group}: series {_name(ids, i)}, true {class_names[y[i]]}, predicted {class_names[pred[i]]}",
            fontsize=8,
            loc="left",
        )
    axes[-1, 0].set_xlabel(f"time step (band: {label}; green: true segment; dashed: predicted span)")
    fig.tight_layout()
    save_figure(fig, path)
    return chosen


def confusion_matrix_figure(counts: list[list[int]], class_names: list[str]) -> Any:
    """The confusion matrix with class names, counts in the cells and rows normalised for colour."""
    plt = _pyplot()
    cm = np.asarray(counts)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(1.6 + 0.7 * k, 1.4 + 0.6 * k))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(cm[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm: list[list[int]], class_names: list[str], path: str | os.PathLike[str]) -> None:
    save_figure(confusion_matrix_figure(cm, class_names), path)


def benchmark_figure(result: dict[str, Any]) -> Any:
    """Accuracy, training time and inference throughput per model, side by side."""
    plt = _pyplot()
    rows = result["models"]
    names = [r["name"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = [
        ("accuracy", "test accuracy", False),
        ("train_seconds", "training wall seconds", False),
        ("inference_series_per_s", "inference series / s (log)", True),
    ]
    for ax, (key, label, log) in zip(axes, panels, strict=False):
        vals = [r[key] for r in rows]
        bars = ax.bar(names, vals, color=[f"C{i}" for i in range(len(rows))])
        ax.set_title(label, fontsize=10)
        if log:
            ax.set_yscale("log")
        if key == "accuracy" and vals:
            ax.set_ylim(max(0.0, min(vals) - 0.05), 1.0)
        ax.bar_label(bars, fmt="%.3f" if key == "accuracy" else "%.0f", fontsize=7)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.tight_layout()
    return fig


def faithfulness_figure(block: dict[str, Any]) -> Any:
    """Deletion and insertion curves of every relevance method in a ``faithfulness`` block, random ones dashed.

    Examples
    --------
    >>> curves = {"fractions": [0, 0.5, 1], "deletion": [0.9, 0.6, 0.5], "insertion": [0.5, 0.8, 0.9],
    ...           "random_deletion": [0.9, 0.8, 0.5], "random_insertion": [0.5, 0.6, 0.9]}
    >>> fig = faithfulness_figure({"n_series": 8, "attention": {"curves": curves}})
    >>> [ax.get_title() for ax in fig.axes]
    ['deletion: the top k % replaced', 'insertion: only the top k % kept']
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    methods = [(name, s["curves"]) for name, s in block.items() if isinstance(s, dict) and "curves" in s]
    for ax, kind, title in (
        (axes[0], "deletion", "deletion: the top k % replaced"),
        (axes[1], "insertion", "insertion: only the top k % kept"),
    ):
        for i, (name, c) in enumerate(methods):
            share = 100 * np.asarray(c["fractions"])
            ax.plot(share, c[kind], color=f"C{i}", lw=1.6, label=name.replace("_", " "))
            ax.plot(share, c[f"random_{kind}"], color=f"C{i}", lw=1, ls="--", alpha=0.7)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("share of the series' steps (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("probability of the predicted class")
    axes[1].legend(fontsize=8, title="dashed: random relevance", title_fontsize=8)
    fig.tight_layout()
    return fig
