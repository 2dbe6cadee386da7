"""Out-of-core data at 1,000,000 series x 500 points: generate in shards, then train one epoch from the memory map.

    python benchmarks/out_of_core.py [--n 1000000] [--shards 16] [--workers 2] [--keep DIR]

Measures, each in its own process tree (sampled every 50 ms from /proc):
- `tsattn generate --shards K --workers W`: wall time, peak resident memory of the whole tree
  (the parent and its workers, summed) and of the largest single process;
- `tsattn train --data DIR --model cnn_attention --max-epochs 1`: the training phase's peak RSS
  (recorded by tsattn itself in fit.json) and the whole process's peak (VmHWM), which includes evaluation
  on the 20% test split.
Then generates the same data again with 1 worker and checks that every file has the same bytes
(SHA-256), as `--workers` promises. Writes benchmarks/results/out_of_core.json, with the command,
commit and date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import contextlib

from localization import git_commit


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_measured(cmd: list[str]) -> dict:
    """Run ``cmd``; sample the RSS of its process tree; return wall time and peaks."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tree_peak = single_peak = hwm = 0.0
    while proc.poll() is None:
        pids = [proc.pid]
        i = 0
        while i < len(pids):
            pids += _children(pids[i])
            i += 1
        rss = [_rss_mb(p) for p in pids]
        tree_peak, single_peak = max(tree_peak, sum(rss)), max(single_peak, max(rss))
        hwm = max(hwm, _hwm_mb(proc.pid))
        time.sleep(0.05)
    out = proc.stdout.read()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return {
        "seconds": round(time.perf_counter() - t, 2),
        "peak_tree_rss_mb": round(tree_peak, 1),
        "peak_single_process_rss_mb": round(single_peak, 1),
        "main_process_vmhwm_mb": round(hwm, 1),
        "last_line": out.strip().splitlines()[-1] if out.strip() else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="tsattn-ooc-"))
    base.mkdir(parents=True, exist_ok=True)
    seed_cfg = json.loads((HERE.parent / "configs" / "seed_default.json").read_text())
    cfg = base / "config.json"
    cfg.write_text(json.dumps(seed_cfg | {"dataset_size": args.n}))
    tsattn = [sys.executable, "-m", "tsattn"]
    data = base / "data"
    gen = run_measured(
        [
            *tsattn,
            "generate",
            "--config",
            str(cfg),
            "--seed",
            "0",
            "--shards",
            str(args.shards),
            "--workers",
            str(args.workers),
            "--out",
            str(data),
            "--quiet",
        ]
    )
    size = sum(p.stat().st_size for p in data.iterdir())
    one = base / "data_1_worker"
    shutil.rmtree(one, ignore_errors=True)
    run_measured(
        [
            *tsattn,
            "generate",
            "--config",
            str(cfg),
            "--seed",
            "0",
            "--shards",
            str(args.shards),
            "--workers",
            "1",
            "--out",
            str(one),
            "--quiet",
        ]
    )
    files = sorted(p.name for p in data.iterdir() if p.suffix == ".npy")
    same = {name: _sha256(data / name) == _sha256(one / name) for name in files}
    shutil.rmtree(one, ignore_errors=True)
    if not all(same.values()):
        sys.exit(f"--workers {args.workers} and --workers 1 wrote different bytes: {same}")
    run = base / "run"
    shutil.rmtree(run, ignore_errors=True)
    train = run_measured(
        [
            *tsattn,
            "train",
            "--data",
            str(data),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "1",
            "--logger",
            "none",
            "--quiet",
            "--out",
            str(run),
        ]
    )
    fit = json.loads((run / "fit.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    result = {
        "n_series": args.n,
        "seq_len": seed_cfg["num_points"],
        "shards": args.shards,
        "workers": args.workers,
        "dataset_bytes": size,
        "generate": gen,
        "same_bytes_with_1_worker": {"files_compared": files, "all_equal": all(same.values())},
        "train_one_epoch": train
        | {
            "train_seconds": round(fit["train_seconds"], 2),
            "training_phase_peak_rss_mb": fit.get("peak_rss_mb"),
            "n_train": json.loads((run / "config.json").read_text())["split"]["train"],
            "test_accuracy_after_one_epoch": metrics["accuracy"],
        },
        "machine": {"cpus": os.cpu_count()},
        "command": "python benchmarks/out_of_core.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
    }
    out = HERE / "results" / "out_of_core.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
