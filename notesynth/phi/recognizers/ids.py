"""Record, health-plan, account, licence, device and other identifiers, and SSNs."""
from __future__ import annotations

import re
from typing import Iterable

from .base import ClinicalRecognizer, Hit

CTX_LABELS = (
    (re.compile(r"\b(?:ssn|ss#|social security(?: number| no\.?| #)?|soc sec)\W*$", re.I), "SOCIAL_SECURITY_NUMBER"),
    (re.compile(r"\b(?:mrn|mr#|medical record(?: number| no\.?| #)?|record(?: number| no\.?| #)?|chart(?: number| no\.?| #)?|unit no\.?|hospital (?:number|no\.?|#))\W*(?:is\W*)?$", re.I),
     "MEDICAL_RECORD_NUMBER"),
    (re.compile(r"\b(?:insurance|ins|health plan|plan|member|policy|medicare|medicaid|subscriber|beneficiary|group|hic|hicn|mbi|hbn)"
                r"(?: (?:id|number|no\.?|#|num))*\W*(?:is|of)?\W*$", re.I), "HEALTH_PLAN_BENEFICIARY_NUMBER"),
    (re.compile(r"\b(?:account|acct|billing|invoice|claim)(?: (?:id|number|no\.?|#|num))*\W*(?:is)?\W*$", re.I), "ACCOUNT_NUMBER"),
    (re.compile(r"\b(?:licen[cs]e|lic|dea|npi|certificate|cert|registration|board)(?: (?:id|number|no\.?|#|num))*\W*(?:is)?\W*$", re.I),
     "CERTIFICATE_LICENSE_NUMBER"),
    (re.compile(r"\b(?:device|serial|s/n|sn|model|lot|implant|udi|pacemaker|vin|plate)(?: (?:id|number|no\.?|#|num))*\W*(?:is)?\W*$", re.I),
     "UNIQUE_IDENTIFIER"),
    (re.compile(r"\b(?:id|identifier|number|no\.|#|num|case|patient id|pt id|study id|accession|specimen|requisition|ref|reference)\W*(?:is)?\W*$", re.I),
     "OTHER_ID"),
)
ID_TOKEN = re.compile(r"(?<![\w/.-])#?(?=[A-Z0-9-]*\d)[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){3,24}(?![\w/-]|\.\d)", re.I)
SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
PREFIXED = re.compile(r"(?<![\w/.-])#?[A-Z]{1,5}-?\d{4,}(?:-[A-Z0-9]+)?(?![\w/-])")
LONG_DIGITS = re.compile(r"(?<![\w/.,-])\d{7,}(?![\w/-]|\.\d)")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


class IdentifierRecognizer(ClinicalRecognizer):
    ENTITIES = ("MEDICAL_RECORD_NUMBER", "SOCIAL_SECURITY_NUMBER", "HEALTH_PLAN_BENEFICIARY_NUMBER",
                "ACCOUNT_NUMBER", "CERTIFICATE_LICENSE_NUMBER", "UNIQUE_IDENTIFIER", "OTHER_ID")

    @staticmethod
    def _context_label(text: str, start: int) -> str | None:
        before = text[max(0, start - 40):start]
        for rx, label in CTX_LABELS:
            if rx.search(before):
                return label
        return None

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for m in SSN.finditer(text):
            label = self._context_label(text, m.start())
            yield m.start(), m.end(), label or "SOCIAL_SECURITY_NUMBER", 0.8
        for m in ID_TOKEN.finditer(text):
            if _digits(m.group()) < 3:
                continue
            label = self._context_label(text, m.start())
            if label:
                yield m.start(), m.end(), label, 0.75
        for m in PREFIXED.finditer(text):
            label = self._context_label(text, m.start()) or "OTHER_ID"
            yield m.start(), m.end(), label, 0.6
        # long bare digit runs; dashed numbers need a context word (ID_TOKEN above)
        for m in LONG_DIGITS.finditer(text):
            if re.match(r"^\s*(?:mg|mcg|ml|cc|units?|/|%)", text[m.end():m.end() + 6], re.I):
                continue
            label = self._context_label(text, m.start()) or "OTHER_ID"
            yield m.start(), m.end(), label, 0.5
