#!/usr/bin/env bash
# The published protocol (aeon_protocol.py) on a lent GPU machine (the `device` tool of this workplace): one
# process per dataset in parallel, each appending to gpu_aeon_protocol.jsonl, then one pass that writes the
# summary. Python packages the machine lacks travel as wheels in .whl/ (see the tool's README).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
fi
export OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
OUTDIR=${OUT:-/tmp/gpu_out}
mkdir -p "$OUTDIR"
python3 -c "import torch, tsattn.aeon; print('cuda', torch.cuda.is_available(), torch.__version__)" || exit 1
rm -f benchmarks/results/gpu_aeon_protocol.json benchmarks/results/gpu_aeon_protocol.jsonl
for d in GunPoint ItalyPowerDemand BasicMotions PickupGestureWiimoteZ ArrowHead OSULeaf; do
    python3 benchmarks/aeon_protocol.py --datasets "$d" --name gpu_aeon_protocol.json >"$OUTDIR/log_$d.txt" 2>&1 &
done
wait
python3 benchmarks/aeon_protocol.py --name gpu_aeon_protocol.json >"$OUTDIR/summary.txt" 2>&1
cat "$OUTDIR"/log_*.txt | grep -v Warning >"$OUTDIR/logs.txt"; rm -f "$OUTDIR"/log_*.txt
cp benchmarks/results/gpu_aeon_protocol.json benchmarks/results/gpu_aeon_protocol.jsonl "$OUTDIR"/
cat "$OUTDIR/summary.txt"
