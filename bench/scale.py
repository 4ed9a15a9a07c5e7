"""Scaling `notesynth synth`: the local engine against the Ray engine at 1 and 2 actors.

Takes the first N notes of physionet_nursing_dev.jsonl, runs `notesynth synth` on them once
per engine through the CLI (process start, model and actor loads included), and prints per
run: wall time, the run's own notes/s, the steady rate (first to last note recorded, start-up
left out), speed-up over the local engine, peak RSS of the driver and of each Ray actor, and
whether the written notes are byte-identical to the local engine's.  The Ray runs start a
local cluster of --ray-cpus CPUs (default: this machine's).
    .venv/bin/python bench/scale.py [--limit 1000] [--actors 1,2] [--batch-size 8] [--model DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED, load_jsonl, run_watched


def watch_run(cmd: list[str], journal: Path, env: dict) -> dict:
    """Run ``cmd``; wall time, exit code, the summary line, peak RSS (MB) of the driver and of
    each Ray actor, and when the first and the last manifest rows were recorded."""
    seen: list[tuple[float, int]] = []

    def count_rows(elapsed: float) -> None:
        try:
            n = sum(1 for _ in open(journal, "rb"))
        except OSError:
            return
        if n != (seen[-1][1] if seen else 0):
            seen.append((elapsed, n))

    run = run_watched(cmd, env=env, tick=count_rows)
    err, peaks = run["stderr"], run["peaks"]
    actors = sorted(pid for pid, name in run["names"].items() if "NoteSynthesizer" in name)
    line = next((x for x in reversed(err.strip().splitlines()) if x.startswith("notesynth:")), err[-300:])
    return {"wall": run["wall"], "code": run["code"], "line": line,
            "driver_mb": peaks.get(run["pid"], 0.0), "actor_mb": [peaks[p] for p in actors], "seen": seen}


def steady_rate(seen: list[tuple[float, int]]) -> float | None:
    """Notes/s from the first rows recorded to the last (start-up and model loads left out)."""
    if len(seen) < 2 or seen[-1][0] <= seen[0][0]:
        return None
    return (seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0])


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt"))}


def driver_ceiling(texts: list[str], n: int = 3000) -> dict[str, float]:
    """Notes/s the driver alone can record: the runner's per-note work after a result is back
    (write the output through the sink, journal the manifest row, both fsync'd), for a folder
    output and for Parquet shards.  Past this rate, more actors add nothing."""
    from notesynth.batch.manifest import Manifest
    from notesynth.batch.sinks import Output, open_sink

    rates = {}
    for fmt in ("folder", "parquet"):
        out = Path(tempfile.mkdtemp(prefix=f"notesynth-driver-{fmt}-"))
        sink = open_sink(str(out / "o"), fmt)
        manifest = Manifest(sink.manifest_path)
        start = time.perf_counter()
        for i in range(n):
            path = sink.write(Output(f"n{i:06d}", texts[i % len(texts)], {}))
            manifest.record({"id": f"n{i:06d}", "status": "written", "output": path, "seconds": 0.5})
        sink.close([])
        manifest.close()
        rates[fmt] = n / (time.perf_counter() - start)
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=1000, help="first N notes of the data set")
    ap.add_argument("--actors", default="1,2", help="Ray actor counts to run")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--ray-batch-size", type=int, default=None)
    ap.add_argument("--model", default="")
    ap.add_argument("--data", default=str(SHARED / "phi" / "physionet_nursing_dev.jsonl"))
    args = ap.parse_args()

    rows = load_jsonl(Path(args.data), args.limit)
    work = Path(tempfile.mkdtemp(prefix="notesynth-scale-"))
    src = work / "notes.jsonl"
    src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    base = [sys.executable, "-m", "notesynth.cli", "synth", str(src)]
    common = ["--output-format", "folder", "--seed", "0", "--batch-size", str(args.batch_size)]
    if args.model:
        common += ["--model", args.model]
    runs = [("local", [])]
    for n in (int(x) for x in args.actors.split(",") if x.strip()):
        extra = ["--engine", "ray", "--num-actors", str(n)]
        if args.ray_batch_size:
            extra += ["--ray-batch-size", str(args.ray_batch_size)]
        runs.append((f"ray x{n}", extra))

    load = os.getloadavg()[0]
    print(f"notes: {len(rows)} (first {args.limit} of {Path(args.data).name}); batch size {args.batch_size}; "
          f"CPUs {os.cpu_count()}; load average at start {load:.1f}")
    results = {}
    for name, extra in runs:
        out = work / name.replace(" ", "")
        res = watch_run(base + [str(out)] + common + extra, out / ".manifest.jsonl.journal", env)
        res["outputs"] = outputs(out)
        results[name] = res
        print(f"  {name:8s} exit {res['code']}  {res['line']}", flush=True)

    ref = results["local"]
    print()
    print(f"{'engine':9s} {'wall s':>7s} {'notes/s':>8s} {'steady':>7s} {'speed-up':>8s} {'/actor':>7s} "
          f"{'driver MB':>9s} {'actor MB (each)':>18s}  identical")
    for name, res in results.items():
        rate = len(rows) / res["wall"]
        steady = steady_rate(res["seen"])
        n_actors = int(name.split("x")[1]) if name.startswith("ray") else 1
        speed = (steady / steady_rate(ref["seen"])) if steady and steady_rate(ref["seen"]) else rate / (len(rows) / ref["wall"])
        actor_mb = ", ".join(f"{m:.0f}" for m in res["actor_mb"]) or "-"
        same = "yes" if res["outputs"] == ref["outputs"] and res["outputs"] else "no"
        steady_text = f"{steady:7.2f}" if steady else f"{'-':>7s}"
        print(f"{name:9s} {res['wall']:7.1f} {rate:8.2f} {steady_text} {speed:7.2f}x "
              f"{(steady or rate) / n_actors:7.2f} {res['driver_mb']:9.0f} {actor_mb:>18s}  {same}")
    print(f"\nnotes/s: whole run, process start to exit; steady: first to last note recorded; speed-up: "
          f"steady rate over the local engine's; written notes compared byte for byte with the local run's "
          f"({len(ref['outputs'])} written).  Outputs in {work}")
    ceiling = driver_ceiling([r["text"] for r in rows])
    print("driver ceiling (write + manifest row, fsync'd, per note, no synthesis): "
          + ", ".join(f"{fmt} output {rate:,.0f} notes/s" for fmt, rate in ceiling.items()))


if __name__ == "__main__":
    main()
