"""The demo's BiLSTM under a change of training: the test split's pointing game after every epoch, and the run's
metrics, as ``tsattn demo`` trains it otherwise.

Each (variant, seed) trains ``lstm_attention`` on the seed config with the seed recipe and the variant's
settings over it (a JSON object of :class:`~tsattn.config.TrainConfig` keys; ``{}`` is the recipe itself), through
``workflows.train_command``, the CLI's path. The weights after every epoch are kept in memory and scored on the
test split afterwards, so that a row shows when the attention settles, not only where it ends. One JSON line
per finished run goes to the ``.jsonl`` beside ``--out``; a rerun skips what is there.

    python benchmarks/demo_variants.py --variants '{}' '{"label_smoothing": 0.1}' [--seeds 0 1]
        [--out benchmarks/results/demo_variants.json]

The per-epoch scores use the test split's anomalous series and the pointing game's tolerance of 1 % of T, as
``metrics.json`` does; they can differ from its figure by a few thousandths where the run's best epoch is not
its last.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from demo_scaling import SEED_CONFIG
from localization import append_row, read_rows, write_result


def run(given: dict[str, Any], seed: int, config: Path) -> dict[str, Any]:
    import numpy as np
    from lightning.pytorch.callbacks import Callback

    from tsattn import run as rundir
    from tsattn import workflows
    from tsattn.evaluation.explain import explain
    from tsattn.evaluation.localization import pointing_game
    from tsattn.training import trainer
    from tsattn.workflows import DataSpec
    from tsattn.workflows._data import data_source, split_part

    states: list[dict[str, Any]] = []

    class KeepEveryEpoch(Callback):  # type: ignore[misc]
        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            states.append(copy.deepcopy(pl_module.net.state_dict()))

    callbacks = trainer._callbacks
    trainer._callbacks = lambda *a, **k: [*callbacks(*a, **k), KeepEveryEpoch()]  # benchmark-only hook
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run"
            workflows.train_command("lstm_attention", {"seed": seed, **given}, out, DataSpec(config=config), quiet=True)
            m = json.loads((out / "metrics.json").read_text())
            loaded = rundir.load_run(out)
            full, _ = data_source(loaded.config)
            test = full.subset(split_part(out / rundir.SPLIT, "test"))
    finally:
        trainer._callbacks = callbacks
    keep = test.extras["segment_start"] >= 0
    X = np.asarray(test.X[keep], np.float32)
    start, end = test.extras["segment_start"][keep], test.extras["segment_end"][keep]
    per_epoch = []
    for state in states:
        loaded.net.load_state_dict(state)
        per_epoch.append(round(pointing_game(explain(loaded, X, method="attention"), start, end), 3))
    loc = m.get("localization", {})
    return {
        "variant": given,
        "seed": seed,
        "accuracy": m["accuracy"],
        "roc_auc": m.get("roc_auc"),
        "train_seconds": round(m["train_seconds"], 1),
        "epochs": m.get("epochs_run"),
        "pointing_game": loc.get("pointing_game"),
        "span_iou": loc.get("span_iou"),
        "shift_median": loc.get("shift_median"),
        "mass_inside": loc.get("mass_inside"),
        "pointing_per_epoch": per_epoch,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["{}"], help="JSON objects of TrainConfig keys")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--config", type=Path, default=SEED_CONFIG)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "demo_variants.json")
    args = ap.parse_args()
    log = args.out.with_suffix(".jsonl")
    rows = read_rows(log)
    for seed in args.seeds:
        for text in args.variants:
            given = json.loads(text)
            if any(r["variant"] == given and r["seed"] == seed for r in rows):
                continue
            row = run(given, seed, args.config)
            rows.append(row)
            append_row(log, row)
    write_result(
        args.out,
        "demo_variants",
        "demo_variants.py",
        sys.argv[1:],
        runs=sorted(rows, key=lambda r: (json.dumps(r["variant"], sort_keys=True), r["seed"])),
    )


if __name__ == "__main__":
    main()
