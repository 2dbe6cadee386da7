"""The synthetic stress panel: the default model against MiniRocket on data no one chose it on.

Generated series cover the ranges issue 27 names: 16 to 2,000 steps, 1 to 12
channels, 2 to 50 classes, 30 to 1,000 training series, equal and variable
length. Each class has its own pattern (a smooth random waveform an eighth of
the series long, on its own channel), added at a random place to AR(1) noise
with a random level per series; a variable-length set draws each length from
60-100 % of the longest and pads with NaN. Every config is one ``tsattn
benchmark`` run (the CLI's fit path, MiniRocket fitted in the same run on the
same split), so each gap is measured under the same conditions.

    python benchmarks/stress_panel.py [--configs all] [--seeds 0] [--models inception_attention,minirocket]
        [--out benchmarks/results/stress_panel.json] [--overrides JSON]

Each finished (config, seed) is appended to the ``.jsonl`` beside ``--out``;
a rerun skips what is there. The target (issue 27): no config more than 5
points below MiniRocket.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit

#: name -> (steps, channels, classes, training series, variable length)
CONFIGS: dict[str, tuple[int, int, int, int, bool]] = {
    "T16_C1_K2_n30": (16, 1, 2, 30, False),
    "T29_C12_K9_n270_var": (29, 12, 9, 270, True),
    "T64_C3_K5_n100_var": (64, 3, 5, 100, True),
    "T150_C6_K4_n200": (150, 6, 4, 200, False),
    "T300_C2_K20_n500": (300, 2, 20, 500, False),
    "T500_C1_K50_n1000": (500, 1, 50, 1000, False),
    "T1000_C4_K10_n100_var": (1000, 4, 10, 100, True),
    "T2000_C1_K3_n60": (2000, 1, 3, 60, False),
}
#: Larger training sets, beyond the panel's range: where the recipe's step cap binds. Named, never in "all".
LARGE: dict[str, tuple[int, int, int, int, bool]] = {
    "T64_C3_K5_n3000_var": (64, 3, 5, 3000, True),
    "T150_C6_K4_n3000": (150, 6, 4, 3000, False),
}
KNOWN = {**CONFIGS, **LARGE}


def make_stress(T: int, C: int, K: int, n: int, variable: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` series ``(n, C, T)`` (NaN-padded when ``variable``) of ``K`` balanced classes, and their labels.

    The class patterns depend on ``(T, C, K)`` only, so that a training and a
    test set drawn with different seeds share them.
    """
    shapes = np.random.default_rng([T, C, K])
    w = max(4, T // 8)
    patterns = np.cumsum(shapes.normal(size=(K, w)), axis=1)
    patterns -= patterns.mean(1, keepdims=True)
    patterns *= 1.5 / np.maximum(patterns.std(1, keepdims=True), 1e-9)
    channel_of = shapes.integers(0, C, size=K)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    rng.shuffle(y)
    lengths = rng.integers(int(np.ceil(0.6 * T)), T + 1, size=n) if variable else np.full(n, T)
    noise = rng.normal(size=(n, C, T))
    X = np.empty((n, C, T))
    X[:, :, 0] = noise[:, :, 0]
    for t in range(1, T):  # AR(1), phi 0.8, unit stationary variance
        X[:, :, t] = 0.8 * X[:, :, t - 1] + 0.6 * noise[:, :, t]
    X += rng.normal(scale=2.0, size=(n, C, 1))  # a level per series and channel, which says nothing
    for i in range(n):
        start = rng.integers(0, lengths[i] - w + 1)
        X[i, channel_of[y[i]], start : start + w] += patterns[y[i]]
        X[i, :, lengths[i] :] = np.nan
    return X.astype(np.float32), y


def run_config(name: str, seed: int, models: list[str], work: Path, overrides: dict | None = None) -> dict:
    from tsattn.data import SeriesDataset
    from tsattn.workflows.benchmark import run_benchmark

    T, C, K, n_train, variable = KNOWN[name]
    n_test = max(4 * K, min(n_train, 500))
    names = [f"c{k}" for k in range(K)]

    def dataset(n: int, s: int) -> SeriesDataset:
        X, y = make_stress(T, C, K, n, variable, s)
        lengths = (~np.isnan(X[:, 0, :])).sum(-1) if variable else None
        return SeriesDataset(X=X, y=y, class_names=names, lengths=lengths)

    train, test = dataset(n_train, 2 * seed), dataset(n_test, 2 * seed + 1)
    t = time.perf_counter()
    result = run_benchmark(train, models, seed, work, test_data=test, overrides=overrides, progress=False)
    row = {
        "config": name,
        "seed": seed,
        "T": T,
        "channels": C,
        "classes": K,
        "n_train": n_train,
        "n_test": n_test,
        "variable_length": variable,
        "wall_seconds": round(time.perf_counter() - t, 1),
        **({"overrides": overrides} if overrides else {}),
    }
    row["models"] = {
        m["name"]: {"accuracy": m["accuracy"], "train_seconds": round(m["train_seconds"], 2), "epochs": m["epochs"]}
        for m in result["models"]
    }
    return row


def summarize(rows: list[dict], ours: str, peer: str = "minirocket") -> dict:
    gaps = {
        f"{r['config']}/seed{r['seed']}": round(
            100 * (r["models"][ours]["accuracy"] - r["models"][peer]["accuracy"]), 2
        )
        for r in rows
        if ours in r["models"] and peer in r["models"]
    }
    values = list(gaps.values())
    return {
        "gap_points_to_minirocket": gaps,
        "mean_gap": round(float(np.mean(values)), 2) if values else None,
        "worst_gap": round(float(np.min(values)), 2) if values else None,
        "configs_more_than_5_points_below": sorted(k for k, v in gaps.items() if v < -5),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="all", help="comma-separated names from CONFIGS or LARGE, or all (CONFIGS)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--models", default="inception_attention,minirocket")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "stress_panel.json")
    ap.add_argument(
        "--overrides",
        type=json.loads,
        default=None,
        help='TrainConfig settings over every model\'s recipe, as JSON, e.g. \'{"model_params": {"kernels": null}}\'',
    )
    args = ap.parse_args()
    names = list(CONFIGS) if args.configs == "all" else args.configs.split(",")
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        ap.error(f"--configs: unknown {', '.join(unknown)}; known: {', '.join(KNOWN)}")
    models = args.models.split(",")
    log = args.out.with_suffix(".jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    done = {(r["config"], r["seed"]) for r in rows}
    for name in names:
        for seed in args.seeds:
            if (name, seed) in done:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                row = run_config(name, seed, models, Path(tmp), args.overrides)
            rows.append(row)
            with log.open("a") as fh:  # one line per finished config: a stop loses nothing
                fh.write(json.dumps(row) + "\n")
            accs = ", ".join(f"{m} {v['accuracy']:.3f} ({v['train_seconds']} s)" for m, v in row["models"].items())
            print(f"{name} seed {seed}: {accs}", flush=True)
    rows = [r for r in rows if r["config"] in names and r["seed"] in args.seeds]
    result = {
        "benchmark": "stress_panel",
        "command": "python benchmarks/stress_panel.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "configs": {
            n: dict(zip(("T", "channels", "classes", "n_train", "variable_length"), KNOWN[n], strict=True))
            for n in names
        },
        "target": "no config more than 5 points below MiniRocket (issue 27)",
        "summary": summarize(rows, models[0]) if "minirocket" in models else None,
        "runs": rows,
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
