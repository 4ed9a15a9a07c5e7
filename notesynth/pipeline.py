"""The Synthesizer: detect -> protect -> plan -> fill -> render -> check, for batches of notes.

One note's result is a pure function of (text, id, config): its random
generators are seeded from (seed, id, attempt), so batching and worker count
never change an output.  Nothing here writes files; callers decide what to do
with each ``NoteResult`` (only ``written`` results carry text).
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from notesynth.check import Checker, RiskReport, Vocabulary, settings_from_config
from notesynth.check.memorization import MemorizationIndex
from notesynth.config import SynthConfig
from notesynth.infill import FillJob, Infiller, InfillSettings
from notesynth.infill.vocabulary import phi_words
from notesynth.masking import MaskPlan, plan as make_plan, remap_spans, render, render_kept
from notesynth.phi.detector import shared_detector
from notesynth.protect import protect
from notesynth.retry import words_to_regenerate
from notesynth.spans import Span
from notesynth.surrogates import SurrogateMaker
from notesynth.unknown import site_words, unknown_word_spans

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoteResult:
    id: str
    status: str                 # "written" | "held" | "error"
    text: str | None            # only for "written"
    report: RiskReport | None = None
    n_phi: int = 0
    n_words: int = 0
    n_masked: int = 0
    attempts: int = 0
    seconds: float = 0.0
    error: str | None = None    # never contains note text
    surrogates: tuple[Span, ...] = ()
    annotations: tuple[Span, ...] | None = None  # remapped input annotations (label-preserving mode)
    annotations_dropped: int = 0                 # annotations that overlapped PHI and could not be carried

    def manifest_row(self) -> dict:
        row = {"id": self.id, "status": self.status, "phi_spans": self.n_phi, "words": self.n_words,
               "masked_words": self.n_masked, "attempts": self.attempts, "seconds": round(self.seconds, 3)}
        if self.report is not None:
            row["risk"] = self.report.to_dict()
        if self.error:
            row["error"] = self.error
        if self.annotations is not None:
            row["annotations_carried"] = len(self.annotations)
            row["annotations_dropped"] = self.annotations_dropped
        return row


def note_seed(seed: int, note_id: str, attempt: int) -> int:
    digest = hashlib.sha256(f"{seed}\x00{note_id}\x00{attempt}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass
class NoteJob:
    """One note on its way through the flow; what an attempt needs and what it leaves."""

    id: str
    text: str
    annotations: tuple[Span, ...] | None = None  # labelled spans to carry through (None: none given)
    phi: list[Span] = field(default_factory=list)
    protected: list[Span] = field(default_factory=list)
    unknown: list[Span] = field(default_factory=list)   # words never kept verbatim (unknown.py)
    fill_bans: frozenset[str] = frozenset()  # words of its PHI no fill may write (vocabulary.phi_words)
    retry_words: list[Span] = field(default_factory=list)  # kept words where an attempt failed (retry.py)
    break_runs: bool = False  # an attempt kept too much of the source: spread the next masks over the note
    plan: MaskPlan | None = None
    seed: int = 0
    fills: dict[int, str] | None = None
    fill_error: BaseException | None = None
    result: NoteResult | None = None  # the latest attempt's (or the error that ended the note)

    @property
    def done(self) -> bool:
        return self.result is not None and self.result.status in ("written", "error")


class Synthesizer:
    """Turns notes into synthetic notes.  Build once; the detector and model load lazily."""

    def __init__(self, config: SynthConfig | None = None, detector=None, infiller: Infiller | None = None):
        self.config = (config or SynthConfig()).validate()
        self._detector = detector
        self._detector_given = detector is not None
        self._infiller = infiller
        self._checker: Checker | None = None

    @property
    def detector(self):
        if self._detector is None:
            self._detector = shared_detector(self.config.phi_threshold, self.config.phi_tagger)
        return self._detector

    @property
    def infiller(self) -> Infiller:
        if self._infiller is None:
            c = self.config
            self._infiller = Infiller(c.resolved_model(), c.device, InfillSettings.from_config(c))
        return self._infiller

    @property
    def memorization_index(self) -> MemorizationIndex | None:
        """MinHash signatures of the model's training documents, when the model ships them."""
        return self.checker.memorization

    @property
    def checker(self) -> Checker:
        if self._checker is None:
            model_dir = Path(self.config.resolved_model())
            memo = MemorizationIndex.load(model_dir) if model_dir.is_dir() else None
            self._checker = Checker(self._output_detector(), settings_from_config(self.config), self._is_common, memo)
        return self._checker

    def _output_detector(self):
        """What finds residual PHI in a synthetic note: the rule detector, also when the tagger
        helps detection on the original.  On the input a false positive costs one surrogate; on
        the output it costs a retry or a held note, so the output is checked with the more
        precise rules (original PHI that survives is still caught by the leak check, which
        compares the original's detected strings, tagger spans included).  Without spaCy's NER:
        on held-out notes it changed no figure of bench/privacy.py (survival, holds, planted
        leaks caught, false alarms) and took two thirds of the check's time."""
        if self.config.phi_tagger and not self._detector_given:
            return shared_detector(self.config.phi_threshold, False, False)
        return self.detector

    def _is_common(self, word: str) -> bool:
        # the vocabulary is the model's: only needed (and loaded) when overlap is checked
        if not self.config.check_overlap:
            return True
        if getattr(self, "_vocabulary", None) is None:
            self._vocabulary = Vocabulary(self.infiller.tokenizer)
        return self._vocabulary.is_common(word)

    # ---------------------------------------------------------------- public API
    def synthesize(self, text: str, note_id: str = "note") -> NoteResult:
        return self.synthesize_batch([(note_id, text)])[0]

    def synthesize_batch(self, notes: list[tuple[str, str]],
                         annotations: dict[str, list[Span]] | None = None) -> list[NoteResult]:
        """Synthesize many notes; a failure in one note never affects another.

        ``annotations`` (by note id) are labelled spans to carry through: they are never
        masked, and each result gives their offsets in the synthetic text.
        """
        annotations = annotations or {}
        if not notes:
            return []
        started = time.perf_counter()
        jobs = [NoteJob(note_id, text, tuple(annotations[note_id]) if note_id in annotations else None)
                for note_id, text in notes]
        self._detect(jobs)
        for attempt in range(self.config.retries + 1):
            pending = [j for j in jobs if not j.done]
            if not pending:
                break
            self._attempt(pending, attempt)
        for job in jobs:
            if not job.done:  # every attempt failed the check
                res = job.result
                status = "error" if self.config.on_fail == "error" else "held"
                job.result = replace(res, status=status, text=None, error=(
                    "privacy check failed: " + "; ".join(res.report.reasons)) if res.report else res.error)
        elapsed = (time.perf_counter() - started) / len(notes)
        return [replace(j.result, seconds=elapsed) for j in jobs]

    # ---------------------------------------------------------------- the steps
    def _detect(self, jobs: list[NoteJob]) -> None:
        """Detect PHI and what must be kept; neither changes between attempts.  The batch is
        detected in one pass (spaCy's pipe, the tagger's batch); a failure is isolated by
        detecting note by note."""
        ready = []
        for job in jobs:
            if not job.text.strip():
                job.result = _error(job.id, "PHI detection", ValueError("note has no text (empty note)"))
            elif len(job.text) > self.config.max_note_chars:
                job.result = _error(job.id, "PHI detection", ValueError(
                    f"note has {len(job.text):,} characters, over max_note_chars"))
            else:
                ready.append(job)
        try:
            found = self.detector.detect_many([job.text for job in ready]) if ready else []
        except Exception:  # one bad note never stops the batch: find it
            found = []
            for job in ready:
                try:
                    found.append(self.detector.detect(job.text))
                except Exception as exc:
                    job.result = _error(job.id, "PHI detection", exc)
                    found.append(None)
        for job, phi in zip(ready, found):
            if phi is None:
                continue
            job.phi = phi
            job.protected = protect(job.text) + list(job.annotations or ())
            job.fill_bans = phi_words(job.text, job.phi)
            if self.config.mask_unknown_words:
                job.unknown = unknown_word_spans(job.text, job.phi + job.protected,
                                                 site_words(self.config.resolved_model()))

    def prepare(self, notes: list[tuple[str, str]]) -> list[NoteJob]:
        """(id, text) notes detected and ready for ``plan_attempt``; notes that cannot be
        (empty, too long, a detection error) are left out.  The fill calibration masks notes
        through these two steps, so it masks them as ``synth`` does."""
        jobs = [NoteJob(note_id, text) for note_id, text in notes]
        self._detect(jobs)
        return [job for job in jobs if job.result is None]

    def plan_attempt(self, job: NoteJob, attempt: int) -> None:
        """Lay ``attempt``'s masks on a detected note: its seed, its mask ratio (raised on each
        retry), the words it must re-generate."""
        cfg = self.config
        job.seed = note_seed(cfg.seed, job.id, attempt)
        ratio = min(1.0, cfg.mask_ratio + attempt * cfg.retry_ratio_step)
        job.plan = make_plan(job.text, job.phi, job.protected, ratio, random.Random(job.seed), SurrogateMaker(job.seed),
                             forced=_union(job.unknown, job.retry_words), break_runs=job.break_runs)

    def _attempt(self, jobs: list[NoteJob], attempt: int) -> None:
        """plan -> fill -> render -> check, for every job of one attempt."""
        cfg = self.config
        planned = []
        for job in jobs:
            try:
                self.plan_attempt(job, attempt)
            except Exception as exc:
                job.result = _error(job.id, "masking", exc)
                continue
            if attempt < cfg.retries and self._fails_before_fill(job, attempt):
                continue  # a fill would be wasted: the next attempt re-plans
            planned.append(job)
        self._fill(planned)
        rendered = []
        for job in planned:
            if job.fills is None:
                job.result = _error(job.id, "infilling", job.fill_error or RuntimeError("model failed"))
                continue
            try:
                rendered.append((job, *render(job.plan, job.fills)))
            except Exception as exc:
                job.result = _error(job.id, "rendering", exc)
        try:  # the batch's outputs are checked in one detection pass
            reports = self.checker.check_many([(j.text, synthetic, j.phi, placed) for j, synthetic, placed in rendered])
        except Exception:  # isolate the failing note
            reports = []
            for job, synthetic, placed in rendered:
                try:
                    reports.append(self.checker.check(job.text, synthetic, job.phi, placed))
                except Exception as exc:
                    job.result = _error(job.id, "privacy check", exc)
                    reports.append(None)
        for (job, synthetic, placed), report in zip(rendered, reports):
            if report is None:
                continue
            try:
                job.result = self._result(job, attempt, synthetic, placed, report)
            except Exception as exc:
                job.result = _error(job.id, "privacy check", exc)

    def _fails_before_fill(self, job: NoteJob, attempt: int) -> bool:
        """A plan whose kept words alone fail the overlap check fails whatever is filled: it gets
        a failing result and spreads the next attempt's masks, without the fill.  (The last
        attempt is always filled and checked, so a held note's report is the full check's.)"""
        if not self.config.check_overlap:
            return False
        report = self.checker.check_kept(job.text, render_kept(job.plan), job.phi)
        if report is None:
            return False
        log.info("note %s attempt %d failed the privacy check before its fill: %s", job.id, attempt + 1,
                 "; ".join(report.reasons))
        job.break_runs = True
        plan_ = job.plan
        job.result = NoteResult(job.id, "held", None, report, plan_.n_phi, plan_.n_words, plan_.n_masked, attempt + 1)
        return True

    def _result(self, job: NoteJob, attempt: int, synthetic: str, placed: list[Span], report: RiskReport) -> NoteResult:
        """The attempt's result; a failed check leaves the next attempt what to re-generate."""
        status = "written" if report.passed else "held"
        carried, dropped = None, 0
        if job.annotations is not None:
            mapped = remap_spans(job.plan, job.fills, list(job.annotations))
            carried = tuple(m for m in mapped if m is not None)
            dropped = len(mapped) - len(carried)
        if not report.passed:
            log.info("note %s attempt %d failed the privacy check: %s", job.id, attempt + 1,
                     "; ".join(report.reasons))
            job.retry_words = _union(job.retry_words,
                                     words_to_regenerate(job.text, job.plan, job.fills, report, job.phi))
            job.break_runs = job.break_runs or report.overlap_failed
        plan_ = job.plan
        return NoteResult(job.id, status, synthetic, report, plan_.n_phi, plan_.n_words, plan_.n_masked,
                          attempt + 1, surrogates=tuple(placed), annotations=carried, annotations_dropped=dropped)

    def _fill(self, jobs: list[NoteJob]) -> None:
        for job in jobs:
            job.fills, job.fill_error = ({} if not job.plan.n_masked else None), None
        need = [j for j in jobs if j.plan.n_masked]
        if not need:
            return
        try:
            done = self.infiller.fill([FillJob(j.plan, j.seed, j.fill_bans) for j in need])
            for job, fills in zip(need, done):
                job.fills = fills
        except Exception:
            # isolate the failing note: retry one by one (outputs are batch-independent)
            for job in need:
                try:
                    job.fills = self.infiller.fill([FillJob(job.plan, job.seed, job.fill_bans)])[0]
                except Exception as exc:
                    job.fill_error = exc


def _union(a: list[Span], b: list[Span]) -> list[Span]:
    """The words of ``a``, and those of ``b`` that overlap none of them, in order (a masked
    word is one segment of the plan: two overlapping words would write its text twice)."""
    out = list(a)
    for s in b:
        if not any(s.overlaps(t) for t in out):
            out.append(s)
    return sorted(out, key=lambda s: (s.start, s.end))


def _error(note_id: str, step: str, exc: BaseException) -> NoteResult:
    # Only the exception type and our own messages: library messages can quote the text.
    message = f"{step} failed ({type(exc).__name__})"
    if isinstance(exc, (ValueError, MemoryError)) and str(exc).startswith("note has"):
        message = f"{step} failed: {exc}"
    log.warning("note %s: %s", note_id, message)
    return NoteResult(note_id, "error", None, error=message)
