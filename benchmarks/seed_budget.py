"""The default model on the seed config under step budgets: accuracy against training time (issue 27's 120 s).

Each budget is one ``tsattn benchmark``-path run (``run_benchmark``) of the
default model on the seed's config (10,000 series x 500 steps, seed 0) with
``max_steps`` set, everything else the recipe's. One JSON line per finished
budget goes to the ``.jsonl`` beside ``--out``; a rerun skips what is there.

    python benchmarks/seed_budget.py [--max-steps 1500 500 250] [--seed 0]
        [--overrides '{"ensemble": 1}'] [--out benchmarks/results/seed_budget.json]

``--overrides`` (TrainConfig fields, JSON) apply to every budget; rows record them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import append_row, read_rows, write_result

SEED_CONFIG = HERE.parent.parent / "shared" / "seed" / "default_dataset.json"


def run(max_steps: int, seed: int, config: Path, overrides: dict | None = None) -> dict:
    from tsattn.config import load_dataset_config
    from tsattn.data import generate
    from tsattn.workflows.benchmark import run_benchmark

    data = generate(load_dataset_config(config), seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = run_benchmark(
            data,
            ["inception_attention"],
            seed,
            tmp,
            overrides={"max_steps": max_steps, "min_steps": min(400, max_steps), **(overrides or {})},
            progress=False,
        )
        wall = time.perf_counter() - t
    m = result["models"][0]
    return {
        "max_steps": max_steps,
        "seed": seed,
        "overrides": overrides or {},
        "accuracy": m["accuracy"],
        "roc_auc": m.get("roc_auc"),
        "train_seconds": round(m["train_seconds"], 1),
        "epochs": m["epochs"],
        "wall_seconds": round(wall, 1),
        "phases": {k: round(v, 1) for k, v in (m.get("phases") or {}).items() if v is not None},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-steps", type=int, nargs="+", default=[1500, 500, 250])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", type=Path, default=SEED_CONFIG)
    ap.add_argument("--overrides", type=json.loads, default={}, help="TrainConfig fields as JSON")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "seed_budget.json")
    args = ap.parse_args()
    log = args.out.with_suffix(".jsonl")
    rows = read_rows(log)
    for steps in args.max_steps:
        key = (steps, args.seed, args.overrides)
        if any((r["max_steps"], r["seed"], r.get("overrides", {})) == key for r in rows):
            continue
        row = run(steps, args.seed, args.config, args.overrides)
        rows.append(row)
        append_row(log, row)
    write_result(
        args.out,
        "seed_budget",
        "seed_budget.py",
        sys.argv[1:],
        target="seed config: accuracy >= 0.999 in <= 120 s (issue 27)",
        runs=sorted(rows, key=lambda r: (json.dumps(r.get("overrides", {})), r["seed"], -r["max_steps"])),
    )


if __name__ == "__main__":
    main()
