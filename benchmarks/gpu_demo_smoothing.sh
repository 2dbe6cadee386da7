#!/usr/bin/env bash
# The demo's network (lstm_attention, the seed's BiLSTM) on the seed config with attention smoothing W, on a lent
# GPU machine: one `tsattn train` per (W, seed) at once, each run's metrics reduced to one JSON line in
# $OUT/gpu_demo_smoothing.jsonl. Exploratory: GPU arithmetic is not the CPU's; a chosen W is confirmed on CPU.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
for w in ${WEIGHTS:-0 0.002 0.01}; do
    for s in ${SEEDS:-0 1}; do
        (
            python3 -m tsattn train --config configs/seed_default.json --model lstm_attention --seed "$s" \
                --attention-smoothing "$w" --out "/tmp/demo_${w}_${s}" --quiet --logger none >"/tmp/log_${w}_${s}.txt" 2>&1
            python3 - "$w" "$s" >>"$OUTDIR/gpu_demo_smoothing.jsonl" <<'PY'
import json, sys
w, s = sys.argv[1], int(sys.argv[2])
m = json.load(open(f"/tmp/demo_{w}_{s}/metrics.json"))
loc = m.get("localization", {})
print(json.dumps({"attention_smoothing": float(w), "seed": s, "accuracy": m["accuracy"], "roc_auc": m["roc_auc"],
                  "epochs": m.get("epochs_run"), "train_seconds": m.get("train_seconds"),
                  **{k: loc.get(k) for k in ("pointing_game", "mass_inside", "span_iou", "shift_median")}}))
PY
        ) &
    done
done
wait
cat "$OUTDIR/gpu_demo_smoothing.jsonl"
