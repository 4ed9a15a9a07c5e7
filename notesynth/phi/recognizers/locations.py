"""Cities, towns and states: gazetteer of US cities and states, town-name shapes
("-ville", "-borough", "Port X", "New X") after location cues, words no vocabulary knows after
a residence cue ("lives in Bedong"), and spaCy GPE."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit, TITLE_SHAPE_RE, text_info, unlisted_word

_CITIES = "|".join(sorted((re.escape(c) for c in set(lx.US_CITIES)), key=len, reverse=True))
_STATES = "|".join(sorted((re.escape(s) for s in lx.us_states()[0]), key=len, reverse=True))
_ABBR = "|".join(sorted(lx.us_states()[1]))
GAZETTEER = re.compile(rf"\b(?:New York City|NYC|San Fran|{_CITIES}|{_STATES})\b(?:,\s+(?:{_ABBR}|{_STATES})\b)?"
                       r"(?:\s+(?:downtown\s+)?(?:office|clinic|facility|branch|center|centre|hospital|ER|campus|location))?")
GAZETTEER_CAPS = re.compile(GAZETTEER.pattern, re.I)
TOWN_SHAPE = re.compile(
    r"\b(?:(?:" + "|".join(re.escape(p) for p in lx.CITY_PREFIXES) + r")\s+)?[A-Z][a-z]{2,}(?:"
    + "|".join(lx.CITY_SUFFIXES) + r")(?![a-z])")
PREFIXED_TOWN = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in lx.CITY_PREFIXES) + r")\s+[A-Z][a-z]{2,}\b")
LOC_CUE = re.compile(r"(?i:\b(?:in|from|to|at|of|near|lives|living|resides|residing|moved|visiting|home|returned|"
                     r"flying|fly|drove|back)\s+(?:in\s+|to\s+|from\s+|at\s+)?(?:the\s+)?)$")
GPE_CUE = re.compile(r"(?i:\b(?:from|in|near|lives in|living in|resides in|moved to|visiting from|flying in from|"
                     r"native of|born in|home in|returned to)\s+)$")
# where someone lives or comes from: the next word is a place even when no gazetteer knows it
RESIDENCE_CUE = re.compile(
    r"(?i:\b(?:lives|lived|living|resides|resided|residing|born|home)\s+(?:in|at|near)\s+|"
    r"\b(?:moved|relocated)\s+(?:to|from)\s+|\bnative\s+of\s+|\bvisiting\s+from\s+|\bflying\s+in\s+from\s+|"
    r"\bfrom\s+the\s+(?:town|city|village)\s+of\s+)$")
AMBIGUOUS = {"washington", "jackson", "lincoln", "madison", "columbus", "mobile", "orange", "independence", "aurora",
             "salem", "springfield", "lafayette", "warren", "kent", "norman", "henderson", "richmond", "elizabeth",
             "concord", "jefferson", "columbia", "charlotte", "victoria", "austin", "tyler", "irving", "arlington",
             "midland", "peoria", "lancaster", "burlington", "manchester", "cambridge", "jersey", "fairfield",
             "quincy", "camden", "augusta", "georgia", "virginia", "carolina", "dakota", "montgomery", "phoenix",
             "hampton", "athens", "birmingham", "glendale", "mesa", "gilbert", "plano", "ontario", "garland", "clarksville"}


class LocationRecognizer(ClinicalRecognizer):
    ENTITIES = ("GEOGRAPHIC_LOCATION",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        blocked = lx.blocked_words()
        for m in GAZETTEER.finditer(text):
            first = m.group().split()[0].lower().rstrip(",")
            if re.match(r"\s+(?:\w+\s+)?(?:score|risk|criteria|study|scale|equation|index|heart)\b", text[m.end():m.end() + 25], re.I):
                continue  # "Framingham risk score"
            if first in AMBIGUOUS and not LOC_CUE.search(text[max(0, m.start() - 25):m.start()]):
                continue
            yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.6
        info = text_info(text)
        if info.caps_note:  # "LIVES IN DELAWARE", "FROM THE MAINE": the gazetteer in capitals
            for m in GAZETTEER_CAPS.finditer(text):
                words = m.group().split()
                first = words[0].rstrip(",").lower()
                if (m.group().isupper() and first not in AMBIGUOUS and not (len(words) == 1 and first in lx.ordinary_words())
                        and LOC_CUE.search(text[max(0, m.start() - 25):m.start()])):
                    yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.55
        for w in info.words:  # "LIVES IN BEDONG", "moved from Oyem": a word no vocabulary knows
            if ((w.is_title or (info.caps_note and w.is_upper))
                    and RESIDENCE_CUE.search(text[max(0, w.start - 40):w.start])  # the cue first: cheap
                    and unlisted_word(w.key) and w.key not in blocked):
                yield w.start, w.end, "GEOGRAPHIC_LOCATION", 0.55
        ordinary = lx.ordinary_words()
        for m in TOWN_SHAPE.finditer(text):
            last = m.group().split()[-1].lower()
            if last in blocked or last in lx.medical_words() or (" " not in m.group() and last in ordinary):
                continue  # "Discomfort" is no town for its "-fort"
            yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.55
        for m in PREFIXED_TOWN.finditer(text):
            last = m.group().split()[-1].lower()
            if last in blocked:
                continue
            if last in lx.all_names() or LOC_CUE.search(text[max(0, m.start() - 25):m.start()]):
                yield m.start(), m.end(), "GEOGRAPHIC_LOCATION", 0.5
        if nlp_artifacts is not None:
            names = lx.all_names()
            for ent in nlp_artifacts.entities:
                if ent.label_ not in ("GPE", "LOCATION", "LOC"):
                    continue
                toks = [t for t in ent if t.is_alpha]
                if not toks or not all(TITLE_SHAPE_RE.match(t.text) for t in toks):
                    continue
                if any(t.lower_ in blocked or t.lower_ in lx.medical_words() for t in toks):
                    continue
                if len(toks) == 1 and (toks[0].lower_ in names or len(toks[0].text) < 4 or toks[0].lower_ in ordinary):
                    continue
                if not GPE_CUE.search(text[max(0, ent.start_char - 25):ent.start_char]):
                    continue
                yield ent.start_char, ent.end_char, "GEOGRAPHIC_LOCATION", 0.45
