"""The Synthesizer: detect -> protect -> plan -> infill -> check, for batches of notes.

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
from dataclasses import dataclass, replace
from functools import lru_cache

from notesynth import medical
from notesynth.config import SynthConfig
from notesynth.infill import FillJob, Infiller, InfillSettings
from notesynth.masking import MaskPlan, plan as make_plan, remap_spans, render
from notesynth.phi.surrogates import SurrogateMaker
from notesynth.reid import RiskReport, RiskSettings, residual_spans, score
from notesynth.spans import Span

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


@lru_cache(maxsize=4)
def shared_detector(threshold: float | None = None):
    """Building a detector (spaCy + presidio) takes seconds; one per process and threshold."""
    from notesynth.phi import DetectorConfig, PhiDetector

    return PhiDetector(DetectorConfig() if threshold is None else DetectorConfig(score_threshold=threshold))


def note_seed(seed: int, note_id: str, attempt: int) -> int:
    digest = hashlib.sha256(f"{seed}\x00{note_id}\x00{attempt}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class Synthesizer:
    """Turns notes into synthetic notes.  Build once; the detector and model load lazily."""

    def __init__(self, config: SynthConfig | None = None, detector=None, infiller: Infiller | None = None):
        self.config = (config or SynthConfig()).validate()
        self._detector = detector
        self._infiller = infiller

    @property
    def detector(self):
        if self._detector is None:
            self._detector = shared_detector(self.config.phi_threshold)
        return self._detector

    @property
    def infiller(self) -> Infiller:
        if self._infiller is None:
            c = self.config
            self._infiller = Infiller(c.resolved_model(), c.device, InfillSettings.from_config(c))
        return self._infiller

    @property
    def memorization_index(self):
        """MinHash signatures of the model's training documents, when the model ships them."""
        if not hasattr(self, "_memo"):
            from pathlib import Path

            from notesynth.memorization import MemorizationIndex

            model_dir = Path(self.config.resolved_model())
            self._memo = MemorizationIndex.load(model_dir) if model_dir.is_dir() else None
        return self._memo

    def risk_settings(self, attempt_config: SynthConfig | None = None) -> RiskSettings:
        c = attempt_config or self.config
        return RiskSettings(max_risk=c.max_risk, fail_on_residual_phi=c.fail_on_residual_phi,
                            check_overlap=c.check_overlap, name_fuzz=c.name_fuzz, run_scale=c.run_scale,
                            memorization_threshold=c.memorization_threshold)

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
        results: dict[int, NoteResult] = {}
        phi: dict[int, list[Span]] = {}
        for i, (note_id, text) in enumerate(notes):
            try:
                if len(text) > self.config.max_note_chars:
                    raise ValueError(f"note has {len(text):,} characters, over max_note_chars")
                phi[i] = self.detector.detect(text)
            except Exception as exc:  # one bad note never stops the batch
                results[i] = _error(note_id, "PHI detection", exc)
        pending = [i for i in range(len(notes)) if i not in results]
        # what must be kept does not change between attempts
        protected = {i: medical.protect(notes[i][1]) + list(annotations.get(notes[i][0], ()))
                     for i in pending}
        last: dict[int, NoteResult] = {}
        for attempt in range(self.config.retries + 1):
            if not pending:
                break
            attempt_results = self._attempt(notes, pending, phi, protected, annotations, attempt)
            pending = []
            for i, res in attempt_results.items():
                if res.status == "written" or res.status == "error":
                    results[i] = res
                else:
                    last[i] = res
                    pending.append(i)
        for i in pending:
            res = last[i]
            status = "error" if self.config.on_fail == "error" else "held"
            results[i] = replace(res, status=status, text=None,
                                 error=("privacy check failed: " + "; ".join(res.report.reasons)) if res.report else res.error)
        elapsed = (time.perf_counter() - started) / len(notes)
        return [replace(results[i], seconds=elapsed) for i in range(len(notes))]

    # ---------------------------------------------------------------- one attempt
    def _attempt(self, notes, indices, phi, protected, annotations, attempt: int) -> dict[int, NoteResult]:
        cfg = self.config
        ratio = min(1.0, cfg.mask_ratio + attempt * cfg.retry_ratio_step)
        plans: dict[int, MaskPlan] = {}
        seeds: dict[int, int] = {}
        out: dict[int, NoteResult] = {}
        for i in indices:
            note_id, text = notes[i]
            try:
                seed = note_seed(cfg.seed, note_id, attempt)
                rng = random.Random(seed)
                plans[i] = make_plan(text, phi[i], protected[i], ratio, rng, SurrogateMaker(seed))
                seeds[i] = seed
            except Exception as exc:
                out[i] = _error(note_id, "masking", exc)
        fills = self._fill(plans, seeds, notes)
        for i, plan_ in plans.items():
            note_id, text = notes[i]
            if i not in fills:
                out[i] = _error(note_id, "infilling", fills.get(("error", i), RuntimeError("model failed")))
                continue
            try:
                synthetic, placed = render(plan_, fills[i])
                found = self.detector.detect(synthetic)
                residual = residual_spans(found, placed)
                memo = self.memorization_index.nearest(synthetic) if self.memorization_index is not None else None
                report = score(text, synthetic, phi[i], residual, self.risk_settings(), self._is_common, memo)
                status = "written" if report.passed else "held"
                carried, dropped = None, 0
                if note_id in annotations:
                    mapped = remap_spans(plan_, fills[i], list(annotations[note_id]))
                    carried = tuple(m for m in mapped if m is not None)
                    dropped = len(mapped) - len(carried)
                out[i] = NoteResult(note_id, status, synthetic, report, plan_.n_phi, plan_.n_words,
                                    plan_.n_masked, attempt + 1, surrogates=tuple(placed),
                                    annotations=carried, annotations_dropped=dropped)
                if not report.passed:
                    log.info("note %s attempt %d failed the privacy check: %s", note_id, attempt + 1,
                             "; ".join(report.reasons))
            except Exception as exc:
                out[i] = _error(note_id, "privacy check", exc)
        return out

    def _fill(self, plans: dict[int, MaskPlan], seeds: dict[int, int], notes) -> dict:
        need = [i for i, p in plans.items() if p.n_masked]
        fills: dict = {i: {} for i, p in plans.items() if not p.n_masked}
        if not need:
            return fills
        try:
            done = self.infiller.fill([FillJob(plans[i], seeds[i]) for i in need])
            fills.update(zip(need, done))
        except Exception:
            # isolate the failing note: retry one by one (outputs are batch-independent)
            for i in need:
                try:
                    fills[i] = self.infiller.fill([FillJob(plans[i], seeds[i])])[0]
                except Exception as exc:
                    fills[("error", i)] = exc
        return fills

    def _is_common(self, word: str) -> bool:
        if not self.config.check_overlap:
            return True
        return _is_single_piece(self.infiller.tokenizer, word)


def _is_single_piece(tokenizer, word: str) -> bool:
    """A word the model's vocabulary holds whole is common; one it splits is distinctive."""
    cache = tokenizer.__dict__.setdefault("_notesynth_common", {})
    if word not in cache:
        cache[word] = len(tokenizer.tokenize(word)) == 1
    return cache[word]


def _error(note_id: str, step: str, exc: BaseException) -> NoteResult:
    # Only the exception type and our own messages: library messages can quote the text.
    message = f"{step} failed ({type(exc).__name__})"
    if isinstance(exc, (ValueError, MemoryError)) and "note has" in str(exc):
        message = f"{step} failed: {exc}"
    log.warning("note %s: %s", note_id, message)
    return NoteResult(note_id, "error", None, error=message)
