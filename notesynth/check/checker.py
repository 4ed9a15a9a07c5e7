"""The Checker: everything the re-identification check needs, assembled once.

``synth`` checks each note before it is written; ``score`` and ``eval --check-risk``
score existing pairs with ``score_pairs``.  All three build a ``Checker`` here, so the
inputs of a check (detector, vocabulary, memorisation index, settings) are decided in
one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from notesynth.check.memorization import MemorizationIndex
from notesynth.check.risk import RiskReport, RiskSettings, overlap_before_fill, residual_spans, score
from notesynth.spans import Span


class Vocabulary:
    """Which words a model's tokenizer holds whole: those are common, the rest distinctive."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._cache: dict[str, bool] = {}

    def is_common(self, word: str) -> bool:
        if word not in self._cache:
            self._cache[word] = len(self.tokenizer.tokenize(word)) == 1
        return self._cache[word]

    @classmethod
    def from_model(cls, model: str) -> "Vocabulary":
        """Only the tokenizer of a local model folder (the masked LM itself is not loaded)."""
        from transformers import AutoTokenizer

        from notesynth.infill.model import ModelLoadError

        if not (Path(model) / "tokenizer_config.json").exists() and Path(model).exists():
            raise ModelLoadError(f"model folder {model} has no tokenizer; give a Hugging Face model folder")
        try:
            return cls(AutoTokenizer.from_pretrained(model, local_files_only=Path(model).exists()))
        except Exception as exc:  # transformers raises many kinds for a corrupt folder
            raise ModelLoadError(f"could not load the tokenizer of {model}: {type(exc).__name__}") from None


def settings_from_config(config, **overrides) -> RiskSettings:
    """The checker's part of a SynthConfig."""
    values = dict(max_risk=config.max_risk, fail_on_residual_phi=config.fail_on_residual_phi,
                  check_overlap=config.check_overlap,
                  count_kept_facts=config.count_kept_facts, name_fuzz=config.name_fuzz, run_scale=config.run_scale,
                  memorization_threshold=config.memorization_threshold)
    values.update(overrides)
    return RiskSettings(**values)


@dataclass
class Checker:
    """Scores a synthetic note against its original before anything is written."""

    detector: object                                   # anything with detect(text) -> [Span]
    settings: RiskSettings = field(default_factory=RiskSettings)
    is_common: Callable[[str], bool] = lambda word: True
    memorization: MemorizationIndex | None = None

    def check(self, original: str, synthetic: str, phi: list[Span], placed: list[Span] | None) -> RiskReport:
        """``placed``: the surrogates the pipeline wrote (not residual PHI); None when unknown,
        then every span found in the output counts as residual."""
        return self.check_many([(original, synthetic, phi, placed)])[0]

    def check_kept(self, original: str, kept: str, phi: list[Span]) -> RiskReport | None:
        """The overlap check on a plan's kept words (``masking.render_kept``): a failing report
        when the note would fail whatever the fills, else None."""
        return overlap_before_fill(original, kept, phi, self.settings, self.is_common)

    def check_many(self, items: list[tuple[str, str, list[Span], list[Span] | None]]) -> list[RiskReport]:
        """``check`` for (original, synthetic, phi, placed) items, their outputs detected in one batch."""
        detect_many = getattr(self.detector, "detect_many", None)
        synthetics = [synthetic for _, synthetic, _, _ in items]
        found_all = detect_many(synthetics) if detect_many else [self.detector.detect(t) for t in synthetics]
        reports = []
        for (original, synthetic, phi, placed), found in zip(items, found_all):
            residual = residual_spans(found, placed, original, synthetic) if placed is not None else found
            memo = self.memorization.nearest(synthetic) if self.memorization is not None else None
            reports.append(score(original, synthetic, phi, residual, self.settings, self.is_common, memo, placed))
        return reports


def score_pairs(checker: Checker, pairs: Iterable[tuple[str, str, str]]) -> Iterator[tuple[str, RiskReport]]:
    """(id, report) for existing (id, original, synthetic) pairs; PHI of each original is detected."""
    for note_id, original, synthetic in pairs:
        yield note_id, checker.check(original, synthetic, checker.detector.detect(original), None)
