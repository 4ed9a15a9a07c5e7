"""Throughput of the whole pipeline: notes/s, words/s, attempts, seconds per note, peak RSS,
and where the time goes (detection, fill forward, fill sampling, checking).

Two sets with default settings, in batches as the CLI does:
  nursing: the first 200 notes of physionet_nursing_dev.jsonl (short ICU nursing notes)
  long:    ~500-word MTSamples notes the default model never trained on (its held-out 5%)

    .venv/bin/python bench/throughput.py [--sets nursing,long] [--limit 200] [--long-limit 40]
        [--backend auto|torch|onnx] [--device cpu|cuda] [--batch-size 8] [--model models/default]

On a GPU the forward/sampling split is approximate (kernels run asynchronously).
Seconds per note: the wall time of the note's batch divided by its notes (exact with
--batch-size 1).  Time shares come from perf_counter accumulators around the detector,
the fill (the infiller's own timers: forward = encoder + vocabulary head at the masked
positions; sampling) and the checker.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter

from _common import SHARED, corpus_heldout, load_jsonl, peak_rss_mb

from notesynth import SynthConfig, Synthesizer


class Timer:
    """Wraps a bound method, adding its wall time to a named accumulator; a call made
    inside another timed call (the checker runs the detector) counts for the outer one."""

    active: list = []

    def __init__(self, totals: dict, name: str, fn):
        self.totals, self.name, self.fn = totals, name, fn

    def __call__(self, *args, **kwargs):
        if Timer.active:
            return self.fn(*args, **kwargs)
        Timer.active.append(self.name)
        t = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            Timer.active.pop()
            self.totals[self.name] = self.totals.get(self.name, 0.0) + time.perf_counter() - t


def long_notes(limit: int, trained_as: str | None = None, lo: int = 400, hi: int = 650) -> list[dict]:
    """MTSamples notes of about 500 words that the model never trained on: the 5% of
    mtsamples.jsonl its `notesynth train` held out (``trained_as``: see _common.corpus_heldout),
    so the memorisation check measures synthesis, not recall of training text."""
    rows = [r for r in corpus_heldout(["mtsamples.jsonl"], trained_as)["mtsamples.jsonl"]
            if lo <= len(r["text"].split()) <= hi]
    rows.sort(key=lambda r: ("discharge" not in r.get("specialty", "").lower(), r["id"]))
    return [{"id": r["id"], "text": r["text"]} for r in rows[:limit]]


def run_set(name: str, rows: list[dict], synth: Synthesizer, batch_size: int, totals: dict) -> dict:
    for k in list(totals):
        totals[k] = 0.0
    infiller = synth.infiller
    before = dict(infiller.timings)
    words = sum(len(re.findall(r"\w+", r["text"])) for r in rows)
    statuses: Counter = Counter()
    attempts, seconds, risks = [], [], []
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), batch_size):
        batch = rows[i:i + batch_size]
        for res in synth.synthesize_batch([(r["id"], r["text"]) for r in batch]):
            statuses[res.status] += 1
            attempts.append(res.attempts)
            if res.report is not None:
                risks.append(res.report.risk)
            seconds.append(res.seconds)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    seconds.sort()
    fill = totals.get("fill", 0.0)
    spent = {k: infiller.timings[k] - before[k] for k in before}
    forward, head, sampling = spent["forward"], spent["head"], spent["sampling"]
    share = {"detect": totals.get("detect", 0.0), "fill": fill, "fill_forward": forward + head,
             "fill_encoder": forward, "fill_head": head, "fill_sampling": sampling,
             "fill_other": fill - forward - head - sampling, "check": totals.get("check", 0.0)}
    share = {k: round(v / elapsed, 3) for k, v in share.items()}
    share["other"] = round(1 - share["detect"] - share["fill"] - share["check"], 3)
    return {
        "set": name, "notes": len(rows), "words": words, "seconds": round(elapsed, 1),
        "notes_per_s": round(len(rows) / elapsed, 2), "cpu_s_per_note": round(cpu / len(rows), 3), "words_per_s": round(words / elapsed),
        "attempts_per_note": round(sum(attempts) / len(rows), 2),
        "s_per_note_p50": round(seconds[len(seconds) // 2], 3),
        "s_per_note_p95": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 3),
        "s_per_note_max": round(seconds[-1], 3),
        "statuses": dict(statuses), "share": share,
        "mean_risk": round(sum(risks) / max(1, len(risks)), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED / "phi" / "physionet_nursing_dev.jsonl"))
    ap.add_argument("--sets", default="nursing,long")
    ap.add_argument("--limit", type=int, default=200, help="nursing notes")
    ap.add_argument("--long-limit", type=int, default=40, help="~500-word notes")
    ap.add_argument("--train-corpus", default=None,
                    help="the corpus folder as the model's training command spelled it (its card); the split "
                         "of held-out documents depends on it (default: ../shared/data/corpus, absolute)")
    ap.add_argument("--model", default="")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--remask", type=float, default=0.0, help="share of fills re-masked per later pass")
    ap.add_argument("--window", type=int, default=SynthConfig().window)
    ap.add_argument("--passes", type=int, default=SynthConfig().passes)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()

    cfg = SynthConfig(model=args.model, batch_size=args.batch_size, device=args.device, backend=args.backend,
                      remask=args.remask, window=args.window, passes=args.passes, seed=0)
    synth = Synthesizer(cfg)
    t0 = time.perf_counter()
    synth.detector, synth.infiller, synth.checker  # noqa: B018 - load outside the timed part
    load_s = time.perf_counter() - t0
    totals: dict[str, float] = {}
    # accumulators around the three steps (instance attributes shadow the methods: cheap, local)
    synth.detector.detect = Timer(totals, "detect", synth.detector.detect)
    synth.detector.detect_many = Timer(totals, "detect", synth.detector.detect_many)
    synth.infiller.fill = Timer(totals, "fill", synth.infiller.fill)
    synth.checker.check = Timer(totals, "check", synth.checker.check)
    synth.checker.check_many = Timer(totals, "check", synth.checker.check_many)

    import torch
    backend = synth.infiller.backend.name
    print(f"model: {cfg.resolved_model()}  device: {args.device}  backend: {backend}  "
          f"torch threads: {torch.get_num_threads()}  batch size: {args.batch_size}  "
          f"remask: {args.remask}  window: {args.window}  passes: {args.passes}")
    print(f"load time: {load_s:.1f}s  load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    results = []
    for name in args.sets.split(","):
        rows = load_jsonl(args.data, args.limit) if name == "nursing" else long_notes(args.long_limit, args.train_corpus)
        res = run_set(name, rows, synth, args.batch_size, totals)
        res["backend"] = backend
        res["load_average_after"] = round(os.getloadavg()[0], 2)
        results.append(res)
        mean_words = res["words"] / res["notes"]
        print(f"\n[{name}] {res['notes']} notes, {mean_words:.0f} words/note, statuses {res['statuses']}, "
              f"mean risk {res['mean_risk']}")
        print(f"  throughput: {res['notes_per_s']:.2f} notes/s, {res['words_per_s']} words/s ({res['seconds']}s)")
        print(f"  CPU time: {res['cpu_s_per_note']:.3f} s/note (all threads; the machine's load inflates wall time)")
        print(f"  attempts/note: {res['attempts_per_note']}  s/note p50 {res['s_per_note_p50']}  "
              f"p95 {res['s_per_note_p95']}  max {res['s_per_note_max']}")
        print("  time shares: " + "  ".join(f"{k} {v:.1%}" for k, v in res["share"].items()))
        print(f"  load average after: {res['load_average_after']}")
    print(f"\npeak RSS: {peak_rss_mb():.0f} MB")
    gpu_mb = None
    if args.device != "cpu" and torch.cuda.is_available():
        gpu_mb = round(torch.cuda.max_memory_allocated() / 2**20)
        print(f"peak GPU memory (torch allocator): {gpu_mb} MB")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"results": results, "peak_rss_mb": round(peak_rss_mb()), "peak_gpu_mb": gpu_mb, "backend": backend,
                       "device": args.device, "batch_size": args.batch_size}, fh, indent=1)


if __name__ == "__main__":
    main()
