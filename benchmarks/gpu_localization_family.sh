#!/usr/bin/env bash
# The localization family (localization_family.py) on a lent GPU machine (the `device` tool of this workplace):
# the default model with its two poolings, every config and seed, several trainings at once. Each finished run
# is appended to $OUT/gpu_localization_family.jsonl, so a run cut short still brings back what it finished.
# Python packages the machine lacks travel as wheels in .whl/ (see the tool's README).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
fi
export OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
OUTDIR=${OUT:-/tmp/gpu_out}
mkdir -p "$OUTDIR"
python3 -c "import torch; print('cuda', torch.cuda.is_available(), torch.__version__)" || exit 1
python3 benchmarks/localization_family.py \
    --models "${MODELS:-inception_attention,inception_attention:pooling=conjunctive}" \
    --seeds ${SEEDS:-0 1 2} --jobs "${JOBS:-8}" --out "$OUTDIR/gpu_localization_family.json" 2>&1 | grep -v Warning
