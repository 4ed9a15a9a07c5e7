"""What a retry re-generates: the kept words where the last attempt failed the check.

A retry used to draw a whole new fill at a higher mask ratio and hope.  A note fails the
checker for a place: a kept word the output detector reads as a name ("Gross" before a
fill that made it look like one), or a kept occurrence of a string found as PHI elsewhere
("Ray-Tec" found once, kept twice).  Where a word cannot be shown to be safe it is
re-generated: the next attempt masks those words (privacy by construction), on top of
its usual plan.  Offsets only; no text leaves this module.
"""
from __future__ import annotations

import re

from notesynth.check.risk import RiskReport
from notesynth.masking import MaskPlan
from notesynth.spans import Span
from notesynth.text import NAME_PART_MIN_CHARS, TITLES, WORD



def words_to_regenerate(text: str, plan: MaskPlan, fills: dict[int, str], report: RiskReport,
                        phi: list[Span]) -> list[Span]:
    """Words of the original ``text`` (outside PHI) that the next attempt must mask."""
    ranges = _kept_source_ranges(plan, fills, report.residual_at)
    for start, end in report.leaked_at:
        ranges += _other_occurrences(text, text[start:end], phi)
    return _words_in(text, ranges, phi)


def _kept_source_ranges(plan: MaskPlan, fills: dict[int, str],
                        output_ranges: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The original's offsets under output ranges that fall on kept text (fills and surrogates
    are drawn anew by the next attempt anyway)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for i, seg in enumerate(plan.segments):
        piece = fills.get(i, seg.text) if seg.kind == "mask" else seg.text
        if seg.kind == "keep":
            for a, b in output_ranges:
                lo, hi = max(a, pos), min(b, pos + len(piece))
                if lo < hi:
                    out.append((seg.source_start + lo - pos, seg.source_start + hi - pos))
        pos += len(piece)
    return out


def _other_occurrences(text: str, value: str, phi: list[Span]) -> list[tuple[int, int]]:
    """Whole-word occurrences of the value and of its name parts (any case, a plural or
    possessive ending) outside the PHI spans."""
    parts = [p for p in re.findall(r"[^\W_]+", value) if len(p) >= NAME_PART_MIN_CHARS and p.lower() not in TITLES]
    out = []
    for part in parts:
        pattern = re.compile(r"(?<!\w)" + re.escape(part) + r"(?:['’]?s)?(?!\w)", re.IGNORECASE)
        out += [(m.start(), m.end()) for m in pattern.finditer(text)
                if not any(p.start < m.end() and m.start() < p.end for p in phi)]
    return out


def _words_in(text: str, ranges: list[tuple[int, int]], phi: list[Span]) -> list[Span]:
    """The whole words that overlap the ranges, outside PHI, once each, in order."""
    found: dict[tuple[int, int], Span] = {}
    for a, b in ranges:
        lo = max(0, a - 40)
        for m in WORD.finditer(text, lo, min(len(text), b + 40)):
            if m.start() < b and a < m.end() and not any(p.start < m.end() and m.start() < p.end for p in phi):
                found[(m.start(), m.end())] = Span(m.start(), m.end(), "RETRY")
    return [found[k] for k in sorted(found)]
