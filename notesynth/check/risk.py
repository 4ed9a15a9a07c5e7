"""The re-identification checker: scores a synthetic note against its source before any write.

Checks (each a field of ``RiskReport``; none stores PHI text):
1. leaked PHI     - a PHI string of the original (normalised; fuzzy for names) in the output;
2. residual PHI   - PHI the detector finds in the output that the pipeline did not put there;
3. source overlap - share of the original's distinctive trigrams that survive, longest verbatim run;
                    both over the words synth could have re-generated: the medical facts it keeps
                    by design (``protect``) are not counted unless ``count_kept_facts``;
4. memorisation   - nearest training document by MinHash (when the model ships an index).

Risk score (0..1): 1.0 on any leak, on residual PHI (when it fails, the default) or on a
near-copy of a training document; otherwise
``0.5 * distinctive_overlap + 0.5 * min(1, longest_run / run_scale)``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from notesynth.phi.lexicon import all_names, first_names, ordinary_words
from notesynth.phi.recognizers.context_names import CONTACT_BEFORE, SUBJECT_VERB
from notesynth.phi.recognizers.titled_names import RELATIONS
from notesynth.protect import is_medical_word, protect
from notesynth.spans import INSTITUTION_LABELS, Span
from notesynth.text import MONTH_RE, NAME_PART_MIN_CHARS, SPOKEN_HONORIFICS, TITLES, WEEKDAYS, generic_institution, normalise
from notesynth.unknown import known_words



@dataclass(frozen=True)
class RiskSettings:
    max_risk: float = 0.5
    fail_on_residual_phi: bool = True
    name_fuzz: int = 90            # rapidfuzz ratio at or above which a name part counts as leaked
    run_scale: int = 40            # longest verbatim run (words) that scores 1.0 on its own
    memorization_threshold: float = 0.8
    check_overlap: bool = True
    count_kept_facts: bool = False  # the medical facts kept by design count in the overlap score


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

    Initials, name parts of two letters, two-digit numbers and medical words are also ordinary
    note text ("C" for with, "He" a tagger took for a name,
    "sat 94", "foot" where a detector took "Foot:" for a name): one of them leaks when the
    output holds it more often than the original does outside its PHI, so a kept "sat 94" is
    no leak but a "94" put back is.  A surrogate that reads as another PHI value of the note
    counts too (masking re-seeds the surrogates so that it does not happen).  A year, a month or
    a weekday alone is the exception, given the ``placed`` surrogates: it leaks when the output
    holds it, as written, outside them more often than the original does outside its PHI.  One
    date shift for the whole note cannot keep "March" off the shifted months of a note that
    names five ("in December ... in March ... in January"), and the month the shift wrote
    stands for another event's month, shifted like every date of the note.  A numeric date leaks
    when the output holds its numbers more often than the original writes them outside PHI as
    a measure with its unit ("2/5" the date and the kept dose "2.5 mg" read the same once
    normalised; "3.14" or "03 14 2019" without a unit still leak).  A place or an institution
    also leaks by a word of its own that no vocabulary holds ("Luxor" of "Luxor hospital",
    "Lisanti" of "Lisanti MICU"), written more often than the original does outside PHI."""
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
        if span.label == "NAME":  # a number in a name span identifies no one ("gravida 1" read as a name)
            parts = [p for p in value.split() if p not in TITLES and not p.isdigit()]
            if any(more_than_outside(p) if len(p) < NAME_PART_MIN_CHARS or is_medical_word(p)
                   else _name_part_found(p, out_counts, name_fuzz) for p in parts):
                leaks.append(span)
        elif value.isdigit() and len(value) <= 2:
            if more_than_outside(value):
                leaks.append(span)
        elif unplaced is not None and span.label == "DATE" and _BARE_DATE.fullmatch(value):
            written = original[span.start:span.end].strip()
            if _count_word(written, unplaced) > _count_word(written, outside):
                leaks.append(span)
        elif span.label == "DATE" and all(t.isdigit() for t in value.split()):
            if _phrase_count(value, norm_out) > _measure_uses(value, outside):
                leaks.append(span)  # "2/5" the date is not the kept dose "2.5 mg" (the same once normalised)
        elif len(value) >= 2 and f" {value} " in norm_out:
            leaks.append(span)
        elif span.label in _PLACE_LABELS and any(more_than_outside(w) for w in value.split()
                                                 if len(w) >= 3 and not w.isdigit() and w not in known_words()):
            leaks.append(span)  # "Luxor" of "Luxor hospital": the name of the place without its noun
    return leaks


_PLACE_LABELS = INSTITUTION_LABELS | {"GEOGRAPHIC_LOCATION"}


# a year, a month or a weekday alone
_BARE_DATE = re.compile(r"(?:19|20)\d\d|" + MONTH_RE + "|" + "|".join(WEEKDAYS))


# units that make a number a measure, not a date ("2.5 mg", "7.5 cm")
_MEASURE = re.compile(r"\s*(?:mcg/kg/min|units/hr|mcg/min|mg/hr|ml/hr|mg/dl|mg/kg|l/min|cmh2o|mmhg|units?|mmol|"
                      r"meq|mcg|lpm|bpm|lbs?|mg|ug|kg|ml|cc|dl|iu|cm|mm|g|%)(?![\w/])", re.I)


def _measure_uses(value: str, outside: str) -> int:
    """Times the original writes the numbers of ``value`` (normalised: "2 5") outside PHI as one
    measure with its unit ("2.5 mg", "2-5 mg")."""
    pattern = re.compile(r"(?<![\w.])" + r"(?:[.,/:-]|\s+)".join(map(re.escape, value.split())) + r"(?![\w.])")
    return sum(1 for m in pattern.finditer(outside) if _MEASURE.match(outside, m.end()))


def _phrase_count(value: str, padded: str) -> int:
    """Occurrences of a normalised phrase as whole words in a normalised text padded with spaces."""
    return len(re.findall(rf"(?<= ){re.escape(value)}(?= )", padded))


def _count_word(word: str, text: str) -> int:
    """Occurrences of ``word`` in any case; "may" and "march" in lower case are the verbs."""
    found = re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    return sum(1 for w in found if not (w.islower() and w in ("may", "march")))


def _name_part_found(part: str, words, threshold: int) -> bool:
    """The part itself, or a near-spelling of it ("Wigglesworths", "Miller" for "Millers") that is
    a name or no ordinary or medical word: "tympanic" is not the name "tympani"."""
    if part in words:
        return True
    if len(part) < 5:
        return False
    return any(abs(len(w) - len(part)) <= 2 and fuzz.ratio(part, w) >= threshold
               and (w in all_names() or (w not in known_words() and not is_medical_word(w))) for w in words)


def residual_spans(found_in_output: list[Span], placed: list[Span], original: str | None = None,
                   synthetic: str | None = None) -> list[Span]:
    """Detected PHI in the output that does not sit on a surrogate the pipeline placed.

    Given the two texts, a "name" or an institution the fill model made of ordinary words is
    left out (``_model_written``): nobody's identity in this note, whose identity is in its
    original.  A word the original writes as it stands in the output (a name every detector
    missed, kept or written back) still counts."""
    residual = [s for s in found_in_output if not any(s.overlaps(p) for p in placed)]
    if original is None or synthetic is None:
        return residual
    source = _SourceWords.of(original)
    return [s for s in residual if not _model_written(s, synthetic, source)]


@dataclass(frozen=True)
class _SourceWords:
    """The original's words as written, and whether it writes sentences with a capital."""
    written: frozenset[str]
    capitalises: bool

    @classmethod
    def of(cls, original: str) -> "_SourceWords":
        starts = re.findall(r"(?:^|[.!?]\s)\s*([A-Za-z])", original, re.M)
        return cls(frozenset(re.findall(r"[A-Za-z]+", original)),
                   bool(starts) and sum(c.isupper() for c in starts) >= len(starts) / 2)


def _model_written(span: Span, synthetic: str, source: _SourceWords) -> bool:
    """A NAME that names no one: ordinary words (unknown.known_words), none a first name, none
    written as the original writes it (kept text keeps its case, so the fill model wrote them,
    and it writes no first names: infill.vocabulary), and, where a word is also a surname
    ("White", "Gross"), one word out of any name context: "Cranial nerves IX, White, and XII".
    In a note that writes its sentences with a capital, a word in lower case that its corpora
    write so, out of a name context, is none either ("the diagonal branch").  Still counted:
    "Mary Brown", "daughter Mary", "Dr Miller", "Miller called back", "Miller Brown", "Brown" where
    the original writes "Brown" (a name it kept): a model adapted on a site's notes could have
    learned a name there.  An institution passes only when generic ("Medical Center") or not
    written like a name ("All health"): "Good Samaritan Hospital" is one place's name."""
    value = synthetic[span.start:span.end]
    words = re.findall(r"[A-Za-z]+", value)
    if not words or not all(w.lower() in known_words() for w in words):
        return False
    if span.label in INSTITUTION_LABELS:
        return generic_institution(value) or not any(w[0].isupper() for w in words[1:])
    if span.label != "NAME" or any(w.lower() in first_names() for w in words):
        return False
    if any(w.lower() in all_names() for w in words) and (len(words) > 1 or _name_context(synthetic, span)):
        return False
    lower_ordinary = source.capitalises and all(w.islower() and w in ordinary_words() for w in words)
    return lower_ordinary or all(w not in source.written for w in words)


_BEFORE_NAME = frozenset(TITLES | SPOKEN_HONORIFICS | RELATIONS)


def _name_context(text: str, span: Span) -> bool:
    """Written where a name goes: after a title, a relation or a contact verb ("Dr", "son", "per",
    "spoke with"), or before what a person does ("called", "states")."""
    before = text[max(0, span.start - 40):span.start]
    words = re.findall(r"[A-Za-z]+", before)
    return bool((words and words[-1].lower() in _BEFORE_NAME) or CONTACT_BEFORE.search(before)
                or SUBJECT_VERB.match(text, span.end))


def distinctive_overlap(original: str, synthetic: str, phi: list[Span], is_common,
                        facts: list[Span] = ()) -> float:
    """Share of the original's distinctive word trigrams found in the output: those with an
    uncommon word that is not one of the ``facts`` (the medical facts kept by design)."""
    # trigrams never bridge a PHI span: the words on its two sides were never adjacent
    fact_at = _covered(len(original), facts)
    grams = [tuple(w for w, _ in g) for seg in _segments_outside(original, phi)
             for g in _windows(seg) if any(w.isalpha() and not is_common(w) and not fact_at[i] for w, i in g)]
    if not grams:
        return 0.0
    out_words = re.findall(r"[a-z0-9]+", synthetic.lower())
    out = set(zip(out_words, out_words[1:], out_words[2:]))
    return sum(g in out for g in grams) / len(grams)


def _covered(n: int, spans: list[Span]) -> bytearray:
    """1 at each character offset inside one of the spans."""
    mask = bytearray(n)
    for s in spans:
        mask[s.start:s.end] = b"\x01" * (s.end - s.start)
    return mask


def _blank(text: str, spans: list[Span]) -> str:
    """The text with each span's characters replaced by NUL (before any case folding, which can
    change the length: "İ".lower() is two characters, and the offsets index the text as given)."""
    chars = list(text)
    for s in spans:
        chars[s.start:s.end] = ["\x00"] * (s.end - s.start)
    return "".join(chars)


def _segments_outside(text: str, spans: list[Span]) -> list[list[tuple[str, int]]]:
    """The words (lower case, with their offsets) of each stretch of text between PHI spans."""
    segments: list[list[tuple[str, int]]] = []
    for part in re.finditer(r"[^\x00]+", _blank(text, spans)):
        words = [(m.group().lower(), m.start()) for m in re.finditer(r"[A-Za-z0-9]+", part.group())]
        if words:
            segments.append([(w, part.start() + i) for w, i in words])
    return segments


def _windows(words: list) -> list[tuple]:
    return [tuple(words[i:i + 3]) for i in range(len(words) - 2)]


def longest_verbatim_run(original: str, synthetic: str, facts: list[Span] = ()) -> int:
    """Longest run of consecutive words the output shares with the original, counting the
    original's words outside the ``facts`` (kept by design: a run through a list of diagnoses
    or a lab panel counts only the words around them that could have been re-generated).

    One pass over the original through a suffix automaton of the output: for each word of the
    original, the longest shared run ending there, in O(n + m); a long note costs
    milliseconds, not the minutes of a quadratic table.
    """
    tokens = [(m.group().lower(), m.start()) for m in re.finditer(r"\w+", original)]
    b = [w.lower() for w in re.findall(r"\w+", synthetic)]  # split as the original is ("İstanbul")
    if not tokens or not b:
        return 0
    fact_at = _covered(len(original), facts)
    weights = [0 if fact_at[i] else 1 for _, i in tokens]
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    best = 0
    for end, length in enumerate(_shared_run_ends([w for w, _ in tokens], b)):
        best = max(best, prefix[end + 1] - prefix[end + 1 - length])
    return best


def _shared_run_ends(a: list[str], b: list[str]) -> list[int]:
    """For each position of ``a``, the length of the longest run ending there that ``b`` also
    holds (a suffix automaton of ``b``, walked along ``a``)."""
    link, length, trans = [-1], [0], [{}]
    last = 0
    for x in b:
        cur = len(length)
        length.append(length[last] + 1)
        link.append(-1)
        trans.append({})
        p = last
        while p != -1 and x not in trans[p]:
            trans[p][x] = cur
            p = link[p]
        if p == -1:
            link[cur] = 0
        else:
            q = trans[p][x]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1)
                link.append(link[q])
                trans.append(dict(trans[q]))
                while p != -1 and trans[p].get(x) == q:
                    trans[p][x] = clone
                    p = link[p]
                link[q] = link[cur] = clone
        last = cur
    out, state, run = [], 0, 0
    for x in a:
        while state and x not in trans[state]:
            state = link[state]
            run = length[state]
        if x in trans[state]:
            state = trans[state][x]
            run += 1
        else:
            run = 0
        out.append(run)
    return out


def overlap_risk(overlap: float, run: int, settings: RiskSettings) -> float:
    """The source-overlap part of the score (the whole score when nothing failed hard)."""
    return 0.5 * overlap + 0.5 * min(1.0, run / settings.run_scale)


def _overlap(original: str, synthetic: str, phi: list[Span], settings: RiskSettings, is_common) -> tuple[float, int]:
    if not settings.check_overlap:
        return 0.0, 0
    facts = [] if settings.count_kept_facts else _kept_facts(original)
    return (distinctive_overlap(original, synthetic, phi, is_common, facts),
            longest_verbatim_run(original, synthetic, facts))


@lru_cache(maxsize=64)
def _kept_facts(original: str) -> tuple[Span, ...]:
    """``protect``'s spans of an original: the same on every attempt's check of a note."""
    return tuple(protect(original))


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
