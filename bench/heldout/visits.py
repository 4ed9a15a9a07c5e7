"""Dictated visit notes with names, for bench/privacy.py --visit-notes (issue 11, item 6).

No visit notes with real names are at hand: MTSamples transcriptions (`corpus/mtsamples.jsonl`)
are dictated encounters, but their names were replaced at source by placeholders ("Dr. X",
"Mr. Abc", "Ms. XYZ").  Here each placeholder of an office, progress, general-medicine,
consult, psychiatry, paediatric, discharge or emergency note becomes a gold NAME span, and
`heldout.dataset.make_dataset` then draws a held-out surname for it (the same one for every
mention of one placeholder in a note).  The notes keep their own length and wording: long
dictated prose with the patient and the doctors named by title, several times each.

``specialty_rows`` gives the same for the notes of every other specialty (operative reports,
urology, neurology, orthopaedic and other consults: 369 notes), which no analysis of the
checker or the detector read: the untouched check of what the visit notes taught.

Caveats: the only gold spans are these names after a title, the easiest kind to find (dates and
places in the notes are not scored); the shipped fill model was trained on MTSamples, so a synthetic note can be held as a
near-copy of a training document (its own source); privacy.py counts holds by reason.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

VISIT_SPECIALTIES = frozenset({
    "SOAP / Chart / Progress Notes", "Office Notes", "General Medicine", "Consult - History and Phy.",
    "Psychiatry / Psychology", "Pediatrics - Neonatal", "Pain Management", "Discharge Summary",
    "Emergency Room Reports", "Letters"})
# a title and the source's stand-in for the name after it
PLACEHOLDER = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss)\.? ((?:[A-Z]|ABC|Abc|XYZ|Xyz|XXX|XXXX|Abcd))\b(?!\.\w)")


def _stand_in(i: int) -> str:
    """A surname-shaped stand-in per placeholder (the re-surrogation reads a one-letter name as
    an initial): "Doea", "Doeb", ..."""
    return "Doe" + "abcdefghijklmnopqrstuvwxyz"[i % 26] * (1 + i // 26)


def visit_rows(path: Path) -> list[dict]:
    """Rows {"id", "text", "spans"} of the visit notes that name someone, in file order."""
    return _placeholder_rows(path, lambda specialty: specialty in VISIT_SPECIALTIES)


def specialty_rows(path: Path) -> list[dict]:
    """The same rows for the notes of every specialty but the visit notes'."""
    return _placeholder_rows(path, lambda specialty: specialty not in VISIT_SPECIALTIES)


def _placeholder_rows(path: Path, wanted) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if not wanted(r.get("specialty", "").strip()):
                continue
            text, keys = r["text"], {}
            out, spans, pos = [], [], 0
            for m in PLACEHOLDER.finditer(text):
                key = m.group(0).replace(".", "")  # "Dr. X" and "Dr X" are one person
                keys.setdefault(key, _stand_in(len(keys)))
                out.append(text[pos:m.start(1)])
                start = sum(map(len, out))
                out.append(keys[key])
                spans.append({"start": start, "end": start + len(keys[key]), "label": "NAME", "text": keys[key]})
                pos = m.end(1)
            if spans:
                out.append(text[pos:])
                rows.append({"id": f"mts-{r['id']}", "text": "".join(out), "spans": spans})
    return rows
