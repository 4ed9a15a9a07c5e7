"""PHI detector benchmark: token/span recall, token precision, speed, memory.

    .venv/bin/python bench/phi_recall.py [--limit N] [--data DIR]

Prints figures only (never note text)."""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from notesynth.phi import DetectorConfig, PhiDetector  # noqa: E402
from notesynth.phi.scoring import load_rows, score_rows  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/phi")
    ap.add_argument("--limit", type=int, default=None, help="rows per file")
    ap.add_argument("--no-spacy", action="store_true", help="rules only (no spaCy NER)")
    args = ap.parse_args(argv)
    files = sorted(args.data.glob("*.jsonl"))
    if not files:
        print(f"no .jsonl files in {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    det = PhiDetector(DetectorConfig(use_spacy_ner=not args.no_spacy))
    print(f"detector built in {time.perf_counter() - t0:.1f}s")
    for f in files:
        rows = load_rows(f, args.limit)
        texts = [r["text"] for r in rows]
        t = time.perf_counter()
        preds = det.detect_many(texts)
        dt = time.perf_counter() - t
        s = score_rows(rows, preds)
        print(f"\n== {f.name}: {len(rows)} notes, {sum(map(len, texts)):,} chars")
        print(f"  HIPAA token recall   {s.token_recall:.4f}  ({s.hipaa_found}/{s.hipaa_tokens})")
        print(f"  token precision      {s.token_precision:.4f}  ({s.pred_tokens_on_gold}/{s.pred_tokens})")
        print(f"  span recall          {s.span_recall:.4f}  ({s.gold_spans_covered}/{s.gold_spans})")
        for lab, r in s.label_recall().items():
            print(f"    {lab:<32} {r:.4f}  ({s.label_found[lab]}/{s.label_tokens[lab]} tokens)")
        print(f"  hard negatives flagged {s.negative_flag_rate:.4f}  ({s.negatives_flagged}/{s.negatives} rows without gold)")
        print(f"  speed                {len(rows) / dt:.1f} notes/s  ({dt:.1f}s)")
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
