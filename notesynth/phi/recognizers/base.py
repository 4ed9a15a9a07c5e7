"""Shared base class and text helpers for the clinical recognizers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ...protect import is_medical_word
from ...unknown import known_words

WORD_RE = re.compile(r"[^\W\d_](?:(?:[^\W\d_]|['’])*[^\W\d_])?")
# capitalised, with apostrophe parts after it: "Smith's", "O'Brien", and a transliteration's "Ly'd"
TITLE_SHAPE_RE = re.compile(r"^(?:[A-Z][a-z]+|(?:Mc|Mac|O'|D')[A-Z][a-z]+)(?:['’][a-z]+)*$")
# an English contraction: "don't", "he'd", "we'll" (a known stem, or the "n't" of "didn't")
_CONTRACTION = re.compile(r"^([^\W\d_]+)['’](t|s|re|ve|ll|d|m)$")

Hit = Tuple[int, int, str, float]


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        w = self.text.lower()
        return w[:-2] if w.endswith("'s") else w.strip("'")

    @property
    def is_title(self) -> bool:
        return bool(TITLE_SHAPE_RE.match(self.text))

    @property
    def is_upper(self) -> bool:
        return self.text.isupper() and len(self.text) > 1

    @property
    def is_lower(self) -> bool:
        return self.text.islower()


@dataclass(frozen=True)
class TextInfo:
    words: Tuple[Word, ...]
    caps_note: bool
    starts: Tuple[int, ...]  # word start offsets, for bisecting a span's words


@lru_cache(maxsize=8)
def text_info(text: str) -> TextInfo:
    words = tuple(Word(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text))
    alpha = [w for w in words if len(w.text) > 2]
    upper = sum(1 for w in alpha if w.text.isupper())
    caps = bool(alpha) and upper / len(alpha) > 0.6
    return TextInfo(words, caps, tuple(w.start for w in words))


def unlisted_word(key: str, need_vowel: bool = True) -> bool:
    """A word of more than two letters that is neither an ordinary word nor a medical term: a
    name no list holds, when the context says it is one.  An apostrophe inside a name is part
    of it ("Bits'adze"); an English contraction is an ordinary word.  A near-spelling of a
    medical term does not count as one here ("Vahter" is one edit from "Vater").  ``need_vowel`` keeps out
    abbreviations ("CVVHD RN" is a service); a capitalised vowelless transliteration ("Smsr")
    needs it off."""
    letters = key.replace("'", "").replace("’", "")
    if letters != key and (m := _CONTRACTION.match(key)) and (
            m.group(1) in known_words() or (m.group(2) == "t" and m.group(1).endswith("n"))):
        return False  # "don't", "he'd": an ordinary word; "Ly'd", "Bits'adze" are not
    return (len(letters) > 2 and letters.isalpha() and (not need_vowel or any(c in "aeiouy" for c in letters))
            and key not in known_words() and not is_medical_word(key))


def whole_run(text: str, start: int, end: int, chars: frozenset | str) -> tuple[int, int]:
    """``start, end`` widened over the ``chars`` around them: a number cut by a detector ("8-" of
    "8-30", "795-995" of "6-795-995") taken whole."""
    while start > 0 and text[start - 1] in chars:
        start -= 1
    while end < len(text) and text[end] in chars:
        end += 1
    return start, end


def sentence_initial(text: str, start: int) -> bool:
    """True when only whitespace separates `start` from a line start or sentence end."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in ".!?:;\n\r-*•>\"(["


class ClinicalRecognizer(EntityRecognizer):
    """An EntityRecognizer whose subclasses implement `find(text, nlp_artifacts)`."""

    ENTITIES: Tuple[str, ...] = ()

    def __init__(self, name: Optional[str] = None):
        super().__init__(
            supported_entities=list(self.ENTITIES),
            name=name or type(self).__name__,
            supported_language="en",
            context=[],
        )

    def load(self) -> None:  # nothing to load: word lists are cached lazily
        pass

    def find(self, text: str, nlp_artifacts: Optional[NlpArtifacts]) -> Iterable[Hit]:
        raise NotImplementedError

    def analyze(self, text: str, entities: List[str], nlp_artifacts: Optional[NlpArtifacts] = None
                ) -> List[RecognizerResult]:
        wanted = set(entities) if entities else set(self.ENTITIES)
        out = []
        for start, end, label, score in self.find(text, nlp_artifacts):
            if label in wanted and end > start:
                out.append(RecognizerResult(entity_type=label, start=start, end=end, score=score))
        return out
