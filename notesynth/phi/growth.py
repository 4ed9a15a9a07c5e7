"""Span growth: a found span takes in the neighbouring words that belong to the same identifier.

A detector that finds part of an identifier often stops short of the rest: "Tijucas do Sul"
loses its "do Sul", "KANNUR, NV" its state, a first name found by its context leaves the
surname that no list knows ("SILVO GERGIN"), a surname the initial before it ("J. Myers").
Each rule grows a span over words that cannot be read any other way next to it; the part that
was found is the evidence.  An identifying number is never cut inside its digit group
("6-795-995").  Applied after propagation, so every mention grows alike.  (Word
pieces cut at an apostrophe are joined where the tagger decodes, a phone's ", ext 28" where
the phone rule matches.)
"""
from __future__ import annotations

import re
from bisect import bisect_left

from notesynth.spans import Span, merge_overlapping

from ..protect import is_medical_word
from . import lexicon as lx
from .recognizers.base import Word, text_info, unlisted_word, whole_run
from .recognizers.hospitals import FACILITY_NOUNS, NAME_PREFIX
from .recognizers.ids import CTX_LABELS
from .recognizers.wards import UNIT_NOUNS

# place-name particles: "Tijucas do Sul", "Newcastle under Lyme", "Frankfurt am Main", "Hawr al 'Anz"
_PLACE_PARTICLE = re.compile(
    r"[ \t]+(?:do|da|dos|das|de|del|della|dei|di|du|des|la|le|les|el|al|am|an der|im|in der|sur|upon|under|"
    r"aan|bei|de la|de las|de los|van der|van den|von der)[ \t]+(?:['’]?[A-Z][\w'’-]*)(?:[ \t]+[A-Z][\w'’-]*)?")
_STATE_AFTER = re.compile(r",[ \t]*[A-Z]{2}\b(?![\w'’-])")
_SPACE = re.compile(r"[ \t]+")
_LETTER_TERMS = frozenset({"vitamin", "factor", "type", "grade", "stage", "class", "phase", "lead", "group", "hepatitis"})
_INITIAL_BEFORE = re.compile(r"(?<![\w.])[A-Z]\.\s{1,2}$")
_FACILITY_AFTER = re.compile(rf"[ \t]+(?:(?i:{UNIT_NOUNS})|(?i:{FACILITY_NOUNS}))(?![\w'’-])")
_WARD_AFTER = re.compile(rf"[ \t]+(?i:{UNIT_NOUNS})(?![\w'’-])")
_PREFIX_BEFORE = re.compile(rf"(?<![\w.])(?i:{NAME_PREFIX})[ \t]+$")
_INSTITUTION_PARTS = ("NAME", "GEOGRAPHIC_LOCATION", "HOSPITAL", "WARD")
# numbers that identify: one is never cut inside its digit group ("6-795-995", "0798.921")
_NUMBER_LABELS = frozenset({"PHONE_NUMBER", "FAX_NUMBER", "MEDICAL_RECORD_NUMBER", "SOCIAL_SECURITY_NUMBER",
                            "HEALTH_PLAN_BENEFICIARY_NUMBER", "ACCOUNT_NUMBER", "CERTIFICATE_LICENSE_NUMBER",
                            "UNIQUE_IDENTIFIER", "OTHER_ID"})
_ID_CHARS = frozenset("0123456789-.")
_LETTERS_BEFORE = re.compile(r"(?<![\w/.-])([A-Z]{1,3})([ /])$")
_EXCHANGE_BEFORE = re.compile(r"(?<![\w.-])\d{3} $")
_LINE_NUMBER = re.compile(r"\d{4}(?![\w.-])")  # the four digits after a local exchange


def grow(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` with each grown over the words that belong to it (see the module docstring)."""
    grown: list[Span] = []
    for s in spans:
        start, end = s.start, s.end
        if s.label == "GEOGRAPHIC_LOCATION":
            m = _PLACE_PARTICLE.match(text, end)
            end = m.end() if m else end
            m = _STATE_AFTER.match(text, end)
            end = m.end() if m else end
        elif s.label == "NAME":
            start, end, joined = _name_neighbours(text, start, end)
            grown += joined
            start = _with_initials(text, start)
        elif s.label in _NUMBER_LABELS:
            start, end = _whole_number(text, start, end)
            start = _with_id_prefix(text, start, s.label)
        label = s.label
        if label in _INSTITUTION_PARTS:
            start, end, label = _institution(text, start, end, label)
        grown.append(Span(start, end, label, s.score))
    return merge_overlapping(grown)


def _whole_number(text: str, start: int, end: int) -> tuple[int, int]:
    """An identifier span cut inside its digit group takes in the rest of it: a phone rule that
    reads "795-995" of "6-795-995" leaves the "6" that belongs to it.  Only a number of seven
    digits or more grows: a shorter one ("sats (88-91)") is a value the span was wrong about."""
    a, b = whole_run(text, start, end, _ID_CHARS)
    while a < start and text[a] in "-.":
        a += 1
    while b > end and text[b - 1] in "-.":
        b -= 1
    return (a, b) if sum(c.isdigit() for c in text[a:b]) >= 7 else (start, end)


def _with_id_prefix(text: str, start: int, label: str) -> int:
    """A record number takes in the letters written before it ("GG 735749", "I/223745"), a
    local phone number its exchange ("133 0710"): a rule that reads the digits leaves them.
    Letters apart from the number by a space count only when they are two or three, no word
    list blocks them and they are not the cue that names the number ("MRN 735749")."""
    if label == "PHONE_NUMBER" and _LINE_NUMBER.match(text, start):
        exchange = _EXCHANGE_BEFORE.search(text, max(0, start - 4), start)
        if exchange:
            return exchange.start()
    m = _LETTERS_BEFORE.search(text, max(0, start - 4), start)
    if not m or sum(c.isdigit() for c in text[start:start + 8]) < 5:
        return start
    key = m.group(1).lower()
    if m.group(2) == "/" or (len(key) > 1 and key not in lx.blocked_words() and not is_medical_word(key)
                             and not any(rx.search(m.group()) for rx, _ in CTX_LABELS)):
        return m.start()
    return start


def _institution(text: str, start: int, end: int, label: str) -> tuple[int, int, str]:
    """A name or place that is part of an institution's name takes in the rest of it: the noun
    after it ("Eakin Unit", "Kinkela Infirmary", "Fyli Heart Institute") and the prefix before it
    ("Our Lady of Fyli", "St. Irwin"), each written with a capital; with a noun or "Our Lady of"
    the span becomes the institution (a WARD for units and wings, else a HOSPITAL), so its
    surrogate is one."""
    m = _FACILITY_AFTER.match(text, end)
    if m and text[m.end() - len(m.group().lstrip()):][:1].isupper():
        end = m.end()
        label = "WARD" if _WARD_AFTER.fullmatch(m.group()) else "HOSPITAL"
    m = _PREFIX_BEFORE.search(text, max(0, start - 20), start)
    if m and text[m.start()].isupper():
        start = m.start()
        if m.group().lower().startswith("our lady") and label != "WARD":
            label = "HOSPITAL"  # "St. Pierre", "Mount Vernon" may be a person or a place: their label stays
    return start, end, label


def _name_neighbours(text: str, start: int, end: int) -> tuple[int, int, list[Span]]:
    """A name takes in the word right before or after it that no list knows and that is written
    like it ("SILVO GERGIN" in capitals, "Ottkkuttn Suits" capitalised): the other half of a
    first-name/surname pair whose first half was found; so does the first name after a comma
    ("Kinkela, Smsr").  A name joined by "and" ("Dimperio and Oyelaran") is returned on its own."""
    info = text_info(text)
    words, starts = info.words, info.starts
    first_i = bisect_left(starts, start)
    last_i = bisect_left(starts, end) - 1
    while last_i >= first_i and words[last_i].end > end:
        last_i -= 1
    if first_i > last_i:
        return start, end, []
    first, last = words[first_i], words[last_i]
    joined: list[Span] = []
    if last_i + 1 < len(words):
        nxt = words[last_i + 1]
        gap = text[last.end:nxt.start]
        if gap in (" ", "\t") and _same_style(last, nxt, info.caps_note) and unlisted_word(nxt.key):
            end = nxt.end
        elif gap in (" ", "\t") and first_i == last_i and _surname_after_first_name(last, nxt, info.caps_note):
            end = nxt.end  # "Anna Silver": a first name found alone, a capitalised word after it
        elif gap in (", ", ",\t") and _first_name(nxt, info.caps_note):
            end = nxt.end  # "Kinkela, Smsr": surname, first name
        elif (nxt.key == "and" and last_i + 2 < len(words) and _SPACE.fullmatch(gap)
              and _SPACE.fullmatch(text[nxt.end:words[last_i + 2].start])
              and _first_name(words[last_i + 2], info.caps_note)):
            other = words[last_i + 2]  # "daughters Dimperio and Oyelaran"
            joined.append(Span(other.start, other.end, "NAME", 0.5))
    if first_i > 0:
        prev = words[first_i - 1]
        if text[prev.end:first.start] in (" ", "\t") and _same_style(first, prev, info.caps_note) \
                and unlisted_word(prev.key):
            start = prev.start
    return start, end, joined


def _surname_after_first_name(found: Word, nxt: Word, caps_note: bool) -> bool:
    """The surname of a pair whose first name was found alone: in a note that writes in mixed
    case, a capitalised word right after a listed first name is the surname even when it is
    also an ordinary word ("Anna Silver", "Mrs. Anna Major"), unless it is a medical, charting
    or common function word ("Anna Pain", "Mary Called")."""
    return (not caps_note and found.is_title and nxt.is_title and found.key in lx.first_names()
            and len(nxt.key) >= 3 and not is_medical_word(nxt.key) and nxt.key not in _NOT_SURNAMES)


_NOT_SURNAMES = frozenset(lx.CHART_WORDS) | frozenset(
    "the and for with from this that then was were has had have will would can could may might should "
    "not but also called came went said says states stated reports reported".split())


def _first_name(w: Word, caps_note: bool) -> bool:
    """The first name of a "Surname, First" pair: in no vocabulary, capitalised (a vowelless
    transliteration like "Smsr" too; in capitals the vowel rule keeps out "CVVHD")."""
    if caps_note and w.is_upper:
        return unlisted_word(w.key)
    return w.is_title and unlisted_word(w.key, need_vowel=False) and w.key not in lx.blocked_words()


def _same_style(found: Word, other: Word, caps_note: bool) -> bool:
    """Written like the found word: both capitalised, or both in capitals in an all-caps note."""
    return (found.is_title and other.is_title) or (caps_note and found.is_upper and other.is_upper)


def _with_initials(text: str, start: int) -> int:
    """A name span takes in the initials written just before it ("J. Myers", "N. A. Averyt"): a
    detector that knows the surname by its context often leaves the initial out."""
    while m := _INITIAL_BEFORE.search(text, max(0, start - 4), start):
        before = re.search(r"([A-Za-z]+)\W*$", text[max(0, m.start() - 30):m.start()])
        word = before.group(1).lower() if before else ""
        if word in _LETTER_TERMS or word in lx.medical_words():
            break  # "vitamin K. Smith", "factor V. Lee": the letter belongs to the term
        start = m.start()
    return start
