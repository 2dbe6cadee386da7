"""Interpretability, measured: localization scores of attention and gradients, with the randomization check.

Reads the runs of a finished seed-task benchmark (benchmarks/models_seed.py --keep DIR),
scores every relevance method on their test splits, and merges the noisy-data
benchmarks (results/noisy_05.json, results/noisy_10.json) when present.
Writes benchmarks/results/localization.json.

    python benchmarks/localization.py --runs DIR/runs [--models cnn_attention]

With --models, only those models are scored again; the others keep their
entries (each dated) from the existing results/localization.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tsattn.workflows import relevance_report

HERE = Path(__file__).resolve().parent
TARGETS = {
    "pointing_game": ">= 0.95",
    "mass_inside": ">= 0.6 (uniform about 0.3)",
    "shift_median": "within +-2% of T",
    "span_iou": ">= 0.6",
}
PLAN = {  # model -> relevance methods
    "cnn_attention": ("attention", "attention_x_gradient", "integrated_gradients"),
    "lstm_attention": ("attention", "integrated_gradients"),
    "transformer": ("attention",),
    "cnn": ("integrated_gradients",),
}


def git_commit() -> str:
    import subprocess

    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def read_rows(log: Path) -> list[dict]:
    """The rows a benchmark's ``.jsonl`` log holds (one finished run each), or none before its first run."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []


def append_row(log: Path, row: dict) -> None:
    """Append one finished run to the ``.jsonl`` log, so a stop loses nothing, and print it."""
    with log.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def write_result(out: Path, benchmark: str, script: str, argv: list[str], **fields: object) -> None:
    """Write a benchmark's results file: its name, the command that made it, the commit and date, then ``fields``."""
    result = {
        "benchmark": benchmark,
        "command": f"python benchmarks/{script} " + " ".join(argv),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **fields,
    }
    tmp = out.with_name(out.name + ".tmp")  # a kill mid-write leaves the previous file whole
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")


def rescore_kept_runs(doc: str, name: str, rescore: Callable[[Path], dict | None], summarize: Callable) -> None:
    """The command line of a script that rescores kept runs offline (``--runs RUN ...`` or ``--keep DIR``,
    ``--out``): one row per run from ``rescore`` (``None`` skips it) appended to the ``.jsonl`` beside ``--out``
    (a rerun skips the runs there), then ``results/NAME.json`` with ``summarize(rows)`` and the rows."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--runs", type=Path, nargs="*", default=[])
    ap.add_argument("--keep", type=Path, default=None, help="a localization_family.py --keep DIR")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / f"{name}.json")
    args = ap.parse_args()
    runs = [*args.runs, *(sorted(args.keep.glob("*/run")) if args.keep else [])]
    if not runs:
        ap.error("--runs or --keep: give at least one run directory")
    log = args.out.with_suffix(".jsonl")
    rows = read_rows(log)
    done = {r["run"] for r in rows}
    for run in runs:
        if str(run) in done:
            continue
        row = rescore(run)
        if row is not None:
            rows.append(row)
            append_row(log, row)
    mine = [r for r in rows if r["run"] in {str(p) for p in runs}]
    write_result(args.out, name, f"{name}.py", sys.argv[1:], summary=summarize(mine), runs=mine)


def segment_attention(run: Path) -> dict | None:
    """``{"val": (R, start, end), "test": ...}``: the attention of a run's anomalous validation and test series
    and their true segments; ``None`` where the run's data have no true segments or its network no attention."""
    import numpy as np

    from tsattn import run as rundir
    from tsattn.evaluation.explain import explain
    from tsattn.workflows._data import data_source, split_part

    loaded = rundir.load_run(run)
    if not getattr(loaded.net, "has_attention", True):
        return None
    full, _ = data_source(loaded.config)
    if not full.has_segments:
        return None
    parts = {}
    for part in ("val", "test"):
        ds = full.subset(split_part(Path(run) / rundir.SPLIT, part))
        keep = ds.extras["segment_start"] >= 0
        lengths = None if ds.lengths is None else np.asarray(ds.lengths)[keep]
        R = explain(loaded, np.asarray(ds.X[keep], np.float32), method="attention", lengths=lengths)
        parts[part] = (R, ds.extras["segment_start"][keep], ds.extras["segment_end"][keep])
    return parts


def mass_window_iou(run: Path) -> float | None:
    """The test split's mean span IoU of the attention under the span rule before span rules: the shortest window
    holding a mass of the relevance, the mass chosen on the validation split, no averaging. ``None`` where the
    run's data have no true segments or its network no attention."""
    import numpy as np

    from tsattn.evaluation.localization import choose_mass, span_iou, spans_from_mass

    parts = segment_attention(run)
    if parts is None:
        return None
    (Rv, sv, ev), (Rt, st, et) = parts["val"], parts["test"]
    mass, _ = choose_mass(Rv, sv, ev)
    return float(np.mean(span_iou(spans_from_mass(Rt, mass), st, et)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--max-series", type=int, default=1000)
    ap.add_argument("--models", default=",".join(PLAN), help="comma-separated; the rest keep their old entries")
    args = ap.parse_args()
    out = HERE / "results" / "localization.json"
    old = json.loads(out.read_text()).get("seed_task", {}) if out.is_file() else {}
    chosen = args.models.split(",")
    reports = {
        m: old[m] | {"commit": old[m].get("commit", "a1345f3 or earlier")} for m in PLAN if m not in chosen and m in old
    }
    for model, methods in PLAN.items():
        if model not in chosen:
            continue
        run = args.runs / model
        if not run.is_dir():
            print(f"{model}: no run in {args.runs}, skipped")
            continue
        t = time.perf_counter()
        reports[model] = relevance_report(run, methods=methods, max_series=args.max_series)
        reports[model]["seconds"] = time.perf_counter() - t
        reports[model]["date"] = time.strftime("%Y-%m-%d")
        reports[model]["commit"] = git_commit()
        reports[model]["command"] = f"python benchmarks/localization.py --runs {args.runs} --models {model}"
        for method, r in reports[model]["methods"].items():
            tr, rnd = r["trained"], r["randomized"]
            print(
                f"{model:15s} {method:22s} pointing {tr['pointing_game']:.3f} (random {rnd['pointing_game']:.3f})  "
                f"mass {tr['mass_inside']:.3f} (uniform {tr['uniform_mass']:.3f}, random {rnd['mass_inside']:.3f})  "
                f"shift {tr['shift_median']:+.1f} (IQR {tr['shift_iqr']:.1f})  span IoU {tr['span_iou']:.3f}  "
                f"AUPRC {tr['auprc']:.3f}",
                flush=True,
            )
    noisy = {}
    for name in ("noisy_05", "noisy_10"):
        path = HERE / "results" / f"{name}.json"
        if path.is_file():
            res = json.loads(path.read_text())
            noisy[name] = [
                {
                    "name": m["name"],
                    "accuracy": m["accuracy"],
                    "roc_auc": m["roc_auc"],
                    "train_seconds": m["train_seconds"],
                    "pointing_game": (m.get("localization") or {}).get("pointing_game"),
                }
                for m in res["models"]
            ]
    result = {
        "benchmark": "localization",
        "command": f"python benchmarks/localization.py --runs {args.runs} --models {args.models}",
        "data": "seed default config, seed 0, test split (anomalous series only)",
        "targets": TARGETS,
        "seed_task": reports,
        "noisy": noisy,
        "date": time.strftime("%Y-%m-%d"),
    }
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
