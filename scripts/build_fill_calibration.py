"""Write MODEL/fill_calibration.json: the per-word fill calibration (notesynth/infill/calibration.py).

Masks the model's own training notes as ``synth`` does (PHI replaced by surrogates, protected
medical words kept, unknown words and a random share ``mask_ratio`` of the others masked),
fills them, and counts, per one-piece fill word, how often the masks took it away and how
often the model put it back; a few rounds, each with the bias so far in place.  For the shipped
model the notes are the nursing notes of its training patients (patient number not divisible
by 5) and a sample of its corpus documents, so the benchmarks' held-out patients stay unseen.
A dev tool (it reads ``../shared/data``); ``adapt`` calibrates on the site's notes itself.

    .venv/bin/python scripts/build_fill_calibration.py [--model models/default] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def training_notes(corpus_docs: int, seed: int) -> list[str]:
    nursing = [json.loads(line) for line in (SHARED / "phi" / "physionet_nursing_dev.jsonl").open(encoding="utf-8")]
    notes = [r["text"] for r in nursing if int(re.match(r"pn-(\d+)", r["id"]).group(1)) % 5 != 0]
    rng = random.Random(seed)
    for name in ("mtsamples.jsonl", "e3c_case_reports.jsonl"):
        rows = [json.loads(line) for line in (SHARED / "corpus" / name).open(encoding="utf-8")]
        notes += [r["text"] for r in rng.sample(rows, min(corpus_docs, len(rows)))]
    return notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus-docs", type=int, default=150, help="documents sampled from each corpus file")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = ap.parse_args()

    from notesynth.infill.calibration import calibrate, write_calibration

    notes = training_notes(args.corpus_docs, args.seed)
    started = time.perf_counter()
    bias, history = calibrate(args.model, notes, rounds=args.rounds, seed=args.seed, log=print)
    print(f"{len(notes)} notes, {args.rounds} rounds, {time.perf_counter() - started:.0f} s; "
          f"{len(bias)} words carry a bias")
    for word in ("given", "remains", "and", "cont", "secretions", "sr", "pt"):
        print(f"  {word}: {bias.get(word, 0.0):+.2f}")
    if not args.dry_run:
        path = write_calibration(args.model, bias, {"notes": len(notes), "rounds": args.rounds,
                                                    "distance_by_round": history})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
