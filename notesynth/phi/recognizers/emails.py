"""E-mail addresses (plain regex: presidio's EmailRecognizer calls tldextract, which
would fetch the public suffix list over the network)."""
from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer


class EmailRecognizer(PatternRecognizer):
    def __init__(self):
        super().__init__(
            supported_entity="EMAIL_ADDRESS", name="ClinicalEmailRecognizer", context=[],
            patterns=[Pattern("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b", 0.9)],
        )
