"""spaCy PERSON entities, filtered against medical and charting vocabulary."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit, TITLE_SHAPE_RE


class SpacyPersonRecognizer(ClinicalRecognizer):
    ENTITIES = ("NAME",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        if nlp_artifacts is None:
            return
        names = lx.all_names()
        blocked = lx.blocked_words() | lx.EPONYM_SURNAMES | lx.ordinary_non_names()
        for ent in nlp_artifacts.entities:
            if ent.label_ not in ("PERSON", "NAME"):
                continue
            toks = [t for t in ent if t.is_alpha]
            # trim non-name words at either edge
            while toks and (toks[0].lower_ in blocked or not TITLE_SHAPE_RE.match(toks[0].text)):
                toks.pop(0)
            while toks and (toks[-1].lower_ in blocked or not TITLE_SHAPE_RE.match(toks[-1].text)):
                toks.pop()
            if not toks:
                continue
            if any(t.lower_ in lx.medical_words() for t in toks):
                continue
            if not all(TITLE_SHAPE_RE.match(t.text) or len(t.text) == 1 for t in toks):
                continue
            if len(toks) == 1 and toks[0].lower_ not in names:
                continue
            after = text[toks[-1].idx + len(toks[-1].text):][:30]
            if re.match(r"(?:['’]s)?[\s-]+(?:\w+[\s-]+)?(?:" + "|".join(lx.EPONYM_HEADS) + r"|index|risk|study|criteria)\b",
                        after, re.I):
                continue  # "McGill Pain Index", "Lou Gehrig's disease"
            yield toks[0].idx, toks[-1].idx + len(toks[-1].text), "NAME", 0.5
