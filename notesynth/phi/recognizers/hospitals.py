"""Hospitals, clinics and medical centres."""
from __future__ import annotations

import re
from typing import Iterable

from .base import ClinicalRecognizer, Hit

# the noun that ends an institution's name ("Kinkela Infirmary", "Fyli Heart Institute"); span growth
# carries a found name over it too (matched case-insensitively; the caller checks the capital)
FACILITY_NOUNS = (r"(?:hospital|hosp\.?|clinic|infirmary|nursing home|(?:heart |cancer |surgical |surgery )?institute|"
                  r"(?:medical|health|cancer|surgical|surgery) cent(?:er|re)|"  # a bare "Center" is too many things
                  r"rehabilitation(?: center| hospital)?|rehab(?: center| hospital))")
KEYWORDS = (rf"(?:{FACILITY_NOUNS}|hospiatal|med\.? c(?:ente)?r|med\.? ctr|medical|medical group|"
            r"health(?: system|care| services)?|memorial|children'?s|va|vamc|langone|presbyterian)")
# short keywords only when capitalised: "Ongoing med adjustments", "Cont rehab" are charting
CASED_KEYWORDS = r"(?:General|GENERAL|Med\b\.?(?: Ctr| Center)?|MED\b|Rehab\b|REHAB\b)"
NAME_WORD = r"(?:St\.?|Saint|Mt\.?|Mount|[A-Z][a-z][A-Za-z'’\-]*|[A-Z]{2,5}(?![a-z]))"
INSTITUTION = re.compile(
    rf"\b((?:{NAME_WORD}(?:\s+(?:of|and|&|the)\s+| |-)){{1,4}})(?:(?i:{KEYWORDS})|{CASED_KEYWORDS})\b(?:\s+(?i:hospital|medical center|center)|\s+of\s+[A-Z]\w+)?")
# words that open a religious or place-style institution name: "St. Irwin", "Mount Auburn", "Our Lady of Fyli"
NAME_PREFIX = r"(?:St\.?|Saint|Mt\.?|Mount|Our Lady of(?: the)?)"
SAINT = re.compile(rf"\b{NAME_PREFIX}\s+[A-Z][a-z]+(?:['’]s)?(?:\s+(?:Hospital|Medical Center|Clinic|Health))?\b")
KNOWN = [
    "Johns Hopkins", "Mayo Clinic", "Cleveland Clinic", "Mass General", "Massachusetts General", "MGH",
    "Cedars-Sinai", "Cedars Sinai", "Cedar Sinai", "Cedar-Sinai", "Mount Sinai", "Mt. Sinai", "Mt Sinai", "NYU Langone",
    "NYU", "UCSF", "UCLA", "USC", "UCSD", "UC Davis", "UC Irvine", "Stanford", "Bellevue", "Kaiser Permanente", "Kaiser",
    "MD Anderson", "Sloan Kettering", "Memorial Sloan Kettering", "MSKCC", "Brigham and Women's", "Brigham",
    "Beth Israel", "Deaconess", "Dana-Farber", "Dana Farber", "Duke", "Emory", "Baylor", "Vanderbilt",
    "Northwestern", "Penn Medicine", "Jefferson", "Yale New Haven", "Columbia Presbyterian", "New York Presbyterian",
    "NewYork-Presbyterian", "Presbyterian", "Cornell", "Weill Cornell", "Montefiore", "Lenox Hill", "Tufts",
    "Lahey", "Ochsner", "Scripps", "Sutter", "Intermountain", "Geisinger", "Henry Ford", "Barnes-Jewish",
    "Barnes Jewish", "Rush", "Loyola", "Cook County", "Parkland", "Grady", "Jackson Memorial", "Mercy",
    "Kindred", "Spaulding", "Shriners", "St. Jude", "Boston Children's", "Children's Hospital", "Walter Reed",
    "Mount Auburn", "Faulkner", "Steward", "Hopkins", "MUSC", "UPMC", "UNC", "UW Medicine", "OHSU", "Cedars",
]
KNOWN_RE = re.compile(r"\b(?:(?:NY|NYC|New York|UW|UC)\s+)?(?:" + "|".join(re.escape(k) for k in sorted(KNOWN, key=len, reverse=True)) + r")\b(?:\s+(?:Health(?:\s+System)?|Medical Center|Hospital|Med Ctr|Clinic))?")
GENERIC_FIRST = {"the", "a", "an", "outside", "osh", "this", "that", "other", "another", "local", "general", "same", "your",
                 "our", "his", "her", "their", "to", "from", "at", "in", "transfer", "transferred", "admitted", "rehab",
                 "community", "private", "nursing", "teaching", "state", "county", "city", "university", "psych", "psychiatric",
                 "acute", "chronic", "long", "term", "home", "va", "of", "and", "or", "for", "with", "by", "on"}


STOP_WORDS = frozenset(("a an the to from at in on of by for with and or was were is are be been being had has have "
                        "he she they we it his her their our your my this that these those who which seen taken "
                        "admitted transferred transfer trans adm sent went go going presented refer referred").split())
KEEP_TITLE = {"general", "community", "county", "city", "state", "university", "central", "memorial", "regional",
              "children's", "childrens", "presbyterian", "methodist", "baptist", "lutheran", "catholic", "mercy"}


class HospitalRecognizer(ClinicalRecognizer):
    ENTITIES = ("HOSPITAL",)

    def find(self, text: str, nlp_artifacts=None) -> Iterable[Hit]:
        for m in INSTITUTION.finditer(text):
            words = re.findall(r"[A-Za-z'’\-.]+|&", m.group(1))
            # drop leading generic words ("TRANSFER TO", "the")
            start = m.start(1)
            pos = 0
            for w in words:
                wl = w.lower().strip(".")
                title_generic = w[:1].isupper() and w[1:2].islower() and wl in KEEP_TITLE
                if not title_generic and (wl in GENERIC_FIRST or wl in STOP_WORDS):
                    idx = text.find(w, start + pos)
                    pos = idx + len(w) - start
                    continue
                break
            seg_start = start + pos
            # all-caps words before a capitalised name are context ("TAKEN TO Brewer Hospital")
            mm = re.match(r"(?:[A-Z]{2,}\.?\s+)+(?=(?:St\.?|Saint|Mt\.?|Mount|[A-Z][a-z]))", text[seg_start:m.start(1) + len(m.group(1))])
            if mm:
                seg_start += mm.end()
            while seg_start < m.end() and not text[seg_start].isalnum():
                seg_start += 1
            seg = text[seg_start:m.start(1) + len(m.group(1))].strip()
            if not seg:
                continue
            if not re.search(r"[a-z]", seg):  # acronyms only: "PT'S HEALTH", "SENT TO REHAB"
                continue
            yield seg_start, m.end(), "HOSPITAL", 0.7
        for m in SAINT.finditer(text):
            yield m.start(), m.end(), "HOSPITAL", 0.5
        for m in KNOWN_RE.finditer(text):
            yield m.start(), m.end(), "HOSPITAL", 0.6
