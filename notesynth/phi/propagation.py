"""Note-level propagation: a string found as PHI once is PHI everywhere in the note.

Much of what a detector misses is a second mention of something it found: the surname
alone after "Mr. Smith", a first name on its own, "SMITH'S" in capitals, the initials
"J.S." of "John Smith", the same date or number again.  Every such occurrence gets a span
with the label of the mention that was found.
"""
from __future__ import annotations

import re

from notesynth.phi import lexicon as lx
from notesynth.spans import Span, merge_overlapping
from notesynth.text import NAME_PART_MIN_CHARS, TITLES

# labels whose strings identify wherever they recur; parts are propagated for names only
_WHOLE_MIN_CHARS = 3
_POSSESSIVE = r"(?:['’]s)?"


def _word_pattern(value: str) -> re.Pattern:
    """``value`` as whole words, any case, any run of spaces, optional possessive."""
    parts = [re.escape(p) for p in value.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(parts) + _POSSESSIVE + r"(?![\w])", re.IGNORECASE)


def _name_parts(value: str) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]", value)
    return [w for w in words if w.lower().rstrip(".") not in TITLES]


def _initials(parts: list[str]) -> list[str]:
    """Dotted initials of a two- or three-part name: "J.S.", "J. S." (undotted ones are too common)."""
    if not 2 <= len(parts) <= 3:
        return []
    letters = [p[0].upper() for p in parts]
    return [".".join(letters) + ".", ". ".join(letters) + "."]


def propagate(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` plus every other occurrence of their strings (and of name parts and initials)."""
    if not spans:
        return spans
    common = lx.blocked_words()
    caps_note = sum(c.isupper() for c in text) > 0.6 * max(1, sum(c.isalpha() for c in text))
    found: list[Span] = list(spans)
    seen: set[tuple[str, str]] = set()
    for span in spans:
        value = " ".join(text[span.start:span.end].split())
        key = (span.label, value.lower())
        if key in seen:
            continue
        seen.add(key)
        if len(value) >= _WHOLE_MIN_CHARS and re.search(r"\w", value):
            found += _word_occurrences(text, value, span, common, caps_note)
        if span.label != "NAME":
            continue
        parts = _name_parts(value)
        for part in parts if len(parts) > 1 else []:
            if len(part) >= NAME_PART_MIN_CHARS:
                found += _word_occurrences(text, part, span, common, caps_note)
        for initials in _initials(parts):
            found += _occurrences(text, re.compile(r"(?<![\w.])" + re.escape(initials), re.IGNORECASE), span)
    return merge_overlapping(found)


def _word_occurrences(text: str, value: str, like: Span, common: frozenset, caps_note: bool) -> list[Span]:
    """Occurrences of ``value`` as whole words.  A common word ("Brown", "Will") only where it
    is capitalised as a name, and never in an all-capitals note, where it is a word as often."""
    hits = _occurrences(text, _word_pattern(value), like)
    if " " in value or value.lower() not in common:
        return hits
    if caps_note:
        return []
    return [s for s in hits if text[s.start:s.start + 1].isupper() and not text[s.start:s.end].isupper()]


def _occurrences(text: str, pattern: re.Pattern, like: Span) -> list[Span]:
    return [Span(m.start(), m.end(), like.label, like.score) for m in pattern.finditer(text)
            if not (m.start() == like.start and m.end() == like.end)]
