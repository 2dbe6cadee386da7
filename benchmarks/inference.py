"""Inference at scale: `tsattn predict` on 1,000,000 series x 500 points from a .npy on disk,
and ONNX Runtime against PyTorch on the same model and batch size.

Needs a trained run (default: cnn_attention from `benchmarks/models_seed.py --keep DIR`).
Writes benchmarks/results/inference.json.

    python benchmarks/inference.py --run DIR/runs/cnn_attention [--n 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit


def _vm_hwm_mb(pid: int) -> float:
    """The child's own peak RSS since exec (VmHWM). ru_maxrss of children would also count the moment
    after fork, when the child still shares this process's pages (here the 2 GB file just written)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def write_npy(path: Path, n: int) -> float:
    """The seed's data, n series, written block by block into a memory-mapped .npy (never all in memory)."""
    from tsattn.config import DatasetConfig
    from tsattn.data.synthetic import BLOCK, iter_blocks

    t = time.perf_counter()
    cfg = DatasetConfig(dataset_size=n)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 1, cfg.num_points))
    for b, block in enumerate(iter_blocks(cfg, seed=1)):
        out[b * BLOCK : b * BLOCK + len(block["y"])] = block["X"]
    out.flush()
    del out
    return time.perf_counter() - t


def onnx_vs_torch(run: Path, batch: int = 1024, seconds: float = 3.0) -> dict:
    import onnxruntime as ort
    import torch

    from tsattn.inference import predict_arrays
    from tsattn.run import load_run
    from tsattn.workflows.export import export_onnx

    loaded = load_run(run)
    with tempfile.TemporaryDirectory() as tmp:
        report = export_onnx(run, Path(tmp) / "m.onnx")
        sess = ort.InferenceSession(str(Path(tmp) / "m.onnx"), providers=["CPUExecutionProvider"])
    x = (
        np.random.default_rng(0)
        .normal(size=(batch, loaded.config.n_channels, loaded.config.seq_len))
        .astype(np.float32)
    )

    def rate(fn):
        fn()
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            fn()
            n += batch
        return n / (time.perf_counter() - t)

    def torch_call():  # what `tsattn predict` runs: the numpy scaler, then the network
        predict_arrays(loaded.net, loaded.scaler.transform(x), batch_size=batch)

    pt = rate(torch_call)
    ox = rate(lambda: sess.run(None, {"series": x}))
    return {
        "batch": batch,
        "torch_series_per_s": pt,
        "onnxruntime_series_per_s": ox,
        "onnx_over_torch": ox / pt,
        "threads": torch.get_num_threads(),
        "parity": {k: v for k, v in report.items() if k.startswith("max_abs")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None, help="where the big .npy goes (default: a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.workdir))
    try:
        npy = work / "series.npy"
        gen_s = write_npy(npy, args.n)
        print(f"wrote {npy} ({npy.stat().st_size / 2**30:.2f} GiB) in {gen_s:.1f} s", flush=True)
        exe = shutil.which("tsattn")
        cmd = ([exe] if exe else [sys.executable, "-m", "tsattn"]) + [
            "predict",
            "--run",
            str(args.run),
            "--data",
            str(npy),
            "--out",
            str(work / "preds.csv"),
            "--quiet",
        ]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd)
        peak_mb = 0.0
        while proc.poll() is None:
            peak_mb = max(peak_mb, _vm_hwm_mb(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - t
        if proc.returncode:
            raise SystemExit(f"tsattn predict failed with exit code {proc.returncode}")
        with open(work / "preds.csv") as fh:
            rows = sum(1 for _ in fh) - 1
        predict = {
            "n_series": args.n,
            "rows_written": rows,
            "wall_seconds": wall,
            "series_per_s": args.n / wall,
            "peak_rss_mb": peak_mb,
            "target_peak_rss_mb": 1536,
            "input_gib": npy.stat().st_size / 2**30,
        }
        print(json.dumps(predict), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    runtime = onnx_vs_torch(args.run)
    print(json.dumps(runtime), flush=True)
    cfg = json.loads((args.run / "config.json").read_text())
    result = {
        "benchmark": "inference",
        "command": f"python benchmarks/inference.py --run {args.run} --n {args.n}",
        "model": cfg["model"],
        "predict": predict,
        "onnx_vs_torch": runtime,
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "recipe": cfg["train"],
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "inference.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
