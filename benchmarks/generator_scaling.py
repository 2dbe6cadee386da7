"""Generator speed and peak memory at 10k, 100k and 1M series of 500 points.

Each size runs in a fresh subprocess so that its peak resident memory is its own.
Writes benchmarks/results/generator.json.

    python benchmarks/generator_scaling.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, resource, sys, time
from tsattn.config import DatasetConfig
from tsattn.data import generate
n = int(sys.argv[1])
cfg = DatasetConfig(dataset_size=n)
generate(DatasetConfig(dataset_size=100), seed=0)  # warm-up: imports, first-call costs
best = float("inf")
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); ds = generate(cfg, seed=0); best = min(best, time.perf_counter() - t); del ds
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n_series": n, "num_points": 500, "seconds": best, "peak_rss_mb": peak,
                  "output_mb": n * 500 * 4 / 2**20}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        repeats = 5 if n <= 100_000 else 1
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(repeats)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["series_per_s"] = n / row["seconds"]
        print(json.dumps(row), flush=True)
        rows.append(row)
    base = rows[0]
    for r in rows:  # linear scaling shows as a constant time per series
        r["seconds_per_million_series"] = r["seconds"] / r["n_series"] * 1e6
        r["time_ratio_vs_first"] = r["seconds"] / base["seconds"]
        r["size_ratio_vs_first"] = r["n_series"] / base["n_series"]
    result = {
        "benchmark": "generator_scaling",
        "command": "python benchmarks/generator_scaling.py",
        "target": "10,000 x 500 in <= 0.2 s, time linear in dataset_size x num_points",
        "note": "best of 5 runs for <= 100k, 1 run for 1M; peak RSS is the whole process, output array included",
        "results": rows,
        "date": time.strftime("%Y-%m-%d"),
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "generator.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
