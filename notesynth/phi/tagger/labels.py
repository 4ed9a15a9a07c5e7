"""The tagger's reduced label set, its BIO tags, and the mapping to notesynth labels.

The tagger predicts 13 entity kinds; ID kinds that differ only by what issued them
(SSN, health plan, account, licence, unique id, other id) share one tag, ID, because a
context-reading model cannot tell them apart reliably and the synthesizer treats them
alike. MRN keeps its own tag (clinical notes say "MRN"/"med rec #").
"""
from __future__ import annotations

from typing import Dict, List

# tagger kind -> notesynth label (the label a predicted span gets)
KIND_TO_LABEL: Dict[str, str] = {
    "NAME": "NAME",
    "DATE": "DATE",
    "AGE": "AGE",
    "LOC": "GEOGRAPHIC_LOCATION",
    "PHONE": "PHONE_NUMBER",
    "MRN": "MEDICAL_RECORD_NUMBER",
    "ID": "OTHER_ID",
    "EMAIL": "EMAIL_ADDRESS",
    "URL": "URL",
    "IP": "IP_ADDRESS",
    "HOSPITAL": "HOSPITAL",
    "WARD": "WARD",
    "ORG": "ORGANIZATION",
}
KINDS: List[str] = list(KIND_TO_LABEL)

# notesynth label -> tagger kind (training targets)
LABEL_TO_KIND: Dict[str, str] = {
    "NAME": "NAME", "DATE": "DATE", "AGE": "AGE", "GEOGRAPHIC_LOCATION": "LOC",
    "PHONE_NUMBER": "PHONE", "FAX_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "URL": "URL",
    "IP_ADDRESS": "IP", "MEDICAL_RECORD_NUMBER": "MRN", "SOCIAL_SECURITY_NUMBER": "ID",
    "HEALTH_PLAN_BENEFICIARY_NUMBER": "ID", "ACCOUNT_NUMBER": "ID", "CERTIFICATE_LICENSE_NUMBER": "ID",
    "UNIQUE_IDENTIFIER": "ID", "OTHER_ID": "ID", "HOSPITAL": "HOSPITAL", "WARD": "WARD",
    "ORGANIZATION": "ORG",
}

TAGS: List[str] = ["O"] + [f"{p}-{k}" for k in KINDS for p in ("B", "I")]
TAG_TO_ID: Dict[str, int] = {t: i for i, t in enumerate(TAGS)}
ID_TO_TAG: Dict[int, str] = dict(enumerate(TAGS))


def kind_of(label: str) -> str:
    """Tagger kind of a notesynth label (KeyError for an unknown label)."""
    return LABEL_TO_KIND[label]


def label_of(kind_or_tag: str) -> str:
    """notesynth label of a tagger kind or a BIO tag ("B-LOC" -> GEOGRAPHIC_LOCATION)."""
    kind = kind_or_tag[2:] if kind_or_tag[:2] in ("B-", "I-") else kind_or_tag
    return KIND_TO_LABEL[kind]
