"""Where faithfulness and the pointing game disagree: are they the runs whose attention misses late, on the jump?

Issue 28 asks the faithfulness scores to rank runs as the ground-truth pointing game does (Spearman >= 0.7 over
models x seeds x configs) and, where they do not, to say where they disagree. ``peak_direction.py`` finds the
default model's misses mostly past the segment's end, where the anomaly's jump is: a map there is faithful (the
model reads the jump) and misses. This script reads kept runs (``localization_family.py --keep``) and gives:

* per run: the attention's pointing game (``metrics.json``), the shares of misses before the start and after the
  end (:func:`peak_position.misses`, test split), and the attention's faithfulness scores (``metrics.json``);
* over the runs: the Spearman correlation of each score with the pointing game, and with the pointing game that
  counts late misses as hits (``pointing + after_end_missed``). If the second is much the higher, the scores
  disagree with the ground truth mostly where the attention sits past the end.

    python benchmarks/faithfulness_agreement.py --runs RUN [RUN ...] [--out FILE.json]
    python benchmarks/faithfulness_agreement.py --keep DIR  # every DIR/*/run that localization_family.py kept
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import rescore_kept_runs, segment_attention
from localization_family import spearman
from peak_position import misses

SCORES = ("deletion_gain", "comprehensiveness_gain", "sufficiency_gain", "aopcr", "aopcr_normalized")


def rescore(run: Path) -> dict | None:
    """One run's pointing game, misses and attention faithfulness; ``None`` without segments or attention."""
    parts = segment_attention(run)
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    faith = (metrics.get("faithfulness") or {}).get("attention")
    if parts is None or faith is None or "localization" not in metrics:
        return None
    config = json.loads((Path(run) / "config.json").read_text())
    return {
        "run": str(run),
        "model": config.get("model"),
        "model_params": (config.get("train") or {}).get("model_params"),
        "pointing_game": metrics["localization"]["pointing_game"],
        "misses": misses(*parts["test"]),
        "faithfulness": {k: faith.get(k) for k in SCORES},
    }


def summarize(rows: list[dict]) -> dict:
    """Each score's Spearman correlation with the pointing game, and with late misses counted as hits."""
    rows = [r for r in rows if all(r["faithfulness"].get(k) is not None for k in SCORES)]
    strict = [r["pointing_game"] for r in rows]
    late_as_hits = [r["pointing_game"] + r["misses"]["after_end_missed"] for r in rows]

    def rho(key: str, truth: list[float]) -> float | None:
        value = spearman([r["faithfulness"][key] for r in rows], truth)
        return None if value is None else round(value, 3)

    return {
        "runs": len(rows),
        "spearman_with_pointing": {k: rho(k, strict) for k in SCORES},
        "spearman_with_late_misses_as_hits": {k: rho(k, late_as_hits) for k in SCORES},
        "late_misses_median": float(np.median([r["misses"]["after_end_missed"] for r in rows])) if rows else None,
    }


def main() -> None:
    rescore_kept_runs(__doc__, "faithfulness_agreement", rescore, summarize)


if __name__ == "__main__":
    main()
