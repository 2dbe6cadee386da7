"""How visible is each anomaly of the localization family? A ceiling on the accuracy any model can reach.

For every config of ``localization_family.FAMILY`` this generates the series
twice from the same seed without noise: once as the config has them, once with
every anomaly removed (the clean sine: the same draws, a level shift of 0). The
largest difference over a series, in units of its amplitude, is how far its
anomaly moves it; the config's noise has a standard deviation of
``noise_std`` amplitudes. An anomaly that moves its series by less than one
noise standard deviation at every step is close to invisible in one draw of
the noise, and a classifier will miss most of them.

    python benchmarks/family_detectability.py [--dataset-size 2000] [--seed 0]

Writes ``benchmarks/results/family_detectability.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit
from localization_family import BASE, FAMILY


def detectability(name: str, dataset_size: int, seed: int) -> dict:
    """The share of a config's anomalous series whose anomaly moves them by less than 1 (2) noise sd at most."""
    from tsattn.config import DatasetConfig
    from tsattn.data import generate

    cfg = {**BASE, **FAMILY[name], "dataset_size": dataset_size, "noise_std": 0.0}
    if len(cfg.get("anomaly_kinds", ["rectified"])) > 1:
        # the kinds are drawn from a list of several, which no list of do-nothing kinds can stand in for
        return {"config": name, "skipped": "several anomaly kinds: no clean series from the same stream"}
    shaped = generate(DatasetConfig(**cfg), seed=seed)
    # One kind: the same stream with the anomaly a level shift of 0 is the clean sine.
    clean = generate(DatasetConfig(**{**cfg, "anomaly_kinds": ["level_shift"], "level_shift": 0.0}), seed=seed)
    amp = np.asarray(shaped.extras["amp"], dtype=np.float64)
    moved = np.abs(shaped.X[:, 0].astype(np.float64) - clean.X[:, 0]).max(1) / amp
    anomalous = np.asarray(shaped.y) > 0
    noise = float(FAMILY[name].get("noise_std", 0.0))
    row = {
        "config": name,
        "noise_std": noise,
        "n_anomalous": int(anomalous.sum()),
        "n_series": len(anomalous),
        "moved_quantiles": {str(q): round(float(np.quantile(moved[anomalous], q)), 4) for q in (0.01, 0.05, 0.1)},
    }
    if noise > 0:
        for k in (1, 2):
            share = float((moved[anomalous] < k * noise).mean())
            row[f"share_anomalous_below_{k}_sd"] = round(share, 4)
            row[f"share_all_below_{k}_sd"] = round(share * anomalous.mean(), 4)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset-size", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rows = [detectability(name, args.dataset_size, args.seed) for name in FAMILY]
    for r in rows:
        print(json.dumps(r))
    out = HERE / "results" / "family_detectability.json"
    result = {
        "benchmark": "family_detectability",
        "command": f"python benchmarks/family_detectability.py --dataset-size {args.dataset_size} --seed {args.seed}",
        "commit": git_commit(),
        "rows": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
