#!/usr/bin/env bash
# Run every benchmark in sequence on an otherwise idle machine; each prints its figures.
# Usage: bench/run_all.sh [logdir]   (default runs/bench)
set -u
cd "$(dirname "$0")/.."
LOG=${1:-runs/bench}
mkdir -p "$LOG"
PY=.venv/bin/python
for b in mlm_quality throughput phi_recall privacy batch keep_list utility; do
    echo "== $b $(date -u +%H:%M:%S)"
    $PY bench/$b.py > "$LOG/$b.log" 2>&1
    echo "   exit $? ($(date -u +%H:%M:%S))"
done
