"""Series per second of a forward pass on the CPU against the batch size: what chose ``inference.CPU_STEPS``.

Untrained networks (the timing does not depend on the weights), 1,024 random
series per timed call after a warm-up, the best of 3 calls. The default model
is timed as it is trained: an ensemble of 3.

    python benchmarks/inference_batch.py [--out benchmarks/results/inference_batch.json]
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
from localization import write_result

CASES = [  # (model, ensemble, channels, length)
    ("inception_attention", 3, 1, 500),
    ("inception_attention", 3, 1, 24),
    ("inception_attention", 1, 3, 2000),
    ("cnn_attention", 1, 1, 500),
    ("cnn_attention", 1, 1, 2000),
    ("lstm_attention", 1, 1, 500),
]
BATCHES = (1024, 512, 256, 128, 64, 32)


def main() -> None:
    import torch

    from tsattn.inference import inference_batch, predict_arrays
    from tsattn.models import create_network

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "inference_batch.json")
    args = ap.parse_args()
    rows = []
    for name, ensemble, C, T in CASES:
        torch.manual_seed(0)
        net = create_network(name, n_channels=C, n_classes=2, seq_len=T, ensemble=ensemble)
        X = np.random.default_rng(0).standard_normal((1024, C, T)).astype(np.float32)
        rates = {}
        for bs in BATCHES:
            predict_arrays(net, X[:bs], batch_size=bs)
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                predict_arrays(net, X, batch_size=bs)
                best = min(best, time.perf_counter() - t)
            rates[bs] = round(len(X) / best, 1)
        row = {"model": name, "ensemble": ensemble, "channels": C, "length": T, "series_per_second": rates}
        default = inference_batch(torch.device("cpu"), T)
        row["default_batch"] = default
        row["default_over_best"] = round(rates[default] / max(rates.values()), 2)
        row["default_over_1024"] = round(rates[default] / rates[1024], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_result(
        args.out,
        "inference_batch",
        "inference_batch.py",
        sys.argv[1:],
        torch_threads=torch.get_num_threads(),
        rows=rows,
    )


if __name__ == "__main__":
    main()
