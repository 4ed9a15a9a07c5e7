"""The mask plan: which parts of a note are kept, replaced by surrogates, or re-generated.

A plan is a list of segments that, concatenated, give the output note once
the masked words are filled.  PHI spans are always replaced; a random share of
the other whole words is masked; protected spans (medical facts) never are.
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from notesynth.spans import Span, merge_overlapping
from notesynth.surrogates import SurrogateMaker
from notesynth.text import WORD, normalise



@dataclass(frozen=True)
class Segment:
    """A piece of the output: kept text, a PHI surrogate, or a word to fill.

    For ``mask`` segments ``text`` is the original word: the infiller reads its
    length and letter case, never writes it.
    """

    kind: str  # "keep" | "surrogate" | "mask"
    text: str
    label: str = ""
    source_start: int = 0  # offset of this segment in the original note
    source_end: int = 0


@dataclass(frozen=True)
class MaskPlan:
    segments: tuple[Segment, ...]
    n_phi: int
    n_words: int     # non-PHI words in the note
    n_masked: int

    def masked_indices(self) -> list[int]:
        return [i for i, s in enumerate(self.segments) if s.kind == "mask"]


def plan(text: str, phi: list[Span], protected: list[Span], ratio: float,
         rng: random.Random, surrogates: SurrogateMaker, forced: list[Span] = (),
         break_runs: bool = False) -> MaskPlan:
    """Build the plan for one note.  Deterministic for a given ``rng`` state.

    ``forced``: words that are always masked (unknown words, see unknown.py), besides the
    random share ``ratio`` of the other maskable words.  ``break_runs``: spread the masks over
    the note's words rather than over the maskable ones (``spread_sample``), for a retry of a
    note whose kept runs failed the overlap check."""
    phi = merge_overlapping([s for s in phi if s.end > s.start])
    forced = [f for f in forced if not any(f.overlaps(p) for p in phi)]
    blocked = _coverage(len(text), list(protected) + forced)
    pieces: list[tuple[int, int, str, str]] = []  # (start, end, kind, label)
    words: list[tuple[int, int]] = []
    cursor = 0
    for span in phi + [Span(len(text), len(text), "")]:
        for m in WORD.finditer(text, cursor, span.start):
            words.append((m.start(), m.end()))
        if span.label:
            pieces.append((span.start, span.end, "surrogate", span.label))
        cursor = max(cursor, span.end)

    candidates = [w for w in words if not any(blocked[w[0]:w[1]]) and _maskable(text, w)]
    n_target = min(len(candidates), int(round(ratio * len(words))))
    chosen = spread_sample(candidates, n_target, rng, positions=words if break_runs else None)
    chosen += [(f.start, f.end) for f in forced]
    for start, end in chosen:
        pieces.append((start, end, "mask", ""))
    pieces.sort()

    values = _surrogate_values(text, phi, surrogates)
    segments: list[Segment] = []
    cursor = 0
    for start, end, kind, label in pieces:
        if start > cursor:
            segments.append(Segment("keep", text[cursor:start], source_start=cursor, source_end=start))
        original = text[start:end]
        if kind == "surrogate":
            segments.append(Segment("surrogate", values[(start, end)], label, start, end))
        else:
            segments.append(Segment("mask", original, source_start=start, source_end=end))
        cursor = end
    if cursor < len(text):
        segments.append(Segment("keep", text[cursor:], source_start=cursor, source_end=len(text)))
    return MaskPlan(tuple(segments), n_phi=len(phi), n_words=len(words), n_masked=len(chosen))


COLLISION_TRIES = 4


def _surrogate_values(text: str, phi: list[Span], surrogates: SurrogateMaker) -> dict[tuple[int, int], str]:
    """The surrogate of each PHI span.  No surrogate may equal another PHI value of the note: a
    date shift that moves "08/02" onto the note's other date "08/05" would write a real date
    (the leak check fails it, a retry pays for it).  Such a maker is re-seeded (new names, a
    date shift a year or more larger), deterministically, up to COLLISION_TRIES times."""
    originals = {normalise(text[s.start:s.end]) for s in phi} - {""}
    maker = surrogates
    for k in range(COLLISION_TRIES + 1):
        values = {}
        for s in phi:
            original = text[s.start:s.end]
            core = original.strip()
            lead = original[: len(original) - len(original.lstrip())]
            trail = original[len(original.rstrip()):]
            values[(s.start, s.end)] = lead + maker.surrogate(s.label, core) + trail if core else original
        if not any(normalise(v) in originals for v in values.values()):
            break
        # a larger date shift too: a one-year shift maps a note's consecutive years onto each other
        step = 400 * (k + 1) * (1 if surrogates.date_shift_days > 0 else -1)
        maker = SurrogateMaker(surrogates.seed * 1_000_003 + k + 1, date_shift_days=surrogates.date_shift_days + step)
    return values


def spread_sample(candidates: list, k: int, rng: random.Random, positions: list | None = None) -> list:
    """``k`` of the (position-ordered) candidates, one drawn at random from each of ``k``
    equal stretches.  A uniform sample leaves long unmasked stretches that copy the source
    verbatim and fail the checker's overlap test (a retry, a whole new fill); spread
    masks break the source's word runs and trigrams at the same mask ratio.

    With ``positions`` (every word of the note, in order; the candidates are among them) the
    stretches are stretches of the note, not of the candidate list: a stretch of protected
    words (values, medical terms) gets the candidate nearest to it, so the masks break the
    note's longest kept runs instead of crowding where candidates are dense."""
    if not k:
        return []
    n = len(candidates)
    if positions is None or len(positions) <= k:
        return [candidates[rng.randrange(i * n // k, (i + 1) * n // k)] for i in range(k)]
    index = {w: i for i, w in enumerate(positions)}
    at = [index[c] for c in candidates]  # ascending
    taken = [False] * n
    m = len(positions)
    for i in range(k):
        lo, hi = i * m // k, (i + 1) * m // k
        a, b = bisect.bisect_left(at, lo), bisect.bisect_left(at, hi)
        inside = [c for c in range(a, b) if not taken[c]]
        if inside:
            pick = inside[rng.randrange(len(inside))]
        else:  # the free candidate nearest to the stretch, on either side
            left = next((c for c in range(a - 1, -1, -1) if not taken[c]), None)
            right = next((c for c in range(b, n) if not taken[c]), None)
            near = [c for c in (left, right) if c is not None]
            pick = min(near, key=lambda c: (abs(at[c] - (lo + hi) / 2), c))
        taken[pick] = True
    chosen = [c for c in range(n) if taken[c]]
    return [candidates[c] for c in chosen]


def _coverage(n: int, spans: list[Span]) -> bytearray:
    covered = bytearray(n)
    for s in spans:
        covered[max(0, s.start):min(n, s.end)] = b"\x01" * (min(n, s.end) - max(0, s.start))
    return covered


def _maskable(text: str, word: tuple[int, int]) -> bool:
    """Whole words only: not glued to digits, word characters, "/" or "-".

    Slash and hyphen compounds are clinical shorthand and units ("mcg/kg", "w/", "s/p",
    "x-ray"): changing one part changes a fact.
    """
    start, end = word
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not any(c.isalnum() or c in "_/-" for c in (before, after))


def render(plan_: MaskPlan, fills: dict[int, str]) -> tuple[str, list[Span]]:
    """The output text and where each surrogate landed in it."""
    out: list[str] = []
    placed: list[Span] = []
    pos = 0
    for i, seg in enumerate(plan_.segments):
        piece = fills.get(i, seg.text) if seg.kind == "mask" else seg.text
        if seg.kind == "surrogate":
            placed.append(Span(pos, pos + len(piece), seg.label))
        out.append(piece)
        pos += len(piece)
    return "".join(out), placed


# What stands for a fill before there is one: a word no note contains, so the overlap measured
# on a plan counts the kept words only.
PENDING_FILL = "qzxpendingfillqzx"


def render_kept(plan_: MaskPlan) -> str:
    """The output with every masked word still to be written (``PENDING_FILL``): what the
    overlap check measures before a fill.  The kept words are in the output whatever the fills
    are, and a placeholder matches no source word, so the output's overlap with the source can
    only be higher than this text's."""
    return render(plan_, {i: PENDING_FILL for i in plan_.masked_indices()})[0]


def remap_spans(plan_: MaskPlan, fills: dict[int, str], spans: list[Span]) -> list[Span | None]:
    """Where each source span lands in the output; None when it touches PHI or a filled word.

    Annotated spans are protected from masking, so they sit in kept text; a span that
    overlaps a PHI surrogate cannot be carried (PHI is always replaced).
    """
    starts: list[tuple[int, int, int, str]] = []  # (source_start, source_end, out_start, kind)
    pos = 0
    for i, seg in enumerate(plan_.segments):
        piece = fills.get(i, seg.text) if seg.kind == "mask" else seg.text
        starts.append((seg.source_start, seg.source_end, pos, seg.kind))
        pos += len(piece)

    def locate(offset: int, is_end: bool):
        for s_start, s_end, o_start, kind in starts:
            inside = s_start <= offset < s_end or (is_end and s_start < offset <= s_end)
            if inside:
                return (o_start + offset - s_start) if kind == "keep" else None
        return None

    out: list[Span | None] = []
    for span in spans:
        touched = [k for (a, b, _, k) in starts if a < span.end and span.start < b]
        if any(k != "keep" for k in touched):
            out.append(None)
            continue
        a, b = locate(span.start, False), locate(span.end, True)
        out.append(Span(a, b, span.label, span.score) if a is not None and b is not None else None)
    return out
