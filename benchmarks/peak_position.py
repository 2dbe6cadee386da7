"""Where inside the true segment the attention peaks, and what moves its centre of mass: kept runs, nothing trained.

The family's median shift (relevance centre of mass minus the segment's centre) is positive on almost every run.
Two causes would read the same in that one number: mass outside the segment, pulled towards the middle of the
series, or a peak that sits late inside the segment. This script tells them apart on the test split's anomalous
series of each run directory given:

* ``shift_pct``: the family's median shift, in % of T;
* ``shift_above_median_pct``: the same after the series' median relevance is taken off every step (clipped at
  0), which removes a flat background;
* ``peak_position``: quartiles of where the peak sits in the segment, 0 its first step and 1 its last (outside:
  below 0 or above 1), and the share of peaks in its first, middle and last third and outside it;
* ``misses``: where the peaks outside the segment are: the share before its start and after its end, the
  shares beyond the pointing game's tolerance of 1 % of T (its misses), and the median distance past the last
  step of the peaks after it (the generator's held value and frequency change start continuous and end with a
  jump back to the sine).

    python benchmarks/peak_position.py --runs RUN [RUN ...] [--out benchmarks/results/peak_position.json]
    python benchmarks/peak_position.py --keep DIR  # every DIR/*/run that localization_family.py kept

One JSON line per run goes to the ``.jsonl`` beside ``--out``; a rerun skips what is there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import rescore_kept_runs, segment_attention


def peak_position(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each row's peak, placed in its segment: 0 at the first step, 1 at the last (``end - 1``), outside beyond.

    >>> R = np.array([[0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]], dtype=float)
    >>> peak_position(R, np.array([2, 2, 2]), np.array([5, 5, 5])).tolist()  # segment: steps 2, 3, 4
    [0.0, 1.0, -1.0]
    """
    width = np.maximum(end - 1 - start, 1)
    return (R.argmax(1) - start) / width


def describe(R: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict:
    """The shifts and peak placement of one run's maps (see the module's docstring)."""
    from tsattn.evaluation.localization import shift

    T = R.shape[1]
    above = np.clip(R - np.median(R, axis=1, keepdims=True), 0, None)
    pos = peak_position(R, start, end)
    inside = (pos >= 0) & (pos <= 1)
    q1, med, q3 = np.percentile(pos, [25, 50, 75])
    return {
        "n_series": len(R),
        "T": T,
        "shift_pct": round(100 * shift(R, start, end)[0] / T, 2),
        "shift_above_median_pct": round(100 * shift(above, start, end)[0] / T, 2),
        "peak_position": {"q1": round(q1, 3), "median": round(med, 3), "q3": round(q3, 3)},
        "peak_share": {
            "first_third": round(float(np.mean(inside & (pos < 1 / 3))), 3),
            "middle_third": round(float(np.mean(inside & (pos >= 1 / 3) & (pos <= 2 / 3))), 3),
            "last_third": round(float(np.mean(inside & (pos > 2 / 3))), 3),
            "outside": round(float(np.mean(~inside)), 3),
        },
        "misses": misses(R, start, end),
    }


def misses(R: np.ndarray, start: np.ndarray, end: np.ndarray, tolerance: float = 0.01) -> dict:
    """Where the peaks outside ``[start, end)`` lie, against the pointing game's tolerance (``tolerance * T`` steps
    either side, as :func:`tsattn.evaluation.localization.pointing_game` allows): the shares of all peaks before the
    start and after the end, the shares of those beyond the tolerance (the pointing game's misses), and the
    median distance past the segment's last step of the peaks after it.

    >>> R = np.zeros((4, 200)); R[0, 30] = R[1, 50] = R[2, 53] = R[3, 5] = 1  # segment: steps 20-49, tolerance 2
    >>> m = misses(R, np.full(4, 20), np.full(4, 50))
    >>> m["before_start"], m["after_end"], m["before_start_missed"], m["after_end_missed"]
    (0.25, 0.5, 0.25, 0.25)
    >>> m["after_end_median_steps"]
    2.5
    """
    T = R.shape[1]
    tol = round(float(tolerance) * T)
    peak = R.argmax(1)
    past = peak - (end - 1)  # steps past the last step of the segment
    after = past > 0
    return {
        "before_start": round(float(np.mean(peak < start)), 3),
        "after_end": round(float(np.mean(after)), 3),
        "before_start_missed": round(float(np.mean(peak < start - tol)), 3),
        "after_end_missed": round(float(np.mean(peak >= end + tol)), 3),
        "after_end_median_steps": float(np.median(past[after])) if after.any() else None,
    }


def rescore(run: Path) -> dict | None:
    """One run's row: its anomaly kinds and :func:`describe` of its test split; ``None`` without segments."""
    parts = segment_attention(run)
    if parts is None:
        return None
    return {"run": str(run), "anomaly_kinds": anomaly_kinds(run), **describe(*parts["test"])}


def anomaly_kinds(run: Path) -> list[str] | None:
    """The anomaly kinds of the synthetic data a run trained on (``None`` for other data)."""
    config = json.loads((Path(run) / "config.json").read_text())
    return ((config.get("data") or {}).get("dataset_config") or {}).get("anomaly_kinds")


def summarize(rows: list[dict]) -> dict:
    """Medians over the runs of the shifts and of the shares of peaks in the segment's first and last thirds."""

    def median(get: Callable[[dict], float]) -> float | None:
        return float(np.median([get(r) for r in rows])) if rows else None

    return {
        "runs": len(rows),
        "shift_pct_median": median(lambda r: r["shift_pct"]),
        "shift_above_median_pct_median": median(lambda r: r["shift_above_median_pct"]),
        "peak_in_last_third_median": median(lambda r: r["peak_share"]["last_third"]),
        "peak_in_first_third_median": median(lambda r: r["peak_share"]["first_third"]),
    }


def main() -> None:
    rescore_kept_runs(__doc__, "peak_position", rescore, summarize)


if __name__ == "__main__":
    main()
