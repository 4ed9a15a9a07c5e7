"""Privacy of the synthesizer with default settings, on notes with known (gold) PHI.

Prints
- PHI survival rate: share of gold HIPAA PHI spans whose text appears in the synthetic
  note (case-insensitive, word-bounded), over written notes (held-back notes are never
  written, so they leak nothing);
- share of notes held back, mean risk score, attempts;
- checker sensitivity: a gold PHI string of the original planted back into N written
  outputs must be caught (and the same outputs without a plant: false alarms).
Each figure is also given with the human-reviewed silver spans of bench/silver_audit.jsonl
set aside (gold "PHI" that is not PHI: clinical values tagged as dates, clock times...).

With --resurrogate SOURCE (pkg or xloc, see bench/heldout/sources.py) every gold span is first
replaced by a value from a source nothing in the product reads, and only held-out patients'
notes are used (bench/heldout/split.py): the honest figure.  The dev file's own surrogates
come from Faker, which the detector's name lists also come from.
With --visit-notes the notes are dictated visit notes instead (MTSamples office, progress and
consult notes whose name placeholders become held-out surnames, bench/heldout/visits.py), with
--resurrogate's source (pkg by default); with --specialty-notes, the notes of every other
specialty (operative reports, urology, neurology...), which no analysis read.
    .venv/bin/python bench/privacy.py [--limit N] [--plants 500] [--resurrogate pkg] [--all-patients]
    .venv/bin/python bench/privacy.py --visit-notes [--resurrogate xloc]
    .venv/bin/python bench/privacy.py --specialty-notes [--resurrogate xloc]
"""
from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter

from pathlib import Path

import sys

from _common import SHARED, load_audit, load_jsonl, parse_setting, peak_rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heldout.dataset import make_dataset  # noqa: E402
from heldout.split import is_heldout  # noqa: E402
from heldout.visits import specialty_rows, visit_rows  # noqa: E402

from notesynth import SynthConfig, Synthesizer  # noqa: E402
from notesynth.check.risk import score  # noqa: E402
from notesynth.spans import INSTITUTION_LABELS  # noqa: E402


def occurrences(value: str, text: str) -> list[re.Match]:
    """Word-bounded, case-insensitive occurrences of ``value`` (stripped) in ``text``."""
    value = value.strip()
    return list(re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE)) if value else []


def survives(value: str, text: str) -> bool:
    return bool(occurrences(value, text))


def survives_beyond_own_uses(value: str, synthetic: str, original: str, spans: list[dict]) -> bool:
    """The value occurs in the output more often than the original uses it outside PHI: a
    two-digit year "'60" counts only if "60" is written more often than the note's kept
    clinical values ("PAP 60/23") account for (the rule of the checker's leak test)."""
    outside = [m for m in occurrences(value, original)
               if not any(m.start() < g["end"] and g["start"] < m.end() for g in spans)]
    return len(occurrences(value, synthetic)) > len(outside)


def hold_reason(reason: str) -> str:
    """'leaked PHI: 2 span(s) of the original (DATE, NAME)' -> 'leaked PHI (DATE, NAME)'."""
    labels = re.search(r"\(([A-Z_]+(?:, [A-Z_]+)*)\)", reason)
    return reason.split(":")[0] + (f" ({labels.group(1)})" if labels else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(SHARED / "phi" / "physionet_nursing_dev.jsonl"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--plants", type=int, default=500)
    ap.add_argument("--model", default="")
    ap.add_argument("--calibration", type=int, default=300,
                    help="notes used to show why the default max_risk separates copies from syntheses")
    ap.add_argument("--show-misses", action="store_true",
                    help="print each planted leak the checker missed (public benchmark text; for analysis)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--resurrogate", choices=("pkg", "xloc"), default=None,
                    help="re-surrogate every gold span from this held-out source (held-out patients only)")
    ap.add_argument("--all-patients", action="store_true", help="with --resurrogate: every note, not only held-out")
    ap.add_argument("--seed", type=int, default=2024, help="re-surrogation seed")
    ap.add_argument("--per-mention", action="store_true",
                    help="re-draw every mention of a value on its own (the figures before the ninth session); "
                         "default: a value repeated in a note is re-drawn once, as in the dev file")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a SynthConfig setting other than its default (repeatable), e.g. --set max_pieces_per_word=3")
    ap.add_argument("--phi-tagger", action=argparse.BooleanOptionalAction, default=SynthConfig().phi_tagger,
                    help="the learned PHI tagger on the original (default: as synth)")
    ap.add_argument("--visit-notes", action="store_true",
                    help="dictated visit notes with held-out surnames (MTSamples placeholders) instead of --data")
    ap.add_argument("--specialty-notes", action="store_true",
                    help="the same for the dictated notes of every other MTSamples specialty (369 notes no "
                         "analysis read)")
    args = ap.parse_args()

    audited = load_audit().get(Path(args.data).name, set())
    rows = load_jsonl(args.data, None)
    if args.visit_notes or args.specialty_notes:
        source = args.resurrogate or "pkg"
        read = visit_rows if args.visit_notes else specialty_rows
        rows = make_dataset(read(SHARED / "corpus" / "mtsamples.jsonl"), source, set(), args.seed,
                            consistent=not args.per_mention)
        print(f"{'visit' if args.visit_notes else 'specialty'} notes (MTSamples, name placeholders re-drawn "
              f"from {source!r})")
    elif args.resurrogate:
        if not args.all_patients:
            rows = [r for r in rows if is_heldout(r["id"])]
        rows = make_dataset(rows, args.resurrogate, audited, args.seed, consistent=not args.per_mention)
        print(f"re-surrogated from {args.resurrogate!r}; {'all' if args.all_patients else 'held-out'} patients")
    rows = rows[: args.limit] if args.limit else rows
    settings = dict(parse_setting(item) for item in args.set)
    synth = Synthesizer(SynthConfig(model=args.model, seed=0, batch_size=args.batch_size, phi_tagger=args.phi_tagger,
                                    **settings))
    if settings:
        print(f"settings other than the defaults: {settings}")
    t0 = time.perf_counter()
    results = []
    for i in range(0, len(rows), args.batch_size):
        batch = rows[i:i + args.batch_size]
        results += synth.synthesize_batch([(r["id"], r["text"]) for r in batch])
    elapsed = time.perf_counter() - t0

    status = Counter(r.status for r in results)
    gold_total = gold_survived = 0
    by_label: Counter = Counter()
    by_label_total: Counter = Counter()
    audited_total = audited_survived = 0  # gold spans a human review found are not PHI
    beyond_real = 0  # real (not silver) survivors written more often than the original's own non-PHI uses
    risks, attempts = [], Counter()
    for row, res in zip(rows, results):
        if res.report is not None:
            risks.append(res.report.risk)
        attempts[res.attempts] += 1
        if res.status != "written":
            continue
        for span in row["spans"]:
            if span["label"] in INSTITUTION_LABELS:
                continue
            gold_total += 1
            by_label_total[span["label"]] += 1
            silver = span.get("audited", (row["id"], span["start"], span["end"]) in audited)
            audited_total += silver
            if survives(span["text"], res.text):
                beyond_real += (not silver) and survives_beyond_own_uses(span["text"], res.text, row["text"],
                                                                         row["spans"])
                gold_survived += 1
                by_label[span["label"]] += 1
                audited_survived += silver
                if args.show_misses:
                    print(f"  survived: {span['label']} {span['text']!r} audited_not_phi={silver} in "
                          f"{row['text'][max(0, span['start'] - 30):span['end'] + 30]!r}")

    print(f"notes: {len(rows)} in {elapsed:.0f}s ({len(rows) / elapsed:.2f} notes/s); statuses {dict(status)}")
    print(f"held back: {status['held'] / len(rows):.4f}   errors: {status['error']}")
    held_by = Counter(hold_reason(reason) for res in results if res.status == "held" and res.report
                      for reason in res.report.reasons)
    print("held back, by reason (a note may have several):", dict(held_by.most_common()) or "none")
    print(f"mean risk score: {sum(risks) / max(1, len(risks)):.4f}   attempts: {dict(sorted(attempts.items()))}")
    print(f"PHI survival rate (gold HIPAA spans in written notes): {gold_survived / max(1, gold_total):.4f} "
          f"({gold_survived}/{gold_total})")
    for label in sorted(by_label_total):
        print(f"    {label:<28} {by_label[label]}/{by_label_total[label]}")
    real_total, real_survived = gold_total - audited_total, gold_survived - audited_survived
    print(f"    of the survivors, {audited_survived} are audited silver spans that are not PHI "
          f"(bench/silver_audit.jsonl); with those {audited_total} spans set aside: "
          f"{real_survived / max(1, real_total):.4f} ({real_survived}/{real_total})")
    print(f"    of those, written more often than the original uses the value outside PHI (a kept clinical "
          f"value \"60\" is not the year '60): {beyond_real / max(1, real_total):.4f} ({beyond_real}/{real_total})")

    # checker sensitivity: plant a gold PHI string of the original into written outputs
    rng = random.Random(0)
    written = [(row, res) for row, res in zip(rows, results)
               if res.status == "written" and any(s["label"] not in INSTITUTION_LABELS for s in row["spans"])]
    rng.shuffle(written)
    written = written[: args.plants]
    phi_of: dict[str, list] = {}
    settings, is_common = synth.checker.settings, synth.checker.is_common

    def original_phi(row: dict) -> list:
        if row["id"] not in phi_of:
            phi_of[row["id"]] = synth.detector.detect(row["text"])
        return phi_of[row["id"]]
    caught = alarms = caught_detected = n_detected = caught_real = n_real = 0
    for row, res in written:
        text = row["text"]
        phi = original_phi(row)
        span = rng.choice([s for s in row["spans"] if s["label"] not in INSTITUTION_LABELS])
        words = [m.end() for m in re.finditer(r"\s", res.text)] or [len(res.text)]
        cut = rng.choice(words)
        planted = res.text[:cut] + span["text"] + " " + res.text[cut:]
        rep = synth.checker.check(text, planted, phi, list(res.surrogates))  # the run's own checker
        hit = not rep.passed
        caught += hit
        detected = any(p.start < span["end"] and span["start"] < p.end for p in phi)
        n_detected += detected
        caught_detected += hit and detected
        real = not span.get("audited", (row["id"], span["start"], span["end"]) in audited)
        n_real += real
        caught_real += hit and real
        if args.show_misses and not hit:
            near = [text[p.start:p.end] + "/" + p.label for p in phi
                    if p.start < span["end"] + 20 and span["start"] - 20 < p.end]
            print(f"  missed plant: {span['label']} {span['text']!r} detected={detected} near={near} "
                  f"in {text[max(0, span['start'] - 30):span['end'] + 30]!r}")
        clean = synth.checker.check(text, res.text, phi, list(res.surrogates))
        alarms += not clean.passed
    n = max(1, len(written))
    print(f"checker sensitivity: caught {caught}/{len(written)} planted leaks ({caught / n:.4f}); "
          f"of plants whose span the detector had found in the original: {caught_detected}/{n_detected}; "
          f"of plants that are PHI (not audited silver): {caught_real}/{n_real}")
    print(f"false alarms on the same outputs without a plant: {alarms}/{len(written)}")

    # why the default max_risk: the risk of a surrogate-only copy (every non-PHI word kept:
    # what must fail), of the synthetic notes as written, and of a synthetic note scored
    # against an unrelated original (what overlap by chance looks like)
    calib = list(zip(rows, results))[: args.calibration]
    redactor = Synthesizer(SynthConfig(model=args.model, seed=0, mask_ratio=0.0, retries=0, max_risk=1.0,
                                       fail_on_residual_phi=False))
    redacted = [r.report.risk for r in redactor.synthesize_batch([(row["id"], row["text"]) for row, _ in calib])
                if r.report is not None]
    synthetic = [res.report.risk for _, res in calib if res.status == "written"]
    unrelated = []
    for (row, _), (_, other) in zip(calib, calib[1:]):
        if other.status == "written":
            rep = score(row["text"], other.text, original_phi(row), [], settings,
                        is_common)
            unrelated.append(rep.risk)
    print(f"risk calibration on {len(calib)} notes (max_risk {settings.max_risk}):")
    for name, values in (("surrogate-only copy", redacted), ("synthetic, as written", synthetic),
                         ("synthetic vs an unrelated original", unrelated)):
        v = sorted(values)
        q = lambda f: v[min(len(v) - 1, int(f * len(v)))] if v else float("nan")  # noqa: E731
        above = sum(x > settings.max_risk for x in v) / max(1, len(v))
        print(f"    {name:<36} p5 {q(0.05):.3f}  median {q(0.5):.3f}  p95 {q(0.95):.3f}  "
              f"above max_risk {above:.3f}  (n={len(v)})")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
