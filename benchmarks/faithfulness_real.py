"""Faithfulness on real data: every model's and method's scores on the UCR/UEA panel, next to random relevance.

Real data has no ground truth of where the evidence is, so the faithfulness
scores (``tsattn.evaluation.faithfulness``) are all a user has to judge an
attention map by. ``tsattn benchmark`` writes them into each run's
``metrics.json`` (its ``faithfulness`` block: attention, attention x gradient
and Integrated Gradients, each with the same scores for random relevance).
This script reads them from the run directories that ``benchmarks/ucr.py
--keep DIR`` kept and tabulates each score and its gain over random per
dataset, model and method, with the mean gain and how many datasets beat
random. Writes ``benchmarks/results/faithfulness_real.json``.

    python benchmarks/ucr.py --keep runs/ucr
    python benchmarks/faithfulness_real.py runs/ucr [--name faithfulness_real.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit

from tsattn.evaluation.faithfulness import GAINS, SCORES


def collect(root: Path) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """``{dataset: {model: {method: scores}}}`` from ``root/DATASET/resampleR/runs/MODEL/metrics.json``.

    Over several resamples of a dataset, each score is the mean over them.
    A model without a faithfulness block (MiniRocket) is left out.
    """
    found: dict[str, dict[str, dict[str, list[dict[str, float]]]]] = {}
    for path in sorted(root.glob("*/resample*/runs/*/metrics.json")):
        dataset, model = path.parts[-5], path.parts[-2]
        block = json.loads(path.read_text()).get("faithfulness") or {}
        for method, scores in block.items():
            if isinstance(scores, dict) and "deletion_gain" in scores:
                keys = list(SCORES) + [f"random_{s}" for s in SCORES] + list(GAINS)
                entry = {k: float(scores[k]) for k in keys}
                found.setdefault(dataset, {}).setdefault(model, {}).setdefault(method, []).append(entry)
    return {
        d: {
            m: {meth: {k: round(float(np.mean([e[k] for e in runs])), 4) for k in runs[0]} for meth, runs in ms.items()}
            for m, ms in models.items()
        }
        for d, models in found.items()
    }


def summarize(rows: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Per model and method: the mean of each gain over datasets, and on how many datasets it is above 0."""
    out: dict[str, Any] = {}
    for models in rows.values():
        for model, methods in models.items():
            for method, scores in methods.items():
                out.setdefault(model, {}).setdefault(method, {g: [] for g in GAINS})
                for g in GAINS:
                    out[model][method][g].append(scores[g])
    return {
        model: {
            method: {
                **{f"mean_{g}": round(float(np.mean(v)), 4) for g, v in gains.items()},
                **{f"datasets_{g}_above_0": int(sum(x > 0 for x in v)) for g, v in gains.items()},
                "datasets": len(next(iter(gains.values()))),
            }
            for method, gains in methods.items()
        }
        for model, methods in out.items()
    }


def markdown(rows: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> str:
    """One line per dataset, model and method: deletion and insertion AUC next to random's, and every gain."""
    head = (
        "| dataset | model | relevance | deletion AUC (random) | insertion AUC (random) | "
        + " | ".join(g.replace("_", " ") for g in GAINS)
        + " |\n"
        + "|---" * (5 + len(GAINS))
        + "|\n"
    )
    lines = []
    for dataset, models in rows.items():
        for model, methods in models.items():
            for method, s in methods.items():
                lines.append(
                    f"| {dataset} | {model} | {method} | {s['deletion_auc']:.3f} ({s['random_deletion_auc']:.3f}) | "
                    f"{s['insertion_auc']:.3f} ({s['random_insertion_auc']:.3f}) | "
                    + " | ".join(f"{s[g]:+.3f}" for g in GAINS)
                    + " |"
                )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="the directory that benchmarks/ucr.py --keep wrote")
    ap.add_argument("--name", default="faithfulness_real.json", help="results file name under benchmarks/results")
    args = ap.parse_args()
    rows = collect(args.root)
    if not rows:
        raise SystemExit(f"root: no runs with a faithfulness block under {args.root} (DATASET/resampleR/runs/MODEL)")
    result = {
        "benchmark": "faithfulness_real",
        "command": "python benchmarks/faithfulness_real.py DIR (DIR from python benchmarks/ucr.py --keep DIR)",
        "results": rows,
        "summary": summarize(rows),
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }
    result["table"] = markdown(rows)
    print(result["table"])
    print(json.dumps(result["summary"], indent=1))
    target = HERE / "results" / args.name
    target.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
