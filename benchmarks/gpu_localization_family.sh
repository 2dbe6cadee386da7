#!/usr/bin/env bash
# The localization family (localization_family.py) on a lent GPU machine (the `device` tool of this workplace):
# the default model with its two poolings, every config and seed, several trainings at once. Each finished run
# is appended to $OUT/gpu_localization_family.jsonl, so a run cut short still brings back what it finished.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
python3 benchmarks/localization_family.py \
    --models "${MODELS:-inception_attention,inception_attention:pooling=conjunctive}" \
    --seeds ${SEEDS:-0 1 2} --jobs "${JOBS:-8}" --out "$OUTDIR/gpu_localization_family.json" 2>&1 | grep -v Warning
