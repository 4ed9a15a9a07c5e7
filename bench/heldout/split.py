"""The patient split shared by the tagger's training script and the held-out benchmark.

Nursing notes: ids are `pn-<patient>-<note>`; a patient is held out when a keyed hash of
its number falls in the first fifth, so every note of a held-out patient is held out and
the tagger never trains on any of them. ASQ-PHI rows are independent queries; a fifth of
them (by the same keyed hash of the row id) is held out.
"""
from __future__ import annotations

import hashlib

SPLIT_KEY = "notesynth-phi-heldout-v1"


def _bucket(key: str) -> int:
    return int(hashlib.sha1(f"{SPLIT_KEY}:{key}".encode()).hexdigest(), 16) % 100


def patient_of(row_id: str) -> str:
    """`pn-005-026` -> `005`; other ids (ASQ rows) are their own unit."""
    parts = row_id.split("-")
    return parts[1] if row_id.startswith("pn-") and len(parts) == 3 else row_id


def is_heldout(row_id: str) -> bool:
    return _bucket(patient_of(row_id)) < 20


def heldout_patients(ids) -> list[str]:
    return sorted({patient_of(i) for i in ids if i.startswith("pn-") and is_heldout(i)})
