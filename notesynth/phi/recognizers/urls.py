"""URLs (plain regex, no tldextract: nothing fetches the public suffix list)."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

_END = r"[^\s<>\"'.,;:)]"


class UrlRecognizer(PatternRecognizer):
    def __init__(self):
        super().__init__(
            supported_entity="URL", name="ClinicalUrlRecognizer", context=[],
            patterns=[
                Pattern("url_scheme", rf"\b(?:https?|ftp)://[^\s<>\"']*{_END}", 0.9),
                Pattern("url_www", rf"\bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s<>\"']*{_END})?", 0.85),
                Pattern("url_bare", r"(?<![@\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|us|health|info)"
                                    rf"(?:/[^\s<>\"']*{_END})?(?![\w@])", 0.6),
            ],
            global_regex_flags=re.IGNORECASE,
        )
