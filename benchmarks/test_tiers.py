"""Wall time of the two test tiers: `make test` (the fast tier) and `make test-slow`.

Runs each tier with the project's venv, as the Makefile does, and records its wall time and
pytest's closing line. Writes benchmarks/results/test_tiers.json (the README's tier timings).

    python benchmarks/test_tiers.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit


def run_tier(marker: str | None) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + (["-m", marker] if marker else [])
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    return {
        "command": " ".join(["python -m pytest"] + (["-m", marker] if marker else [])),
        "wall_seconds": round(time.perf_counter() - t, 1),
        "exit_code": r.returncode,
        "closing_line": lines[-1] if lines else "",
    }


def main() -> None:
    result = {
        "benchmark": "test_tiers",
        "fast": run_tier(None),
        "slow": run_tier("slow"),
        "cpu_count": os.cpu_count(),
        "command": "python benchmarks/test_tiers.py",
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    (HERE / "results" / "test_tiers.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
