"""Batch runs through the CLI: --workers 1 vs 2, peak RSS per worker, time to resume.

Cycles physionet_nursing_dev.jsonl to N notes (unique ids), writes them as a JSONL
input, and times `notesynth synth` end to end (process start and model load included).
    .venv/bin/python bench/batch.py [--notes 1000] [--workers 1,2]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _common import SHARED, load_jsonl, run_watched


def run_and_watch(cmd: list[str]) -> tuple[float, int, dict[int, float]]:
    """Wall time, exit code and peak RSS (MB) per process of the tree."""
    run = run_watched(cmd, interval=0.5)
    tail = run["stderr"].strip().splitlines()[-1:]
    print(f"    {' '.join(tail)}")
    return run["wall"], run["code"], run["peaks"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--notes", type=int, default=1000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--model", default="")
    args = ap.parse_args()

    rows = load_jsonl(SHARED / "phi" / "physionet_nursing_dev.jsonl")
    work = Path(tempfile.mkdtemp(prefix="notesynth-batch-"))
    src = work / "notes.jsonl"
    with open(src, "w") as fh:
        for i in range(args.notes):
            r = rows[i % len(rows)]
            fh.write(json.dumps({"id": f"{r['id']}-{i // len(rows)}", "text": r["text"]}) + "\n")
    exe = [sys.executable, "-m", "notesynth.cli", "synth"]
    model = ["--model", args.model] if args.model else []
    rates = {}
    outputs = {}
    for w in [int(x) for x in args.workers.split(",")]:
        out = work / f"out-w{w}.jsonl"
        print(f"--workers {w}: {args.notes} notes")
        elapsed, code, peaks = run_and_watch(exe + [str(src), str(out), "--workers", str(w), "-q", *model])
        rates[w] = args.notes / elapsed
        outputs[w] = out.read_bytes() if out.exists() else b""
        worker_peaks = sorted(peaks.values(), reverse=True)
        print(f"    exit {code}, {elapsed:.0f}s, {rates[w]:.2f} notes/s (process start and model load included)")
        print(f"    peak RSS per process (MB): {', '.join(f'{p:.0f}' for p in worker_peaks[: w + 1])}")
    if len(rates) > 1:
        ws = sorted(rates)
        print(f"speed-up {ws[-1]} vs {ws[0]} workers: {rates[ws[-1]] / rates[ws[0]]:.2f}x")
        print(f"outputs identical across worker counts: {len(set(outputs.values())) == 1}")
    w0 = sorted(rates)[0]
    print("resume a finished run (same command again):")
    elapsed, code, _ = run_and_watch(exe + [str(src), str(work / f"out-w{w0}.jsonl"), "--workers", str(w0), "-q", *model])
    print(f"    exit {code}, {elapsed:.1f}s = {elapsed * rates[w0] / args.notes:.3f} of the first run")
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
