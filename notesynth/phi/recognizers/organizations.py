"""Companies and other organisations with a legal-form or sector head word."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit

# words on one line only: "HPI\nLabs:" and "NKDA\nSystems Review" are section headings
ORG = re.compile(
    r"\b((?:[A-Z][A-Za-z&'\-]+[ \t]+){1,3})(?:Corp(?:oration)?|Inc|LLC|Ltd|L\.L\.C\.|Co\.|Company|Group|Associates|"
    r"Industries|Enterprises|Partners|Holdings|Bank|Insurance|Foundation|University|College|School|Academy|"
    r"Church|Airlines|Motors|Systems|Technologies|Pharmaceuticals|Pharma|Labs|Laboratories)\b\.?")


class OrganizationRecognizer(ClinicalRecognizer):
    ENTITIES = ("ORGANIZATION",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        blocked = lx.blocked_words()
        for m in ORG.finditer(text):
            words = m.group(1).split()
            while words and words[0].lower() in blocked:
                words = words[1:]
            if not words:
                continue
            start = m.start(1) + m.group(1).find(words[0])
            yield start, m.end(), "ORGANIZATION", 0.6
