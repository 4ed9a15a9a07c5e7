"""Medical notation that looks like an identifier or a name to a detector.

Vetoed whatever found it, like an eponym:
- a chromosome band ("17q21", "Xp11.23", "9q34-q35") has the digits-letter-digits shape of a
  date or an ID; it is a gene's address, not a person's;
- a device named after its maker or inventor, in its device form ("Bair hugger", "Swan-Ganz",
  "ZOLL pacer"; a bare "Foley" or "Hickman" may be a surname and is left to the detector);
- a spinal level or a run of them ("T6-T7", "C5-6", "L4-S1"): the vertebra, not a record number;
- a bedside exam abbreviation written as one ("MAE", "perrl", "BLE"), unless it is capitalised
  like a name or follows a title or a family word ("daughter Mae", "DAUGHTER PEARL").
(Clinical numbers the tagger reads as dates are cut in recognizers/dates.date_tokens.)
"""
from __future__ import annotations

import re

from .recognizers.titled_names import RELATIONS, TITLES

_BAND = r"(?:[1-9]|1\d|2[0-2]|X|Y)[pq](?:ter|\d{1,2}(?:\.\d{1,3})?)"
CYTOGENETIC_BAND = re.compile(rf"{_BAND}(?:\s?-\s?(?:{_BAND}|[pq]?\d{{1,2}}(?:\.\d{{1,3}})?))?")
DEVICE = re.compile(
    r"\b(?:bair[\s-]*hugger|swan[\s-]*ganz|zoll(?=[\s-]*(?:pacer|pads?|defib\w*|monitor|machine|vest))|"
    r"passy[\s-]*muir|jackson[\s-]*pratt|miami[\s-]*j|salem[\s-]*sump|sengstaken[\s-]*blakemore|"
    r"yankauer|dobhoff|pleurx|mahurkar)\b", re.I)
_LEVEL = r"(?:C[1-8]|T(?:1[0-2]|[1-9])|L[1-5]|S[1-5])"
SPINAL_LEVEL = re.compile(rf"{_LEVEL}(?:-(?:{_LEVEL}|[1-9]|1[0-2])){{0,2}}")
EXAM_ABBREVIATION = re.compile(r"(?:mae(?:x4)?|perrla?|pearla?|bue|ble|lue|rue|lle|rle)", re.I)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)(\.?)[ \t]{1,2}$")


def is_medical_notation(text: str, start: int, end: int, label: str = "") -> bool:
    """The span is medical notation (see the module docstring), not PHI."""
    if label == "NAME" and (_within(DEVICE, text, start, end) or _exam_abbreviation(text, start, end)):
        return True
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(,;[":
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in "),;]":
        end += 1
    token = text[start:end].rstrip(".")
    return CYTOGENETIC_BAND.fullmatch(token) is not None or SPINAL_LEVEL.fullmatch(token) is not None


def _exam_abbreviation(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if not EXAM_ABBREVIATION.fullmatch(value) or value.istitle():
        return False
    before = _WORD_BEFORE.search(text[max(0, start - 20):start])
    if before is None:
        return True
    word = before.group(1).lower()  # "Dr. Mae", "DAUGHTER PEARL"; not "w/ daughter. MAE."
    return not (word in TITLES or (word in RELATIONS and not before.group(2)))


def _within(pattern: re.Pattern, text: str, start: int, end: int) -> bool:
    lo = max(0, start - 20)
    return any(m.start() <= start and end <= m.end() for m in pattern.finditer(text, lo, min(len(text), end + 20)))
