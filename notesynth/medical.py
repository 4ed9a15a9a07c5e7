"""What must be kept: medical facts are never masked.

Protected spans are numbers (with their units), doses, lab and vital values,
section headers, negation cues and medical terms (a keep-list plus clinical
word shapes).  The masker treats them as untouchable.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from notesynth.spans import Span

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
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


@lru_cache(maxsize=1)
def medical_terms() -> frozenset[str]:
    """The keep-list shipped with the package (lower case)."""
    text = resources.files("notesynth.resources").joinpath("medical_terms.txt").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        words.update(w.lower() for w in line.split())
    return frozenset(words)


def is_mostly_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.7


def protect(text: str, extra_terms: frozenset[str] = frozenset()) -> list[Span]:
    """Spans of ``text`` that the masker must leave untouched."""
    spans: list[Span] = []
    for m in NUMBER_WITH_UNIT.finditer(text):
        if m.group().strip():
            spans.append(Span(m.start(), m.end(), "MEASURE"))
    for m in SECTION_HEADER.finditer(text):
        spans.append(Span(m.start(1), m.end(1), "HEADER"))
    terms = medical_terms() | extra_terms
    caps_note = is_mostly_upper(text)
    for m in WORD.finditer(text):
        word = m.group()
        lower = word.lower()
        if lower in terms or lower.rstrip("s") in terms:
            spans.append(Span(m.start(), m.end(), "MEDICAL"))
        elif CLINICAL_SUFFIX.fullmatch(word) and len(word) > 6:
            spans.append(Span(m.start(), m.end(), "MEDICAL"))
        elif not caps_note and CAPS_ABBREVIATION.fullmatch(word):
            spans.append(Span(m.start(), m.end(), "ABBREVIATION"))
    return spans
