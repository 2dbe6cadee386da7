"""How much the length alone tells: 1-nearest-neighbour on the series' length, official split.

Backs the README's figure for PickupGestureWiimoteZ (why every variable-length model adds length
offsets, `tsattn.layers.LengthLogits`). Writes benchmarks/results/length_only.json.

    python benchmarks/length_only.py [--datasets PickupGestureWiimoteZ]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from localization import git_commit


def lengths_of(ds) -> np.ndarray:
    return ds.lengths if ds.lengths is not None else np.full(len(ds), ds.seq_len)


def one_nn_on_length(train, test) -> float:
    """Accuracy of labelling each test series with the class of the training series nearest in length
    (ties: the first such training series, in file order)."""
    a, b = lengths_of(train).astype(float), lengths_of(test).astype(float)
    nearest = np.abs(b[:, None] - a[None, :]).argmin(1)
    names = np.asarray(train.class_names)[train.y[nearest]]
    return float(np.mean(names == np.asarray(test.class_names)[test.y]))


def main() -> None:
    from tsattn.data.ucr import load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="PickupGestureWiimoteZ")
    args = ap.parse_args()
    rows = {}
    for name in args.datasets.split(","):
        train, test = load(name)
        counts = np.bincount(train.y)
        rows[name] = {
            "accuracy_1nn_on_length": one_nn_on_length(train, test),
            "majority_class_accuracy": float(np.mean(test.y == counts.argmax())),
            "n_classes": len(train.class_names),
            "n_train": len(train),
            "n_test": len(test),
            "train_lengths": [int(lengths_of(train).min()), int(lengths_of(train).max())],
        }
        print(name, rows[name], flush=True)
    result = {
        "benchmark": "length_only",
        "datasets": rows,
        "command": "python benchmarks/length_only.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
    }
    (HERE / "results" / "length_only.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
