"""Every model side by side on the seed task, in one `tsattn benchmark` run.

Runs the real command and copies its benchmark.json to
benchmarks/results/models_seed.json (with the command that produced it).

    python benchmarks/models_seed.py [--config configs/seed_default.json] [--name models_seed]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = "cnn_attention,minirocket,lstm_attention,transformer,mlp,cnn"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(HERE.parent / "configs" / "seed_default.json"))
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="models_seed")
    ap.add_argument("--keep", type=Path, help="keep the benchmark directory (its runs) here")
    args = ap.parse_args()
    exe = shutil.which("tsattn")
    cmd = ([exe] if exe else [sys.executable, "-m", "tsattn"]) + [
        "benchmark",
        "--config",
        args.config,
        "--models",
        args.models,
        "--seed",
        str(args.seed),
        "--quiet",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if args.keep:
            tmp = str(args.keep)
        subprocess.run([*cmd, "--out", tmp], check=True)
        result = json.loads((Path(tmp) / "benchmark.json").read_text())
        md = (Path(tmp) / "benchmark.md").read_text()
    result["command"] = " ".join(["tsattn", *cmd[1 if exe else 3 :], "--out", "DIR"])
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results" / f"{args.name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
