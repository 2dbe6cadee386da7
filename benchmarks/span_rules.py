"""Span rules, old and new, on the same attention: kept runs rescored offline, nothing trained.

For each run directory (a `tsattn train` run whose data have true segments, e.g. the demo's, or the family's
kept by `localization_family.py --keep DIR`), the attention of the anomalous series of the validation and test
splits is computed once; then, for each set of span kinds, the span rule is chosen on the validation split
(`choose_span_rule(..., kinds=...)`, as `metrics.json` does with every kind) and the test split's span IoU is
scored under it. One JSON line per run goes to the `.jsonl` beside `--out`; a rerun skips what is there.

    python benchmarks/span_rules.py --runs RUN [RUN ...] [--out benchmarks/results/span_rules.json]
    python benchmarks/span_rules.py --keep DIR  # every DIR/*/run that localization_family.py kept

The kinds compared (KIND_SETS): mass windows and peak runs (the span rules before contrast runs), and those
with contrast runs (every kind, today's rule).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import rescore_kept_runs, segment_attention

KIND_SETS = {"mass_peak": ("mass", "peak"), "mass_peak_contrast": ("mass", "peak", "contrast")}


def rescore(run: Path) -> dict | None:
    """The test split's span IoU under the rule each kind set chooses on the validation split; None without
    true segments or attention."""
    from tsattn.evaluation.localization import choose_span_rule, span_iou

    parts = segment_attention(run)
    if parts is None:
        return None
    (Rv, sv, ev), (Rt, st, et) = parts["val"], parts["test"]
    row: dict = {"run": str(run), "n_test": len(st)}
    for name, kinds in KIND_SETS.items():
        rule, val_iou = choose_span_rule(Rv, sv, ev, kinds=kinds)
        row[name] = {
            "span_iou": float(np.mean(span_iou(rule.spans(Rt), st, et))),
            "val_span_iou": val_iou,
            "span_rule": rule.to_dict(),
        }
    return row


def summarize(rows: list[dict]) -> dict:
    """Mean, median and worst test IoU per kind set, and the change from the first set run by run."""
    base = next(iter(KIND_SETS))
    out: dict = {}
    for name in KIND_SETS:
        ious = np.array([r[name]["span_iou"] for r in rows])
        gain = ious - np.array([r[base]["span_iou"] for r in rows])
        out[name] = {
            "mean": float(ious.mean()),
            "median": float(np.median(ious)),
            "worst": float(ious.min()),
            "gain_mean": float(gain.mean()),
            "gain_worst": float(gain.min()),
            "runs_better": int((gain > 1e-9).sum()),
            "runs_worse": int((gain < -1e-9).sum()),
        }
    return out


def main() -> None:
    rescore_kept_runs(__doc__, "span_rules", rescore, summarize)


if __name__ == "__main__":
    main()
