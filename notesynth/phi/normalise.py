"""Text as the recognizers see it: NFKC, format characters removed, letters of any script
written in ASCII, with a map from every character back to the original.

Names written with accents ("José Núñez"), in other scripts, split by a zero-width space,
a soft hyphen or a NUL, or with decomposed accents would otherwise slip past recognizers
written for ASCII letters.  Spans found on the normalised text are mapped back to the
original's offsets, so what is replaced is always the original's own characters.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from anyascii import anyascii


@dataclass(frozen=True)
class NormalisedText:
    text: str
    origin: tuple[int, ...] | None   # for each character of ``text``, its source index; None: the same text
    source_length: int

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets of the normalised range [start, end)."""
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.source_length, self.source_length
        a = self.origin[start]
        b = self.origin[end - 1] + 1 if end > start else a
        return a, max(a, b)


def _dropped(ch: str) -> bool:
    """Invisible characters inside words: format characters (ZWSP, soft hyphen, ZWJ), NUL and
    other controls that are not line or tab breaks."""
    cat = unicodedata.category(ch)
    return cat == "Cf" or (cat == "Cc" and ch not in "\t\n\r\f\v")


def _ascii(ch: str) -> str:
    if ch.isascii():
        return ch
    if unicodedata.category(ch).startswith("Z"):  # any space
        return " "
    out = anyascii(unicodedata.normalize("NFKC", ch))
    if unicodedata.combining(ch):
        return ""  # a decomposed accent belongs to the letter before it
    return out if out else "?"


def normalise_for_detection(text: str) -> NormalisedText:
    """The detection view of ``text``; identical (and cheap) when the text is plain ASCII."""
    if text.isascii() and not any(_dropped(c) for c in text):
        return NormalisedText(text, None, len(text))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if _dropped(ch):
            continue
        piece = _ascii(ch)
        chars.append(piece)
        origin.extend([i] * len(piece))
    return NormalisedText("".join(chars), tuple(origin), len(text))
