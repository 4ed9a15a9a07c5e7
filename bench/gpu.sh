#!/usr/bin/env bash
# Notes/s and peak memory on the CPU and on a GPU, for the same nursing notes (default 500).
#
#   bash bench/gpu.sh [N]          # from anywhere; PYTHON=... to use another interpreter
#
# CPU: default settings (backend auto: the int8 ONNX encoder when models/default has it).
# GPU: --device cuda, torch backend in fp16 (fp32 if the model is not finite in fp16),
#      64 notes per batch and at least 64 windows per forward pass.
# Needs a CUDA build of torch on a machine with a GPU; not part of the tests.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-../.venv/bin/python}
N=${1:-500}

"$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "gpu.sh: no CUDA GPU visible to torch")'
"$PY" -c 'import torch; print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)'
echo "CPUs: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"

show='backend|throughput|CPU time|s/note|peak|statuses'
echo "== CPU: $N nursing notes, default settings =="
"$PY" throughput.py --sets nursing --limit "$N" --device cpu --batch-size 8 | grep -E "$show"
echo "== GPU: the same $N notes, --device cuda --batch-size 64 =="
"$PY" throughput.py --sets nursing --limit "$N" --device cuda --batch-size 64 | grep -E "$show"
