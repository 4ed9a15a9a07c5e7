"""Names known by what the sentence does with them, not by a list.

A surname no list holds ("Vrma", "Hcinika", "BANDERAS") is still a person when the note
has it say, want or understand something ("At this time, Vrma wishes ...", "Vrma
verbalizes his understanding") or has the nurse reach, page, update or talk with it
("ONly able to reach Hcinika", "PER BANDERAS WILL HOLD"), when it is of a service
("Brendan from case management") or when it signs the note ("... at this time. Valdez rrt").
Only words that no vocabulary knows count (neither an English word nor a medical term, see
base.unlisted_word; a signature may also be a listed name), written like a name: capitalised,
or in capitals in an all-capitals note.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit, text_info, unlisted_word

# what a person does in a nursing note, right after the name (or after its role: "Hansen MD AWARE")
SUBJECT_VERB = re.compile(
    r"[ \t]+(?:(?:md|np|rn|pa)[ \t]+)?"
    r"(?:wish(?:es|ed)|wants?|wanted|verbali[sz](?:es|ed)|stat(?:es|ed)|report(?:s|ed)|says|said|"
    r"agree(?:s|d)|request(?:s|ed)|understand(?:s)?|understood|decline(?:s|d)|refuse(?:s|d)|ask(?:s|ed)|"
    r"express(?:es|ed)|voice(?:s|d)|spoke|speaks|(?:does|did|do|would|will)[ \t]+not|would[ \t]+like|"
    r"is[ \t]+aware|was[ \t]+(?:updated|notified|informed|called|aware)|aware|notified|paged|updated|informed|"
    r"visited|called[ \t]+(?:in|and|to|back|for|re)|denie[sd]|complains|appears|seems|c/o|"
    r"a?woke|slept|arrived|came|went|left|returned|took)\b"
    r"|[ \t]+\^[ \t]"  # "Ambrozic ^ amts of oral secretions": ^ is "increased"
    r"|[ \t]+(?:and|&)[ \t]+drs?\b",  # "Vnnn and Dr. Hladka in room"
    re.I)
_TALK = r"(?:talk(?:ed)?|spoke|speak(?:ing)?|met|meet(?:ing)?)"
# what the nurse does with a person, right before the name
CONTACT_BEFORE = re.compile(
    r"(?:\b(?:reach(?:ed)?|call(?:ed)?|contact(?:ed)?|pag(?:e|ed)|notif(?:y|ied)|updat(?:e|ed)|inform(?:ed)?|"
    rf"discuss(?:ed)?|per|(?:{_TALK}|work(?:ing|ed)?)[ \t]+(?:with|w/|to)|"
    r"(?:md|np|rn)|"  # "spoke w/ MD Akat": a role before the surname (titled_names wants a listed first name)
    r"explained(?:[ \t]+\w+){0,3}[ \t]+to|reported[ \t]+to)[ \t]+)$", re.I)
# a person of a service: "Brendan from case management", "SIMON OF HOSPITAL LEGAL", "Juarez from cardiology"
AFFILIATION_AFTER = re.compile(
    r"[ \t]+(?:of|from)[ \t]+(?:the[ \t]+)?(?:case[ \t]+management|social[ \t]+(?:work|services?)|"
    r"hosp\w*[ \t]+legal|legal|risk[ \t]+management|pastoral[ \t]+care|chaplaincy|admitting|nutrition|"
    r"pharmacy|security|hospice|palliative[ \t]+care|physical[ \t]+therapy|cardiology|nephrology|renal|"
    r"neurology|neurosurgery|surgery|ortho\w*|\w+[ \t]+(?:team|service))\b", re.I)
# the note's signature: its last words, alone after a sentence end, with a credential or not
# ("... 1400U/HR. Wesley", "all is well at this time. Valdez rrt")
SIGNATURE = re.compile(r"(?:^|[\n.!?])[ \t]*([A-Za-z][A-Za-z'’-]+)(?:[ \t]+(?i:rn|rrt|md|np|sn|lpn|rt|pa))?[\s/.,-]*\Z")
# three capitals after these are a name ("TALK WITH KIN"); after any other cue an abbreviation ("PER OSH")
TALK_WITH = re.compile(rf"\b{_TALK}[ \t]+with[ \t]+$", re.I)


class ContextNameRecognizer(ClinicalRecognizer):
    ENTITIES = ("NAME",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        info = text_info(text)
        for w in info.words:
            if not (w.is_title or (info.caps_note and w.is_upper)) or len(w.text) < 3:
                continue
            before = text[max(0, w.start - 40):w.start]
            if not (SUBJECT_VERB.match(text, w.end) or AFFILIATION_AFTER.match(text, w.end)
                    or CONTACT_BEFORE.search(before)):
                continue  # the context first: it rules out most words before any word-list lookup
            if info.caps_note and len(w.text) == 3 and not TALK_WITH.search(before):
                continue
            # a capitalised word may lack vowels ("talked with Nrgs"): a transliteration; in capitals it
            # is an abbreviation more often ("PER CVVH")
            if unlisted_word(w.key, need_vowel=not w.is_title) and w.key not in lx.blocked_words():
                yield w.start, w.end, "NAME", 0.6
        yield from _signature(text, info)


def _signature(text: str, info) -> Iterable[Hit]:
    """The word that signs the note, written like a name, when no vocabulary knows it or it is a
    listed name."""
    m = SIGNATURE.search(text, max(0, len(text) - 80))
    if not m:
        return
    i = bisect_left(info.starts, m.start(1))
    w = info.words[i] if i < len(info.words) else None
    if (w is not None and w.start == m.start(1) and (w.is_title or (info.caps_note and w.is_upper))
            and len(w.text) > 2 and w.key not in lx.blocked_words()
            and (unlisted_word(w.key) or w.key in lx.all_names())):
        yield w.start, w.end, "NAME", 0.6
