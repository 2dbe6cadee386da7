"""Real data: our best attention model against MiniRocket on the UCR/UEA datasets shipped with aeon.

One `tsattn benchmark` run per dataset, official train/test splits, default
hyperparameters (no per-dataset tuning). Writes benchmarks/results/ucr.json and
keeps each benchmark directory (runs, plots) under --keep.

    python benchmarks/ucr.py [--keep DIR]

With several ``--seeds`` (each seed changes the validation split, the
initial weights and MiniRocket's kernels), it writes ``ucr_seeds.json``
instead: every seed's accuracies and their mean and spread, to show how much
of a 50-series test set's figure is luck.

    python benchmarks/ucr.py --datasets PickupGestureWiimoteZ,BasicMotions --seeds 0,1,2,3,4
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

import numpy as np
from localization import git_commit  # benchmarks/ is on sys.path when a script here runs

HERE = Path(__file__).resolve().parent
DATASETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "PickupGestureWiimoteZ")
PUBLISHED_MINIROCKET = {"GunPoint": 0.993, "ItalyPowerDemand": 0.963}


def run_one(name: str, models: str, seed: int, out: Path, scaling: str | None = None) -> dict:
    """One ``tsattn benchmark`` run; each model's scores."""
    exe = shutil.which("tsattn")
    cmd = (
        ([exe] if exe else [sys.executable, "-m", "tsattn"])
        + ["benchmark", "--data", f"ucr:{name}", "--models", models, "--seed", str(seed), "--out", str(out), "--quiet"]
        + (["--scaling", scaling] if scaling else [])
    )
    subprocess.run(cmd, check=True)
    res = json.loads((out / "benchmark.json").read_text())
    return res["dataset"], {
        m["name"]: {k: m[k] for k in ("accuracy", "f1", "roc_auc", "train_seconds", "epochs", "inference_series_per_s")}
        for m in res["models"]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnn_attention,minirocket")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--seeds", default="0", help="comma-separated; more than one writes ucr_seeds.json")
    ap.add_argument(
        "--scaling",
        default=None,
        help="every model's input scaling (default: each recipe's); the results file gets a _scaling_<method> suffix",
    )
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp())
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = {}
    for name in args.datasets.split(","):
        if len(seeds) > 1:
            per_seed = {}
            for seed in seeds:
                dataset, models = run_one(name, args.models, seed, keep / name / f"seed{seed}", args.scaling)
                per_seed[seed] = {m: v["accuracy"] for m, v in models.items()}
                print(name, seed, json.dumps(per_seed[seed]), flush=True)
            summary = {}
            for m in per_seed[seeds[0]]:
                acc = np.array([per_seed[s][m] for s in seeds])
                summary[m] = {
                    "mean": round(float(acc.mean()), 4),
                    "std": round(float(acc.std(ddof=1)), 4),
                    "min": float(acc.min()),
                    "max": float(acc.max()),
                }
            rows[name] = {"dataset": dataset, "accuracy_by_seed": per_seed, "summary": summary}
            continue
        dataset, models = run_one(name, args.models, seeds[0], keep / name, args.scaling)
        ours = models.get("cnn_attention", {}).get("accuracy")
        peer = models.get("minirocket", {}).get("accuracy")
        rows[name] = {
            "dataset": dataset,
            "models": models,
            "gap_points": None if ours is None or peer is None else round(100 * (ours - peer), 2),
            "within_2_points_or_above": None if ours is None or peer is None else ours >= peer - 0.02,
            "published_minirocket": PUBLISHED_MINIROCKET.get(name),
        }
        print(name, json.dumps(rows[name]["models"]), flush=True)
    command = "python benchmarks/ucr.py" + "".join(
        f" --{k} {v}"
        for k, v in (
            ("models", args.models),
            ("datasets", args.datasets),
            ("seeds", args.seeds),
            ("scaling", args.scaling),
        )
        if v != ap.get_default(k)
    )
    commit = git_commit()
    if len(seeds) > 1:  # a seeds file gathers runs of several commands: each entry says which made it
        for row in rows.values():
            row |= {"command": command, "commit": commit}
    result = {
        "benchmark": "ucr" if len(seeds) == 1 else "ucr_seeds",
        "command": command,
        "models": args.models,
        "scaling": args.scaling or "each recipe's",
        "results": rows,
        "runs_kept_in": str(keep),
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
    }
    (HERE / "results").mkdir(exist_ok=True)
    target = (
        ("ucr" if len(seeds) == 1 else "ucr_seeds") + (f"_scaling_{args.scaling}" if args.scaling else "") + ".json"
    )
    if len(seeds) > 1 and (HERE / "results" / target).is_file():  # other datasets keep their earlier entries
        earlier = json.loads((HERE / "results" / target).read_text())
        kept = {
            k: {"command": earlier["command"], "commit": earlier["commit"]} | v
            for k, v in earlier["results"].items()
            if k not in rows
        }
        result["results"] = kept | rows
    (HERE / "results" / target).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
