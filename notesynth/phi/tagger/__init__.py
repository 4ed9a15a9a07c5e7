"""Learned PHI tagger: MiniLM token classifiers (models/phi-tagger, models/phi-tagger-2) next to the
rule recognizers; the detector keeps a span either one tags.

    from notesynth.phi.tagger import PhiTagger, TaggerRecognizer, default_tagger_path, tagger_available

torch/transformers are imported only when a tagger is loaded. When models/phi-tagger is
absent, PhiTagger.load / TaggerRecognizer() raise TaggerUnavailable; the caller decides.
Training: scripts/train_phi_tagger.py; held-out benchmark: bench/phi_heldout.py.
"""
from .labels import KIND_TO_LABEL, LABEL_TO_KIND, TAGS, label_of
from .model import (SHIPPED_TAGGERS, PhiTagger, TaggerConfig, TaggerUnavailable, default_tagger_path,
                    default_tagger_paths, load_tagger, tagger_available)
from .recognizer import TaggerRecognizer

__all__ = ["SHIPPED_TAGGERS", "PhiTagger", "TaggerConfig", "TaggerRecognizer", "TaggerUnavailable",
           "default_tagger_path", "default_tagger_paths",
           "load_tagger", "tagger_available", "KIND_TO_LABEL", "LABEL_TO_KIND", "TAGS", "label_of"]
