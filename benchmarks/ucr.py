"""Real data: the default model against MiniRocket on UCR/UEA datasets, official split and stratified resamples.

Every (dataset, resample) is one ``tsattn benchmark`` run (the same fit path
as ``tsattn train``), with MiniRocket fitted in the same run on the same
rows. Resample 0 is the official train/test split, read as ``ucr:NAME``;
resample ``r`` > 0 pools train and test and draws, per class, as many
training series as the official split has, seeded by ``r`` (the "bake off
redux" protocol). No per-dataset settings: every model trains with its
recipe. Next to each mean, InceptionTime's and HC2's published means over 30
resamples, read from the result files that ship inside aeon.

    python benchmarks/ucr.py                      # the developers' panel, official split
    python benchmarks/ucr.py --resamples 0,1,2,3,4
    python benchmarks/ucr.py --models inception_attention,minirocket --resamples 1,2,3,4 \
        --with-official benchmarks/results/ucr.json   # resample 0 from the official run
    python benchmarks/ucr.py --models inception_attention,minirocket --name ucr_resamples.json \
        --merge benchmarks/results/ucr.json benchmarks/results/ucr_resample{1,2,3,4}.json  # join runs
    python benchmarks/ucr.py --datasets ArrowHead --models inception_attention,minirocket --keep runs/ucr

Writes ``benchmarks/results/ucr.json`` (``ucr_resamples.json`` with more than
one resample): per dataset, each model's accuracy, training seconds and peak
memory per resample; the mean and worst gap of the default model to
MiniRocket; and every model's average rank.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit

PANEL = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "PickupGestureWiimoteZ", "ArrowHead", "OSULeaf")
MODELS = "inception_attention,cnn,cnn_attention,minirocket"
PUBLISHED = ("InceptionTime", "HC2")


def published_means(names: tuple[str, ...] = PUBLISHED) -> dict[str, dict[str, float]]:
    """``{classifier: {dataset: mean accuracy over its resamples}}`` from the CSVs aeon ships."""
    import aeon

    folder = Path(aeon.__file__).parent / "testing" / "example_results_files" / "classification" / "accuracy"
    out: dict[str, dict[str, float]] = {}
    for name in names:
        path = folder / f"{name}_accuracy.csv"
        if not path.is_file():
            continue
        with path.open() as fh:
            rows = list(csv.reader(fh))[1:]
        out[name] = {r[0]: float(np.mean([float(v) for v in r[1:] if v])) for r in rows if len(r) > 1}
    return out


def resample(train: Any, test: Any, r: int) -> tuple[Any, Any]:
    """Resample ``r`` of a dataset: 0 is the official split; otherwise train and test pooled and redrawn per class."""
    if r == 0:
        return train, test
    pooled = _concat(train, test)
    rng = np.random.default_rng(r)
    rows = [
        rng.choice(np.flatnonzero(pooled.y == c), size=int((train.y == c).sum()), replace=False)
        for c in np.unique(train.y)
    ]
    train_rows = np.sort(np.concatenate(rows))
    return pooled.subset(train_rows), pooled.subset(np.setdiff1d(np.arange(len(pooled.y)), train_rows))


def _concat(a: Any, b: Any) -> Any:
    """``a``'s series then ``b``'s, NaN-padded to the longer length (lengths kept where they vary), no ids."""
    import dataclasses

    T = max(a.seq_len, b.seq_len)

    def pad(ds: Any) -> np.ndarray:
        X = np.full((len(ds), ds.n_channels, T), np.nan, np.float32)
        X[:, :, : ds.seq_len] = ds.X
        return X

    def lengths(ds: Any) -> np.ndarray:
        return ds.lengths if ds.lengths is not None else np.full(len(ds), ds.seq_len)

    varying = a.lengths is not None or b.lengths is not None or a.seq_len != b.seq_len
    return dataclasses.replace(
        a,
        X=np.concatenate([pad(a), pad(b)]),
        y=np.concatenate([a.y, b.y]),
        lengths=np.concatenate([lengths(a), lengths(b)]) if varying else None,
        extras={},
        ids=None,
    )


def run_one(
    name: str, r: int, models: list[str], seed: int, out: Path, overrides: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """One ``tsattn benchmark`` run on resample ``r`` of ``name``; each model's scores."""
    from tsattn.data.ucr import load
    from tsattn.workflows.benchmark import run_benchmark

    train, test = resample(*load(name, download=False), r)
    source = {"kind": "named", "name": name} if r == 0 else None
    result = run_benchmark(
        train, models, seed, out, test_data=test, data_source=source, overrides=overrides, progress=False
    )
    return {
        m["name"]: {
            "accuracy": m["accuracy"],
            "train_seconds": round(m["train_seconds"], 2),
            "peak_rss_mb": round(m["peak_rss_mb"], 1),
            "epochs": m["epochs"],
        }
        for m in result["models"]
    }


def summarize(rows: dict[str, Any], ours: str, peer: str = "minirocket") -> dict[str, Any]:
    """Mean and worst gap of ``ours`` to ``peer`` (points, over datasets' mean accuracies) and average ranks."""
    names = list(next(iter(rows.values()))["mean_accuracy"])
    gaps = {d: 100 * (v["mean_accuracy"][ours] - v["mean_accuracy"][peer]) for d, v in rows.items()}
    ranks = []
    for v in rows.values():
        acc = np.array([v["mean_accuracy"][m] for m in names])
        order = (-acc).argsort(kind="stable")
        rank = np.empty(len(acc))
        for i, j in enumerate(order):  # ties share the mean of their ranks
            rank[j] = i + 1
        for a in np.unique(acc):
            rank[acc == a] = rank[acc == a].mean()
        ranks.append(rank)
    official_gaps = {
        d: 100 * (v["by_resample"]["0"][ours]["accuracy"] - v["by_resample"]["0"][peer]["accuracy"])
        for d, v in rows.items()
        if "0" in v["by_resample"]
    }
    return {
        "gap_points_by_dataset": {d: round(g, 2) for d, g in gaps.items()},
        "mean_gap_points": round(float(np.mean(list(gaps.values()))), 2),
        "worst_gap_points": round(float(min(gaps.values())), 2),
        "official_split_gap_points": {d: round(g, 2) for d, g in official_gaps.items()},
        "official_split_mean_gap_points": round(float(np.mean(list(official_gaps.values()))), 2)
        if official_gaps
        else None,
        "official_split_worst_gap_points": round(float(min(official_gaps.values())), 2) if official_gaps else None,
        "average_rank": {m: round(float(np.mean([rk[i] for rk in ranks])), 2) for i, m in enumerate(names)},
        "max_train_seconds": {
            m: max(s[m]["train_seconds"] for v in rows.values() for s in v["by_resample"].values()) for m in names
        },
    }


def markdown(result: dict[str, Any], ours: str) -> str:
    """The README table: mean accuracy (and spread) per dataset and model, published means, seconds."""
    models = result["models"]
    head = "| dataset | " + " | ".join(models) + " | InceptionTime (pub.) | HC2 (pub.) | " + ours + " train s |\n"
    head += "|---" * (len(models) + 4) + "|\n"
    lines = []
    for name, v in result["results"].items():
        cells = []
        for m in models:
            accs = [s[m]["accuracy"] for s in v["by_resample"].values()]
            cells.append(f"{np.mean(accs):.3f}" + (f" ± {np.std(accs, ddof=1):.3f}" if len(accs) > 1 else ""))
        pub = [v["published"].get(p) for p in PUBLISHED]
        secs = max(s[ours]["train_seconds"] for s in v["by_resample"].values())
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + " | "
            + " | ".join("-" if p is None else f"{p:.3f}" for p in pub)
            + f" | {secs:.0f} |"
        )
    s = result["summary"]
    foot = (
        f"\nGap of {ours} to MiniRocket, mean over datasets: {s['mean_gap_points']:+.2f} points, "
        f"worst {s['worst_gap_points']:+.2f}; average rank: "
        + ", ".join(f"{m} {r:.2f}" for m, r in s["average_rank"].items())
        + "\n"
    )
    return head + "\n".join(lines) + "\n" + foot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MODELS, help="the first is the one compared against MiniRocket")
    ap.add_argument("--datasets", default=",".join(PANEL))
    ap.add_argument("--resamples", default="0", help="comma-separated; 0 is the official split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep every benchmark directory here")
    ap.add_argument("--name", default=None, help="results file name [default: ucr.json or ucr_resamples.json]")
    ap.add_argument(
        "--with-official",
        type=Path,
        default=None,
        help="a ucr.json whose official-split (resample 0) scores of these models join the summary",
    )
    ap.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="run nothing: join these results files' resamples (of --models) into one summary",
    )
    ap.add_argument(
        "--overrides",
        type=json.loads,
        default=None,
        help='TrainConfig settings over every model\'s recipe, as JSON, e.g. \'{"model_params": {"kernels": null}}\'',
    )
    args = ap.parse_args()
    models = args.models.split(",")
    if args.merge:
        command = "python benchmarks/ucr.py --models " + args.models + " --merge " + " ".join(map(str, args.merge))
        write(merge(args.merge, models), models, args, command, None)
        return
    resamples = [int(r) for r in args.resamples.split(",")]
    keep = args.keep or Path(tempfile.mkdtemp())
    published = published_means()
    official = json.loads(args.with_official.read_text()) if args.with_official else None
    log = target_of(args, resamples).with_suffix(".jsonl")  # one line per finished run: a rerun resumes
    done = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            if row["models"] == models and row["seed"] == args.seed and row.get("overrides") == args.overrides:
                done[(row["dataset"], row["resample"])] = row["scores"]
    rows: dict[str, Any] = {}
    for name in args.datasets.split(","):
        by_resample = {}
        if official is not None and 0 not in resamples:
            earlier = official["results"][name]["by_resample"]["0"]
            by_resample["0"] = {m: earlier[m] for m in models}
        for r in resamples:
            if (name, r) in done:
                by_resample[str(r)] = done[(name, r)]
                continue
            t = time.perf_counter()
            by_resample[str(r)] = run_one(name, r, models, args.seed, keep / name / f"resample{r}", args.overrides)
            line = {"dataset": name, "resample": r, "models": models, "seed": args.seed, "overrides": args.overrides}
            with log.open("a") as fh:
                fh.write(json.dumps(line | {"scores": by_resample[str(r)]}) + "\n")
            print(
                name,
                r,
                json.dumps({m: v["accuracy"] for m, v in by_resample[str(r)].items()}),
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
        rows[name] = dataset_row(name, by_resample, models, published)
    command = "python benchmarks/ucr.py" + "".join(
        f" --{k} {v}"
        for k, v in (
            ("models", args.models),
            ("datasets", args.datasets),
            ("resamples", args.resamples),
            ("with-official", args.with_official),
            ("overrides", f"'{json.dumps(args.overrides)}'" if args.overrides else None),
        )
        if v != ap.get_default(k.replace("-", "_"))
    )
    write(rows, models, args, command, official)


def dataset_row(
    name: str, by_resample: dict[str, Any], models: list[str], published: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """A dataset's entry in the results: every resample's scores, each model's mean, the published means."""
    return {
        "by_resample": by_resample,
        "mean_accuracy": {
            m: round(float(np.mean([s[m]["accuracy"] for s in by_resample.values()])), 4) for m in models
        },
        "published": {p: round(published[p][name], 4) for p in PUBLISHED if name in published.get(p, {})},
    }


def merge(files: list[Path], models: list[str]) -> dict[str, Any]:
    """The rows of several results files, each dataset's resamples joined; a resample in two files is refused."""
    published = published_means()
    joined: dict[str, dict[str, Any]] = {}
    for f in files:
        for name, v in json.loads(f.read_text())["results"].items():
            for r, scores in v["by_resample"].items():
                if r in joined.setdefault(name, {}):
                    raise SystemExit(f"merge: resample {r} of {name} is in more than one file (again in {f})")
                missing = [m for m in models if m not in scores]
                if missing:
                    raise SystemExit(f"merge: {f} has no {', '.join(missing)} for {name}, resample {r}")
                joined[name][r] = {m: scores[m] for m in models}
    return {
        name: dataset_row(name, dict(sorted(by_r.items(), key=lambda kv: int(kv[0]))), models, published)
        for name, by_r in joined.items()
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU count, GPU (None on CPU) and torch version."""
    import os

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpus": os.cpu_count(), "gpu": gpu, "torch": torch.__version__}


def target_of(args: argparse.Namespace, resamples: list[int]) -> Path:
    return HERE / "results" / (args.name or ("ucr.json" if resamples == [0] else "ucr_resamples.json"))


def write(rows: dict[str, Any], models: list[str], args: argparse.Namespace, command: str, official: Any) -> None:
    """Summarize ``rows``, print the table and write the results file."""
    ours = models[0]
    resamples = sorted({int(r) for v in rows.values() for r in v["by_resample"]})
    result = {
        "benchmark": "ucr",
        "command": command,
        "models": models,
        "resamples": resamples,
        "official_split_from": str(args.with_official) if official is not None else None,
        "merged_from": [str(f) for f in args.merge] if args.merge else None,
        "seed": args.seed,
        "results": rows,
        "summary": summarize(rows, ours),
        "published_from": "aeon/testing/example_results_files/classification/accuracy (30 resamples)",
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }
    result["table"] = markdown(result, ours)
    print(result["table"])
    target = target_of(args, resamples)
    if args.merge and target.resolve() in {f.resolve() for f in args.merge}:
        raise SystemExit(f"name: must not be one of the merged files; got {target}")
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
