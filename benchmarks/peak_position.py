"""Where inside the true segment the attention peaks, and what moves its centre of mass: kept runs, nothing trained.

The family's median shift (relevance centre of mass minus the segment's centre) is positive on almost every run.
Two causes would read the same in that one number: mass outside the segment, pulled towards the middle of the
series, or a peak that sits late inside the segment. This script tells them apart on the test split's anomalous
series of each run directory given:

* ``shift_pct``: the family's median shift, in % of T;
* ``shift_above_median_pct``: the same after the series' median relevance is taken off every step (clipped at
  0), which removes a flat background;
* ``peak_position``: quartiles of where the peak sits in the segment, 0 its first step and 1 its last (outside:
  below 0 or above 1), and the share of peaks in its first, middle and last third and outside it.

    python benchmarks/peak_position.py --runs RUN [RUN ...] [--out benchmarks/results/peak_position.json]
    python benchmarks/peak_position.py --keep DIR  # every DIR/*/run that localization_family.py kept

One JSON line per run goes to the ``.jsonl`` beside ``--out``; a rerun skips what is there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import append_row, read_rows, segment_attention, write_result


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
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="*", default=[])
    ap.add_argument("--keep", type=Path, default=None, help="a localization_family.py --keep DIR")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "peak_position.json")
    args = ap.parse_args()
    runs = [*args.runs, *(sorted(args.keep.glob("*/run")) if args.keep else [])]
    if not runs:
        ap.error("--runs or --keep: give at least one run directory")
    log = args.out.with_suffix(".jsonl")
    rows = read_rows(log)
    done = {r["run"] for r in rows}
    for run in runs:
        if str(run) in done:
            continue
        parts = segment_attention(run)
        if parts is None:
            continue
        config = json.loads((run / "config.json").read_text())
        kinds = ((config.get("data") or {}).get("dataset_config") or {}).get("anomaly_kinds")
        row = {"run": str(run), "anomaly_kinds": kinds, **describe(*parts["test"])}
        rows.append(row)
        append_row(log, row)
    mine = [r for r in rows if r["run"] in {str(p) for p in runs}]
    summary = {
        "runs": len(mine),
        "shift_pct_median": float(np.median([r["shift_pct"] for r in mine])) if mine else None,
        "shift_above_median_pct_median": float(np.median([r["shift_above_median_pct"] for r in mine]))
        if mine
        else None,
        "peak_in_last_third_median": float(np.median([r["peak_share"]["last_third"] for r in mine])) if mine else None,
        "peak_in_first_third_median": float(np.median([r["peak_share"]["first_third"] for r in mine]))
        if mine
        else None,
    }
    write_result(args.out, "peak_position", "peak_position.py", sys.argv[1:], summary=summary, runs=mine)


if __name__ == "__main__":
    main()
