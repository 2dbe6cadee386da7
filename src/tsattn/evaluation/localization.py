"""Localization scores: does the relevance point at the true anomalous segment?

Every score takes relevance ``R`` of shape ``(n, T)`` (attention, gradients,
any non-negative per-step score) and the true segments ``[start, end)``; only
series with a segment (``start >= 0``) are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "SpanRule",
    "auprc",
    "average_precision",
    "choose_mass",
    "choose_span_rule",
    "format_localization",
    "localization_scores",
    "mass_inside",
    "pointing_game",
    "shift",
    "smooth_relevance",
    "span_iou",
    "span_rule_of",
    "spans_from_mass",
    "spans_from_peak",
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
    R, start, end = _rows(R, start, end)
    if len(R) == 0:
        return float("nan")
    return float(np.mean(average_precision(_inside(R.shape[1], start, end), R)))


def average_precision(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row-wise average precision of ``score`` ``(n, T)`` for the boolean targets ``y`` ``(n, T)``, as
    scikit-learn's ``average_precision_score`` gives for each row: precision at each distinct score, weighted
    by the recall gained there (tied scores enter together). A row without a positive scores 0.

    Examples
    --------
    >>> average_precision(np.array([[1, 0, 1, 0]], bool), np.array([[0.9, 0.8, 0.3, 0.1]])).tolist()
    [0.8333333333333333]
    >>> average_precision(np.array([[1, 0, 1, 0]], bool), np.array([[0.5, 0.5, 0.5, 0.1]])).tolist()  # one tie
    [0.6666666666666666]
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n, T = score.shape
    order = np.argsort(-score, axis=1, kind="stable")
    s = np.take_along_axis(score, order, axis=1)
    hit = np.take_along_axis(y, order, axis=1)
    tp = np.cumsum(hit, axis=1)
    last = np.ones((n, T), dtype=bool)  # the last step of each run of tied scores
    last[:, :-1] = s[:, 1:] != s[:, :-1]
    ends = np.where(last, np.arange(T), T)
    group_end = np.minimum.accumulate(ends[:, ::-1], axis=1)[:, ::-1]  # for each step, its tie group's last step
    precision = np.take_along_axis(tp, group_end, axis=1) / (group_end + 1)
    positives = hit.sum(1)
    return np.asarray((hit * precision).sum(1) / np.maximum(positives, 1))


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
    return np.asarray(_mass_windows(R, [mass])[0])


def _mass_windows(R: np.ndarray, masses: Sequence[float] | np.ndarray) -> np.ndarray:
    """:func:`spans_from_mass` at each of ``masses``, ``(len(masses), n, 2)``: one pass over the rows for all."""
    R = np.clip(np.asarray(R, dtype=np.float64), 0, None)
    n, T = R.shape
    goal = np.asarray(masses, dtype=np.float64)[:, None] - 1e-12  # (M, 1)
    total = R.sum(1, keepdims=True)
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(R / np.where(total > 0, total, 1), axis=1)], axis=1)  # (n, T+1)
    spans = np.empty((len(goal), n, 2), int)
    levels = np.arange(len(goal))
    for i in range(n):
        # for every start a, the first end b with C[b] - C[a] >= mass
        b = np.searchsorted(C[i], C[i, :-1][None, :] + goal, side="left")  # (M, T)
        length = np.where(b <= T, b - np.arange(T), T + 1)
        a = np.argmin(length, axis=1)
        spans[:, i, 0] = a
        spans[:, i, 1] = np.minimum(b[levels, a], T)
    return spans


def spans_from_peak(R: np.ndarray, level: float) -> np.ndarray:
    """One span per series: the run of consecutive steps around the series' peak whose relevance is at least
    ``level`` times the peak.

    Examples
    --------
    >>> R = np.array([[0.3, 0.0, 0.2, 0.7, 0.4, 0.1]])
    >>> spans_from_peak(R, 0.25).tolist()  # the 0.3 at step 0 is cut off from the peak by the 0.0
    [[2, 5]]
    >>> spans_from_peak(R, 0.1).tolist()
    [[2, 6]]
    """
    return _run_around_peak(np.asarray(R, dtype=np.float64), level, 0.0)


def _run_around_peak(R: np.ndarray, level: float, base: np.ndarray | float) -> np.ndarray:
    """``(n, 2)``: the run of consecutive steps holding each row's peak at ``base + level x (peak - base)`` or
    above (``base``: 0, or one value per row, ``(n, 1)``)."""
    n, T = R.shape
    rows = np.arange(n)
    peak = R.argmax(1)
    threshold = base + level * (R[rows, peak][:, None] - base)
    above = (threshold <= R) | (np.arange(T)[None, :] == peak[:, None])  # the peak, even where rounding drops it
    run = np.cumsum(~above, axis=1)  # steps of one run of consecutive steps above the level share a number
    inside = above & (run == run[rows, peak][:, None])
    return np.stack([inside.argmax(1), T - inside[:, ::-1].argmax(1)], axis=1)


def spans_from_contrast(R: np.ndarray, level: float) -> np.ndarray:
    """One span per series: the run of consecutive steps around the series' peak that rise above the series'
    median relevance by at least ``level`` times the peak's height over it.

    Where the relevance has a high background (a plateau over the whole series, as a BiLSTM's saturated
    attention has), a share of the peak itself cuts the background in at some series and not at others; a share
    of the height over the median follows each series' own background.

    Examples
    --------
    >>> R = np.array([[0.5, 0.5, 0.6, 1.0, 0.9, 0.5, 0.55]])  # background 0.5, peak 1.0
    >>> spans_from_contrast(R, 0.5).tolist()  # above 0.5 + 0.5 x 0.5 = 0.75
    [[3, 5]]
    >>> spans_from_peak(R, 0.5).tolist()  # above 0.5 x 1.0: the whole series
    [[0, 7]]
    """
    R = np.asarray(R, dtype=np.float64)
    return _run_around_peak(R, level, np.median(R, axis=1, keepdims=True))


def smooth_relevance(R: np.ndarray, width: int) -> np.ndarray:
    """``R`` averaged over a centred window of ``width`` steps (at a series' ends, over the steps there are).

    Examples
    --------
    >>> smooth_relevance(np.array([[0.0, 0.0, 3.0, 0.0]]), 3).tolist()
    [[0.0, 1.0, 1.0, 1.5]]
    """
    R = np.asarray(R, dtype=np.float64)
    if width <= 1:
        return R
    n, T = R.shape
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(R, axis=1)], axis=1)
    t = np.arange(T)
    a, b = np.clip(t - width // 2, 0, T), np.clip(t + (width - 1) // 2 + 1, 0, T)
    return np.asarray((C[:, b] - C[:, a]) / (b - a))


#: How a span is taken: ``mass``, the shortest window holding ``level`` of the relevance
#: (:func:`spans_from_mass`); ``peak``, the steps around the peak at ``level`` x the peak or more
#: (:func:`spans_from_peak`); ``contrast``, the steps around the peak at the median plus ``level`` x the
#: peak's height over the median or more (:func:`spans_from_contrast`).
SPANS = {"mass": spans_from_mass, "peak": spans_from_peak, "contrast": spans_from_contrast}
SPAN_KINDS = tuple(SPANS)
#: The levels :func:`choose_span_rule` tries for each kind (:func:`choose_mass`: the mass levels).
_SHARES = [0.01, 0.02, *(round(0.05 * k, 2) for k in range(1, 19))]
LEVELS = {"mass": [round(float(q), 3) for q in np.linspace(0.5, 0.99, 15)], "peak": _SHARES, "contrast": _SHARES}


@dataclass(frozen=True)
class SpanRule:
    """How relevance becomes one span per series: average it over ``width`` steps (1: as it is), then take the
    ``kind`` of span at ``level``. :func:`choose_span_rule` picks one on data with true segments.

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0]])
    >>> SpanRule("mass", 0.9).spans(R).tolist(), SpanRule("peak", 0.5, width=3).spans(R).tolist()
    ([[2, 4]], [[1, 4]])
    >>> SpanRule("peak", 0.5, width=3).describe()
    'the steps around the peak at 50% of it or more, after averaging over 3 steps'
    """

    kind: str = "mass"
    level: float = 0.9
    width: int = 1

    def __post_init__(self) -> None:
        from .._errors import ConfigError

        if self.kind not in SPAN_KINDS:
            raise ConfigError(f"kind: must be one of {', '.join(SPAN_KINDS)}; got {self.kind!r}")
        if not 0 < self.level <= 1:
            raise ConfigError(f"level: must be in (0, 1]; got {self.level}")
        if int(self.width) != self.width or self.width < 1:
            raise ConfigError(f"width: must be a whole number of steps, at least 1; got {self.width}")

    def spans(self, R: np.ndarray) -> np.ndarray:
        """``(n, 2)`` spans ``[start, end)`` of the relevance ``R`` ``(n, T)``."""
        return SPANS[self.kind](smooth_relevance(R, int(self.width)), self.level)

    def describe(self) -> str:
        what = {
            "mass": f"the shortest window with {self.level:.0%} of the relevance",
            "peak": f"the steps around the peak at {self.level:.0%} of it or more",
            "contrast": f"the steps around the peak at {self.level:.0%} of its height over the median or more",
        }[self.kind]
        return what + (f", after averaging over {self.width} steps" if self.width > 1 else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpanRule:
        return cls(str(d["kind"]), float(d["level"]), int(d["width"]))


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
    grid = np.asarray(LEVELS["mass"]) if grid is None else grid
    windows = _mass_windows(R, grid)
    best = max((float(np.mean(span_iou(w, start, end))), float(q)) for w, q in zip(windows, grid, strict=True))
    return best[1], best[0]


def choose_span_rule(
    R: np.ndarray, start: np.ndarray, end: np.ndarray, kinds: Sequence[str] = SPAN_KINDS
) -> tuple[SpanRule, float]:
    """The :class:`SpanRule` with the best mean span IoU on these series, and that IoU.

    Tried: no averaging and averaging over 1, 2, 5 and 10 % of the series' length; for each, mass windows at
    15 levels from 50 to 99 %, peak runs at 20 levels from 1 to 90 % of the peak, and contrast runs at the same
    20 levels of the peak's height over the series' median; ``kinds`` limits the choice to some of them. On a
    tie the simpler rule (mass, then peak, then contrast; less averaging) wins.

    Examples
    --------
    >>> R = np.zeros((1, 100)); R[0, 40:60] = 1.0; R[0, :30] = 0.8  # more relevance far from the segment than in it
    >>> rule, iou = choose_span_rule(R, np.array([40]), np.array([60]))
    >>> rule.kind, iou
    ('peak', 1.0)
    """
    from .._errors import ConfigError

    unknown = sorted(set(kinds) - set(SPAN_KINDS))
    if unknown or not kinds:
        raise ConfigError(f"kinds: must be some of {', '.join(SPAN_KINDS)}; got {list(kinds)!r}")
    R = np.asarray(R, dtype=np.float64)
    T = R.shape[1]
    widths = sorted({1, *(max(1, round(f * T)) | 1 for f in (0.01, 0.02, 0.05, 0.1))})
    best, best_iou = SpanRule(), -1.0
    for width in widths:
        S = smooth_relevance(R, width)  # once per width, for every kind and level
        windows = _mass_windows(S, LEVELS["mass"]) if "mass" in kinds else None  # every mass level in one pass
        # the runs' bases, once per width: 0 for peak runs (spans_from_peak), the median for contrast runs
        bases = {"peak": 0.0, "contrast": np.median(S, axis=1, keepdims=True) if "contrast" in kinds else 0.0}
        for kind in (k for k in SPAN_KINDS if k in kinds):
            for j, level in enumerate(LEVELS[kind]):
                if kind == "mass" and windows is not None:
                    spans = windows[j]
                else:
                    spans = _run_around_peak(S, level, bases[kind])
                iou = float(np.mean(span_iou(spans, start, end)))
                if iou > best_iou + 1e-12:
                    best, best_iou = SpanRule(kind, level, int(width)), iou
    return best, best_iou


def localization_scores(
    R: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    span_rule: SpanRule | None = None,
    tolerance: float = 0.01,
) -> dict[str, Any]:
    """Every score in one dict (the ``localization`` block of ``metrics.json``).

    ``span_rule`` for the spans should be chosen on validation data with
    :func:`choose_span_rule`; when omitted it is chosen here (optimistic, and said so).

    Examples
    --------
    >>> R = np.array([[0.0, 0.1, 0.7, 0.2, 0.0, 0.0], [0.5, 0.1, 0.1, 0.1, 0.1, 0.1]])
    >>> scores = localization_scores(R, np.array([2, 1]), np.array([4, 3]), span_rule=SpanRule("mass", 0.5))
    >>> scores["pointing_game"], round(scores["mass_inside"], 2), scores["span_rule"]
    (0.5, 0.55, {'kind': 'mass', 'level': 0.5, 'width': 1})
    """
    R = np.asarray(R, dtype=np.float64)
    start, end = np.asarray(start), np.asarray(end)
    chosen_here = span_rule is None
    if span_rule is None:
        span_rule, _ = choose_span_rule(R[start >= 0], start[start >= 0], end[start >= 0])
    mi, uni = mass_inside(R, start, end)
    med, iqr = shift(R, start, end)
    ious = span_iou(span_rule.spans(R), start, end)
    return {
        "n_series": int((start >= 0).sum()),
        "pointing_game": pointing_game(R, start, end, tolerance),
        "mass_inside": mi,
        "uniform_mass": uni,
        "auprc": auprc(R, start, end),
        "shift_median": med,
        "shift_iqr": iqr,
        "span_iou": float(np.mean(ious)) if len(ious) else float("nan"),
        "span_rule": span_rule.to_dict(),
        "span_rule_chosen_on": "the scored data" if chosen_here else "validation data",
    }


def format_localization(s: dict[str, Any]) -> str:
    """The ``localization`` block as a few readable lines (and the class map's, for conjunctive or average pooling)."""
    lines = [
        f"Localization ({s.get('relevance', 'relevance')} vs. true segments, {s['n_series']} series):",
        (
            f"  pointing game {s['pointing_game']:.4f}   mass inside {s['mass_inside']:.4f} "
            f"(uniform {s['uniform_mass']:.4f})   AUPRC {s['auprc']:.4f}"
        ),
        (
            f"  shift median {s['shift_median']:+.1f} steps (IQR {s['shift_iqr']:.1f})   span IoU "
            f"{s['span_iou']:.4f} ({span_rule_of(s).describe()}, chosen on {_span_chosen_on(s)})"
        ),
    ]
    if isinstance(s.get("class_map"), dict):
        lines.append(format_localization(s["class_map"] | {"relevance": "class map"}))
    return "\n".join(lines)


def span_rule_of(block: dict[str, Any] | None) -> SpanRule:
    """The span rule of a ``localization`` block of ``metrics.json`` (blocks written before span rules name a
    mass only; no block: the shortest window with 90 % of the relevance).

    Examples
    --------
    >>> span_rule_of({"span_mass": 0.95}), span_rule_of(None).level
    (SpanRule(kind='mass', level=0.95, width=1), 0.9)
    """
    if not block:
        return SpanRule()
    return (
        SpanRule.from_dict(block["span_rule"]) if "span_rule" in block else SpanRule("mass", float(block["span_mass"]))
    )


def _span_chosen_on(s: dict[str, Any]) -> str:
    return str(s.get("span_rule_chosen_on", s.get("span_mass_chosen_on", "")))
