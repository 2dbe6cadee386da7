"""`tsattn train` with every default, as a user runs it: accuracy and wall time (issue 27).

On the seed config (``--config``, generated data) or on data sources
(``--data ucr:GunPoint ucr:OSULeaf ...``, each as ``tsattn train --data`` reads
it, official split). The command is timed from its start to its exit (data
generation or reading, training, evaluation, faithfulness, plots and report
included), and the run's own phase timings are kept beside it. With
``--variants``, each source and seed runs once per variant (extra flags of
``tsattn train``, the variants one after the other), so that variants are timed
on the same machine at the same hour. One JSON line per finished (source, seed,
variant) goes to the ``.jsonl`` beside ``--out``; a rerun skips what is there.

    python benchmarks/seed_config_wall.py [--seeds 0 1 2] [--out benchmarks/results/seed_config_wall.json]
    python benchmarks/seed_config_wall.py --seeds 0 --data ucr:GunPoint ucr:OSULeaf \
        --out benchmarks/results/ucr_wall.json
    python benchmarks/seed_config_wall.py --seeds 0 --data ucr:OSULeaf --variants "" "--precision bf16-mixed" \
        --out benchmarks/results/ucr_wall_precision.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import append_row, read_rows, write_result

SEED_CONFIG = HERE.parent.parent / "shared" / "seed" / "default_dataset.json"


def run(seed: int, config: Path | None, data: str | None = None, flags: str = "") -> dict:
    """One ``tsattn train`` on ``data`` (a data source), or on ``config`` when no source is given, with ``flags``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        source = ["--config", str(config)] if data is None else ["--data", data]
        cmd = [sys.executable, "-m", "tsattn", "train", *source, "--seed", str(seed), *shlex.split(flags)]
        t = time.perf_counter()
        subprocess.run([*cmd, "--out", str(out), "--quiet"], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t
        m = json.loads((out / "metrics.json").read_text())
        train = json.loads((out / "config.json").read_text())["train"]
    return {
        "source": data or "config",
        "seed": seed,
        "flags": flags,
        "accuracy": m["accuracy"],
        "roc_auc": m.get("roc_auc"),
        "wall_seconds": round(wall, 1),
        "ensemble": train["ensemble"],
        "max_steps": train["max_steps"],
        "phases": {k: round(v, 1) for k, v in (m.get("phases") or {}).items() if v is not None},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--config", type=Path, default=SEED_CONFIG)
    ap.add_argument("--data", nargs="+", default=None, help="data sources to read instead of --config")
    ap.add_argument(
        "--variants",
        nargs="+",
        default=[""],
        help='extra flags of `tsattn train`, one string per variant ("" for the defaults)',
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "seed_config_wall.json")
    args = ap.parse_args()
    log = args.out.with_suffix(".jsonl")
    rows = read_rows(log)
    done = {(r.get("source", "config"), r["seed"], r.get("flags", "")) for r in rows}
    for data in args.data or [None]:
        for seed in args.seeds:
            for flags in args.variants:
                if (data or "config", seed, flags) in done:
                    continue
                row = run(seed, args.config, data, flags)
                rows.append(row)
                append_row(log, row)
    write_result(
        args.out,
        "seed_config_wall",
        "seed_config_wall.py",
        sys.argv[1:],
        target="tsattn train with every default: each dataset in <= 120 s of wall time; the seed config >= 0.999 "
        "accurate in <= 120 s (issue 27)",
        runs=sorted(rows, key=lambda r: (r.get("source", "config"), r["seed"], r.get("flags", ""))),
    )


if __name__ == "__main__":
    main()
