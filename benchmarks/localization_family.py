"""Localization and faithfulness across a family of synthetic configs and seeds, as a user runs `tsattn train`.

Each (config, seed, model) is trained with the CLI's defaults (`tsattn train
--config CFG --model M --seed S`); its metrics.json gives the ground-truth
localization scores of the attention and the faithfulness scores of every
relevance method. The summary has the median and the worst of every score per
model, and the Spearman rank correlation between the attention's faithfulness
(deletion gain, insertion gain, comprehensiveness) and its pointing game over
all runs: do the scores that need no ground truth rank runs as the ground
truth does? Writes benchmarks/results/localization_family.json.

    python benchmarks/localization_family.py [--models cnn_attention,transformer] [--seeds 0 1 2]
        [--configs all] [--dataset-size 2000] [--max-epochs N] [--jobs 1] [--out FILE] [--keep DIR]

A model may carry hyperparameters after a colon, joined by `+`, each passed as `--model-param`:
`--models inception_attention,inception_attention:pooling=conjunctive`
compares the default pooling with MILLET's conjunctive pooling; for such a
model the class map is scored against the ground truth too (its
`class_map_*` columns). The keys in TRAIN_KEYS are training settings instead, passed as
their own options: `inception_attention:attention_smoothing=0.002` is `--attention-smoothing 0.002`.
Each finished run is appended to FILE's `.jsonl` beside it, and a rerun skips
the runs already there; `--jobs` runs that many trainings at once (for a
machine with more cores, or a GPU).

The family (FAMILY below): T from 200 to 1,000, segments from 3 % to 40 % of
T, noise 0 to 0.1, random phase, every anomaly kind. --dataset-size replaces
each config's size (the default, 2,000 series, keeps the whole family within
about half an hour per model and seed on 2 cores). --max-epochs is for quick
checks only: the figures that count are the recipe's.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit, mass_window_iou

from tsattn.evaluation.faithfulness import GAINS
from tsattn.evaluation.faithfulness import SCORES as FAITH_SCORES

#: Keys of a model spec (`model:key=value+...`) passed to `tsattn train` as training options, not model parameters.
TRAIN_KEYS = ("attention_smoothing", "attention_entropy", "ensemble", "lr", "batch_size", "scaling", "precision")


def split_models(text: str) -> list[str]:
    """``--models`` split at the commas outside brackets, so that a spec may hold a JSON list:
    ``inception_attention:ensemble_pooling=["attention","average"]``.

    >>> split_models('cnn_attention,inception_attention:ensemble_pooling=["attention","average"]+lr=0.001')
    ['cnn_attention', 'inception_attention:ensemble_pooling=["attention","average"]+lr=0.001']
    """
    models, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            models.append(text[start:i])
            start = i + 1
    return [m for m in (*models, text[start:]) if m]


BASE = {
    "normal_anomalous_ratio": 0.5,
    "min_freq": 1,
    "max_freq": 4,
    "step_freq": 0.01,
    "min_amp": 1,
    "max_amp": 10,
    "step_amp": 0.01,
    "min_loc": 0.0,
    "step_loc": 0.01,
    "step_length": 0.01,
}
FAMILY = {
    "seed_T500": {"num_points": 500, "max_loc": 0.9, "min_length": 0.1, "max_length": 0.5},
    "long_short_T1000": {
        "num_points": 1000,
        "max_loc": 0.95,
        "min_length": 0.03,
        "max_length": 0.1,
        "noise_std": 0.05,
        "random_phase": True,
    },
    "wide_level_T200": {
        "num_points": 200,
        "max_loc": 0.6,
        "min_length": 0.2,
        "max_length": 0.4,
        "noise_std": 0.1,
        "random_phase": True,
        "anomaly_kinds": ["level_shift"],
    },
    "freq_T400": {
        "num_points": 400,
        "max_loc": 0.7,
        "min_length": 0.08,
        "max_length": 0.3,
        "noise_std": 0.02,
        "random_phase": True,
        "anomaly_kinds": ["frequency_change"],
    },
    "burst_T300": {
        "num_points": 300,
        "max_loc": 0.85,
        "min_length": 0.05,
        "max_length": 0.15,
        "noise_std": 0.05,
        "anomaly_kinds": ["noise_burst"],
    },
    "all_kinds_T800": {
        "num_points": 800,
        "max_loc": 0.9,
        "min_length": 0.05,
        "max_length": 0.2,
        "noise_std": 0.05,
        "random_phase": True,
        "anomaly_kinds": ["rectified", "spike", "level_shift", "frequency_change", "noise_burst"],
    },
}
AOPCR_KEYS = ("aopc", "random_aopc", "aopcr", "aopcr_normalized")
LOC_SCORES = ("pointing_game", "mass_inside", "uniform_mass", "shift_median", "span_iou")


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None for fewer than 3 pairs or a constant side."""
    if len(a) < 3:
        return None

    def ranks(v: list[float]) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for value in np.unique(v):  # ties share their mean rank
            r[v == value] = r[v == value].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def run_one(config: dict, model: str, seed: int, work: Path, max_epochs: int | None) -> dict:
    name, _, params = model.partition(":")
    cfg_path = work / "config.json"
    cfg_path.write_text(json.dumps(config))
    out = work / "run"
    cmd = [
        sys.executable,
        "-m",
        "tsattn",
        "train",
        "--config",
        str(cfg_path),
        "--model",
        name,
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--quiet",
        "--logger",
        "none",
    ]
    if max_epochs is not None:
        cmd += ["--max-epochs", str(max_epochs)]
    for pair in filter(None, params.split("+")):
        key, _, value = pair.partition("=")
        if key in TRAIN_KEYS:  # a training setting, e.g. attention_smoothing=0.002: its own option of `tsattn train`
            cmd += ["--" + key.replace("_", "-"), value]
        else:
            cmd += ["--model-param", pair]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    m = json.loads((out / "metrics.json").read_text())
    loc = m.get("localization") or {}
    faith = m.get("faithfulness") or {}
    row = {
        "accuracy": m["accuracy"],
        "wall_seconds": round(wall, 1),
        "train_seconds": m.get("train_seconds"),
        "epochs": m.get("epochs_run"),
        "T": config["num_points"],
    }
    row |= {k: loc.get(k) for k in LOC_SCORES}
    row["span_rule"] = loc.get("span_rule")
    row["span_iou_mass_windows"] = mass_window_iou(out)  # the same attention under the span rule before span rules
    if isinstance(loc.get("class_map"), dict):
        row |= {f"class_map_{k}": loc["class_map"].get(k) for k in LOC_SCORES}
    keys = (*GAINS, *FAITH_SCORES, *(f"random_{k}" for k in FAITH_SCORES), *AOPCR_KEYS)
    row["faithfulness"] = {
        method: {k: s[k] for k in keys if k in s} for method, s in faith.items() if isinstance(s, dict)
    }
    return row


def summarize(rows: list[dict]) -> dict:
    """Median and worst of every score per model; |shift| as a share of T; rank correlations over all runs."""
    out: dict = {"per_model": {}}
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        s: dict = {"runs": len(mine)}
        for prefix in ("", "class_map_"):
            for key in ("accuracy", "pointing_game", "mass_inside", "span_iou", "span_iou_mass_windows"):
                vals = [r[prefix + key] for r in mine if r.get(prefix + key) is not None]
                if vals and (prefix == "" or key != "accuracy"):
                    s[prefix + key] = {"median": float(np.median(vals)), "worst": float(min(vals))}
            shifts = [
                abs(r[prefix + "shift_median"]) / r["T"] for r in mine if r.get(prefix + "shift_median") is not None
            ]
            if shifts:
                s[prefix + "abs_shift_share_of_T"] = {"median": float(np.median(shifts)), "worst": float(max(shifts))}
        for method in ("attention", "class_map", "attention_x_gradient", "integrated_gradients"):
            gains = [r["faithfulness"][method]["deletion_gain"] for r in mine if method in r["faithfulness"]]
            if gains:
                s[f"{method}_deletion_gain"] = {"median": float(np.median(gains)), "worst": float(min(gains))}
        out["per_model"][model] = s
    # Does a score that needs no ground truth rank runs as the ground truth does? Each map against its own
    # pointing game: the attention's, and (conjunctive pooling) the class map's.
    corr: dict = {}
    for method, pointing in (("attention", "pointing_game"), ("class_map", "class_map_pointing_game")):
        scored = [r for r in rows if r.get(pointing) is not None and method in r["faithfulness"]]
        if not scored:
            continue
        pg = [r[pointing] for r in scored]
        for k in (*GAINS, "aopc", "aopcr", "aopcr_normalized"):
            pairs = [(r["faithfulness"][method].get(k), p) for r, p in zip(scored, pg, strict=True)]
            pairs = [(a, b) for a, b in pairs if a is not None]
            if pairs:
                corr[f"{method}_{k}"] = spearman([a for a, _ in pairs], [b for _, b in pairs])
        corr[f"{method}_n_runs"] = len(scored)
    corr["n_runs"] = corr.get("attention_n_runs", 0)
    out["rank_correlation_with_pointing_game"] = corr
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnn_attention,transformer")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--configs", default="all", help="comma-separated names from FAMILY, or all")
    ap.add_argument("--dataset-size", type=int, default=2000)
    ap.add_argument("--max-epochs", type=int, default=None, help="quick checks only; not the recipe's figures")
    ap.add_argument("--jobs", type=int, default=1, help="trainings run at once")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "localization_family.json")
    ap.add_argument("--keep", type=Path, default=None, help="copy each run directory to KEEP/CONFIG_MODEL_sSEED")
    args = ap.parse_args()
    names = list(FAMILY) if args.configs == "all" else args.configs.split(",")
    log = args.out.with_suffix(".jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    done = {(r["config"], r["seed"], r["model"]) for r in rows}
    todo = [
        (name, seed, model)
        for name in names
        for seed in args.seeds
        for model in split_models(args.models)
        if (name, seed, model) not in done
    ]
    t0 = time.perf_counter()

    def one(job: tuple[str, int, str]) -> dict:
        name, seed, model = job
        config = BASE | FAMILY[name] | {"dataset_size": args.dataset_size}
        with tempfile.TemporaryDirectory() as tmp:
            row = {"config": name, "seed": seed, "model": model} | run_one(
                config, model, seed, Path(tmp), args.max_epochs
            )
            if args.keep is not None:  # the run and the config it was generated from, for a later look
                kept = args.keep / f"{name}_{re.sub(r'[^A-Za-z0-9_.=+-]+', '_', model)}_s{seed}"
                shutil.copytree(Path(tmp), kept, dirs_exist_ok=True)
            return row

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        for row in pool.map(one, todo):
            rows.append(row)
            with log.open("a") as fh:  # one line per finished run: a stop loses nothing
                fh.write(json.dumps(row) + "\n")
            att = row["faithfulness"].get("attention", {})
            print(
                f"{row['config']} seed {row['seed']} {row['model']}: acc {row['accuracy']:.3f} pointing "
                f"{row['pointing_game']} IoU {row['span_iou']} shift {row['shift_median']} class-map pointing "
                f"{row.get('class_map_pointing_game')} deletion gain {att.get('deletion_gain')} "
                f"({row['wall_seconds']} s)",
                flush=True,
            )
    rows = [
        r for r in rows if r["config"] in names and r["seed"] in args.seeds and r["model"] in split_models(args.models)
    ]
    result = {
        "benchmark": "localization_family",
        "command": "python benchmarks/localization_family.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "dataset_size": args.dataset_size,
        "max_epochs": args.max_epochs,
        "jobs": args.jobs,
        "family": {n: BASE | FAMILY[n] for n in names},
        "targets_from_issue_17": {
            "pointing_game": "median >= 0.95, worst >= 0.85",
            "mass_inside": "median >= 0.6",
            "abs_shift": "every median <= 2 % of T",
            "span_iou": "median >= 0.7",
            "accuracy": ">= 0.98 every run",
            "rank_correlation": "deletion score vs pointing game >= 0.7",
        },
        "summary": summarize(rows),
        "runs": rows,
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
