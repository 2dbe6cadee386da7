"""Localization scores: does the relevance point at the true anomalous segment?

Every score takes relevance ``R`` of shape ``(n, T)`` (attention, gradients,
any non-negative per-step score) and the true segments ``[start, end)``; only
series with a segment (``start >= 0``) are scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "auprc",
    "choose_mass",
    "format_localization",
    "localization_scores",
    "mass_inside",
    "pointing_game",
    "shift",
    "span_iou",
    "spans_from_mass",
]


def _rows(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    R = np.asarray(R, dtype=np.float64)
    start, end = np.asarray(start), np.asarray(end)
    keep = start >= 0
    return np.clip(R[keep], 0, None), start[keep].astype(int), end[keep].astype(int)


def _inside(T: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    t = np.arange(T)
    return (t[None, :] >= start[:, None]) & (t[None, :] < end[:, None])  # (n, T)


def pointing_game(R: np.ndarray, start: np.ndarray, end: np.ndarray, tolerance: float = 0.01) -> float:
    """Share of series whose relevance peak lies in the segment, widened by ``tolerance * T`` on each side.

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0], [0.6, 0.1, 0.1, 0.1, 0.1]])
    >>> pointing_game(R, start=np.array([2, 2]), end=np.array([4, 4]))  # the first peaks inside, the second not
    0.5
    """
    R, start, end = _rows(R, start, end)
    if len(R) == 0:
        return float("nan")
    tol = round(float(tolerance) * R.shape[1])
    peak = R.argmax(1)
    return float(np.mean((peak >= start - tol) & (peak < end + tol)))


def mass_inside(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[float, float]:
    """Mean share of relevance mass inside the segment, and the share uniform relevance would get.

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0]])
    >>> inside, uniform = mass_inside(R, np.array([2]), np.array([4]))
    >>> round(inside, 6), uniform  # 0.9 inside; uniform attention would put 2/5 there
    (0.9, 0.4)
    """
    R, start, end = _rows(R, start, end)
    if len(R) == 0:
        return float("nan"), float("nan")
    total = R.sum(1)
    share = np.where(total > 0, (R * _inside(R.shape[1], start, end)).sum(1) / np.where(total > 0, total, 1), 0.0)
    return float(share.mean()), float(np.mean((end - start) / R.shape[1]))


def shift(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[float, float]:
    """Median and IQR of (relevance centre of mass - segment centre), in time steps.

    Examples
    --------
    >>> R = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
    >>> shift(R, np.array([2]), np.array([6]))  # the segment's centre is 3.5; the mass is at 6
    (2.5, 0.0)
    """
    R, start, end = _rows(R, start, end)
    if len(R) == 0:
        return float("nan"), float("nan")
    t = np.arange(R.shape[1])
    total = np.where(R.sum(1) > 0, R.sum(1), 1)
    com = (R * t).sum(1) / total
    d = com - (start + end - 1) / 2
    q1, med, q3 = np.percentile(d, [25, 50, 75])
    return float(med), float(q3 - q1)


def auprc(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Mean over series of the average precision of relevance as a per-step score of the segment mask."""
    from sklearn.metrics import average_precision_score

    R, start, end = _rows(R, start, end)
    if len(R) == 0:
        return float("nan")
    inside = _inside(R.shape[1], start, end)
    return float(np.mean([average_precision_score(m, r) for m, r in zip(inside, R, strict=False)]))


def spans_from_mass(R: np.ndarray, mass: float) -> np.ndarray:
    """One span per series: the shortest window holding at least ``mass`` of the series' relevance.

    Unlike a threshold on the peak, this recovers a segment whose relevance
    sits at both of its ends (a kink where it starts, a jump where it ends).

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0]])
    >>> spans_from_mass(R, 0.9).tolist()  # the shortest window holding 90 % of the relevance
    [[2, 4]]
    >>> spans_from_mass(R, 0.95).tolist()
    [[1, 4]]
    """
    R = np.clip(np.asarray(R, dtype=np.float64), 0, None)
    n, T = R.shape
    total = R.sum(1, keepdims=True)
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(R / np.where(total > 0, total, 1), axis=1)], axis=1)  # (n, T+1)
    spans = np.empty((n, 2), int)
    for i in range(n):
        # for every start a, the first end b with C[b] - C[a] >= mass
        b = np.searchsorted(C[i], C[i, :-1] + mass - 1e-12, side="left")
        length = np.where(b <= T, b - np.arange(T), T + 1)
        a = int(np.argmin(length))
        spans[i] = (a, min(int(b[a]), T))
    return spans


def span_iou(spans: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """IoU of each predicted span with its true segment (series with a segment only).

    Examples
    --------
    >>> span_iou(np.array([[2, 6]]), start=np.array([4]), end=np.array([8])).tolist()
    [0.3333333333333333]
    """
    spans, start, end = np.asarray(spans), np.asarray(start), np.asarray(end)
    keep = start >= 0
    s, e = spans[keep, 0], spans[keep, 1]
    inter = np.clip(np.minimum(e, end[keep]) - np.maximum(s, start[keep]), 0, None)
    union = (e - s) + (end[keep] - start[keep]) - inter
    return np.asarray(inter / np.maximum(union, 1))


def choose_mass(
    R: np.ndarray, start: np.ndarray, end: np.ndarray, grid: np.ndarray | None = None
) -> tuple[float, float]:
    """The relevance mass for :func:`spans_from_mass` with the best mean span IoU, and that IoU."""
    grid = np.round(np.linspace(0.5, 0.99, 15), 3) if grid is None else grid
    best = max((float(np.mean(span_iou(spans_from_mass(R, q), start, end))), float(q)) for q in grid)
    return best[1], best[0]


def localization_scores(
    R: np.ndarray, start: np.ndarray, end: np.ndarray, *, span_mass: float | None = None, tolerance: float = 0.01
) -> dict[str, Any]:
    """Every score in one dict (the ``localization`` block of ``metrics.json``).

    ``span_mass`` for the spans should be chosen on validation data with
    :func:`choose_mass`; when omitted it is chosen here (optimistic, and said so).

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0, 0.0], [0.5, 0.1, 0.1, 0.1, 0.1, 0.1]])
    >>> scores = localization_scores(R, np.array([2, 1]), np.array([4, 3]), span_mass=0.5)
    >>> scores["pointing_game"], round(scores["mass_inside"], 2)
    (0.5, 0.55)
    """
    R = np.asarray(R, dtype=np.float64)
    start, end = np.asarray(start), np.asarray(end)
    chosen_here = span_mass is None
    if span_mass is None:
        span_mass, _ = choose_mass(R[start >= 0], start[start >= 0], end[start >= 0])
    mi, uni = mass_inside(R, start, end)
    med, iqr = shift(R, start, end)
    ious = span_iou(spans_from_mass(R, span_mass), start, end)
    return {
        "n_series": int((start >= 0).sum()),
        "pointing_game": pointing_game(R, start, end, tolerance),
        "mass_inside": mi,
        "uniform_mass": uni,
        "auprc": auprc(R, start, end),
        "shift_median": med,
        "shift_iqr": iqr,
        "span_iou": float(np.mean(ious)) if len(ious) else float("nan"),
        "span_mass": float(span_mass),
        "span_mass_chosen_on": "the scored data" if chosen_here else "validation data",
    }


def format_localization(s: dict[str, Any]) -> str:
    """The ``localization`` block as a few readable lines (and the class map's, for conjunctive pooling)."""
    lines = [
        f"Localization ({s.get('relevance', 'relevance')} vs. true segments, {s['n_series']} series):",
        (
            f"  pointing game {s['pointing_game']:.4f}   mass inside {s['mass_inside']:.4f} "
            f"(uniform {s['uniform_mass']:.4f})   AUPRC {s['auprc']:.4f}"
        ),
        (
            f"  shift median {s['shift_median']:+.1f} steps (IQR {s['shift_iqr']:.1f})   span IoU "
            f"{s['span_iou']:.4f} (shortest window with {s['span_mass']:.0%} of the relevance, chosen on "
            f"{s['span_mass_chosen_on']})"
        ),
    ]
    if isinstance(s.get("class_map"), dict):
        lines.append(format_localization(s["class_map"] | {"relevance": "class map"}))
    return "\n".join(lines)
