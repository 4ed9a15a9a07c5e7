"""Evaluation: per-pair metrics, BERTScore, reports, the eval and sweep loops, PHI recall scoring."""
from notesynth.evaluate.bertscore import BertScorer
from notesynth.evaluate.metrics import (DEFINITIONS, distinct_n, evaluate_pair, evaluate_pairs, fidelity,
                                        length_ratio, medical_kept, phi_survival, privacy_summary, readability,
                                        rouge, self_bleu, summarise, words, words_changed)
from notesynth.evaluate.realism import RealismResult, realism_auc
from notesynth.evaluate.report import write_report, write_sweep_report

__all__ = ["BertScorer", "DEFINITIONS", "distinct_n", "evaluate_pair", "evaluate_pairs", "fidelity", "length_ratio",
           "medical_kept", "phi_survival", "privacy_summary", "readability", "RealismResult", "realism_auc", "rouge", "self_bleu", "summarise",
           "words", "words_changed", "write_report", "write_sweep_report"]
