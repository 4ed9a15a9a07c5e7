"""Medical notation that looks like an identifier, a date or a place to a detector.

A chromosome band ("17q21", "Xp11.23", "9q34-q35") has the digits-letter-digits shape of a
date or an ID, and the learned tagger takes some for PHI; it is a gene's address, not a
person's.  Such a span is vetoed whatever found it, like an eponym.
"""
from __future__ import annotations

import re

_BAND = r"(?:[1-9]|1\d|2[0-2]|X|Y)[pq](?:ter|\d{1,2}(?:\.\d{1,3})?)"
CYTOGENETIC_BAND = re.compile(rf"{_BAND}(?:\s?-\s?(?:{_BAND}|[pq]?\d{{1,2}}(?:\.\d{{1,3}})?))?")


def is_medical_notation(text: str, start: int, end: int) -> bool:
    """The span lies within a chromosome band or band range ("Xp11" of "Xp11.23")."""
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(,;[":
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in "),;]":
        end += 1
    return CYTOGENETIC_BAND.fullmatch(text[start:end].rstrip(".")) is not None
