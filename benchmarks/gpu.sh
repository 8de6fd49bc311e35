#!/usr/bin/env bash
# On a machine with a CUDA GPU: speed, realistic-source accuracy and the full-preset demo,
# each under its own time limit so that the whole script ends inside 8 minutes; one table
# per part on stdout, logs under $OUT (or /tmp). Usage: bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_bench}; mkdir -p "$OUT"
# A GPU image that already holds CUDA torch and the project's imports is used as it is (such
# machines may have no network for make venv); elsewhere the project's own .venv.
if python3 -c "import torch, numpy, mpi4py.MPI, matplotlib, tqdm
assert torch.cuda.is_available()" 2>/dev/null; then
    PY=python3
else
    make venv >"$OUT/venv.log" 2>&1 || { echo "venv failed, see $OUT/venv.log"; exit 1; }
    PY=.venv/bin/python
fi
$PY -c "import torch; print('torch', torch.__version__)"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
echo "## speed"; timeout 60 $PY benchmarks/speed.py --device cuda:0
echo "## training (activations/)"
timeout 90 $PY train_model.py --devices 0 | tail -1
echo "## realistic sources, full preset"
timeout 180 $PY benchmarks/realistic_sources.py --preset full --device cuda:0 \
    --jobs hidden1:1000,hidden2:9000 --no-refit
echo "## full-preset demo (one rank, an MPI singleton: no mpirun needed)"
start=$(date +%s)
timeout 150 $PY generator.py --devices 0 --preset full \
    --results-dir "$OUT/results" >"$OUT/generator.log" 2>&1
echo "generator exit $? in $(( $(date +%s) - start )) s"
$PY -c "
from infoplane import plotting, results
rows, status = results.load_rows('$OUT/results')  # a run cut by its limit is unmerged
print(status)
print(plotting.results_table(rows) if rows else '')" 2>&1 | tail -22
