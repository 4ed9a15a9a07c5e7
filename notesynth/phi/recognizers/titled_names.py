"""Names introduced by a title ("Dr. X", "mr.smith"), a relation ("daughter Jane") or
followed by a credential ("Jane Doe, RN")."""
from __future__ import annotations

import re
from typing import Iterable, List

from .. import lexicon as lx
from ...unknown import known_words
from .base import ClinicalRecognizer, Hit, Word, text_info, unlisted_word

TITLES = {"dr", "drs", "doctor", "mr", "mrs", "ms", "miss", "mister", "md", "prof", "professor", "attending",
          "resident", "fellow", "pa", "np", "mssrs", "messrs", "sr", "sra", "dra"}
CLEAR_TITLES = {"dr", "drs", "doctor", "mr", "mrs", "ms", "miss", "mister", "prof", "professor"}
AMBIGUOUS_TITLES = {"ms", "md", "pa", "np", "sr"}  # also morphine sulfate, pulmonary artery, ...
# need a known first name even with a period ("SR. TOL" = sinus rhythm, "NP. BS" = nasal prongs) or
# are roles more often than titles ("FELLOW ARRIVED", "RESIDENT ROUNDS")
STRICT_TITLES = {"md", "pa", "np", "sr", "attending", "resident", "fellow"}
TITLE_GAP = re.compile(r"\.?:?[ \t]{1,2}|\.")  # "Dr. X", "DR: X", "Dr.X"; not "MR, WEANED" / "MR / EF"
RELATIONS = {"wife", "husband", "son", "daughter", "dtr", "dau", "sister", "sis", "brother", "bro", "mother",
             "father", "mom", "dad", "friend", "niece", "nephew", "grandson", "granddaughter", "grandaughter",
             "proxy", "hcp", "spouse", "partner", "fiance", "fiancee", "girlfriend", "boyfriend", "cousin", "aunt",
             "uncle", "neighbor", "pcp", "sons", "daughters", "named", "patient", "pt", "mr", "mrs"}
FAMILY = RELATIONS - {"patient", "pt", "mr", "mrs", "named", "pcp", "proxy", "hcp"}
CREDENTIALS = re.compile(r"\s*,?\s*(?:RN|R\.N\.|MD|M\.D\.|NP|RRT|PA-C|LPN|CNA|LICSW|MSW|CNS|DO|PhD|RPh|PharmD|SN|SRNA)\b")
INITIALS = re.compile(r"^(?:[A-Z]\.){1,3}$|^[A-Z]$")
GLUED = re.compile(r"(?<![A-Za-z])(?:[Dd]r|[Mm]rs?|[Mm]s)\.?((?:Mc|Mac|O')?[A-Z][a-z]+)")
NOT_AFTER_TITLE = {"aware", "notified", "paged", "called", "here", "in", "to", "and", "at", "team", "office",
                   "order", "orders", "ordered", "note", "notes", "states", "stated", "said", "wants", "feels",
                   "following", "f/u", "service", "plan", "s", "re", "updated", "informed", "spoke", "visit"}


class TitledNameRecognizer(ClinicalRecognizer):
    ENTITIES = ("NAME",)

    def __init__(self, include_title: bool = False):
        super().__init__()
        self.include_title = include_title

    def _name_ok(self, w: Word, first: bool, caps_note: bool) -> bool:
        key = w.key
        if not key.isalpha() and "'" not in key:
            return False
        names = lx.all_names()
        if key in NOT_AFTER_TITLE:
            return False
        if w.is_lower:
            return first and key in names and key not in lx.blocked_words()
        if key in names:
            return True
        if key in lx.blocked_words() or key in lx.EPONYM_SURNAMES:
            return False
        if w.is_upper and not caps_note and len(key) <= 4:
            return False  # an abbreviation in mixed-case text
        return len(key) >= 2

    @staticmethod
    def _family_name_word(w: Word, pool: frozenset) -> bool:
        """"wife mary", "SON JOHN": after a family word a known name counts in any case,
        unless it is also a common or clinical word ("son will", "daughter amber")."""
        return (len(w.key) >= 3 and (w.is_lower or w.is_upper) and w.key in pool
                and w.key not in lx.blocked_words() and w.key not in lx.EPONYM_SURNAMES)

    def _take_names(self, text: str, words, i: int, caps_note: bool, strict_first: bool,
                    family: bool = False, allow_initial: bool = False) -> List[Word]:
        """Name words starting at words[i] (initials allowed), separated by single spaces/periods."""
        out: List[Word] = []
        j = i
        while j < len(words) and len(out) < 4:
            w = words[j]
            if out:
                gap = text[out[-1].end:w.start]
                if not re.fullmatch(r"\.? ?|\.?-", gap):
                    break
                if "." in gap and len(out[-1].text.rstrip(".")) > 1:
                    break  # "Dr. Pratt. Await results": a period after a whole word ends the name
            if INITIALS.match(w.text) or (len(w.text) == 1 and w.text.isupper()):
                # an initial: keep the following period
                end = w.end + 1 if text[w.end:w.end + 1] == "." else w.end
                out.append(Word(w.start, end, w.text))
                j += 1
                continue
            first = not any(len(x.text) > 1 for x in out)
            if strict_first and first:
                ok = (w.is_title and w.key in lx.all_names() and w.key not in lx.CHART_WORDS
                      and w.key not in lx.medical_words())
                if not ok and family and w.is_title and len(w.key) >= 3:
                    # an unknown capitalised word right after "wife"/"son": a name unless it
                    # reads like a verb, a common word or a clinical term
                    ok = (w.key not in lx.blocked_words() and w.key not in lx.EPONYM_SURNAMES
                          and not w.key.endswith(("ing", "ed", "ly")) and w.key.isalpha())
                if not ok and family:
                    ok = self._family_name_word(w, lx.first_names())
            elif first:
                ok = self._name_ok(w, True, caps_note)
            else:
                ok = (w.is_title and (w.key in lx.all_names() or w.key not in lx.blocked_words())) or (
                    w.is_upper and caps_note and w.key in lx.all_names() and w.key not in lx.blocked_words()) or (
                    family and self._family_name_word(w, lx.all_names()) and out[-1].text.isupper() == w.text.isupper())
                ok = ok and w.key not in NOT_AFTER_TITLE
            if not ok:
                break
            out.append(w)
            j += 1
        while len(out) > 1 and len(out[-1].text) == 1 and out[-1].end == out[-1].start + 1:
            out.pop()
        if out and all(len(x.text) == 1 for x in out) and not (
                allow_initial and len(out) == 1 and out[0].end > out[0].start + 1):
            return []  # a lone initial only after a clear title, with its period ("Dr. A.")
        return out

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        info = text_info(text)
        words = info.words
        # titles glued to the name: "drSmith", "MrJones"
        for m in GLUED.finditer(text):
            yield (m.start() if self.include_title else m.start(1)), m.end(1), "NAME", 0.7
        for i, w in enumerate(words[:-1]):
            key = w.text.lower()
            if key in TITLES:
                strict = key in STRICT_TITLES or (key in AMBIGUOUS_TITLES and not text[w.end:w.end + 1] == ".")
                nxt = words[i + 1]
                if not TITLE_GAP.fullmatch(text[w.end:nxt.start]):
                    continue
                got = self._take_names(text, words, i + 1, info.caps_note, strict,
                                       allow_initial=not strict and key in CLEAR_TITLES)
                if got:
                    start = w.start if self.include_title else got[0].start
                    yield start, got[-1].end, "NAME", 0.85
            elif key in RELATIONS:
                nxt = words[i + 1]
                gap = text[w.end:nxt.start]
                if not re.fullmatch(r"\s{0,2}[,:(\-]?\s{0,2}(?:is\s|was\s|named\s)?", gap):
                    continue
                got = self._take_names(text, words, i + 1, info.caps_note, True, family=key in FAMILY)
                if got:
                    yield got[0].start, got[-1].end, "NAME", 0.7
        # post-nominal credentials: "Julie Tucker, RN"
        for m in CREDENTIALS.finditer(text):
            if m.start() == 0:
                continue
            # walk back over up to three name-shaped words
            prev = [w for w in words if w.end <= m.start()][-3:]
            got: List[Word] = []
            pos = m.start()
            for w in reversed(prev):
                gap = text[w.end:pos]
                if not re.fullmatch(r"\.? ?", gap):
                    break
                # in an ALL-CAPS note a capitalised word has no shape: a name-list word or a word
                # no list knows ("PER VAHTER NP"), never an ordinary one ("PER", "MICU")
                caps_name = (info.caps_note and w.is_upper and len(w.text) > 2
                             and (unlisted_word(w.key) or (w.key in lx.all_names() and w.key not in known_words())))
                if not (w.is_title or INITIALS.match(w.text) or caps_name) or (
                        w.key in lx.blocked_words() and w.key not in lx.all_names()):
                    break
                got.insert(0, w)
                pos = w.start
            full = [x for x in got if len(x.text) > 1]
            if len(full) == 1 and full[0].key not in lx.all_names() and not unlisted_word(full[0].key):
                continue  # one ordinary word is a service: "Ostomy RN", "Skincare CNS"; a word no
                # list knows is a surname ("PER VAHTER NP")
            if full:
                yield got[0].start, got[-1].end, "NAME", 0.8
