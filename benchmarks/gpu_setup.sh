# Sourced by the gpu_*.sh scripts on a lent GPU machine (the `device` tool of this workplace): Python packages the
# machine lacks travel as wheels in .whl/ (see the tool's README) and are installed beside the source tree;
# OUTDIR is where results go ($OUT, which comes back).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
fi
export OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1
OUTDIR=${OUT:-/tmp/gpu_out}
mkdir -p "$OUTDIR"
python3 -c "import torch; print('cuda', torch.cuda.is_available(), torch.__version__)" || exit 1
