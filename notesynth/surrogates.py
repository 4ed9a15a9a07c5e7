"""Realistic replacements for PHI, consistent within a note.

The same original (normalised) gets the same surrogate everywhere in a note;
name parts are mapped one by one so "Dr. Smith" and "John Smith" agree; every
date in a note moves by one random offset so intervals between dates survive.
A surrogate never equals its original.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from faker import Faker

from notesynth import text as text_rules
from notesynth.text import MONTH_RE, MONTHS, TITLES, match_case, normalise

WEEKDAYS = [d.capitalize() for d in text_rules.WEEKDAYS]
HOSPITAL_SUFFIXES = ["Hospital", "Medical Center", "General Hospital", "Memorial Hospital", "Regional Medical Center"]
WARD_NAMES = ["MICU", "SICU", "CCU", "Unit 4 West", "Ward 7B", "Step-down Unit", "Unit 5 North", "CSRU", "Ward 3A"]


@dataclass
class SurrogateMaker:
    """Makes surrogates for one note; create one per note (seeded) and reuse it within the note."""

    seed: int
    date_shift_days: int = 0
    _memory: dict = field(default_factory=dict)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.faker = _shared_faker()
        self.faker.seed_instance(self.seed)  # one maker is used at a time, within one note
        if not self.date_shift_days:
            self.date_shift_days = self.rng.choice([-1, 1]) * self.rng.randint(30, 730)

    def surrogate(self, label: str, original: str) -> str:
        key = (label, normalise(original))
        if key not in self._memory:
            value = self._make(label, original)
            for _ in range(5):
                if normalise(value) != key[1] and not _shares_word(value, original, label):
                    break
                value = self._make(label, original)
            self._memory[key] = value
        return self._memory[key]

    # ---------------------------------------------------------------- per label
    def _make(self, label: str, original: str) -> str:
        maker = {
            "NAME": self._name, "DATE": self._date, "AGE": lambda o: "90",
            "GEOGRAPHIC_LOCATION": self._location, "PHONE_NUMBER": self._digits,
            "FAX_NUMBER": self._digits, "EMAIL_ADDRESS": lambda o: self.faker.email(),
            "URL": lambda o: self.faker.url(), "IP_ADDRESS": lambda o: self.faker.ipv4(),
            "HOSPITAL": self._hospital, "WARD": lambda o: self.rng.choice(WARD_NAMES),
            "ORGANIZATION": lambda o: self.faker.company(),
        }.get(label, self._digits)
        return match_case(original, maker(original))

    def _name(self, original: str) -> str:
        parts = re.split(r"(\s+|\.|,)", original)
        out = []
        for part in parts:
            if not part or not re.search(r"[A-Za-z]", part) or part.lower().rstrip(".") in TITLES:
                out.append(part)
                continue
            key = ("NAME_PART", part.lower())
            if key not in self._memory:
                if len(part) == 1:
                    new = self.rng.choice("ABCDEFGHJKLMNPRSTW")
                elif _looks_first_name(part):
                    new = self.faker.first_name()
                else:
                    new = self.faker.last_name()
                if new.lower() == part.lower():
                    new = self.faker.last_name() + "e"
                self._memory[key] = new
            out.append(match_case(part, self._memory[key]))
        return "".join(out)

    def _hospital(self, original: str) -> str:
        return f"{self.faker.last_name()} {self.rng.choice(HOSPITAL_SUFFIXES)}"

    def _location(self, original: str) -> str:
        text = original.strip()
        if re.fullmatch(r"\d{5}(?:-\d{4})?", text):
            return self.faker.zipcode()
        if re.match(r"^\d+\s+\w+", text):
            return self.faker.street_address()
        if re.fullmatch(r"[A-Z]{2}", text):
            return self.faker.state_abbr()
        if text.lower() in _STATE_NAMES:
            return self.faker.state()
        return self.faker.city()

    def _digits(self, original: str) -> str:
        """Same shape, new characters: digits for digits, letters for letters."""
        out = []
        for i, c in enumerate(original):
            if c.isdigit():
                out.append(str(self.rng.randint(1 if i == 0 else 0, 9)))
            elif c.isalpha():
                new = self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
                out.append(new if c.isupper() else new.lower())
            else:
                out.append(c)
        return "".join(out)

    def _date(self, original: str) -> str:
        shifted = shift_date(original, self.date_shift_days)
        if shifted is not None:
            return shifted
        text = original.strip()
        if text.capitalize() in WEEKDAYS or text.lower() in (w.lower()[:3] for w in WEEKDAYS):
            return self.rng.choice(WEEKDAYS)
        if re.search(r"\d", text):
            return self._digits(text)
        day = dt.date(2000, 1, 1) + dt.timedelta(days=self.rng.randint(0, 9000))
        return day.strftime("%B %-d")


_FAKER: Faker | None = None


def _shared_faker() -> Faker:
    """Building a Faker costs more than a short note; makers reseed a shared one."""
    global _FAKER
    if _FAKER is None:
        _FAKER = Faker("en_US")
    return _FAKER


_STATE_NAMES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
    "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky",
    "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi",
    "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey", "new mexico",
    "new york", "north carolina", "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania",
    "rhode island", "south carolina", "south dakota", "tennessee", "texas", "utah", "vermont",
    "virginia", "washington", "west virginia", "wisconsin", "wyoming",
}


def _shares_word(value: str, original: str, label: str) -> bool:
    if label not in ("NAME", "HOSPITAL", "ORGANIZATION", "GEOGRAPHIC_LOCATION"):
        return False
    generic = {"hospital", "medical", "center", "general", "memorial", "regional", "dr", "mr", "mrs", "ms"}
    a = set(normalise(value).split()) - generic
    b = set(normalise(original).split()) - generic
    return bool(a & b)


_FIRST_NAMES: set[str] | None = None


def _looks_first_name(part: str) -> bool:
    global _FIRST_NAMES
    if _FIRST_NAMES is None:
        from faker.providers.person.en_US import Provider
        _FIRST_NAMES = {n.lower() for n in list(Provider.first_names_male) + list(Provider.first_names_female)}
    return part.lower() in _FIRST_NAMES


# ---------------------------------------------------------------- dates

def shift_date(text: str, days: int) -> str | None:
    """The same date moved by ``days``, written in the original's format; None if not parsed."""
    t = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    formatted = _shift_numeric(t, days) or _shift_named(t, days)
    return None if formatted is None else lead + formatted + trail


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _shift_numeric(t: str, days: int) -> str | None:
    m = re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", t)
    if m:
        d = _safe_date(int(m[1]), int(m[3]), int(m[4]))
        if d:
            n = d + dt.timedelta(days=days)
            return f"{n.year:04d}{m[2]}{n.month:0{len(m[3])}d}{m[2]}{n.day:0{len(m[4])}d}"
    m = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{2}|\d{4}))?", t)
    if m:
        year = int(m[4]) if m[4] else 2001
        if m[4] and len(m[4]) == 2:
            year += 2000 if year < 50 else 1900
        d = _safe_date(year, int(m[1]), int(m[3]))
        if d:
            n = d + dt.timedelta(days=days)
            out = f"{n.month:0{len(m[1])}d}{m[2]}{n.day:0{len(m[3])}d}"
            if m[4]:
                out += m[2] + (f"{n.year % 100:02d}" if len(m[4]) == 2 else f"{n.year:04d}")
            return out
    m = re.fullmatch(r"(19|20)\d{2}", t)
    if m:
        return str(int(t) + year_shift(days))
    return None


def _shift_named(t: str, days: int) -> str | None:
    m = re.fullmatch(rf"{MONTH_RE}\s+(\d{{1,2}})(st|nd|rd|th)?(,?\s*(\d{{4}}))?", t, re.IGNORECASE)
    if m:
        month = _month_index(m[1])
        year = int(m[5]) if m[5] else 2001
        d = _safe_date(year, month, int(m[2]))
        if d:
            n = d + dt.timedelta(days=days)
            out = f"{_month_name(n.month, m[1])} {n.day}{_ordinal(n.day) if m[3] else ''}"
            if m[5]:
                out += ("," if "," in m[4] else "") + f" {n.year}"
            return out
    m = re.fullmatch(rf"(\d{{1,2}})(st|nd|rd|th)?\s+{MONTH_RE}(,?\s*(\d{{4}}))?", t, re.IGNORECASE)
    if m:
        month = _month_index(m[3])
        year = int(m[5]) if m[5] else 2001
        d = _safe_date(year, month, int(m[1]))
        if d:
            n = d + dt.timedelta(days=days)
            out = f"{n.day}{_ordinal(n.day) if m[2] else ''} {_month_name(n.month, m[3])}"
            if m[5]:
                out += ("," if "," in m[4] else "") + f" {n.year}"
            return out
    m = re.fullmatch(rf"{MONTH_RE}(,?\s+(?:of\s+)?)(\d{{4}})", t, re.IGNORECASE)
    if m:
        d = dt.date(int(m[3]), _month_index(m[1]), 15) + dt.timedelta(days=days)
        return f"{_month_name(d.month, m[1])}{m[2]}{d.year}"
    m = re.fullmatch(rf"(?:the\s+)?(\d{{1,2}})(st|nd|rd|th)", t, re.IGNORECASE)
    if m:
        day = (int(m[1]) - 1 + days % 27 + 1) % 28 + 1  # moves by 1-27 days: never back to itself
        return f"{day}{_ordinal(day)}" if not t.lower().startswith("the") else f"the {day}{_ordinal(day)}"
    return None


def year_shift(days: int) -> int:
    """Whole years a year-only date moves: the shift rounded, and never 0 ("in 1996" must change)."""
    return round(days / 365.25) or (1 if days > 0 else -1)


def _month_index(token: str) -> int:
    token = token.lower().rstrip(".")[:3]
    return [m[:3] for m in MONTHS].index(token) + 1


def _month_name(month: int, template: str) -> str:
    name = MONTHS[month - 1]
    bare = template.rstrip(".")
    if len(bare) <= 4 and bare.lower() not in ("june", "july"):
        name = name[:3] + ("." if template.endswith(".") else "")
    return match_case(bare, name.capitalize()) if bare.isupper() or bare.islower() else name.capitalize()


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
