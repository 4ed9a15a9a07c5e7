"""Text rules shared by every step: what a word is, how text is compared, letter case, titles.

One definition each; the detector, the masker, the infiller and the checker import
them from here so that a rule changed once changes everywhere.
"""
from __future__ import annotations

import re
import unicodedata

# A maskable word: ASCII letters with an optional apostrophe part ("patient's").
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

# Month names as a regex group (abbreviations with an optional period).
MONTH_RE = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
            r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Titles, by what they tell about the next word.  HONORIFICS always introduce a person;
# ROLES are also clinical abbreviations (MD, PA, NP, RN) or name suffixes (Jr, Sr).
HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "miss", "prof"})
SPOKEN_HONORIFICS = frozenset({"mister", "sir", "madam"})
ROLES = frozenset({"md", "rn", "np", "pa", "phd", "jr", "sr", "sister"})
TITLES = HONORIFICS | ROLES


# the words of an institution's name that name no one place ("Memorial Hospital", "the Medical
# Center", "County General"); "Rose Medical Center" or "Good Samaritan" name one
GENERIC_INSTITUTION_WORDS = frozenset(
    "a an the of and for at in general community regional state county city university national public private "
    "memorial medical health healthcare care center centre hospital hospitals clinic clinics institute infirmary "
    "service services system department unit ward floor rehab rehabilitation nursing home school college group "
    "program children's childrens women's womens veterans va outpatient inpatient emergency".split())


def generic_institution(value: str) -> bool:
    """An institution named by generic words only (GENERIC_INSTITUTION_WORDS)."""
    words = re.findall(r"[a-z']+", value.lower())
    return bool(words) and all(w in GENERIC_INSTITUTION_WORDS for w in words)


def normalise(text: str) -> str:
    """Lower-case words of letters and digits in any script, accents dropped ("Núñez" -> "nunez")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", folded))


def is_mostly_upper(text: str) -> bool:
    """An ALL-CAPS note: over 70% of its letters are capitals."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.7


def match_case(template: str, value: str, *, title: bool = False) -> str:
    """Write ``value`` in the letter case of ``template``.

    ALL CAPS and all lower are copied.  Otherwise ``value`` keeps its own case (a
    surrogate "McDonald" stays so), unless ``title``: then a capitalised template gives
    a capitalised word and any other gives lower case (a generated word has no case of
    its own).
    """
    if title:
        if len(template) > 1 and template.isupper():
            return value.upper()
        if template[:1].isupper():
            return value[:1].upper() + value[1:].lower()
        return value.lower()
    letters = [c for c in template if c.isalpha()]
    if not letters:
        return value
    if all(c.isupper() for c in letters) and len(letters) > 1:
        return value.upper()
    if all(c.islower() for c in letters):
        return value.lower()
    return value
