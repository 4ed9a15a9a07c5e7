"""Eponymous clinical terms: a proper noun right before "score", "syndrome", "sign" ...
names a scale or a disease ("Modified Duke Score", "McGill Pain Index", "Rutherford
score"), not a person, a hospital or a place. Applied to every recognizer's output."""
from __future__ import annotations

import re

from notesynth.text import HONORIFICS

# head words that make the preceding proper noun an eponym (narrower than lexicon.EPONYM_HEADS:
# "line", "bed", "test" also follow real names in notes)
_HEADS = ("score", "scores", "scale", "index", "criteria", "classification", "grade", "grading", "stage",
          "staging", "sign", "syndrome", "disease", "palsy", "reflex", "maneuver", "manoeuvre", "phenomenon",
          "triad", "questionnaire", "equation", "formula")
_AFTER = re.compile(r"(?:['’]s?)?(?:[ \t]+[A-Z][a-z]+)?[ \t]+(?:" + "|".join(_HEADS) + r")\b", re.I)
_TITLE = re.compile(r"(?:" + "|".join(sorted(HONORIFICS)) + r")\b", re.I)
LABELS = frozenset({"NAME", "HOSPITAL", "GEOGRAPHIC_LOCATION", "ORGANIZATION"})


def is_eponym(text: str, start: int, end: int, label: str) -> bool:
    """True for a NAME/HOSPITAL/LOCATION/ORGANIZATION span that is an eponym in this context."""
    if label not in LABELS or _TITLE.match(text, start):
        return False
    return bool(_AFTER.match(text, end))
