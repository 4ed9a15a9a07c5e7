"""Names found through first/last-name dictionaries plus capitalisation cues."""
from __future__ import annotations

import re
from typing import Iterable

from .. import lexicon as lx
from .base import ClinicalRecognizer, Hit, Word, sentence_initial, text_info

INITIAL_BEFORE = re.compile(r"(?:\b[A-Z]\.){1,3}\s?$")
# a surname initial after a first name: "Anna S.", "John K.'s case", "John D seen at"
INITIAL_AFTER = re.compile(r"^ [A-Z](?:\.(?=\s|,|\?|$|['’]s\b)|(?=['’]s\b)|"
                           r"(?=[ \t]*(?:,|\?|$|\s(?:seen|was|is|at|who|from|with|in)\b)))")


def _eponym_use(text: str, w: Word, nxt: Word | None) -> bool:
    """"Graves disease", "Bell's palsy", "Swan-Ganz", "Foley catheter"."""
    if nxt is None:
        return False
    gap = text[w.end:nxt.start]
    if gap in ("-", "/") and nxt.key in lx.medical_words() | lx.EPONYM_SURNAMES:
        return True
    if gap == "-" and re.match(r"[\w']*\s+(?:" + "|".join(lx.EPONYM_HEADS) + r")\b", text[nxt.start:nxt.end + 20], re.I):
        return True  # "Stevens-Johnson syndrome"
    if len(gap) <= 2 and gap.strip(" '") == "" and nxt.key in lx.EPONYM_HEADS:
        return True
    return False


def _descriptor_use(text: str, w: Word, nxt: Word | None) -> bool:
    """"a 46-year-old White woman", "Black male": a description, not a surname."""
    return (nxt is not None and w.key in lx.DESCRIPTOR_SURNAMES and text[w.end:nxt.start] in (" ", "-")
            and nxt.key in lx.PERSON_NOUNS)


class NameDictionaryRecognizer(ClinicalRecognizer):
    ENTITIES = ("NAME",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        info = text_info(text)
        words = info.words
        names, firsts = lx.all_names(), lx.first_names()
        common, medical = lx.common_words(), lx.medical_words()
        n = len(words)
        strong = [False] * n
        weak = [False] * n
        eponym = [False] * n
        for i, w in enumerate(words):
            nxt = words[i + 1] if i + 1 < n else None
            if w.key in names and _eponym_use(text, w, nxt):
                eponym[i] = True
                # "Lou Gehrig's disease": the name before an eponym goes with it
                if i > 0 and text[words[i - 1].end:w.start] == " ":
                    eponym[i - 1] = True
            elif _descriptor_use(text, w, nxt):
                eponym[i] = True
        for i, w in enumerate(words):
            key = w.key
            if key not in names or len(key) < 2 or key in medical or eponym[i]:
                continue
            if w.is_title:
                if key in common:
                    weak[i] = True
                    if info.caps_note or not sentence_initial(text, w.start):
                        strong[i] = key not in lx.CHART_WORDS
                else:
                    strong[i] = True
            elif w.is_upper and not info.caps_note and len(key) >= 4 and key not in common:
                weak[i] = True  # "JOHN SMITH" in mixed-case text: both words needed
                if i + 1 < n and words[i + 1].is_upper and words[i + 1].key in names and \
                        text[w.end:words[i + 1].start] == " " and words[i + 1].key not in common:
                    strong[i] = True
            elif w.is_upper and info.caps_note and len(key) >= 3 and key not in common:
                weak[i] = True
        # weak words join a neighbouring strong name ("Larry May", "Steven Brown")
        accept = list(strong)
        for i in range(n):
            if weak[i] and not accept[i]:
                for j in (i - 1, i + 1):
                    if 0 <= j < n and strong[j] and re.fullmatch(r" ", text[min(words[i].end, words[j].end):max(words[i].start, words[j].start)]):
                        accept[i] = True
        # a first name followed by an unknown capitalised word: a surname ("Lopie Certusi")
        for i in range(n - 1):
            if accept[i] and words[i].key in firsts and not accept[i + 1]:
                w2 = words[i + 1]
                if (w2.is_title and text[words[i].end:w2.start] == " " and w2.key not in common
                        and w2.key not in medical and len(w2.key) > 2):
                    accept[i + 1] = True
        i = 0
        while i < n:
            if not accept[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and accept[j + 1] and text[words[j].end:words[j + 1].start] in (" ", "-", ", "[:1]):
                j += 1
            start, end = words[i].start, words[j].end
            m = INITIAL_BEFORE.search(text, max(0, start - 8), start)
            if m and m.end() == start:
                start = m.start()
            m2 = INITIAL_AFTER.match(text[end:end + 12])  # room for the look-ahead word
            if m2 and (words[j].key in firsts or m2.group().endswith(".")):  # "Smith J., 82yo"
                end += m2.end()
            yield start, end, "NAME", 0.6
            i = j + 1
