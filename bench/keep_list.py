"""How much medical content the masking step keeps, with the measured keep-list (issue #6).

No language model: the masker's plan is rendered with every masked word replaced by a
placeholder, so a word is "kept" exactly when the plan did not mask it (PHI is replaced
by surrogates as in the product).  On the PhysioNet nursing notes (gold PHI spans), for
each mask ratio it reports:

* protected words masked: must be 0, by construction;
* protected spans kept in place: share of protected spans (notesynth.protect.protect) that
  do not touch PHI and come out verbatim at their new offset (masking.remap_spans);
* medical_kept: notesynth.evaluate.medical_kept, the `eval` metric (protected text found
  word-bounded anywhere in the output), given the gold PHI as `eval --gold` does, so
  protected spans that are PHI (dates) are left out; it misses words glued to digits
  ("FIO2"), so it can sit a little under 1; for the old list it shows how many of the new
  list's terms the old list let be masked;
* the share of all words protected, and the mask ratio actually reached (protecting too
  much leaves too few words to mask: the synthesizer would change little);
* for two sets of clinical words NOT taken from the keep-list, the share of their
  occurrences kept verbatim, with the new list and with the old hand-made list only:
    - NCBI-devel: disease-mention words of the NCBI Disease *devel* split (the list was
      built from train), 3+ letters, no stop words, half their devel occurrences in a mention;
    - nursing-ratio: words at least 100x more frequent in the *other* nursing notes of the
      file (those not measured here) than in general English (wordfreq), 5+ occurrences.
  Words of these sets that the list misses are masked at about the mask ratio.

Needs ../shared/data and wordfreq (pip install -e ".[dev]").  Usage:
    python bench/keep_list.py [--notes 200]
"""
from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter

from _common import SHARED, load_jsonl

from notesynth import protect as medical
from notesynth.evaluate import medical_kept
from notesynth.masking import WORD, plan, remap_spans, render
from notesynth.surrogates import SurrogateMaker
from notesynth.spans import Span

RATIOS = (0.1, 0.3, 0.5, 0.7, 0.9)
NURSING = SHARED / "phi" / "physionet_nursing_dev.jsonl"
NCBI_DEVEL = SHARED / "ner" / "ncbi_disease" / "devel.tsv"


def words_outside(text: str, phi: list[Span]) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text)
            if not any(s.start < m.end() and m.start() < s.end for s in phi)]


def ncbi_devel_words() -> set[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    inside: Counter = Counter()
    total: Counter = Counter()
    for line in NCBI_DEVEL.read_text(encoding="utf-8").splitlines():
        if line:
            token, tag = line.split("\t")
            for w in WORD.findall(token):
                total[w.lower()] += 1
                inside[w.lower()] += tag != "O"
    return {w for w, n in inside.items() if len(w) >= 3 and w not in STOP_WORDS and n >= 0.5 * total[w]}


def nursing_ratio_words(rows: list[dict]) -> set[str]:
    from spacy.lang.en.stop_words import STOP_WORDS
    from wordfreq import word_frequency

    counts: Counter = Counter()
    for r in rows:
        phi = [Span(s["start"], s["end"], s["label"]) for s in r["spans"]]
        counts.update(w for _, _, w in words_outside(r["text"], phi))
    n = sum(counts.values())
    return {w for w, c in counts.items() if c >= 5 and w not in STOP_WORDS and len(w) >= 2
            and math.log10((c / n) / max(word_frequency(w, "en"), 1e-8)) >= 2}


def covered(spans: list[Span], n: int) -> bytearray:
    out = bytearray(n)
    for s in spans:
        out[s.start:s.end] = b"\x01" * (s.end - s.start)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=200)
    args = ap.parse_args()
    t0 = time.time()
    rows = load_jsonl(NURSING)
    notes, rest = rows[:args.notes], rows[args.notes:]
    sources = medical.term_sources()
    lists = {"new": medical.medical_terms(), "old": sources["hand"]}  # negation cues: always on

    print("keep-list sources (distinct lower-case words):")
    for name, words in sources.items():
        print(f"  {name:15s} {len(words):6d}")
    print(f"  {'merged':15s} {len(lists['new']):6d}   (the old list, for comparison below: hand; "
          "negation cues are protected in both)")
    print("  plus patterns: numbers with units, section headers, clinical suffixes, CAPS abbreviations")

    refs = {"NCBI-devel": ncbi_devel_words(), "nursing-ratio": nursing_ratio_words(rest)}
    print(f"\nindependent clinical-word sets: NCBI-devel {len(refs['NCBI-devel'])} words, "
          f"nursing-ratio {len(refs['nursing-ratio'])} words (from the {len(rest)} notes not measured); "
          f"share already in the merged list: "
          + ", ".join(f"{k} {sum(medical.is_term(w, lists['new']) for w in v) / len(v):.0%}"
                      for k, v in refs.items()))

    prepared = []  # (text, phi, words, protected spans per list)
    by_source: dict[str, Counter] = {k: Counter() for k in sources}
    for r in notes:
        text = r["text"]
        phi = [Span(s["start"], s["end"], s["label"]) for s in r["spans"]]
        words = words_outside(text, phi)
        prot = {k: medical.protect(text, terms=v) for k, v in lists.items()}
        prepared.append((text, phi, words, prot))
        blocked = covered(prot["new"], len(text))
        for a, b, w in words:
            if any(blocked[a:b]):
                src = next((k for k in ("negation", "hand", "dosing", "clinical-ratio", "ncbi-disease")
                            if medical.is_term(w, sources[k])), "pattern")
                by_source.setdefault(src, Counter())[w] += 1
    n_words = sum(len(p[2]) for p in prepared)
    print(f"\n{len(notes)} nursing notes, {n_words:,} words outside PHI")
    print("protected word occurrences by the source that protects them (first match), most frequent:")
    for src, c in by_source.items():
        if c:
            print(f"  {src:15s} {sum(c.values()):6d} ({sum(c.values()) / n_words:5.1%})  "
                  + " ".join(f"{w}:{n}" for w, n in c.most_common(12)))

    for name in ("new", "old"):
        print(f"\n== {name} keep-list ==")
        share = sum(sum(1 for a, b, _ in p[2] if any(covered(p[3][name], len(p[0]))[a:b])) for p in prepared)
        print(f"words protected: {share / n_words:.1%} of {n_words:,}")
        ref_total = {k: sum(1 for p in prepared for _, _, w in p[2] if w in v) for k, v in refs.items()}
        ref_prot = {k: sum(1 for p in prepared for a, b, w in p[2]
                           if w in v and any(covered(p[3][name], len(p[0]))[a:b])) for k, v in refs.items()}
        print("independent sets protected: " + ", ".join(
            f"{k} {ref_prot[k] / max(1, ref_total[k]):.1%} of {ref_total[k]}" for k in refs))
        header = (f"{'ratio':>5} {'reached':>8} {'prot. masked':>12} {'kept in place':>13} {'medical_kept':>12} "
                  + " ".join(f"{k + ' kept':>18}" for k in refs))
        print(header)
        for ratio in RATIOS:
            masked_words = total_words = prot_masked = in_place = clear_of_phi = 0
            kept_vals: list[float] = []
            ref_masked = Counter()
            for i, (text, phi, words, prot) in enumerate(prepared):
                p = plan(text, phi, prot[name], ratio, random.Random(i), SurrogateMaker(i))
                fills = {j: "\u2588" for j in p.masked_indices()}
                out, _ = render(p, fills)
                for src, dst in zip(prot[name], remap_spans(p, fills, prot[name])):
                    if not any(s.start < src.end and src.start < s.end for s in phi):
                        clear_of_phi += 1
                        in_place += dst is not None and out[dst.start:dst.end] == text[src.start:src.end]
                blocked = covered(prot[name], len(text))
                masked = {(s.source_start, s.source_end) for s in p.segments if s.kind == "mask"}
                masked_words += len(masked)
                total_words += p.n_words
                prot_masked += sum(1 for a, b in masked if any(blocked[a:b]))
                for a, b, w in words:
                    if (a, b) in masked:
                        for k, v in refs.items():
                            ref_masked[k] += w in v
                # the `eval` metric: its denominator is always protect() with the new list
                kept, n = medical_kept(text, out, phi)
                if kept is not None:
                    kept_vals.append(kept)
            mk = f"{sum(kept_vals) / len(kept_vals):.4f}" if kept_vals else "-"
            print(f"{ratio:5.1f} {masked_words / total_words:8.3f} {prot_masked:12d} "
                  f"{in_place / max(1, clear_of_phi):13.2%} {mk:>12} "
                  + " ".join(f"{1 - ref_masked[k] / max(1, ref_total[k]):18.1%}" for k in refs))

    for k, v in refs.items():
        missed = Counter(w for p in prepared for a, b, w in p[2]
                         if w in v and not any(covered(p[3]["new"], len(p[0]))[a:b]))
        print(f"\n{k} words the new list still misses, most frequent: "
              + " ".join(f"{w}:{n}" for w, n in missed.most_common(25)))
    print(f"\n({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
