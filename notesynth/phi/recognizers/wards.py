"""Wards and units: "transferred to Stoneman 4", "Ward 5B", "7 North"."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit, unlisted_word

NAMED_UNIT = re.compile(
    r"(?i:(?:\b(?:to|from|on|per|at|in|into|onto|off|or|and|plan)|[:.;,])\s+(?:the\s+)?)((?:[A-Z][a-z]+)(?: [A-Z][a-z]+)?\s\d{1,2}[A-Z]?)\b"
    r"(?!\s*(?:mg|mcg|ml|cc|units?|%|hrs?|hours?|days?|weeks?|wks?|months?|years?|yrs?|min|am|pm|x\b|/|:|\.\d))")
# the nouns that name a unit ("Ward 5", "Eakin Unit"; growth.py carries a found name over them)
UNIT_NOUNS = r"(?:unit|wing|pavilion|tower|building)"
GENERIC_UNIT = re.compile(
    rf"\b(?i:ward|floor|pod|bldg|{UNIT_NOUNS})\s+"
    r"(?:[A-Z]?\d{1,2}[A-Z]?|[A-Z])\b(?![/'’])|"  # not "UNIT S/P"
    r"\b\d{1,2}\s?(?:North|South|East|West|NORTH|SOUTH|EAST|WEST)\b")
# a unit named after a person or a building: "transferred to Birtic MICU", "LAMFERS UNIT", "Feeney Wing";
# the name is a word no list knows (or a name-list one), written capitalised (or in capitals)
NAME_BEFORE_UNIT = re.compile(
    r"\b([A-Z][a-z]{2,}|[A-Z]{4,})[ \t]+(?:MICU|SICU|CCU|CSRU|CVICU|TSICU|NICU|PICU|ICU|"
    rf"(?i:{UNIT_NOUNS}))\b")
UNIT_WORDS = {"bed", "room", "rm", "pod", "ward", "unit", "floor", "level", "step", "grade", "stage", "class", "type",
              "lead", "leads", "day", "days", "hour", "hours", "week", "weeks", "team", "ns", "vent", "peep", "cpap"}


class WardRecognizer(ClinicalRecognizer):
    ENTITIES = ("WARD",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        blocked = lx.blocked_words() | lx.medical_words()
        ordinary = lx.ordinary_words()
        for m in NAMED_UNIT.finditer(text):
            words = [w.lower() for w in m.group(1).split()[:-1]]
            if all(w in ordinary or len(w) <= 2 for w in words):
                continue  # "Pad 70", "Output 97", "Hc 26": a value, not "Stoneman 4"
            if words[-1] in ("center", "building", "pavilion", "tower", "wing") and len(words) == 2:
                words = words[:1] if words[0] not in lx.medical_words() else words
                if words[0] in UNIT_WORDS:
                    continue
            elif any(w in blocked or w in UNIT_WORDS or w.endswith(("ed", "ing")) for w in words):
                continue  # "Suctioned 2-3x", "Wearing 3L": a verb and a count, not a unit
            if re.match(r"\s*-\s*\d", text[m.end(1):m.end(1) + 4]):
                continue  # "Maps 62-67": a range of values
            yield m.start(1), m.end(1), "WARD", 0.6
        for m in NAME_BEFORE_UNIT.finditer(text):
            key = m.group(1).lower()
            if key in blocked or key in ordinary or key in UNIT_WORDS:
                continue  # "Cardiac ICU", "Medical Unit", "SURGICAL UNIT"
            if unlisted_word(key) or key in lx.all_names():
                yield m.start(1), m.end(1), "WARD", 0.5
        for m in GENERIC_UNIT.finditer(text):
            yield m.start(), m.end(), "WARD", 0.4
