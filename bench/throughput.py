"""Throughput of the whole pipeline on CPU: notes/s, words/s, peak RSS.

Synthesizes the first N notes of physionet_nursing_dev.jsonl with the default
model (or --model) and default settings, in batches as the CLI does.
    .venv/bin/python bench/throughput.py [--limit 200] [--model models/default]
"""
from __future__ import annotations

import argparse
import re
import time
from collections import Counter

from _common import SHARED, load_jsonl, peak_rss_mb

from notesynth import SynthConfig, Synthesizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(SHARED / "phi" / "physionet_nursing_dev.jsonl"))
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--model", default="")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    rows = load_jsonl(args.data, args.limit)
    cfg = SynthConfig(model=args.model, batch_size=args.batch_size, device=args.device, seed=0)
    synth = Synthesizer(cfg)
    t0 = time.perf_counter()
    synth.detector, synth.infiller  # noqa: B018 - load outside the timed part
    load_s = time.perf_counter() - t0

    statuses: Counter = Counter()
    words = sum(len(re.findall(r"\w+", r["text"])) for r in rows)
    t0 = time.perf_counter()
    for i in range(0, len(rows), args.batch_size):
        batch = rows[i:i + args.batch_size]
        for res in synth.synthesize_batch([(r["id"], r["text"]) for r in batch]):
            statuses[res.status] += 1
    elapsed = time.perf_counter() - t0
    import torch
    print(f"model: {cfg.resolved_model()}  device: {args.device}  torch threads: {torch.get_num_threads()}")
    print(f"notes: {len(rows)}  words: {words}  load time: {load_s:.1f}s")
    print(f"statuses: {dict(statuses)}")
    print(f"throughput: {len(rows) / elapsed:.2f} notes/s, {words / elapsed:.0f} words/s ({elapsed:.1f}s)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
