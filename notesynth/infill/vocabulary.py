"""What a fill may write: never a medical word, a clinical direction, a first name, or a word that stands for identity.

A masked word was not protected, so its fill may not be a protected word either.
"""
from __future__ import annotations

import re
from functools import lru_cache

from notesynth import protect
from notesynth.spans import Span
from notesynth.text import HONORIFICS, MONTHS, NAME_PART_MIN_CHARS, SPOKEN_HONORIFICS, TITLES, WEEKDAYS

# Words a fill may never write beyond the medical words (``fill_allowed``): the assertion and
# direction words, which are never masked either (protect.ASSERTION_WORDS): a fill that writes
# one changes a clinical fact ("elevated" -> "normal", "left" -> "right").  Negation cues are
# keep-list terms already.
BANNED_FILLS = protect.ASSERTION_WORDS

# Words that only introduce or stand for identity: a written title makes the next word read
# as a name ("DR DR", "Mr ABC"), weekdays and months make dates ("may" and "march" too: "in
# may 2005" before a kept year is a date), and the placeholders of the de-identified training
# corpus ("Dr. X", "ABC", "XYZ") are de-identification debris.  Left to the model they fail the
# residual-PHI check and cost a retry or a held-back note.  A company suffix ("inc", "llc")
# makes the word before it an organization's name ("Ancef Inc").
IDENTITY_FILLS = ((HONORIFICS - {"prof"}) | SPOKEN_HONORIFICS | frozenset(WEEKDAYS)  # "prof": also a word stem
                  | frozenset(MONTHS)
                  | frozenset("abc xyz xxx xx yyy yyyy zzz".split())
                  | frozenset("inc llc ltd corp".split()))


@lru_cache(maxsize=1)
def first_name_fills() -> frozenset[str]:
    """First names that are no ordinary lower-case word ("richard", "taylor", "ray"; not "mark",
    "hope"): a fill never writes one, so a written note holds no first name the model could have
    learned from a site's notes, and none the checker must hold it for."""
    from notesynth.phi.lexicon import first_names, ordinary_words  # the name lists, not the detector

    return first_names() - ordinary_words()


def fill_allowed(word: str) -> bool:
    """A fill takes the place of a word that was not protected, so it must not be one either:
    a fill that writes "pneumonia" or "metoprolol" invents a clinical fact (and, in a labelled
    corpus, an entity nobody labelled)."""
    w = word.lower()
    return (w not in BANNED_FILLS and w not in IDENTITY_FILLS and (len(w) > 1 or w == "a")
            and w not in first_name_fills() and not protect.is_medical_word(w))


def writable_word(word: str, known) -> bool:
    """A whole word a fill may write: letters only, ``fill_allowed``, and in ``known`` (the words
    ``synth`` keeps verbatim with this model: unknown.known_words and its site words)."""
    return word.isalpha() and fill_allowed(word) and word.lower() in known


def phi_words(text: str, phi: list[Span]) -> frozenset[str]:
    """The words of a note's PHI (lower case, NAME_PART_MIN_CHARS letters or more, no titles): no
    one-piece fill of that note (the default, max_pieces_per_word 1) may write one
    (``FillJob.banned``).  A surrogate replaces "Mr. Case", and a fill that writes "case"
    elsewhere would put the name back, whatever the checker then decides."""
    return frozenset(w.lower() for s in phi for w in re.findall(r"[^\W\d_]+", text[s.start:s.end])
                     if len(w) >= NAME_PART_MIN_CHARS and w.lower() not in TITLES)
