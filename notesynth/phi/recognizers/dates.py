"""Dates in clinical formats; numeric ratios (BP, I/O, doses, vent settings) are rejected."""
from __future__ import annotations

import re
from typing import Iterable

from .base import ClinicalRecognizer, Hit, whole_run

MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
YEAR = r"(?:19\d\d|20\d\d|'\d\d)"

MONTH_FIRST = re.compile(rf"\b{MONTHS}(?<!\.)(?![a-z])\.?[ \t]+{DAY}\b(?:,?[ \t]*{YEAR}\b)?", re.I)
DAY_FIRST = re.compile(rf"\b{DAY}[ \t]+(?:of[ \t]+)?{MONTHS}(?![a-z])(?:,?[ \t]*{YEAR}\b)?", re.I)
MONTH_YEAR = re.compile(rf"\b{MONTHS}(?![a-z]),?[ \t]+(?:19\d\d|20\d\d)\b", re.I)
DMY_TEXT = re.compile(rf"\b\d{{1,2}}[-/ ]{MONTHS}[-/ ](?:19|20)?\d\d\b", re.I)
RELATIVE = re.compile(r"\b(?:last|this past|next)\s+(?:monday|tuesday|wednesday|thursday|friday|"
                      r"saturday|sunday|january|february|march|april|june|july|august|september|october|november|"
                      r"december)\b", re.I)
# what makes a phrase a date at all: a number, a month, a weekday or a holiday.  "last week", "end
# of", "this year" name no day: they identify no one, and a surrogate date in their place changes
# what the note says ("since last week" -> "since March 5"); the detector drops a DATE span
# without one (the tagger learned a few from ASQ-PHI's labels)
DATE_ELEMENT = re.compile(
    rf"\d|\b{MONTHS}(?![a-z])|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\b|"
    r"\b(?:christmas|xmas|thanksgiving|easter|hanukk?ah|chanukah|passover|ramadan|diwali|halloween|new year|"
    r"yom kippur|rosh hashanah|eid|kwanzaa|lunar new year)|(?-i:[A-Z][a-z]+(?:['’]s)? Day)\b", re.I)
# a holiday named for a person or written like a name ("Martin Luther King Day"): a date, though
# a name recognizer reads the words before "Day" as a person's (detector._to_spans relabels it)
HOLIDAY_DAY = re.compile(
    r"(?:Martin Luther King(?:,? Jr\.?)?|MLK|Presidents['’]?|Washington['’]s|Lincoln['’]s|Columbus|Memorial|Labor|"
    r"Veterans['’]?|Independence|Mother['’]s|Father['’]s|Valentine['’]s|(?:St\.? )?Patrick['’]s|New Year['’]s|"
    r"Boxing|Thanksgiving|Christmas|Juneteenth|Flag|Patriots['’]?|Groundhog|Election) Day\b"
    r"(?![ \t]+(?:Care|Surgery|School|Spa|Center|Centre|Program|Camp|Treatment|Hospital|Clinic|Services?)\b)")
# a weekday alone ("seen Monday", "SAT AM"): days of the week narrow a date; abbreviations are
# too ambiguous ("Sat" = saturation, "Wed" = wedge) so only full names count
WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day(?:['’]?s)?\b", re.I)
ISO = re.compile(r"\b(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])\b")
NUMERIC = re.compile(r"(?<![\d/])(?<!\d\.)(0?[1-9]|1[0-2])([/-])(0?[1-9]|[12]\d|3[01])(?:\2((?:19|20)?\d\d))?(?![\d])")
DOTTED = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?:19|20)\d\d(?![\d.])")  # 7.15.2023 or 15.7.2023
# day first with a year: "15/7/2023", "15-07-23" (month-first ones are NUMERIC's)
NUMERIC_DMY = re.compile(r"(?<![\d/.-])(1[3-9]|2\d|3[01])([/-])(0?[1-9]|1[0-2])\2((?:19|20)?\d\d)(?![\d/-])")
MONTH_DAY_HYPHEN = re.compile(rf"\b{MONTHS}-(?:0?[1-9]|[12]\d|3[01])\b(?!-)|\b(?:0?[1-9]|[12]\d|3[01])-{MONTHS}\b(?!-)", re.I)
# words after which "7-18" / "4-4" is a date, not a range ("extubated 7-18", "back to OR on 4-4",
# "s/p AMI 1-30")
EVENT_BEFORE = re.compile(
    r"\b(?:on|since|dated|date|from|until|thru|through|of|as of|d/c(?:'?e?d)?|dc'?e?d|dos|dob|"
    r"extubated|intubated|reintubated|admitted|readmitted|discharged|transferred|returned|placed|inserted|"
    r"removed|started|stopped|changed|began|begun|done|drawn|sent|seen|performed|operated|born|died|expired|"
    r"due|last|next|until|scheduled|planned|"
    # past events of a history line ("s/p MI 7-13", "CABG 3-12"): the training notes date them this way
    r"mi|ami|nstemi|stemi|cabg|cva|tia|ptca|pci|turp|avr|mvr|"
    # a line, tube or device: the number after it is its insertion date ("PICC 3/10", "DIALYSIS LINE
    # 04/29", "trach 12/17" in the training notes; lines and tubes have no values of that shape)
    r"line|lines|a-?line|pa-?line|art-?line|picc|cvl|tlc|cordis|introducer|sheath|quinton|swan|"
    r"foley|ett|trach|peg|ngt|ogt|iabp|"
    # a test or a bowel movement is dated ("echo 1-30", "LBM 12-8"), and so is a clock time ("at 6p 4-16")
    r"echo|tte|tee|cxr|mri|ekg|ecg|eeg|angio|xray|x-ray|cultured|cx'?d|lbm|bm|\d{1,4}\s?(?:am|pm|a|p))\s*:?\s*$", re.I)
ORDINAL_DAY = re.compile(r"\b(?:on|since|from|until|by|of)\s+the\s+(\d{1,2}(?:st|nd|rd|th))\b|"
                         r"\bthe\s+(\d{1,2}(?:st|nd|rd|th))(?=\s*(?:[,.;)]|of\b|$))", re.I)
APOS_YEAR = re.compile(r"(?<![\d'])'(\d\d)\b|(?<![\d.,/])\b(\d\d)'(?!\w)")
FULL_YEAR = re.compile(r"(?<![\d.,/:#$-])\b((?:19[0-9]\d|20[0-4]\d))\b(?![.,]\d|\s*(?:%|mg|ml|cc|mcg|units?|am|pm|hrs?|h\b|:|-\d|/\d))", re.I)
HISTORY_WORD = re.compile(
    r"(?:\b(?:since|s/p|h/o|hx|born|dob|d\.o\.b\.|circa|mi|ami|nstemi|stemi|"
    r"cabg|cva|tia|avr|mvr|ptca|pci|stent|stents|dvt|pe|chf|ca|surgery|repair|replacement|fx|turp|"
    r"mastectomy|lobectomy|nephrectomy|colectomy|cholecystectomy|appy|appendectomy|hysterectomy|tah|bso|"
    r"ablation|cardioversion|pacer|aicd|icd|redo|transplant|amputation|bypass|cath|angioplasty|"
    r"arrest|stroke|seizure|admission|admit|admitted|hospitalization|hospitalized)|[,;(])\s*(?:x\d\s+)?'?$", re.I)
TIME_BEFORE = re.compile(r"(?:\b(?:at|@|approx|approximately|around|about|~|by|until|till|untill|before|after|"
                         r"between|from|to|since|start(?:ed)?|q|and|until)|[@~])\s*$", re.I)
SHORT_YEAR_CTX = re.compile(
    r"\b(?:mi|ami|cabg|cva|tia|avr|mvr|ptca|pci|stent|dvt|pe|surgery|repair|fx|turp|tah|bso|ablation|pacer|"
    r"aicd|redo|transplant|cath|ca|nephrectomy|mastectomy|cholecystectomy|hysterectomy|appy)(?:\s+x\s?\d)?\s+$",
    re.I)
UNIT_AFTER = re.compile(r"^\s*(?:mg|mcg|meq|ml|cc|l\b|lpm|units?|u\b|mmhg|mm|cm|%|x\b|g\b|gm|kg|hrs?\b|min|"
                         r"puffs?|tabs?|bpm|breaths|ng|ug|iu|amps?|drops|gtts?)\b", re.I)
# "GM +", "gm neg rods": a Gram stain result after a culture date, not grams
GRAM_AFTER = re.compile(r"^\s*gm\s*(?:[+-]|pos|neg|stain|rods?|cocci)", re.I)
# "R AC", "left ac": the antecubital fossa (an IV site), not the assist-control vent mode
ANTECUBITAL = re.compile(r"\b(?:r|l|rt|lt|right|left|bilat)\.?\s+ac\s*$", re.I)
# a year after "in" is a date when a past procedure/history phrase leads up to it
# ("s/p lumpectomy in 1985") or it opens the sentence ("In 1995 pt had ..."); "diagnosed in
# 2021" alone is left to detect_years' history words (years alone are allowed by HIPAA)
PROCEDURE_WORD = re.compile(r"(?:[a-z]+(?:ectomy|otomy|ostomy|plasty|pexy)|\b(?:graft|s/p|h/o|hx|surgery|repair|"
                            r"replacement|transplant|resection|debulking|biopsy|radiation|chemo(?:therapy)?))\b", re.I)
YEAR_AFTER_IN = re.compile(r"\bin\s+((?:19\d\d|20[0-4]\d))\b(?!\s*(?:[.,:-]\d|/|%|cc|ml|out\b|mg|units?))", re.I)
# numbers after these are ratios/values, not dates ("BP 120/80", "I/O 1200/800")
RATIO_BEFORE = re.compile(
    r"\b(?:bp|sbp|dbp|nbp|abp|nibp|map|i/o|i\s?&\s?o|in/out|ratio|pap|pa|pcwp|abg|vbg|gcs|pupils|strength|"
    r"percocet|vicodin|lortab|tylox|norco|dose|tabs?|"
    r"pain|scale|score|rated|rates|level|"
    r"psv?|peep|cpap|bipap|simv|imv|a/?c|ac|vent|settings?|tv|vt|ie|i:e|ips|epap|ipap|"
    r"flow-?by|ventilation|pressure support|wean(?:ed|ing)?(?: down)?(?: to)?)"
    r"\s*[:=]?\s*(?:(?:of|at)\s+)?(?:\.?\d+%,?\s*)?$",  # "PSV of 10/5", "CPAP .5% 5/5"
    re.I)
# and these, for the learned tagger's numbers ("C/O 5.6/67", "CI 5.06", "RR 23-27", "HCT DOWN TO
# 6/19") and the rules' dash pairs; the rules' slash dates leave them to the nursing gold's
# convention, which tags such values as dates
MEASURE_BEFORE = re.compile(
    r"\b(?:c/?o|co/ci(?:/svr)?|ci|svr|rr|hr|sats?|spo2|inr|k\+?|mg|temp|tmax|t|wedge|pcwp?|cvp|ra|rv|lvef|ef|"
    r"fio2|glucose|bs|fs|hct|crit|wbc|plt|na|cr|bun)\s*[:=#-]?\s*"
    r"(?:(?:up|down|increased|decreased|dropped|was|is|of|at|to|from)\s+)*(?:~\s*)?$", re.I)
# a dash between two numbers is a range after these ("q 2-3 hours", "RR VARIABLE AT 10-18" is
# not: "at" dates events too) and before these ("3-4 beat runs", "1-2 LITERS/DAY"); the words are
# the nursing training notes' own ranges
# (measurements themselves, "RR 12-18", "CVP 8-12", are MEASURE_BEFORE's)
RANGE_BEFORE = re.compile(
    r"(?:\b(?:q|x|every|approx|approximately|about|around|between|up to|from|for|over|of|by|to|"
    r"srr|svp|icp|pads?|pad's|maps?|tv|vt|unload\w*|pain|"
    r"score|level|grade|stage|gtts?|drops?|rate|range|goal|ranging|running|runs?|beats?|v|leads?|with|"
    r"frequent|wearing|noc|dopa\w*|levo\w*|neo\w*|and|"
    # lab values ("CA 8-9", "PTT 60-80")
    r"i?ca|phos|po4|mag|lac(?:tate)?|ptt|alb|hgb|hb|ck|trop|ph|pco2|po2|hco3|cl|co2|ast|alt|ldh|lipase|"
    r"amylase|t?bili|pacer)|[~x#<>=:(+-])\s*$", re.I)
# a duration or count after a dash pair makes it a range even after an event word ("d/c 2-3 days")
DURATION_AFTER = re.compile(r"^\s*(?:x\b|times|hours?|days?|min|h\b)", re.I)
RANGE_AFTER = re.compile(
    r"^\s*(?:x\b|times|hours?|hrs?\b|h\b|days?|wks?|weeks?|months?|mos?\b|yrs?|years?|min|am\b|pm\b|a\b|p\b|"
    r"l\b|lit(?:er|re)s?|lpm|%|/|beats?|breaths|bpm|cm|mm|words?|stools?|bm|loose|pillows|ppl|people|persons?|"
    r"assist|pts?\b|points?|[rw]bcs|units?|['’]s|s\b|mc\w*|mg|cc|ml|\+|-|\.\d|,\s*\d|\d)", re.I)
# values, not dates, when these follow: "3/5 peep", "4/4 bottles"
VALUE_AFTER = re.compile(r"^\s*(?:peep|bottles?|sets?\b|[a-z]*bpm)", re.I)
# a murmur grade or a strength ("grade 2/6 systolic murmur", "power 4/5"): n/4, n/5 or n/6 only,
# so "hypotensive 11/28, systolic 70s" stays a date
GRADE_AFTER = re.compile(r"^\s*(?:(?:holo|pan)?systol|diastol|murmur)", re.I)
GRADE_BEFORE = re.compile(r"\b(?:grade|power|strength)\s*[:=]?\s*$", re.I)
GRADE = re.compile(r"([0-6])/([456])")


def has_date_element(value: str) -> bool:
    """``value`` names a day, a month, a year or a holiday (DATE_ELEMENT)."""
    return bool(DATE_ELEMENT.search(value))


def _numeric_ok(text: str, m: re.Match) -> bool:
    s, e = m.start(), m.end()
    before = text[max(0, s - 24):s]
    after = text[e:e + 8]
    if m.group(4):  # has a year: m/d/yy(yy)
        return not re.match(r"^\s*(?:/|\.\d|%)|^[a-z]", after, re.I)  # "10/5/12BPM" is a vent setting
    if re.search(r"[\d/]$|\d\s?/\s$|\d/\d+\s$", before) or re.match(r"^(?:\s*/|\.\d|:\d)", after):
        return False
    if is_value(text, s, e):
        return False
    if _fraction(m.group(1), m.group(3)) and not re.search(r"\b(?:on|since|from|until|by|dated)\s*$", before, re.I):
        return False  # a fraction: "rales 1/3 up", "1/2 NS"
    if m.group(2) == "-":
        # "7-18" is a date after a date or event word (or an IV site, "PICC PLACED IN R AC 3-10": the
        # antecubital site takes no value); elsewhere unless its context makes it a range
        # ("HR 80-90", "q 2-3 hours", "x 1-2", "3-4 beat runs", "2-3 litres")
        if DURATION_AFTER.match(after):
            return False
        if EVENT_BEFORE.search(before) or ANTECUBITAL.search(before):
            return True
        return not (RANGE_BEFORE.search(before) or MEASURE_BEFORE.search(before) or RANGE_AFTER.match(after)
                    or re.search(r"[A-Za-z]$", before))
    return True


def is_value(text: str, start: int, end: int) -> bool:
    """A number written like a date that its context makes a value: a unit or a setting word after
    it ("3/5 peep", "1-2 mg"), a ratio or setting word before it ("BP 120/80", "PSV of 10/5"),
    unless that is an IV site ("R AC 3-10")."""
    before, after = text[max(0, start - 30):start], text[end:end + 8]
    if VALUE_AFTER.match(after) or (UNIT_AFTER.match(after) and not GRAM_AFTER.match(after)):
        return True
    grade = GRADE.fullmatch(text[start:end])
    if grade and int(grade.group(1)) <= int(grade.group(2)) and (GRADE_AFTER.match(after) or GRADE_BEFORE.search(before)):
        return True
    return bool(RATIO_BEFORE.search(before)) and not ANTECUBITAL.search(before)


def _fraction(first: str, second: str) -> bool:
    """"1/2", "1/3", "3/4": single digits, the first smaller, the second at most 4."""
    return len(first) == 1 and len(second) == 1 and int(first) < int(second) <= 4


_MD = r"(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|[12]\d|3[01])"
_DM = r"(?:0?[1-9]|[12]\d|3[01])[/-](?:0?[1-9]|1[0-2])"
# what a number written as a date can look like: M/D(/Y), D/M/Y, M/D-M/D, D.M.Y, Y-M-D, a year
DATE_TOKEN = re.compile(
    rf"(?:{_MD}|{_DM})(?:[/-](?:\d\d|\d{{4}}))?|{_MD}-{_MD}|\d{{1,2}}\.\d{{1,2}}\.(?:\d\d|\d{{4}})|"
    r"(?:19|20)\d\d(?:[-/.]\d{1,2}[-/.]\d{1,2})?|'\d\d|\d\d'")
_NUMBER_CHARS = frozenset("0123456789./-'")


def date_tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The whole numbers under a numeric "date" span (of the learned tagger) that can be dates there.

    A tagger span may cut a number ("8-" of "8-30", "6" of "captopril 6.25") or join two
    ("2.12.1967. 6.15.2015"): each number it touches is taken whole, without its punctuation,
    and kept when it is written like a date (DATE_TOKEN) and is not a value: by the rules' own
    tests (a fraction, is_value) or after a measurement (MEASURE_BEFORE).  A span with letters in it ("the 2nd") is returned as it is."""
    if re.search(r"[A-Za-z]", text[start:end]) or not re.search(r"\d", text[start:end]):
        return [(start, end)]
    start, end = whole_run(text, start, end, _NUMBER_CHARS)
    out = []
    for m in re.finditer(r"[^\s,;:()]+", text[start:end]):
        a, b = start + m.start(), start + m.end()
        while a < b and text[a] in "./-":
            a += 1
        while b > a and text[b - 1] in "./-":
            b -= 1
        if DATE_TOKEN.fullmatch(text[a:b]) and not _number_is_value(text, a, b):
            out.append((a, b))
    return out


def _number_is_value(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if re.search(r"\d{4}|'", value):
        return False  # has a year: "4/27/1990", "2020-05-12", "'94"
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})", value)
    return (bool(m and _fraction(m.group(1), m.group(2))) or is_value(text, start, end)
            or bool(MEASURE_BEFORE.search(text[max(0, start - 30):start])))


def _dotted_ok(m: re.Match) -> bool:
    a, b = int(m.group(1)), int(m.group(2))
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= a <= 31 and 1 <= b <= 12)


class DateRecognizer(ClinicalRecognizer):
    ENTITIES = ("DATE",)

    def __init__(self, detect_years: bool = True):
        super().__init__()
        self.detect_years = detect_years

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for m in RELATIVE.finditer(text):
            yield m.start(), m.end(), "DATE", 0.4
        for rx in (MONTH_FIRST, DAY_FIRST, MONTH_YEAR, ISO, DOTTED, DMY_TEXT, NUMERIC_DMY, MONTH_DAY_HYPHEN):
            for m in rx.finditer(text):
                if rx is DOTTED and not _dotted_ok(m):
                    continue
                if rx is MONTH_FIRST and m.group().lower().startswith(("may", "mar ", "march ")) and \
                        not re.search(r"\d", m.group()[3:]):
                    continue
                yield m.start(), m.end(), "DATE", 0.9
        for m in WEEKDAY.finditer(text):
            yield m.start(), m.end(), "DATE", 0.5
        for m in NUMERIC.finditer(text):
            if _numeric_ok(text, m):
                yield m.start(), m.end(), "DATE", 0.8
        for m in ORDINAL_DAY.finditer(text):
            g = 1 if m.group(1) else 2
            yield m.start(g), m.end(g), "DATE", 0.6
        if not self.detect_years:
            return
        for m in APOS_YEAR.finditer(text):
            g = 1 if m.group(1) else 2
            before = text[max(0, m.start() - 30):m.start()]
            if g == 2 and not SHORT_YEAR_CTX.search(before):
                continue
            yield m.start(g), m.end(g), "DATE", 0.6
        for m in FULL_YEAR.finditer(text):
            before = text[max(0, m.start() - 40):m.start()]
            if TIME_BEFORE.search(before) and not re.search(r"\b(?:since|in)\s*$", before, re.I):
                continue
            if HISTORY_WORD.search(before) or re.search(r"(?:19|20)\d\d\s*,\s*$", before):
                yield m.start(1), m.end(1), "DATE", 0.6
        for m in YEAR_AFTER_IN.finditer(text):
            sentence = re.split(r"[.;!?\n]", text[max(0, m.start() - 60):m.start()])[-1]
            if PROCEDURE_WORD.search(sentence) or not sentence.strip():
                yield m.start(1), m.end(1), "DATE", 0.6
        for m in re.finditer(r"(?<![\d./])\b(\d\d)\b(?=\s*(?:[,;.)]|\n|$))", text):
            if SHORT_YEAR_CTX.search(text[max(0, m.start() - 20):m.start()]):
                yield m.start(1), m.end(1), "DATE", 0.5
