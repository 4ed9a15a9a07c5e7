"""Ages over 89 (HIPAA): "92 yo", "age 95", "101-year-old"."""
from __future__ import annotations

import re
from typing import Iterable

from .base import ClinicalRecognizer, Hit

AGE_AFTER = re.compile(
    r"\b(9\d|1[01]\d)\s*(?:-|\s)?\s*(?:y/?o\b|yo\b|y\.o\.?|yrs?\b|years?\b|year-old|yr-old|yom\b|yof\b|"
    r"y\s?m\b|y\s?f\b|(?:m|f)\b(?=\s+(?:with|w/|s/p|pt|admitted|presents|presenting)))", re.I)
AGE_BEFORE = re.compile(r"\b(?:age[ds]?|aged)\s*[:=]?\s*(9\d|1[01]\d)\b", re.I)


class AgeRecognizer(ClinicalRecognizer):
    ENTITIES = ("AGE",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for rx in (AGE_AFTER, AGE_BEFORE):
            for m in rx.finditer(text):
                yield m.start(1), m.end(1), "AGE", 0.8
