"""Span growth: a found span takes in the neighbouring words that belong to the same identifier.

A detector that finds part of an identifier often stops short of the rest: the tagger reads
"Ch'ighladze" as "ighladze" (word pieces stop at the apostrophe), a phone number leaves its
", ext 28" behind, "Tijucas do Sul" loses its "do Sul", "KANNUR, NV" its state, and a first
name found by its context leaves the surname that no list knows ("SILVO GERGIN").  Each rule
here grows a span over words that cannot be read any other way next to it; the part that was
found is the evidence.  Applied after propagation, so every mention grows alike.
"""
from __future__ import annotations

import re

from notesynth.spans import Span, merge_overlapping

from notesynth.protect import is_medical_word
from notesynth.unknown import known_words

from . import lexicon as lx
from .recognizers.base import text_info
from .recognizers.titled_names import _unlisted

_APOSTROPHES = "'’"
# place-name particles: "Tijucas do Sul", "Newcastle under Lyme", "Frankfurt am Main", "Hawr al 'Anz"
_PLACE_PARTICLE = re.compile(
    r"[ \t]+(?:do|da|dos|das|de|del|della|dei|di|du|des|la|le|les|el|al|am|an der|im|in der|sur|upon|under|"
    r"aan|bei)[ \t]+(?:['’]?[A-Z][\w'’-]*)(?:[ \t]+[A-Z][\w'’-]*)?")
_STATE_AFTER = re.compile(r",[ \t]*[A-Z]{2}\b(?![\w'’-])")
_EXTENSION = re.compile(r"[ \t]*,?[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,5}\b", re.I)


def grow(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` with each grown over the words that belong to it (see the module docstring)."""
    if not spans:
        return spans
    grown = []
    for s in spans:
        start, end = _whole_word(text, s.start, s.end) if s.label == "NAME" else (s.start, s.end)
        if s.label == "PHONE_NUMBER" or s.label == "FAX_NUMBER":
            m = _EXTENSION.match(text, end)
            end = m.end() if m else end
        elif s.label == "GEOGRAPHIC_LOCATION":
            m = _PLACE_PARTICLE.match(text, end)
            end = m.end() if m and _looks_like_place_tail(m.group()) else end
            m = _STATE_AFTER.match(text, end)
            end = m.end() if m else end
        elif s.label == "NAME":
            start, end = _unlisted_neighbours(text, start, end, grown)
        grown.append(Span(start, end, s.label, s.score))
    return merge_overlapping(grown)


def _whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow over letters joined by an apostrophe: "Ch'ighladze", "Grv'n" (not a possessive 's)."""
    while start >= 2 and text[start - 1] in _APOSTROPHES and text[start - 2].isalpha():
        start -= 2
        while start > 0 and text[start - 1].isalpha():
            start -= 1
    while end < len(text):
        if text[end].isalpha() and end > start and (text[end - 1].isalpha() or text[end - 1] in _APOSTROPHES):
            end += 1
        elif (text[end] in _APOSTROPHES and end + 1 < len(text) and text[end + 1].isalpha()
              and text[end - 1].isalpha() and not _possessive(text, end)):
            end += 2
        else:
            break
    return start, end


def _possessive(text: str, i: int) -> bool:
    """The apostrophe at ``i`` starts a possessive 's (then the name ends before it)."""
    return text[i + 1:i + 2] in ("s", "S") and not text[i + 2:i + 3].isalpha()


def _looks_like_place_tail(tail: str) -> bool:
    words = re.findall(r"[A-Za-z'’-]+", tail)
    return not any(w.lower() in ("md", "rn", "np", "pa", "dr") for w in words)


def _unlisted_neighbours(text: str, start: int, end: int, extra: list) -> tuple[int, int]:
    """A name takes in the word right before or after it that no list knows and that is written
    like it ("SILVO GERGIN" in capitals, "Ottkkuttn Suits" capitalised): the other half of a
    first-name/surname pair whose first half was found; so does the first name after a comma
    ("Kinkela, Smsr").  A name joined by "and" ("Dimperio and Oyelaran") goes to ``extra``."""
    info = text_info(text)
    words = info.words
    inside = [w for w in words if start <= w.start and w.end <= end]
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    idx = words.index(last)
    if idx + 1 < len(words):
        nxt = words[idx + 1]
        if re.fullmatch(r"[ \t]", text[last.end:nxt.start]) and _same_style(last.text, nxt.text, info.caps_note) \
                and _unlisted(nxt.key):
            end = nxt.end
        elif re.fullmatch(r",[ \t]", text[last.end:nxt.start]) and _comma_name(nxt, info.caps_note):
            end = nxt.end  # "Kinkela, Smsr": surname, first name
        elif (nxt.key == "and" and idx + 2 < len(words) and re.fullmatch(r"[ \t]+", text[last.end:nxt.start])
              and re.fullmatch(r"[ \t]+", text[nxt.end:words[idx + 2].start])
              and _comma_name(words[idx + 2], info.caps_note)):
            other = words[idx + 2]  # "daughters Dimperio and Oyelaran"
            extra.append(Span(other.start, other.end, "NAME", 0.5))
    idx = words.index(first)
    if idx > 0:
        prev = words[idx - 1]
        if re.fullmatch(r"[ \t]", text[prev.end:first.start]) and _same_style(first.text, prev.text, info.caps_note) \
                and _unlisted(prev.key):
            start = prev.start
    return start, end


def _comma_name(w, caps_note: bool) -> bool:
    """The first name of a "Surname, First" pair: capitalised and in no vocabulary (a vowelless
    transliteration like "Smsr" too; in capitals the vowel rule keeps out "CVVHD")."""
    if caps_note and w.is_upper:
        return _unlisted(w.key)
    return (w.is_title and len(w.key) >= 3 and w.key.isalpha() and w.key not in known_words()
            and not is_medical_word(w.key) and w.key not in lx.blocked_words())


def _same_style(found: str, other: str, caps_note: bool) -> bool:
    """Capitalised like the found word: both Title-case, or both capitals in an all-caps note."""
    if len(other) < 3 or not other.isalpha():
        return False
    if found.isupper() and other.isupper():
        return caps_note
    return found[:1].isupper() and found[1:].islower() and other[:1].isupper() and other[1:].islower()
