"""Real data: our best attention model against MiniRocket on the UCR/UEA datasets shipped with aeon.

One `tsattn benchmark` run per dataset, official train/test splits, default
hyperparameters (no per-dataset tuning). Writes benchmarks/results/ucr.json and
keeps each benchmark directory (runs, plots) under --keep.

    python benchmarks/ucr.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "PickupGestureWiimoteZ")
PUBLISHED_MINIROCKET = {"GunPoint": 0.993, "ItalyPowerDemand": 0.963}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnn_attention,minirocket")
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp())
    exe = shutil.which("tsattn")
    rows = {}
    for name in DATASETS:
        out = keep / name
        cmd = ([exe] if exe else [sys.executable, "-m", "tsattn"]) + [
            "benchmark", "--data", f"ucr:{name}", "--models", args.models, "--seed", "0", "--out", str(out), "--quiet"]
        subprocess.run(cmd, check=True)
        res = json.loads((out / "benchmark.json").read_text())
        models = {m["name"]: {k: m[k] for k in ("accuracy", "f1", "roc_auc", "train_seconds", "epochs",
                                                 "inference_series_per_s")} for m in res["models"]}
        ours = models.get("cnn_attention", {}).get("accuracy")
        peer = models.get("minirocket", {}).get("accuracy")
        rows[name] = {"dataset": res["dataset"], "models": models,
                      "gap_points": None if ours is None or peer is None else round(100 * (ours - peer), 2),
                      "within_2_points_or_above": None if ours is None or peer is None else ours >= peer - 0.02,
                      "published_minirocket": PUBLISHED_MINIROCKET.get(name)}
        print(name, json.dumps(rows[name]["models"]), flush=True)
    result = {"benchmark": "ucr", "command": "python benchmarks/ucr.py", "models": args.models,
              "results": rows, "runs_kept_in": str(keep), "date": time.strftime("%Y-%m-%d")}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ucr.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
