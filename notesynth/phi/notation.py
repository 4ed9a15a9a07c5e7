"""Medical notation that looks like an identifier, a date or a name to a detector.

Vetoed whatever found it, like an eponym:
- a chromosome band ("17q21", "Xp11.23", "9q34-q35") has the digits-letter-digits shape of a
  date or an ID; it is a gene's address, not a person's;
- a device named after its maker or inventor ("Bair hugger", "Swan-Ganz", "ZOLL pacer") and a
  bedside exam abbreviation ("MAE", "PERRL", "BLE") read as names;
- a "date" that is a clinical number: part of a number ("6" of "captopril 6.25", "1/" of
  "1/2 NS"), a decimal ("inr on arrival 5.7"), or a value after a measurement ("C/O 5.6/67",
  "CI 5.06", "RR 23-27").  The date rules check this context themselves; the learned tagger
  does not always, so its recognizer keeps only date_tokens() of its numeric spans, before
  presidio merges them with the rules' (a tagger span "2/19 07" would otherwise swallow the
  rules' "2/19").
"""
from __future__ import annotations

import re

_BAND = r"(?:[1-9]|1\d|2[0-2]|X|Y)[pq](?:ter|\d{1,2}(?:\.\d{1,3})?)"
CYTOGENETIC_BAND = re.compile(rf"{_BAND}(?:\s?-\s?(?:{_BAND}|[pq]?\d{{1,2}}(?:\.\d{{1,3}})?))?")
DEVICE = re.compile(
    r"\b(?:bair[\s-]*hugger|swan[\s-]*ganz|zoll(?=[\s-]*(?:pacer|pads?|defib\w*|monitor|machine|vest))|"
    r"passy[\s-]*muir|jackson[\s-]*pratt|miami[\s-]*j|yankauer|dobhoff|pleurx|groshong|hickman|quinton|"
    r"mahurkar|foley|salem[\s-]*sump|sengstaken|blakemore|minnesota[\s-]*tube)\b", re.I)
EXAM_ABBREVIATION = re.compile(r"(?:mae(?:x4)?|perrla?|pearla?|bl?ue|ble|lue|rue|lle|rle)", re.I)
MEASURE_BEFORE = re.compile(
    r"\b(?:c/?o|co/ci(?:/svr)?|ci|svr|rr|hr|pad'?s?|pas|sats?|spo2|inr|k\+?|mg|temp|tmax|t|wedge|pcwp?|cvp|"
    r"ra|rv|lvef|ef|fio2|tv|vt|map|bp|nbp|abp|glucose|bs|fs|hct|crit|wbc|plt|na|cr|bun)\s*[:=#-]?\s*"
    r"(?:(?:up|down|increased|decreased|dropped|was|is|of|at|to|from)\s+)*(?:~\s*)?$", re.I)


def is_medical_notation(text: str, start: int, end: int, label: str = "") -> bool:
    """The span is medical notation (see the module docstring), not PHI."""
    if label == "NAME" and (_within(DEVICE, text, start, end) or EXAM_ABBREVIATION.fullmatch(text[start:end])):
        return True
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(,;[":
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in "),;]":
        end += 1
    return CYTOGENETIC_BAND.fullmatch(text[start:end].rstrip(".")) is not None


_MD = r"(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|[12]\d|3[01])"
_DM = r"(?:0?[1-9]|[12]\d|3[01])[/-](?:0?[1-9]|1[0-2])"
# what a number written as a date can look like: M/D(/Y), D/M/Y, M/D-M/D, D.M.Y, Y-M-D, a year
DATE_TOKEN = re.compile(
    rf"(?:{_MD}|{_DM})(?:[/-](?:\d\d|\d{{4}}))?|{_MD}-{_MD}|\d{{1,2}}\.\d{{1,2}}\.(?:\d\d|\d{{4}})|"
    r"(?:19|20)\d\d(?:[-/.]\d{1,2}[-/.]\d{1,2})?|'\d\d|\d\d'")
NUMBER_CHARS = frozenset("0123456789./-'")
UNIT_AFTER = re.compile(r"\s*(?:mg|mcg|meq|ml|cc|units?|u\b|mmhg|mm|cm|%|x\b|g\b|gm|kg|hrs?\b|min|l/|lpm|bpm)", re.I)


def date_tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The whole numbers under a numeric "date" span that can be dates in their place.

    A span of the learned tagger may cut a number ("8-" of "8-30", "6" of "captopril 6.25") or
    join two ("2.12.1967. 6.15.2015"): each number it touches is taken whole, without its
    punctuation, and kept only when it is written like a date (DATE_TOKEN) and is not a value:
    a fraction ("1/2 NS"), a number with a unit after it, or one after a measurement ("C/O
    5.6/67", "RR 23-27").  A span with letters in it ("the 2nd") is returned as it is."""
    if re.search(r"[A-Za-z]", text[start:end]) or not re.search(r"\d", text[start:end]):
        return [(start, end)]
    while start > 0 and text[start - 1] in NUMBER_CHARS:
        start -= 1
    while end < len(text) and text[end] in NUMBER_CHARS:
        end += 1
    out = []
    for m in re.finditer(r"[^\s,;:()]+", text[start:end]):
        a, b = start + m.start(), start + m.end()
        while a < b and text[a] in "./-":
            a += 1
        while b > a and text[b - 1] in "./-":
            b -= 1
        if DATE_TOKEN.fullmatch(text[a:b]) and not is_clinical_number(text, a, b):
            out.append((a, b))
    return out


def is_clinical_number(text: str, start: int, end: int) -> bool:
    """A whole number written like a date that is a value: a fraction, a number with a unit, or
    one after a measurement."""
    value = text[start:end]
    if re.search(r"\d{4}|'", value):
        return False  # has a year: "4/27/1990", "2020-05-12", "'94"
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", value)
    if m and len(m.group(1)) == 1 and len(m.group(2)) == 1 and int(m.group(1)) < int(m.group(2)) <= 4:
        return True  # "1/2 NS", "rales 1/3 up"
    if UNIT_AFTER.match(text, end):
        return True
    return bool(MEASURE_BEFORE.search(text[max(0, start - 30):start]))


def _within(pattern: re.Pattern, text: str, start: int, end: int) -> bool:
    lo = max(0, start - 20)
    return any(m.start() <= start and end <= m.end() for m in pattern.finditer(text, lo, min(len(text), end + 20)))
