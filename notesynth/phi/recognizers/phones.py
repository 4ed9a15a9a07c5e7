"""Phone, fax and pager numbers with extensions ("555-123-4567, ext 28"): area code split by a
space, dot, dash or slash; a 7-digit local number after a calling word, in brackets or not;
international numbers with a country code."""
from __future__ import annotations

import re
from typing import Iterable

from .base import ClinicalRecognizer, Hit

PHONE = re.compile(
    r"(?<![\w/])(?<!\d\.)(?<!\d-)(?:(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])|\d{3}/)\d{3}[\s.-]\d{4}(?:\s*,?\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\w-])",
    re.I)
# "+33 6 83 95 26 74", "+44 20 7946 0958": a country code and four to six groups
INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]\d{1,4}){3,6}(?![\w.-]?\d)")
LOCAL = re.compile(
    r"\b(?:reached at|reach at|phone|tel|telephone|cell|mobile|pager|beeper|pgr|pg|page|fax|home|work|office|call|called|calling|"
    r"contact|number|#)\s*[#:.]?\s*(?:is\s*)?\(?\s*"
    r"(\d{3}[-\s]\d{4}|\d{5}|x\d{3,5})\b", re.I)
FAX_CTX = re.compile(r"\bfax\b[^\n]{0,15}$", re.I)


class PhoneRecognizer(ClinicalRecognizer):
    ENTITIES = ("PHONE_NUMBER", "FAX_NUMBER")

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for m in PHONE.finditer(text):
            label = "FAX_NUMBER" if FAX_CTX.search(text[max(0, m.start() - 20):m.start()]) else "PHONE_NUMBER"
            yield m.start(), m.end(), label, 0.85
        for m in INTERNATIONAL.finditer(text):
            if sum(c.isdigit() for c in m.group()) >= 9:
                yield m.start(), m.end(), "PHONE_NUMBER", 0.7
        for m in LOCAL.finditer(text):
            label = "FAX_NUMBER" if FAX_CTX.search(text[max(0, m.start() - 5):m.start(1)]) else "PHONE_NUMBER"
            yield m.start(1), m.end(1), label, 0.6
