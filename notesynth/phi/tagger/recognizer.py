"""presidio recognizer around the PHI tagger (the transformers-recognizer pattern).

    from notesynth.phi.tagger import TaggerRecognizer
    registry.add_recognizer(TaggerRecognizer())          # models/phi-tagger, loaded offline

The model loads in `load()` (presidio calls it from EntityRecognizer.__init__); when the
folder is absent that raises TaggerUnavailable, so a caller that wants the tagger only
when it is there writes `if tagger_available(): registry.add_recognizer(TaggerRecognizer())`.
Results carry the notesynth label as entity_type (PhiDetector maps its own labels
as-is) and the tagger's mean PHI probability as score.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, List, Optional, Sequence

from presidio_analyzer import AnalysisExplanation, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ..recognizers.dates import date_tokens
from ..recognizers.base import ClinicalRecognizer, Hit
from .labels import KIND_TO_LABEL
from .model import PhiTagger, TaggerConfig


class TaggerRecognizer(ClinicalRecognizer):
    """Learned PHI spans (NAME, DATE, AGE, places, phones, ids, institutions) from models/phi-tagger."""

    ENTITIES = tuple(dict.fromkeys(KIND_TO_LABEL.values()))

    def __init__(self, path: Optional[str] = None, config: TaggerConfig = TaggerConfig(),
                 tagger: Optional[PhiTagger] = None, cache_size: int = 256, name: str = "PhiTaggerRecognizer"):
        self._path = path
        self._config = config
        self.tagger = tagger
        self._cache: "OrderedDict[str, list]" = OrderedDict()
        self._cache_size = cache_size
        super().__init__(name=name)  # one name per ensemble member: presidio tells them apart by it

    def load(self) -> None:
        if self.tagger is None:
            self.tagger = PhiTagger.load(self._path, self._config)

    def prefetch(self, texts: Sequence[str]) -> None:
        """Predict the notes ahead; analyze() then answers each from a cache (and drops it from
        there). Call it with the texts analyze() will be given, e.g. in PhiDetector.detect_many
        with the normalised views.  Each note is predicted on its own (its windows batched
        together, never with another note's), so a note's spans, and so its synthetic text, do
        not depend on the batch size, the workers or the engine."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        self._cache_size = max(self._cache_size, len(self._cache) + len(todo))
        for text in todo:  # one note's windows per forward pass: its spans never depend on its batch-mates
            self._remember(text, self.tagger.predict(text))

    def _remember(self, text: str, spans: list) -> None:
        self._cache[text] = spans
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def find(self, text: str, nlp_artifacts: Optional[NlpArtifacts]) -> Iterable[Hit]:
        spans = self._cache.pop(text, None)
        if spans is None:
            spans = self.tagger.predict(text)
        for s in spans:
            if s.label != "DATE":
                yield s.start, s.end, s.label, s.score
                continue
            # "C/O 5.6/67", "captopril 6.25", "8-" of "8-30": the whole numbers it touches, each
            # kept only when it can be a date there (the date rules check this themselves)
            for a, b in date_tokens(text, s.start, s.end):
                yield a, b, s.label, s.score

    def analyze(self, text: str, entities: List[str], nlp_artifacts: Optional[NlpArtifacts] = None
                ) -> List[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts)
        for r in results:
            r.analysis_explanation = AnalysisExplanation(
                recognizer=self.name, original_score=r.score, textual_explanation="PHI tagger (token classification)")
            r.recognition_metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}
        return results
