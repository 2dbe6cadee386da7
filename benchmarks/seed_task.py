"""The seed task: `tsattn demo` (the whole article) on the seed's default config, timed end to end.

Runs the real command in a subprocess, so the wall time includes start-up,
data generation, training, evaluation and plots, then reads the run's
metrics.json. Writes benchmarks/results/seed_task.json.

    python benchmarks/seed_task.py [--seeds 0 1 2] [--keep DIR]

The first seed's report.html is then opened in headless Chromium (report_check.py):
its weight, load time, figures and a full-page screenshot (benchmarks/results/demo_report.png).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit

TARGETS = {"accuracy": 0.98, "roc_auc": 0.995, "demo_wall_seconds": 300.0}
# Issue 28's targets for the demo (seed 0): stricter, and on where its attention points.
ISSUE_28 = {
    "accuracy": 0.99,
    "roc_auc": 0.995,
    "pointing_game": 0.9,
    "span_iou": 0.7,
    "abs_shift_median": 10.0,
    "demo_wall_seconds": 150.0,
}
UPPER_BOUNDS = ("demo_wall_seconds", "abs_shift_median")  # every other target is a lower bound
# The reference code run on this machine (issue 2), seed 0/1/2.
REFERENCE = [
    {"seed": 0, "accuracy": 0.972, "roc_auc": 0.993, "epochs": 42, "train_seconds": 403},
    {"seed": 1, "accuracy": 0.9625, "roc_auc": 0.987, "epochs": 50, "train_seconds": 373},
    {"seed": 2, "accuracy": 0.942, "roc_auc": 0.969, "epochs": 29, "train_seconds": 247},
]


def run_demo(seed: int, out: Path) -> dict:
    exe = shutil.which("tsattn") or f"{sys.executable} -m tsattn"
    cmd = [*exe.split(), "demo", "--seed", str(seed), "--out", str(out), "--quiet"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"tsattn demo failed:\n{proc.stderr}")
    m = json.loads((out / "metrics.json").read_text())
    loc = m.get("localization") or {}
    return {
        "seed": seed,
        "demo_wall_seconds": round(wall, 1),
        "train_seconds": round(m["train_seconds"], 1),
        "epochs_run": m["epochs_run"],
        "best_epoch": m["best_epoch"],
        "accuracy": m["accuracy"],
        "precision": m["precision"],
        "recall": m["recall"],
        "f1": m["f1"],
        "roc_auc": m["roc_auc"],
        "confusion_matrix": m["confusion_matrix"],
        "n_test": m["n_test"],
        "pointing_game": loc.get("pointing_game"),
        "span_iou": loc.get("span_iou"),
        "shift_median": loc.get("shift_median"),
        "span_rule": loc.get("span_rule"),
    }


def meets(r: dict, targets: dict[str, float]) -> bool:
    """Whether the row meets every target; a score the run lacks (no localization) fails its target."""
    shift = r.get("shift_median")
    values = r | {"abs_shift_median": None if shift is None else abs(shift)}
    return all(
        values.get(k) is not None and (values[k] <= v if k in UPPER_BOUNDS else values[k] >= v)
        for k, v in targets.items()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "seed_task.json")
    ap.add_argument("--keep", type=Path, default=None, help="keep the demo run directories here")
    args = ap.parse_args()
    results = []
    report = None
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for seed in args.seeds:
            r = run_demo(seed, base / f"seed{seed}")
            r["meets_targets"] = meets(r, TARGETS)
            r["meets_issue_28"] = meets(r, ISSUE_28)
            print(json.dumps(r), flush=True)
            results.append(r)
            if report is None and shutil.which("chromium"):
                from report_check import measure_report

                report = measure_report(base / f"seed{seed}" / "report.html", HERE / "results" / "demo_report.png")
                print(json.dumps({k: v for k, v in report.items() if k not in ("figures", "sections")}), flush=True)
    from tsattn.training.recipes import SEED_TASK_RECIPE

    summary = {
        "benchmark": "seed_task",
        "command": "tsattn demo --seed S (seed's default config, lstm_attention)",
        "recipe": SEED_TASK_RECIPE,
        "targets": TARGETS,
        "targets_issue_28": ISSUE_28,
        "upper_bounds": list(UPPER_BOUNDS),
        "reference_code_on_this_machine": REFERENCE,
        "results": results,
        "demo_report": report,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "script": "python benchmarks/seed_task.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
