"""Occlusion agreement of kept family runs under several window widths and baselines, against the pointing game.

`benchmarks/localization_family.py --keep DIR` keeps every run directory and
the config its data were generated from. This script reloads each run, takes
`--series` test series (evenly spaced, as `evaluate` does), scores the
attention (and the class map, where the model has one) with
:func:`~tsattn.evaluation.faithfulness.occlusion_scores` for windows of 5, 10
and 20 % of the series under the interpolation and blur baselines, and writes
one JSON line per run, then the Spearman rank correlation of every variant
with the run's pointing game over all maps of all runs (the issue's criterion
is 0.7). The ground-truth pointing game on the same series is given too, to
show how much of the disagreement is the sample of series.

    python benchmarks/rescore_occlusion.py --keep DIR [--series 96] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import append_row, read_rows, write_result
from localization_family import spearman

from tsattn.config import DatasetConfig
from tsattn.data import generate
from tsattn.evaluation.explain import explain, has_class_map
from tsattn.evaluation.faithfulness import OCCLUSION_KEYS, occlusion_drops, occlusion_scores
from tsattn.evaluation.localization import pointing_game
from tsattn.run import load_run

WINDOWS = (0.05, 0.1, 0.2)
BASELINES = ("interpolation", "blur")
SCORES = tuple(k for k in OCCLUSION_KEYS if not k.startswith("random_"))  # the chance level is no score


def rescore(kept: Path, n_series: int) -> dict:
    """Every variant's occlusion scores of one kept run's maps, beside its pointing game and deletion gain."""
    loaded = load_run(kept / "run")
    seed = json.loads((kept / "run" / "config.json").read_text())["seed"]
    data = generate(DatasetConfig(**json.loads((kept / "config.json").read_text())), seed=seed)
    test = np.load(kept / "run" / "split.npz")["test"]
    rows = test[np.unique(np.linspace(0, len(test) - 1, min(n_series, len(test))).astype(np.int64))]
    X = np.asarray(data.X[rows], dtype=np.float32)
    scaled = loaded.scaler.transform(X)
    metrics = json.loads((kept / "run" / "metrics.json").read_text())
    maps = {
        m: explain(loaded, X, method=m) for m in ["attention"] + (["class_map"] if has_class_map(loaded.net) else [])
    }
    out: dict = {"run": kept.name, "accuracy": metrics["accuracy"], "n_series": len(rows), "maps": {}}
    for window in WINDOWS:
        for baseline in BASELINES:
            occ = occlusion_drops(loaded.logits_of_scaled, scaled, window=window, baseline=baseline)
            for m, R in maps.items():
                out["maps"].setdefault(m, {})[f"{window}_{baseline}"] = occlusion_scores(R, occ)
    for m, R in maps.items():
        loc = metrics["localization"] if m == "attention" else metrics["localization"]["class_map"]
        out["maps"][m] |= {
            "pointing_game": loc["pointing_game"],
            "pointing_game_on_these_series": pointing_game(
                R, data.extras["segment_start"][rows], data.extras["segment_end"][rows]
            ),
            "deletion_gain": metrics["faithfulness"][m]["deletion_gain"],
        }
    return out


def correlations(records: list[dict]) -> dict:
    """Spearman of each variant's score (and of the deletion gain) with the pointing game, over every map."""
    maps = [s for r in records for s in r["maps"].values()]
    pg = [s["pointing_game"] for s in maps]
    out: dict = {"n_maps": len(maps)}
    for window in WINDOWS:
        for baseline in BASELINES:
            key = f"{window}_{baseline}"
            for score in SCORES:
                pairs = [(s[key][score], p) for s, p in zip(maps, pg, strict=True) if s[key][score] is not None]
                out[f"{key}_{score}"] = spearman([a for a, _ in pairs], [b for _, b in pairs])
    for key in ("pointing_game_on_these_series", "deletion_gain"):
        out[key] = spearman([s[key] for s in maps], pg)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, required=True, help="the --keep DIR of localization_family.py")
    ap.add_argument("--series", type=int, default=96)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "occlusion_variants.json")
    args = ap.parse_args()
    log = args.out.with_suffix(".jsonl")
    records = read_rows(log)
    done = {r["run"] for r in records}
    for kept in sorted(p for p in args.keep.iterdir() if (p / "run" / "metrics.json").is_file()):
        if kept.name not in done:
            records.append(rescore(kept, args.series))
            append_row(log, records[-1])  # one line per run: a stop loses nothing
    corr = correlations(records)
    write_result(
        args.out,
        "occlusion agreement variants against the pointing game",
        "rescore_occlusion.py",
        sys.argv[1:],
        runs=len(records),
        rank_correlation_with_pointing_game=corr,
    )
    print(json.dumps(corr, indent=1))


if __name__ == "__main__":
    main()
