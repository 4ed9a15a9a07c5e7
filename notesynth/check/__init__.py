"""Step 6 of the flow: the re-identification check before any write."""
from notesynth.check.checker import Checker, Vocabulary, score_pairs, settings_from_config
from notesynth.check.risk import RiskReport, RiskSettings

__all__ = ["Checker", "RiskReport", "RiskSettings", "Vocabulary", "score_pairs", "settings_from_config"]
