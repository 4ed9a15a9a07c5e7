"""PHI detector benchmark: token/span recall, token precision, speed, memory.

    .venv/bin/python bench/phi_recall.py [--limit N] [--data DIR]

Prints figures only (never note text) unless asked: `--misses` / `--false-positives`
print missed gold spans / predicted spans off gold with a little context, for error
analysis on this public benchmark data.

The nursing gold is silver (a rule-based tagger's labels).  Gold spans that a human
review found are not PHI (clinical values the tagger read as dates, clock times, name
surrogates the data set put on non-name words) are listed, each with its reason, in
bench/silver_audit.jsonl; the figures are printed raw and, on a second line, with those
spans set aside."""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from _common import ROOT, load_audit, peak_rss_mb  # noqa: E402  (puts the project on sys.path)

from notesynth.config import SynthConfig  # noqa: E402
from notesynth.phi import DetectorConfig, PhiDetector  # noqa: E402
from notesynth.evaluate.phi_recall import TOKEN_RE, load_rows, score_rows  # noqa: E402
from notesynth.spans import INSTITUTION_LABELS  # noqa: E402


def _context(text: str, start: int, end: int, width: int = 40) -> str:
    def flat(t: str) -> str:
        return re.sub(r"\s+", " ", t)

    return f"{flat(text[max(0, start - width):start])}[[{flat(text[start:end])}]]{flat(text[end:end + width])}"


def _overlaps(spans, s: int, e: int) -> bool:
    return any(p.start < e and s < p.end for p in spans)


def print_misses(rows, preds) -> None:
    """Gold HIPAA spans with at least one token no prediction overlaps."""
    for row, pred in zip(rows, preds):
        text = row["text"]
        for g in row["spans"]:
            if g["label"] in INSTITUTION_LABELS:
                continue
            toks = list(TOKEN_RE.finditer(text, g["start"], g["end"]))
            missed = [m for m in toks if not _overlaps(pred, m.start(), m.end())]
            if missed:
                print(f"  MISS {row['id']} {g['label']:<14} {len(missed)}/{len(toks)}  "
                      f"{_context(text, g['start'], g['end'])}")


def print_false_positives(rows, preds) -> None:
    """Predicted spans that overlap no gold span."""
    for row, pred in zip(rows, preds):
        text = row["text"]
        gold = row["spans"]
        for p in pred:
            if not any(g["start"] < p.end and p.start < g["end"] for g in gold):
                print(f"  FP {row['id']} {p.label:<14} {_context(text, p.start, p.end)}")


def without_audited(rows: list[dict], audited: set[tuple[str, int, int]]) -> list[dict]:
    return [{**r, "spans": [s for s in r["spans"] if (r["id"], s["start"], s["end"]) not in audited]} for r in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/phi")
    ap.add_argument("--limit", type=int, default=None, help="rows per file")
    ap.add_argument("--no-spacy", action="store_true", help="no spaCy NER (by default it runs only when the tagger is off)")
    ap.add_argument("--misses", action="store_true", help="print missed gold spans with context")
    ap.add_argument("--false-positives", action="store_true", help="print predicted spans off gold")
    ap.add_argument("--only", default=None, help="substring of the file names to run")
    args = ap.parse_args(argv)
    files = sorted(f for f in args.data.glob("*.jsonl") if not args.only or args.only in f.name)
    if not files:
        print(f"no .jsonl files in {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    det = PhiDetector(DetectorConfig(use_spacy_ner=False if args.no_spacy else None, use_tagger=SynthConfig().phi_tagger))
    audit = load_audit()
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
        audited = audit.get(f.name, set())
        if audited:
            a = score_rows(without_audited(rows, audited), preds)
            print(f"  audited: {len(audited)} silver gold spans set aside (bench/silver_audit.jsonl): "
                  f"HIPAA token recall {a.token_recall:.4f} ({a.hipaa_found}/{a.hipaa_tokens}), "
                  f"token precision {a.token_precision:.4f}, span recall {a.span_recall:.4f}")
        for lab, r in s.label_recall().items():
            print(f"    {lab:<32} {r:.4f}  ({s.label_found[lab]}/{s.label_tokens[lab]} tokens)")
        print(f"  hard negatives flagged {s.negative_flag_rate:.4f}  ({s.negatives_flagged}/{s.negatives} rows without gold)")
        print(f"  speed                {len(rows) / dt:.1f} notes/s  ({dt:.1f}s)")
        if args.misses:
            print_misses(rows, preds)
        if args.false_positives:
            print_false_positives(rows, preds)
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
