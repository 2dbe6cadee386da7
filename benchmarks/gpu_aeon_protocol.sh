#!/usr/bin/env bash
# The published protocol (aeon_protocol.py) on a lent GPU machine (the `device` tool of this workplace): one
# process per dataset in parallel, each appending to gpu_aeon_protocol.jsonl, then one pass that writes the
# summary. Python packages the machine lacks travel as wheels in .whl/ (see the tool's README).
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
python3 -c "import tsattn.aeon" || exit 1
rm -f benchmarks/results/gpu_aeon_protocol.json benchmarks/results/gpu_aeon_protocol.jsonl
for d in GunPoint ItalyPowerDemand BasicMotions PickupGestureWiimoteZ ArrowHead OSULeaf; do
    python3 benchmarks/aeon_protocol.py --datasets "$d" --name gpu_aeon_protocol.json >"$OUTDIR/log_$d.txt" 2>&1 &
done
wait
python3 benchmarks/aeon_protocol.py --name gpu_aeon_protocol.json >"$OUTDIR/summary.txt" 2>&1
cat "$OUTDIR"/log_*.txt | grep -v Warning >"$OUTDIR/logs.txt"; rm -f "$OUTDIR"/log_*.txt
cp benchmarks/results/gpu_aeon_protocol.json benchmarks/results/gpu_aeon_protocol.jsonl "$OUTDIR"/
cat "$OUTDIR/summary.txt"
