"""Build notesynth/resources/clinical_terms.txt, the measured part of the keep-list.

A dev tool, not part of the product: it reads the shared clinical corpus and the
NCBI disease corpus (train split) beside the project and needs ``wordfreq``
(``pip install -e ".[dev]"``).  The product only reads the text file it writes.

Two sources of clinical words:

* **clinical-ratio**: a word is clinical when its frequency in the clinical corpus
  (MTSamples + E3C case reports, ``../shared/data/corpus/*.jsonl``) is far above its
  frequency in general English (``wordfreq``, English "best" list):
  ``log10(p_clinical / max(p_general, FLOOR)) >= --min-log-ratio`` and the word occurs
  at least ``--min-count`` times in the corpus.
* **ncbi-disease**: words of the disease mentions of the NCBI Disease corpus, *train*
  split only (the test split is a downstream benchmark), that are disease words rather
  than words that happen to sit in a mention: at least ``--min-mention-share`` of their
  occurrences in the train file are inside a disease mention ("family" is mostly
  outside, "carcinoma" inside), 3+ letters, either rare in general English (Zipf < 3)
  or not rarer in the clinical corpus than in general English ("matter", "club" go),
  and no common proper noun (Title-case mid-sentence and Zipf >= 3: "Seattle").

Both then lose: stop words (spaCy's English list), single letters, anonymisation
placeholders of MTSamples ("xyz", "abc", "xxxxx"), and person names (Faker, every
locale) unless the corpus writes the word mid-sentence in lower case or capitals at
least half the time ("colon" and "KUB" stay, "Wilson" and "Kocher" go).

It prints the words at the boundaries of each threshold, to judge them.

Run:  .venv/bin/python scripts/build_keep_list.py            (writes the resource)
      .venv/bin/python scripts/build_keep_list.py --dry-run  (only prints)
"""
from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "notesynth" / "resources" / "clinical_terms.txt"

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")  # the masker's word (notesynth.masking.WORD)
PLACEHOLDER = re.compile(r"^(?:x{2,}|y{3,}|z{3,}|xyz|abc|abcd|abcde|abcdef)$")  # MTSamples anonymisation
FLOOR = 1e-8  # wordfreq's English list stops near Zipf 1 (1e-8); unseen words get this
RARE_ZIPF = 3.0  # under Zipf 3 (once per million words) a word is rare in general English


def norm(word: str) -> str:
    """Lower case, possessive 's dropped ("babinski's" -> "babinski")."""
    w = word.lower()
    return w[:-2] if w.endswith("'s") else w


def is_title(word: str) -> bool:
    return word[0].isupper() and word[1:].replace("'", "").islower()


class Case:
    """How often a word is written Title-case inside a sentence (a proper-noun sign)."""

    def __init__(self) -> None:
        self.inner: Counter = Counter()  # occurrences not at a sentence or line start
        self.title: Counter = Counter()  # ... of which Title-case

    def add(self, raw: str, w: str, sentence_start: bool) -> None:
        if not sentence_start:
            self.inner[w] += 1
            self.title[w] += is_title(raw)

    def proper(self, w: str) -> bool:
        """Title-case in at least half of its inner occurrences, or never seen inside a sentence."""
        return self.title[w] >= 0.5 * self.inner[w]


def corpus_counts(paths: list[Path]) -> tuple[Counter, Case, int]:
    """(occurrences per word, their case, the number of words)."""
    counts: Counter = Counter()
    case = Case()
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line)["text"]
                for m in WORD.finditer(text):
                    w = norm(m.group())
                    counts[w] += 1
                    before = text[:m.start()].rstrip(" \t\"'(")
                    case.add(m.group(), w, not before or before[-1] in ".:;!?\n,")
    return counts, case, sum(counts.values())


def ncbi_words(path: Path) -> tuple[Counter, Counter, Case]:
    """(occurrences inside disease mentions, all occurrences, their case) per word of the file."""
    inside: Counter = Counter()
    total: Counter = Counter()
    case = Case()
    previous = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                previous = ""
                continue
            token, tag = line.split("\t")
            for raw in WORD.findall(token):
                w = norm(raw)
                total[w] += 1
                case.add(raw, w, previous in ("", ".", ":", ";", "!", "?", ","))
                if tag != "O":
                    inside[w] += 1
            previous = token
    return inside, total, case


def person_names() -> set[str]:
    """First and last names of every Faker locale (Latin letters only): about 29,000."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    names: set[str] = set()
    for loc in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{loc.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            try:
                values = list(getattr(provider, attr, ()))
            except TypeError:  # a property on some locales
                continue
            names.update(n.lower() for n in values if isinstance(n, str) and n.isascii() and n.isalpha())
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", nargs="+", type=Path,
                    default=[SHARED / "corpus" / "mtsamples.jsonl", SHARED / "corpus" / "e3c_case_reports.jsonl"])
    ap.add_argument("--ncbi", type=Path, default=SHARED / "ner" / "ncbi_disease" / "train.tsv")
    ap.add_argument("--min-log-ratio", type=float, default=1.75)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--min-mention-share", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    if "test" in args.ncbi.name:
        raise SystemExit("the NCBI test split is a downstream benchmark: build from train only")

    from importlib.metadata import version

    import wordfreq
    from spacy.lang.en.stop_words import STOP_WORDS

    counts, case, n_tokens = corpus_counts(args.corpus)
    names = person_names()

    def excluded(w: str) -> str | None:
        if len(w) < 2:
            return "single letter"
        if w in STOP_WORDS:
            return "stop word"
        if PLACEHOLDER.match(w):
            return "placeholder"
        if w in names and case.proper(w):
            return "person name"  # "Wilson", "Allis"; kept when written otherwise mid-sentence: "colon", "KUB"
        return None

    ratio: dict[str, float] = {}
    for w, c in counts.items():
        general = wordfreq.word_frequency(w, "en")
        ratio[w] = math.log10((c / n_tokens) / max(general, FLOOR))

    clinical = {w for w, c in counts.items()
                if c >= args.min_count and ratio[w] >= args.min_log_ratio and not excluded(w)}

    inside, total, ncbi_case = ncbi_words(args.ncbi)

    def ncbi_reject(w: str) -> str | None:
        if len(w) < 3:
            return "under 3 letters"
        if inside[w] < args.min_mention_share * total[w]:
            return "mostly outside mentions"
        rare = wordfreq.zipf_frequency(w, "en") < RARE_ZIPF
        if not rare and not (counts[w] and ratio[w] >= 0):
            return "common word rarer in clinical text"  # "matter", "club", "golden", "storage"
        if ncbi_case.proper(w) and case.proper(w) and not rare:
            return "common proper noun"  # "Seattle", "Huntington", "Epstein"; rare eponyms stay
        return excluded(w)

    disease = {w for w in inside if not ncbi_reject(w)}

    # --- what the thresholds do, at their boundaries -------------------------------------
    print(f"clinical corpus: {n_tokens:,} words, {len(counts):,} distinct")

    def band(lo: float, hi: float, k: int = 30) -> str:
        sel = sorted((w for w, c in counts.items()
                      if c >= args.min_count and lo <= ratio[w] < hi and not excluded(w)), key=lambda w: -counts[w])
        return f"{len(sel)} words, most frequent: " + " ".join(f"{w}({ratio[w]:.2f})" for w in sel[:k])

    t = args.min_log_ratio
    print(f"\njust below the ratio threshold, log10 ratio in [{t - 0.25:.2f}, {t:.2f}) (left out):\n  {band(t - 0.25, t)}")
    print(f"\njust above, [{t:.2f}, {t + 0.25:.2f}) (kept):\n  {band(t, t + 0.25)}")
    rare = sorted(w for w, c in counts.items()
                  if max(2, args.min_count - 2) <= c < args.min_count and ratio[w] >= t and not excluded(w))
    print(f"\nabove the ratio but under --min-count ({len(rare)} words, left out; every 40th):\n  "
          + " ".join(rare[::40]))
    dropped = Counter(excluded(w) for w, c in counts.items()
                      if c >= args.min_count and ratio[w] >= t and excluded(w))
    print(f"\nratio words dropped by the filters: {dict(dropped)}; person names dropped: "
          + " ".join(sorted(w for w in counts if counts[w] >= args.min_count and ratio[w] >= t
                            and excluded(w) == "person name")))
    s = args.min_mention_share
    near = sorted((w for w in inside if len(w) >= 3 and not excluded(w) and total[w] >= 3
                   and s - 0.15 <= inside[w] / total[w] < s + 0.15), key=lambda w: inside[w] / total[w])
    print("\nNCBI mention words near the mention-share threshold (share inside mentions; every 4th):\n  "
          + " ".join(f"{w}({inside[w] / total[w]:.2f})" for w in near[::4]))
    rejected: dict[str, list[str]] = {}
    for w in sorted(inside):
        why = ncbi_reject(w)
        if why:
            rejected.setdefault(why, []).append(w)
    for why, words in rejected.items():
        print(f"\nNCBI mention words left out, {why}: {len(words)}, e.g. "
              + " ".join(words[:: max(1, len(words) // 30)]))
    only_ncbi = sorted(disease - clinical)
    print(f"\nclinical-ratio words: {len(clinical)}; NCBI disease words: {len(disease)} "
          f"({len(only_ncbi)} not already clinical-ratio words); union: {len(clinical | disease)}")

    if args.dry_run:
        return
    header = f"""\
# Measured keep-list: words notesynth never masks (merged with medical_terms.txt, the
# hand-made list).  Written by scripts/build_keep_list.py; do not edit by hand, re-run it.
#
# [clinical-ratio] words much more frequent in clinical text than in general English:
#   log10(p_clinical / max(p_general, 1e-8)) >= {args.min_log_ratio} and >= {args.min_count} occurrences
#   in the clinical corpus ({n_tokens:,} words).
#   clinical side: MTSamples transcriptions (CC0, via kdpsingh/clinspacy) and E3C English
#   clinical case reports (CC BY 4.0, E3C project, hltfbk/E3C-Corpus).
#   general side: wordfreq {version("wordfreq")} English frequencies (Robyn Speer et al.,
#   https://github.com/rspeer/wordfreq; code Apache-2.0, frequency data CC BY-SA 4.0).
#   This file holds no frequency figures, only the selected words.
# [ncbi-disease] words of disease mentions in the NCBI Disease corpus, train split only
#   (Dogan et al. 2014; public domain, US government work; via spyysalo/ncbi-disease),
#   with at least {args.min_mention_share:.0%} of their occurrences in that file inside a mention, 3+ letters,
#   and either rare in general English (Zipf < {RARE_ZIPF}) or not rarer in the clinical corpus than
#   in general English; common proper nouns (Title-case mid-sentence, Zipf >= {RARE_ZIPF}: Seattle,
#   Huntington) left out.  Only the words not already in [clinical-ratio] are listed.
# Both lose: spaCy English stop words, single letters, placeholders (xyz, abc, xxxxx), and
#   person names (Faker, all locales) unless the corpus writes them mid-sentence in lower
#   case or capitals at least half the time ("colon", "KUB" stay; "Wilson", "Kocher" go).
# Negation cues, numbers, doses, units, lab and vital values are protected by
# notesynth/protect.py (medical_terms.txt and patterns), not by this file.
"""
    lines = [header.rstrip("\n"), "", "# [clinical-ratio]", *sorted(clinical), "# [ncbi-disease]", *only_ncbi, ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
