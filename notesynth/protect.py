"""What must be kept: medical facts are never masked.

Protected spans are numbers (with their units), doses, lab and vital values,
section headers, negation cues, assertion and direction words and medical terms (a keep-list plus clinical
word shapes).  The masker treats them as untouchable.

The keep-list merges the hand-made resources/medical_terms.txt, the measured
resources/clinical_terms.txt (built by scripts/build_keep_list.py: words far more
frequent in clinical text than in general English, and NCBI disease-mention words)
and :data:`NEGATION_CUES` / :data:`DOSING_ABBREVIATIONS`.  Only these text files
are needed at run time.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from notesynth.spans import Span
from notesynth.text import WORD, is_mostly_upper

UNITS = (
    r"mg|mcg|ug|g|kg|lb|lbs|ml|cc|l|dl|meq|mmol|mol|units?|u|iu|mmhg|cmh2o|bpm|"
    r"hrs?|h|min|mins|sec|days?|wks?|weeks?|mos?|months?|yrs?|years?|%|cm|mm|in|ft|"
    r"c|f|gtt|gtts|puffs?|tabs?|caps?|amps?|l/min|lpm|ml/hr|mg/hr|mcg/min|mcg/kg/min|units/hr"
)
NUMBER_WITH_UNIT = re.compile(
    rf"(?<![\w.])[<>~]?\d+(?:[.,]\d+)?(?:\s*[-/x]\s*\d+(?:\.\d+)?)*\s*(?:{UNITS})?(?![\w])",
    re.IGNORECASE,
)
SECTION_HEADER = re.compile(r"(?m)^[ \t]*([A-Za-z][A-Za-z /&()-]{0,40}):")
CAPS_ABBREVIATION = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
CLINICAL_SUFFIX = re.compile(
    r"\b\w+(?:itis|osis|emia|aemia|ectomy|otomy|ostomy|plasty|pathy|algia|oma|omas|uria|"
    r"penia|cytosis|megaly|plegia|paresis|trophy|scopy|gram|graphy|cillin|mycin|micin|"
    r"floxacin|cycline|azole|prazole|pril|sartan|olol|dipine|statin|parin|oxacin|"
    r"tidine|azepam|zolam|phine|amine|semide|lukast|mab|nib)s?\b",
    re.IGNORECASE,
)

NEGATION_CUES = frozenset("""
    no not nor neither never none nothing nobody without cannot denies denied deny denying
    negative neg absent absence unable ruled free
    don't doesn't didn't isn't wasn't aren't weren't can't won't couldn't hasn't haven't hadn't
    possible probable probably likely unlikely suspected suspect questionable
""".split())
"""Negation and certainty cues: masking one flips or blurs a finding, so they are always kept."""

ASSERTION_WORDS = frozenset("""
    non pos positive normal abnormal resolved worse better elevated decreased increased high low
    left right stable unchanged improved improving worsening increasing decreasing
""".split())
"""Assertion, trend and direction words: a finding's value ("HR elevated", "within normal
limits", "left arm"), so they are never masked, and a fill may never write one either
(infill/vocabulary.py): "elevated" -> "normal" or "left" -> "right" changes a fact."""

DOSING_ABBREVIATIONS = frozenset("""
    po iv ivp ivpb im sq sc subq subcut sl pr ng ngt og prn bid tid qid qd qod qh qhs qam qpm
    ac pc hs stat gtt gtts drip
""".split())
"""Route, frequency and drip shorthand: part of a dose ("lasix 40 mg IV bid").  Listed here
because all-caps notes get no protection from the CAPS-abbreviation shape."""

KEEP_LISTS = ("medical_terms.txt", "clinical_terms.txt")


@lru_cache(maxsize=1)
def term_sources() -> dict[str, frozenset[str]]:
    """The keep-list by source (all lower case).

    ``hand`` is medical_terms.txt (the first, hand-made list); ``clinical-ratio`` and
    ``ncbi-disease`` are the sections of clinical_terms.txt (measured, written by
    scripts/build_keep_list.py); ``negation`` is :data:`NEGATION_CUES`, ``dosing``
    :data:`DOSING_ABBREVIATIONS`.
    """
    sources: dict[str, set[str]] = {}
    for name in KEEP_LISTS:
        text = resources.files("notesynth.resources").joinpath(name).read_text(encoding="utf-8")
        section = "hand" if name == "medical_terms.txt" else name
        for line in text.splitlines():
            marker = re.fullmatch(r"#\s*\[([\w-]+)\]\s*", line)
            if marker:
                section = marker.group(1)
            elif line.strip() and not line.startswith("#"):
                sources.setdefault(section, set()).update(w.lower() for w in line.split())
    sources["negation"] = set(NEGATION_CUES)
    sources["dosing"] = set(DOSING_ABBREVIATIONS)
    return {k: frozenset(v) for k, v in sources.items()}


@lru_cache(maxsize=1)
def medical_terms() -> frozenset[str]:
    """The keep-list shipped with the package (lower case): every source merged."""
    return frozenset().union(*term_sources().values())


def is_term(word: str, terms: frozenset[str]) -> bool:
    """``word`` (any case) or its singular / non-possessive form is in ``terms``."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if w in terms:
        return True
    # plurals: "lungs", "pvcs", "abscesses"; short words ("was", "has", "us") are left alone
    if len(w) <= 3 or not w.endswith("s"):
        return False
    stem = w[:-2]
    return w[:-1] in terms or (w.endswith("es") and stem.endswith(("s", "x", "z", "ch", "sh")) and stem in terms)


def is_medical_word(word: str, terms: frozenset[str] | None = None) -> bool:
    """A keep-list term or a word with a clinical shape ("cholecystectomy", "lisinopril")."""
    terms = medical_terms() if terms is None else terms
    return is_term(word, terms) or (len(word) > 6 and CLINICAL_SUFFIX.fullmatch(word) is not None)


# a value written like a date ("1-10", "2/5"): what makes it a value is the words before it
DATE_SHAPED = re.compile(r"\d{1,2}\s*[-/]\s*\d{1,2}(?![\d.])")
CUE_WORDS = 2


def _value_cue(text: str, start: int) -> list[Span]:
    """The words on the line right before a date-shaped value ("scale of" 1-10, "Strength" 2/5),
    kept with it: a fill in their place can make the kept value read as a date ("history of
    1-10"), which the checker must then hold.  Not medical content (``CUE``: the medical_kept
    metric leaves them out)."""
    line = text.rfind("\n", 0, start) + 1
    words = list(WORD.finditer(text, line, start))[-CUE_WORDS:]
    return [Span(w.start(), w.end(), "CUE") for w in words]


def protect(text: str, extra_terms: frozenset[str] = frozenset(), *,
            terms: frozenset[str] | None = None) -> list[Span]:
    """Spans of ``text`` that the masker must leave untouched.

    ``terms`` replaces the keep-list (default :func:`medical_terms`; the benchmark
    passes the old hand-made list to compare); ``extra_terms`` are added to it.
    """
    spans: list[Span] = []
    for m in NUMBER_WITH_UNIT.finditer(text):
        if m.group().strip():
            spans.append(Span(m.start(), m.end(), "MEASURE"))
            if DATE_SHAPED.match(m.group().strip()):
                spans += _value_cue(text, m.start())
    for m in SECTION_HEADER.finditer(text):
        spans.append(Span(m.start(1), m.end(1), "HEADER"))
    terms = medical_terms() if terms is None else terms
    if extra_terms:
        terms = terms | extra_terms
    caps_note = is_mostly_upper(text)
    taken = bytearray(len(text))  # words inside a measure or header are covered already
    for s in spans:
        taken[s.start:s.end] = b"\x01" * (s.end - s.start)
    for m in WORD.finditer(text):
        if taken[m.start()]:
            continue
        word = m.group()
        if word.lower() in NEGATION_CUES:
            spans.append(Span(m.start(), m.end(), "NEGATION"))
        elif word.lower() in ASSERTION_WORDS:
            spans.append(Span(m.start(), m.end(), "ASSERTION"))
        elif is_medical_word(word, terms):
            spans.append(Span(m.start(), m.end(), "MEDICAL"))
        elif not caps_note and CAPS_ABBREVIATION.fullmatch(word):
            spans.append(Span(m.start(), m.end(), "ABBREVIATION"))
    return spans
