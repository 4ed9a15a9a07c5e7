"""Street addresses, PO boxes and ZIP codes."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit

_SUFFIX = "|".join(sorted((re.escape(s) for s in lx.street_suffixes()), key=len, reverse=True))
STREET = re.compile(
    rf"(?<![A-Za-z.])\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z']+\.?\s+|\d{{1,3}}(?:st|nd|rd|th)\s+){{1,3}}"
    rf"(?i:{_SUFFIX})\b\.?(?:,?\s+(?i:apt\.?|apartment|suite|ste\.?|unit|#|room|fl\.?|floor)\s*#?\s*\w+)?")
PO_BOX = re.compile(r"\b(?i:p\.?\s?o\.?\s?box)\s+\d+\b")
_ABBR = "|".join(sorted(lx.us_states()[1]))
CITY_STATE_ZIP = re.compile(rf"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?),\s+(?:{_ABBR})\b(?:\s+\d{{5}}(?:-\d{{4}})?)?")
STATE_ZIP = re.compile(rf"\b(?:{_ABBR})\s+(\d{{5}}(?:-\d{{4}})?)\b")
ZIP_CTX = re.compile(r"\b(?i:zip(?:\s?code)?|postal code)\s*[:#]?\s*(\d{5}(?:-\d{4})?)\b")


class AddressRecognizer(ClinicalRecognizer):
    ENTITIES = ("GEOGRAPHIC_LOCATION",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for m in STREET.finditer(text):
            words = re.findall(r"[A-Z][a-z']+", m.group())[:-1]
            if not any(w.lower() not in lx.CHART_WORDS and w.lower() not in lx.medical_words() for w in words):
                continue
            yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.75
        for m in PO_BOX.finditer(text):
            yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.8
        for m in CITY_STATE_ZIP.finditer(text):
            if m.group(1).lower() in lx.blocked_words():
                continue
            yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.7
        for rx in (STATE_ZIP, ZIP_CTX):
            for m in rx.finditer(text):
                yield m.start(1), m.end(1), "GEOGRAPHIC_LOCATION", 0.7
