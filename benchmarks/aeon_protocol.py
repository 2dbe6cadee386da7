"""The published protocol: tsattn's default in its aeon classifier, on aeon's resamples, beside the published figures.

The resamples are those of the results that ship with aeon (tsml-eval's
protocol): resample 0 is the official train/test split, and resample ``r`` >
0 is ``aeon.benchmarking.resampling.stratified_resample_data(..., random_state=r)``
over the official split; each classifier is seeded with ``r``. On every
(dataset, resample) it fits ``tsattn.aeon.AttentionClassifier()`` with its
defaults (the default model and its recipe, nothing per dataset) and aeon's
MiniRocket on the same rows (series of unequal length padded with their last
value, as ``tsattn benchmark`` does), and puts beside them the published
accuracies of InceptionTime, HC2, WEASEL-2.0 and FreshPRINCE on the same
resample.

    python benchmarks/aeon_protocol.py                          # the developers' panel, resamples 0-4
    python benchmarks/aeon_protocol.py --resamples 0,1,2        # a part; run again for the rest
    python benchmarks/aeon_protocol.py --datasets GunPoint --resamples 0 --name aeon_protocol_try.json
    python benchmarks/aeon_protocol.py --datasets OSULeaf & python benchmarks/aeon_protocol.py --datasets GunPoint &
                                                                # in parallel: each appends to the same log

Each finished (dataset, resample) is appended as one JSON line to
``benchmarks/results/<name>.jsonl`` at once, and a run skips the lines
already there, so a stopped run loses at most the fit in progress. Every run
rewrites ``benchmarks/results/<name>`` (default ``aeon_protocol.json``) from
all the lines: per dataset and resample our accuracy, MiniRocket's and the
published ones; the means over the resamples, and the gap to MiniRocket and
to InceptionTime (points).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit

PANEL = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "PickupGestureWiimoteZ", "ArrowHead", "OSULeaf")
PUBLISHED = ("InceptionTime", "HC2", "WEASEL-2.0", "FreshPRINCE")
OURS = "tsattn"


def published_by_resample(names: tuple[str, ...] = PUBLISHED) -> dict[str, dict[str, list[float | None]]]:
    """``{classifier: {dataset: [accuracy of resample 0, 1, ...]}}`` from the result files aeon ships."""
    import aeon

    folder = Path(aeon.__file__).parent / "testing" / "example_results_files" / "classification" / "accuracy"
    out: dict[str, dict[str, list[float | None]]] = {}
    for name in names:
        path = folder / f"{name}_accuracy.csv"
        if path.is_file():
            with path.open() as fh:
                rows = list(csv.reader(fh))[1:]
            out[name] = {r[0]: [float(v) if v else None for v in r[1:]] for r in rows if len(r) > 1}
    return out


def aeon_collection(ds: Any) -> tuple[Any, np.ndarray]:
    """A tsattn dataset as aeon takes it: ``(n, C, T)`` float64, or a list of ``(C, T_i)`` arrays; string labels."""
    labels = np.asarray(ds.class_names)[np.asarray(ds.y)]
    if ds.lengths is None:
        return np.asarray(ds.X, dtype=np.float64), labels
    return [np.asarray(x[:, :n], dtype=np.float64) for x, n in zip(ds.X, ds.lengths, strict=True)], labels


def split(name: str, r: int) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    """Resample ``r`` of ``name`` as tsml-eval draws it: 0 official, else aeon's stratified resample seeded by ``r``."""
    from aeon.benchmarking.resampling import stratified_resample_data

    from tsattn.data.ucr import load

    train, test = load(name, download=False)
    (X_tr, y_tr), (X_te, y_te) = aeon_collection(train), aeon_collection(test)
    if r == 0:
        return X_tr, y_tr, X_te, y_te
    if isinstance(X_tr, np.ndarray) and isinstance(X_te, np.ndarray) and X_tr.shape[2] != X_te.shape[2]:
        X_tr, X_te = list(X_tr), list(X_te)  # equal within each file, not across: aeon's list form
    if isinstance(X_tr, list) != isinstance(X_te, list):
        X_tr, X_te = list(X_tr), list(X_te)
    return tuple(stratified_resample_data(X_tr, y_tr, X_te, y_te, random_state=r))  # type: ignore[return-value]


def padded(X: Any, length: int) -> np.ndarray:
    """Series padded with their last value to ``length`` steps (MiniRocket needs one length, train and test alike)."""
    from tsattn.data.readers import stack_ragged
    from tsattn.models.peers import pad_with_last_value

    X3, lengths = stack_ragged(list(X)) if isinstance(X, list) else (X, None)
    return pad_with_last_value(X3, lengths, length)


def longest(*collections: Any) -> int:
    return max(x.shape[-1] for X in collections for x in X)


def run_one(name: str, r: int) -> dict[str, Any]:
    """Fit tsattn's aeon classifier and MiniRocket on resample ``r`` of ``name``; their test accuracies and seconds."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    from tsattn.aeon import AttentionClassifier

    X_tr, y_tr, X_te, y_te = split(name, r)
    t = time.perf_counter()
    ours = AttentionClassifier(random_state=r).fit(X_tr, y_tr)
    ours_s = time.perf_counter() - t
    acc = float(np.mean(ours.predict(X_te) == y_te))
    t = time.perf_counter()
    T = longest(X_tr, X_te)
    mr = MiniRocketClassifier(random_state=r, n_jobs=1).fit(padded(X_tr, T), y_tr)
    mr_s = time.perf_counter() - t
    mr_acc = float(np.mean(mr.predict(padded(X_te, T)) == y_te))
    return {
        "dataset": name,
        "resample": r,
        "n_train": len(y_tr),
        "n_test": len(y_te),
        OURS: {"accuracy": round(acc, 4), "train_seconds": round(ours_s, 1), "model": ours.estimator_.config_.model},
        "minirocket": {"accuracy": round(mr_acc, 4), "train_seconds": round(mr_s, 1)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def summarize(lines: list[dict[str, Any]], published: dict[str, dict[str, list[float | None]]]) -> dict[str, Any]:
    """Per dataset: every resample's figures beside the published ones; means; gaps to MiniRocket and InceptionTime."""
    rows: dict[str, Any] = {}
    for line in sorted(
        lines, key=lambda v: (PANEL.index(v["dataset"]) if v["dataset"] in PANEL else 99, v["resample"])
    ):
        name, r = line["dataset"], line["resample"]
        pub = {p: published[p][name][r] for p in published if name in published[p] and r < len(published[p][name])}
        row = rows.setdefault(name, {"by_resample": {}})
        row["by_resample"][str(r)] = {
            OURS: line[OURS]["accuracy"],
            "minirocket": line["minirocket"]["accuracy"],
            **{f"{p} (pub.)": v for p, v in pub.items()},
            f"{OURS}_train_seconds": line[OURS]["train_seconds"],
        }
    gaps_mr, gaps_it = {}, {}
    for name, row in rows.items():
        cols = [k for k in next(iter(row["by_resample"].values())) if not k.endswith("_seconds")]
        row["mean"] = {
            c: round(float(np.mean([v[c] for v in row["by_resample"].values() if v.get(c) is not None])), 4)
            for c in cols
        }
        row["resamples"] = len(row["by_resample"])
        gaps_mr[name] = 100 * (row["mean"][OURS] - row["mean"]["minirocket"])
        if "InceptionTime (pub.)" in row["mean"]:
            gaps_it[name] = 100 * (row["mean"][OURS] - row["mean"]["InceptionTime (pub.)"])
    return {
        "results": rows,
        "gap_to_minirocket_points": {k: round(v, 2) for k, v in gaps_mr.items()},
        "mean_gap_to_minirocket_points": round(float(np.mean(list(gaps_mr.values()))), 2) if gaps_mr else None,
        "worst_gap_to_minirocket_points": round(float(min(gaps_mr.values())), 2) if gaps_mr else None,
        "gap_to_inceptiontime_points": {k: round(v, 2) for k, v in gaps_it.items()},
        "max_train_seconds": max(v[f"{OURS}_train_seconds"] for r in rows.values() for v in r["by_resample"].values()),
    }


def markdown(summary: dict[str, Any]) -> str:
    """One row per dataset and resample, then the means."""
    cols = [OURS, "minirocket", *[f"{p} (pub.)" for p in PUBLISHED]]
    out = ["| dataset | resample | " + " | ".join(cols) + f" | {OURS} train s |", "|---" * (len(cols) + 3) + "|"]
    for name, row in summary["results"].items():
        for r, v in row["by_resample"].items():
            cells = ["-" if v.get(c) is None else f"{v[c]:.3f}" for c in cols]
            out.append(f"| {name} | {r} | " + " | ".join(cells) + f" | {v[f'{OURS}_train_seconds']:.0f} |")
        cells = ["-" if row["mean"].get(c) is None else f"**{row['mean'][c]:.3f}**" for c in cols]
        out.append(f"| {name} | mean of {row['resamples']} | " + " | ".join(cells) + " | |")
    return "\n".join(out) + "\n"


def read_lines(log: Path) -> list[dict[str, Any]]:
    """The finished fits in a log, the last line of each (dataset, resample) kept."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    return list({(v["dataset"], v["resample"]): v for v in lines}.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(PANEL))
    ap.add_argument("--resamples", default="0,1,2,3,4")
    ap.add_argument("--name", default="aeon_protocol.json", help="results file under benchmarks/results/")
    args = ap.parse_args()
    target = HERE / "results" / args.name
    log = target.with_suffix(".jsonl")
    target.parent.mkdir(exist_ok=True)
    seen = {(v["dataset"], v["resample"]) for v in read_lines(log)}
    for name in args.datasets.split(","):
        for r in (int(x) for x in args.resamples.split(",")):
            if (name, r) in seen:
                continue
            line = run_one(name, r)
            line["commit"], line["date"] = git_commit(), time.strftime("%Y-%m-%d %H:%M")
            with log.open("a") as fh:  # one line per finished fit: a stop loses only the fit in progress
                fh.write(json.dumps(line) + "\n")
            print(
                f"{name} r{r}: {OURS} {line[OURS]['accuracy']:.3f} ({line[OURS]['train_seconds']:.0f} s), "
                f"minirocket {line['minirocket']['accuracy']:.3f}",
                flush=True,
            )
    import torch

    # From every line in the log, also those other processes appended (one per dataset, say, on a large machine).
    summary = summarize(read_lines(log), published_by_resample())
    result = {
        "benchmark": "aeon_protocol",
        "command": "python benchmarks/aeon_protocol.py"
        + "".join(f" --{k} {v}" for k, v in vars(args).items() if v != ap.get_default(k)),
        "protocol": "resample 0 official; r > 0 aeon.benchmarking.resampling.stratified_resample_data(random_state=r);"
        " classifiers seeded with r",
        "published_from": "aeon/testing/example_results_files/classification/accuracy (per resample)",
        "machine": {
            "cpus": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch": torch.__version__,
        },
        **summary,
    }
    result["table"] = markdown(summary)
    print(result["table"])
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(target)


if __name__ == "__main__":
    main()
