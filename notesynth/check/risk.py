"""The re-identification checker: scores a synthetic note against its source before any write.

Checks (each a field of ``RiskReport``; none stores PHI text):
1. leaked PHI     - a PHI string of the original (normalised; fuzzy for names) in the output;
2. residual PHI   - PHI the detector finds in the output that the pipeline did not put there;
3. source overlap - share of the original's distinctive trigrams that survive, longest verbatim run;
4. memorisation   - nearest training document by MinHash (when the model ships an index).

Risk score (0..1): 1.0 on any leak, on residual PHI (when it fails, the default) or on a
near-copy of a training document; otherwise
``0.5 * distinctive_overlap + 0.5 * min(1, longest_run / run_scale)``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from rapidfuzz import fuzz

from notesynth.phi.lexicon import first_names
from notesynth.phi.recognizers.base import sentence_initial
from notesynth.protect import is_medical_word
from notesynth.spans import INSTITUTION_LABELS, Span
from notesynth.text import MONTH_RE, TITLES, WEEKDAYS, generic_institution, normalise
from notesynth.unknown import known_words



@dataclass(frozen=True)
class RiskSettings:
    max_risk: float = 0.5
    fail_on_residual_phi: bool = True
    name_fuzz: int = 90            # rapidfuzz ratio at or above which a name part counts as leaked
    run_scale: int = 40            # longest verbatim run (words) that scores 1.0 on its own
    memorization_threshold: float = 0.8
    check_overlap: bool = True


@dataclass(frozen=True)
class RiskReport:
    leaked_phi: int = 0
    leaked_labels: tuple[str, ...] = ()
    residual_phi: int = 0
    residual_labels: tuple[str, ...] = ()
    distinctive_overlap: float = 0.0
    longest_verbatim_run: int = 0
    memorization: float | None = None
    risk: float = 0.0
    passed: bool = True
    reasons: tuple[str, ...] = ()
    # where the failures are, for a retry that re-generates just those words (offsets only, never
    # text; not in the manifest): residual PHI in the output, leaked PHI spans in the original
    residual_at: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    leaked_at: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    overlap_failed: bool = field(default=False, compare=False)  # the source-overlap score failed the note

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["residual_at"], d["leaked_at"], d["overlap_failed"]
        d["distinctive_overlap"] = round(self.distinctive_overlap, 4)
        d["risk"] = round(self.risk, 4)
        if self.memorization is not None:
            d["memorization"] = round(self.memorization, 4)
        return d


def leaked_spans(original: str, synthetic: str, phi: list[Span], name_fuzz: int = 90,
                 placed: list[Span] | None = None) -> list[Span]:
    """PHI spans of the original whose text shows up in the synthetic note.

    Initials, two-digit numbers and medical words are also ordinary note text ("C" for with,
    "sat 94", "foot" where a detector took "Foot:" for a name): one of them leaks when the
    output holds it more often than the original does outside its PHI, so a kept "sat 94" is
    no leak but a "94" put back is.  A surrogate that reads as another PHI value of the note
    counts too (masking re-seeds the surrogates so that it does not happen).  A year, a month or
    a weekday alone is the exception, given the ``placed`` surrogates: it leaks when the output
    holds it, as written, outside them more often than the original does outside its PHI.  One
    date shift for the whole note cannot keep "March" off the shifted months of a note that
    names five ("in December ... in March ... in January"), and the month the shift wrote
    stands for another event's month, shifted like every date of the note."""
    norm_out = f" {normalise(synthetic)} "
    out_counts = Counter(norm_out.split())
    outside = _blank(original, phi)
    outside_counts = Counter(normalise(outside).split())
    unplaced = _blank(synthetic, placed) if placed is not None else None
    leaks = []

    def more_than_outside(token: str) -> bool:
        return out_counts[token] > outside_counts[token]

    for span in phi:
        value = normalise(original[span.start:span.end])
        if not value or (span.label in INSTITUTION_LABELS and generic_institution(value)):
            continue
        if span.label == "NAME":
            parts = [p for p in value.split() if p not in TITLES]
            if any(more_than_outside(p) if len(p) == 1 or is_medical_word(p)
                   else _name_part_found(p, out_counts, name_fuzz) for p in parts):
                leaks.append(span)
        elif value.isdigit() and len(value) <= 2:
            if more_than_outside(value):
                leaks.append(span)
        elif unplaced is not None and span.label == "DATE" and _BARE_DATE.fullmatch(value):
            written = original[span.start:span.end].strip()
            if _count_word(written, unplaced) > _count_word(written, outside):
                leaks.append(span)
        elif len(value) >= 2 and f" {value} " in norm_out:
            leaks.append(span)
    return leaks


# a year, a month or a weekday alone
_BARE_DATE = re.compile(r"(?:19|20)\d\d|" + MONTH_RE + "|" + "|".join(WEEKDAYS))


def _count_word(word: str, text: str) -> int:
    """Occurrences of ``word`` in any case; "may" and "march" in lower case are the verbs."""
    found = re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    return sum(1 for w in found if not (w.islower() and w in ("may", "march")))


def _name_part_found(part: str, words, threshold: int) -> bool:
    if part in words:
        return True
    if len(part) < 5:
        return False
    return any(abs(len(w) - len(part)) <= 2 and fuzz.ratio(part, w) >= threshold for w in words)


def residual_spans(found_in_output: list[Span], placed: list[Span], original: str | None = None,
                   synthetic: str | None = None) -> list[Span]:
    """Detected PHI in the output that does not sit on a surrogate the pipeline placed.

    Given the two texts, the fill model's own words are left out (_foreign_words): it writes
    vocabulary words, and one read as a name at a sentence start ("Le", "Gross") is nobody's
    identity in this note, whose identity is in its original.  A word of the original (a name
    every detector missed, kept or written back) still counts."""
    residual = [s for s in found_in_output if not any(s.overlaps(p) for p in placed)]
    if original is None or synthetic is None:
        return residual
    used = set(re.findall(r"[a-z]+", original.lower()))
    return [s for s in residual if not _foreign_words(s, synthetic, used)]


def _foreign_words(span: Span, synthetic: str, used: set[str]) -> bool:
    """Dictionary words (unknown.known_words) that name no one: a NAME of one word, not a first
    name, at a sentence start, that the original never uses; an institution of generic words
    ("Medical Center") or of words not written like a name ("All health"; "Rose Medical Center"
    is written like one).  "Mary Brown", "daughter Mary" or "Mary called" written by a model
    still count: a model adapted on a site's notes could have learned a name the detector
    missed there."""
    value = synthetic[span.start:span.end]
    words = re.findall(r"[A-Za-z]+", value)
    if not words or not all(w.lower() in known_words() for w in words):
        return False
    if span.label in INSTITUTION_LABELS:
        return generic_institution(value) or not any(w[0].isupper() for w in words[1:])
    return (span.label == "NAME" and len(words) == 1 and words[0].lower() not in used
            and words[0].lower() not in first_names() and sentence_initial(synthetic, span.start))


def distinctive_overlap(original: str, synthetic: str, phi: list[Span], is_common) -> float:
    """Share of the original's distinctive word trigrams (with an uncommon word) found in the output."""
    # trigrams never bridge a PHI span: the words on its two sides were never adjacent
    grams = [g for seg in _segments_outside(original, phi) for g in _trigrams(seg, is_common)]
    if not grams:
        return 0.0
    out = set(_trigrams(re.findall(r"[a-z0-9]+", synthetic.lower()), lambda w: True, keep_all=True))
    return sum(g in out for g in grams) / len(grams)


def _blank(text: str, spans: list[Span]) -> str:
    """The text with each span's characters replaced by NUL (before any case folding, which can
    change the length: "İ".lower() is two characters, and the offsets index the text as given)."""
    chars = list(text)
    for s in spans:
        chars[s.start:s.end] = ["\x00"] * (s.end - s.start)
    return "".join(chars)


def _segments_outside(text: str, spans: list[Span]) -> list[list[str]]:
    """The words of each stretch of text between PHI spans."""
    return [words for seg in _blank(text, spans).lower().split("\x00")
            if (words := re.findall(r"[a-z0-9]+", seg))]


def _trigrams(words: list[str], is_common, keep_all: bool = False) -> list[tuple[str, str, str]]:
    grams = []
    for i in range(len(words) - 2):
        g = (words[i], words[i + 1], words[i + 2])
        if keep_all or any(w.isalpha() and not is_common(w) for w in g):
            grams.append(g)
    return grams


def longest_verbatim_run(original: str, synthetic: str) -> int:
    """Longest run of consecutive words the output shares with the original.

    Binary search on the run length with rolling hashes of word ids: O((n+m) log n),
    so a long note costs milliseconds, not the minutes of a quadratic table.
    """
    a = re.findall(r"\w+", original.lower())
    b = re.findall(r"\w+", synthetic.lower())
    if not a or not b:
        return 0
    vocab: dict[str, int] = {}
    ia = [vocab.setdefault(w, len(vocab) + 1) for w in a]
    ib = [vocab.setdefault(w, len(vocab) + 1) for w in b]

    def shared(k: int) -> bool:
        return bool(_kgram_hashes(ia, k) & _kgram_hashes(ib, k))

    lo, hi = 0, min(len(ia), len(ib))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if shared(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


_MOD = (1 << 61) - 1
_BASE = 1_000_003


def _kgram_hashes(ids: list[int], k: int) -> set[tuple[int, int]]:
    """Two independent rolling hashes per k-gram (collisions are negligible)."""
    if k > len(ids):
        return set()
    out = set()
    h1 = h2 = 0
    p1 = pow(_BASE, k, _MOD)
    p2 = pow(131, k, _MOD)
    for i, x in enumerate(ids):
        h1 = (h1 * _BASE + x) % _MOD
        h2 = (h2 * 131 + x) % _MOD
        if i >= k:
            h1 = (h1 - ids[i - k] * p1) % _MOD
            h2 = (h2 - ids[i - k] * p2) % _MOD
        if i >= k - 1:
            out.add((h1, h2))
    return out


def overlap_risk(overlap: float, run: int, settings: RiskSettings) -> float:
    """The source-overlap part of the score (the whole score when nothing failed hard)."""
    return 0.5 * overlap + 0.5 * min(1.0, run / settings.run_scale)


def _overlap(original: str, synthetic: str, phi: list[Span], settings: RiskSettings, is_common) -> tuple[float, int]:
    if not settings.check_overlap:
        return 0.0, 0
    return distinctive_overlap(original, synthetic, phi, is_common), longest_verbatim_run(original, synthetic)


def overlap_before_fill(original: str, kept: str, phi: list[Span], settings: RiskSettings,
                        is_common=lambda w: True) -> RiskReport | None:
    """The overlap check on a plan's kept words (``masking.render_kept``), before any fill: a
    report when it already fails, else None.  Fills only add overlap (the kept words stay
    whatever is filled), so a plan that fails here fails after its fill too: the fill is skipped."""
    overlap, run = _overlap(original, kept, phi, settings, is_common)
    risk = overlap_risk(overlap, run, settings)
    if risk <= settings.max_risk:
        return None
    return RiskReport(distinctive_overlap=overlap, longest_verbatim_run=run, risk=risk, passed=False,
                      reasons=(_overlap_reason(risk, overlap, run, settings, " in the kept words alone, before the fill"),),
                      overlap_failed=True)


def _overlap_reason(risk: float, overlap: float, run: int, settings: RiskSettings, where: str = "") -> str:
    return (f"source overlap: risk {risk:.3f} above max {settings.max_risk}{where} "
            f"(distinctive trigrams kept {overlap:.2f}, longest verbatim run {run} words)")


def score(original: str, synthetic: str, phi: list[Span], residual: list[Span],
          settings: RiskSettings, is_common=lambda w: True, memorization: float | None = None,
          placed: list[Span] | None = None) -> RiskReport:
    """The full report for one note; ``residual`` comes from the detector run on the output,
    ``placed`` are the surrogates the pipeline wrote (None: unknown)."""
    leaks = leaked_spans(original, synthetic, phi, settings.name_fuzz, placed)
    overlap, run = _overlap(original, synthetic, phi, settings, is_common)
    reasons = []
    hard = False
    if leaks:
        reasons.append(f"leaked PHI: {len(leaks)} span(s) of the original ({', '.join(sorted({s.label for s in leaks}))})")
        hard = True
    if residual and settings.fail_on_residual_phi:
        reasons.append(f"residual PHI: {len(residual)} detected span(s) not placed as surrogates "
                       f"({', '.join(sorted({s.label for s in residual}))})")
        hard = True
    if memorization is not None and memorization >= settings.memorization_threshold:
        reasons.append(f"near-copy of a training document (MinHash similarity {memorization:.2f})")
        hard = True
    risk = 1.0 if hard else overlap_risk(overlap, run, settings)
    if not hard and risk > settings.max_risk:
        reasons.append(_overlap_reason(risk, overlap, run, settings))
    return RiskReport(
        leaked_phi=len(leaks), leaked_labels=tuple(sorted({s.label for s in leaks})),
        residual_phi=len(residual), residual_labels=tuple(sorted({s.label for s in residual})),
        distinctive_overlap=overlap, longest_verbatim_run=run, memorization=memorization,
        risk=risk, passed=not reasons, reasons=tuple(reasons),
        residual_at=tuple((s.start, s.end) for s in residual), leaked_at=tuple((s.start, s.end) for s in leaks),
        overlap_failed=not hard and risk > settings.max_risk,
    )
