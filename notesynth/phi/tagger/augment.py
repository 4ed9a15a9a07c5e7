"""Re-surrogation: replace every gold PHI span of a note by a freshly drawn value.

Used twice, with different value sources: by the tagger's training script (training
generators, `notesynth.phi.tagger.train_sources`) and by the held-out benchmark
(`bench/heldout/sources.py`), so that neither the tagger nor the benchmark is scored on
the values the rule detector's word lists come from.

`resurrogate` rebuilds the text and the spans together, so offsets stay exact, and
keeps the original's case style (an ALL-CAPS note stays caps, a lower-case value stays
lower case). `SurrogateMaker` draws a value that keeps the shape of the original
(title + first + last, "Last, First", initials, "City, ST", "#AB-123456", ...); a source
only supplies the pools and the date/phone/id formats.

Works on offsets and labels; nothing here prints or logs text.
"""
from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Dict, List, Optional, Sequence, Tuple

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
MONTH_ABBR = [m[:3] for m in MONTHS]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TITLES = {"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "prof", "prof.", "md", "rn", "np", "pa",
          "sr", "sr.", "jr", "jr.", "ii", "iii", "sister", "father", "fr", "fr."}
_WORD_CAPS_RE = re.compile(r"[^\W\d_]{2,}")
_TOKEN_RE = re.compile(r"\S+")
_ALPHA_CORE_RE = re.compile(r"^([^\w]*)(.*?)('s|’s|[^\w]*)$", re.S)


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }".replace(" ", "")


def caps_note(text: str) -> bool:
    """Mostly upper-case letters (as the rule recognizers judge an ALL-CAPS note)."""
    words = [w for w in _WORD_CAPS_RE.findall(text) if len(w) > 2]
    return bool(words) and sum(w.isupper() for w in words) / len(words) > 0.6


def match_case(original: str, new: str, note_caps: bool) -> str:
    """Give `new` the case style of `original` (upper / lower / as drawn)."""
    letters = [c for c in original if c.isalpha()]
    if note_caps or (len(letters) > 1 and original.isupper()):
        return new.upper()
    if letters and original.islower():
        return new.lower()
    return new


# ---------------------------------------------------------------- shape-aware maker

@dataclass
class Pools:
    """The value lists a source contributes (already transliterated to ASCII)."""

    first_names: Sequence[str]
    last_names: Sequence[str]
    cities: Sequence[str]
    states: Sequence[str]          # "Ohio"
    state_abbrs: Sequence[str]     # "OH"
    street_suffixes: Sequence[str]
    hospital_patterns: Sequence[str]  # "{last} General Hospital", "St. {first} Hospital", "{city} Clinic"
    ward_patterns: Sequence[str]      # "{last} {n}", "{n}{letter}"
    org_patterns: Sequence[str]       # "{last} & {last2} LLP"
    email_domains: Sequence[str]
    url_words: Sequence[str]
    date_formats: Sequence[Callable[[date, random.Random], str]]
    phone_shapes: Sequence[str]    # "(ddd) ddd-dddd": d = digit, D = non-zero digit
    id_shapes: Sequence[str]       # L = upper letter, d = digit, D = non-zero digit, rest literal
    mrn_shapes: Sequence[str]
    extra_name_maker: Optional[Callable[[random.Random, str], str]] = None  # (rng, "first"|"last")
    extra_name_rate: float = 0.0


def fill_shape(shape: str, rng: random.Random) -> str:
    out = []
    for c in shape:
        if c == "d":
            out.append(rng.choice(string.digits))
        elif c == "D":
            out.append(rng.choice("123456789"))
        elif c == "L":
            out.append(rng.choice(string.ascii_uppercase))
        else:
            out.append(c)
    return "".join(out)


class SurrogateMaker:
    """Draws a replacement for one gold span: `maker(label, original_text, rng)`."""

    def __init__(self, pools: Pools, known_first_names: frozenset = frozenset()):
        self.p = pools
        # decides whether a one-word original name was a first or a last name
        self.known_first = known_first_names

    # -- names
    def _name(self, rng: random.Random, role: str) -> str:
        p = self.p
        if p.extra_name_maker is not None and rng.random() < p.extra_name_rate:
            return p.extra_name_maker(rng, role)
        return rng.choice(p.first_names if role == "first" else p.last_names)

    def name(self, original: str, rng: random.Random) -> str:
        toks = _TOKEN_RE.findall(original)
        roles: List[Optional[str]] = []
        parts: List[Tuple[str, str, str]] = []
        for t in toks:
            m = _ALPHA_CORE_RE.match(t)
            parts.append((m.group(1), m.group(2), m.group(3)) if m else ("", t, ""))
        name_idx = [i for i, (_, core, _) in enumerate(parts)
                    if core and core.lower().rstrip(".") not in TITLES and not re.fullmatch(r"[A-Za-z]\.?", core)]
        for i, (_, core, suf) in enumerate(parts):
            if i not in name_idx:
                roles.append(None)
            elif len(name_idx) == 1:
                # a lone first name stays a first name (mostly); a lone surname stays a surname
                was_first = core.lower() in self.known_first
                roles.append("first" if was_first and rng.random() < 0.85 else "last")
            elif i == name_idx[0] and suf.startswith(","):
                roles.append("last")  # "Last, First"
            elif i == name_idx[-1] and not parts[name_idx[0]][2].startswith(","):
                roles.append("last")
            else:
                roles.append("first")
        out = []
        for (pre, core, suf), role in zip(parts, roles):
            if role is None:
                if re.fullmatch(r"[A-Za-z]\.?", core):  # an initial
                    core = rng.choice(string.ascii_uppercase) + ("." if core.endswith(".") else "")
                out.append(pre + core + suf)
            else:
                out.append(pre + self._name(rng, role) + suf)
        return " ".join(out) if out else self._name(rng, "last")

    # -- dates
    def date(self, original: str, rng: random.Random) -> str:
        o = original.strip()
        d = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 78))
        if re.fullmatch(r"(19|20)\d\d", o):
            return str(d.year)
        if re.fullmatch(r"'?\d\d", o):
            return ("'" if o.startswith("'") else "") + f"{d.year % 100:02d}"
        return rng.choice(self.p.date_formats)(d, rng)

    # -- places
    def location(self, original: str, rng: random.Random) -> str:
        p = self.p
        o = original.strip()
        if re.search(r"(?i)hospital|clinic|medical|center|centre|health|infirmary|presbyterian|hopkins|sinai", o):
            return self.hospital(rng)
        if re.fullmatch(r"\d{5}(-\d{4})?", o):
            return fill_shape(rng.choice(["ddddd", "ddddd", "ddddd-dddd"]), rng)
        if re.match(r"\d", o):
            street = f"{rng.randint(1, 99999)} {rng.choice(p.last_names)} {rng.choice(p.street_suffixes)}"
            if re.search(r"(?i)\b(apt|suite|unit)\b", o):
                street += f" {rng.choice(['Apt.', 'Suite', 'Unit'])} {rng.randint(1, 999)}"
            return street
        if re.search(r",\s*[A-Z]{2}$", o):
            return f"{rng.choice(p.cities)}, {rng.choice(p.state_abbrs)}"
        if re.fullmatch(r"[A-Z]{2}", o):
            return rng.choice(p.state_abbrs)
        r = rng.random()
        if r < 0.12:
            return rng.choice(p.states)
        if r < 0.2:
            return f"{rng.choice(p.cities)}, {rng.choice(p.state_abbrs)}"
        return rng.choice(p.cities)

    def _pattern(self, pattern: str, rng: random.Random) -> str:
        p = self.p
        return pattern.format(last=rng.choice(p.last_names), last2=rng.choice(p.last_names),
                              first=rng.choice(p.first_names), city=rng.choice(p.cities),
                              n=rng.randint(1, 14), letter=rng.choice("ABCDEFGHJKLMNPRSTW"))

    def hospital(self, rng: random.Random) -> str:
        return self._pattern(rng.choice(self.p.hospital_patterns), rng)

    def ward(self, original: str, rng: random.Random) -> str:
        return self._pattern(rng.choice(self.p.ward_patterns), rng)

    def organization(self, original: str, rng: random.Random) -> str:
        return self._pattern(rng.choice(self.p.org_patterns), rng)

    # -- numbers and addresses
    def phone(self, original: str, rng: random.Random) -> str:
        return fill_shape(rng.choice(self.p.phone_shapes), rng)

    def identifier(self, original: str, rng: random.Random, shapes: Sequence[str]) -> str:
        """Keeps a leading "Patient ID: " / "case #" / "#" and replaces the value after it."""
        m = re.match(r"^(.*?(?:[:#]\s*|\s))(?=[^\s:#]*\d[^\s]*$)", original)
        prefix = m.group(1) if m else ""
        return prefix + fill_shape(rng.choice(shapes), rng)

    def ssn(self, original: str, rng: random.Random) -> str:
        return fill_shape(rng.choice(["Ddd-dd-dddd", "Ddd-dd-dddd", "Ddd dd dddd", "Ddddddddd"]), rng)

    def email(self, original: str, rng: random.Random) -> str:
        p = self.p
        f, last = rng.choice(p.first_names).lower(), rng.choice(p.last_names).lower()
        user = rng.choice([f"{f}.{last}", f"{f[0]}{last}", f"{f}_{last}", f"{f}{rng.randint(1, 99)}", f"{f}.{last[0]}"])
        return re.sub(r"[^a-z0-9._]", "", user) + "@" + rng.choice(p.email_domains)

    def url(self, original: str, rng: random.Random) -> str:
        p = self.p
        host = rng.choice(p.url_words).lower() + rng.choice(["", "-" + rng.choice(p.url_words).lower()])
        url = f"{rng.choice(['https://', 'http://', 'www.', 'https://www.'])}{host}.{rng.choice(['com', 'org', 'net', 'health', 'io'])}"
        return url + rng.choice(["", "/" + rng.choice(p.url_words).lower(), f"/patients/{rng.randint(100, 99999)}"])

    def ip(self, original: str, rng: random.Random) -> str:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))

    def age(self, original: str, rng: random.Random) -> str:
        return str(rng.randint(90, 112))

    def __call__(self, label: str, original: str, rng: random.Random) -> str:
        if label == "NAME":
            return self.name(original, rng)
        if label == "DATE":
            return self.date(original, rng)
        if label == "GEOGRAPHIC_LOCATION":
            return self.location(original, rng)
        if label == "HOSPITAL":
            return self.hospital(rng)
        if label == "WARD":
            return self.ward(original, rng)
        if label == "ORGANIZATION":
            return self.organization(original, rng)
        if label in ("PHONE_NUMBER", "FAX_NUMBER"):
            return self.phone(original, rng)
        if label == "MEDICAL_RECORD_NUMBER":
            return self.identifier(original, rng, self.p.mrn_shapes)
        if label == "SOCIAL_SECURITY_NUMBER":
            return self.ssn(original, rng)
        if label in ("HEALTH_PLAN_BENEFICIARY_NUMBER", "ACCOUNT_NUMBER", "CERTIFICATE_LICENSE_NUMBER",
                     "UNIQUE_IDENTIFIER", "OTHER_ID"):
            return self.identifier(original, rng, self.p.id_shapes)
        if label == "EMAIL_ADDRESS":
            return self.email(original, rng)
        if label == "URL":
            return self.url(original, rng)
        if label == "IP_ADDRESS":
            return self.ip(original, rng)
        if label == "AGE":
            return self.age(original, rng)
        return original


# ---------------------------------------------------------------- the rebuild

Maker = Callable[[str, str, random.Random], str]


def resurrogate(text: str, spans: Sequence[dict], maker: Maker, rng: random.Random,
                keep: Optional[Callable[[dict], bool]] = None,
                consistent: bool = False) -> Tuple[str, List[dict]]:
    """Replace each span's text by `maker(label, original, rng)`; return (new_text, new_spans).

    Spans are dicts with start/end/label (other keys are kept). A span for which
    `keep(span)` is true keeps its original text (it still moves with the offsets).
    Overlapping spans: the later one is dropped. The new spans' "text" equals
    new_text[start:end].

    `consistent`: as in a real note, one value is one value throughout the note: a value
    seen before (any case) gets the same replacement, and so does each word of a name
    ("Darlene Snow" ... "Snow" -> "Ines Okafor" ... "Okafor")."""
    note_caps = caps_note(text)
    memo = _ConsistentValues(maker) if consistent else None
    out: List[str] = []
    new_spans: List[dict] = []
    pos = 0
    shift = 0
    for s in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if s["start"] < pos:
            continue
        original = text[s["start"]:s["end"]]
        out.append(text[pos:s["start"]])
        if keep is not None and keep(s):
            new = original
        else:
            made = memo.make(s["label"], original, rng) if memo else maker(s["label"], original, rng)
            new = match_case(original, made, note_caps)
        start = s["start"] + shift
        out.append(new)
        shift += len(new) - len(original)
        new_spans.append({**s, "start": start, "end": start + len(new), "text": new})
        pos = s["end"]
    out.append(text[pos:])
    new_text = "".join(out)
    return new_text, new_spans


class _ConsistentValues:
    """The replacements of one note, so a repeated value (or name word) is replaced alike."""

    def __init__(self, maker: Maker):
        self.maker = maker
        self.values: dict = {}
        self.name_words: dict = {}

    def make(self, label: str, original: str, rng: random.Random) -> str:
        key = (label, original.lower())
        if key in self.values:
            return self.values[key]
        words = original.split()
        if label == "NAME" and words and all(w.lower() in self.name_words for w in words):
            made = " ".join(self.name_words[w.lower()] for w in words)
        else:
            made = self.maker(label, original, rng)
        if label == "NAME" and len(made.split()) == len(words):
            for w, m in zip(words, made.split()):
                self.name_words.setdefault(w.lower(), m)
        self.values[key] = made
        return made


def case_transform(text: str, rng: random.Random, p_upper: float = 0.12, p_lower: float = 0.08) -> str:
    """Random whole-note case change (length-preserving for ASCII; offsets unchanged)."""
    r = rng.random()
    if r < p_upper:
        new = text.upper()
    elif r < p_upper + p_lower:
        new = text.lower()
    else:
        return text
    return new if len(new) == len(text) else text


# ---------------------------------------------------------------- date formats


def _m(d: date) -> str:
    return MONTHS[d.month - 1]


def _b(d: date) -> str:
    return MONTH_ABBR[d.month - 1]


DATE_FORMATS: Dict[str, Callable[[date, random.Random], str]] = {
    "M/D": lambda d, r: f"{d.month}/{d.day}",
    "MM/DD": lambda d, r: f"{d.month:02d}/{d.day:02d}",
    "M/D/YYYY": lambda d, r: f"{d.month}/{d.day}/{d.year}",
    "MM/DD/YYYY": lambda d, r: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "M/D/YY": lambda d, r: f"{d.month}/{d.day}/{d.year % 100:02d}",
    "M-D": lambda d, r: f"{d.month}-{d.day}",
    "M-D-YYYY": lambda d, r: f"{d.month}-{d.day}-{d.year}",
    "MM-DD-YY": lambda d, r: f"{d.month:02d}-{d.day:02d}-{d.year % 100:02d}",
    "M.D": lambda d, r: f"{d.month}.{d.day}",
    "M.D.YYYY": lambda d, r: f"{d.month}.{d.day}.{d.year}",
    "D.M.YYYY": lambda d, r: f"{d.day}.{d.month}.{d.year}",
    "DD.MM.YYYY": lambda d, r: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "D/M/YYYY": lambda d, r: f"{d.day}/{d.month}/{d.year}",
    "YYYY-MM-DD": lambda d, r: d.isoformat(),
    "YYYY/MM/DD": lambda d, r: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "D Month YYYY": lambda d, r: f"{d.day} {_m(d)} {d.year}",
    "D Mon YYYY": lambda d, r: f"{d.day} {_b(d)} {d.year}",
    "DD-Mon-YYYY": lambda d, r: f"{d.day:02d}-{_b(d)}-{d.year}",
    "D-Mon-YY": lambda d, r: f"{d.day}-{_b(d)}-{d.year % 100:02d}",
    "Month D, YYYY": lambda d, r: f"{_m(d)} {d.day}, {d.year}",
    "Month Dth, YYYY": lambda d, r: f"{_m(d)} {ordinal(d.day)}, {d.year}",
    "Mon D YYYY": lambda d, r: f"{_b(d)} {d.day} {d.year}",
    "Mon. D": lambda d, r: f"{_b(d)}. {d.day}",
    "Month D": lambda d, r: f"{_m(d)} {d.day}",
    "Month Dth": lambda d, r: f"{_m(d)} {ordinal(d.day)}",
    "Mon Dth": lambda d, r: f"{_b(d)} {ordinal(d.day)}",
    "Dth of Month": lambda d, r: f"{ordinal(d.day)} of {_m(d)}",
    "the Dth": lambda d, r: f"the {ordinal(d.day)}",
    "Dth": lambda d, r: ordinal(d.day),
    "Month YYYY": lambda d, r: f"{_m(d)} {d.year}",
    "Mon 'YY": lambda d, r: f"{_b(d)} '{d.year % 100:02d}",
    "Month": lambda d, r: _m(d),
    "YYYY": lambda d, r: str(d.year),
    "Mon-D": lambda d, r: f"{_b(d)}-{d.day}",
    "D-Mon": lambda d, r: f"{d.day}-{_b(d)}",
    "MM/YYYY": lambda d, r: f"{d.month:02d}/{d.year}",
    "M/YY": lambda d, r: f"{d.month}/{d.year % 100:02d}",
    "Weekday M/D": lambda d, r: f"{WEEKDAYS[d.weekday()]} {d.month}/{d.day}",
    "Wkd M/D": lambda d, r: f"{WEEKDAYS[d.weekday()][:3]} {d.month}/{d.day}",
    "YYYYMMDD": lambda d, r: f"{d.year}{d.month:02d}{d.day:02d}",
}
