"""What a detector's spans say about one word of a text (shared by the PHI detector tests)."""
from __future__ import annotations


def _at(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def labels_over(det, text: str, needle: str) -> set:
    """Labels of the spans that touch ``needle``."""
    start, end = _at(text, needle)
    return {s.label for s in det.detect(text) if s.start < end and start < s.end}


def found(det, text: str, needle: str, label: str | None = None) -> bool:
    """A span (of ``label``, when given) touches ``needle``."""
    labels = labels_over(det, text, needle)
    return bool(labels) if label is None else label in labels


def covered(det, text: str, needle: str, label: str | None = None) -> bool:
    """Every character of ``needle`` lies in a span (of ``label``, when given)."""
    start, end = _at(text, needle)
    spans = [s for s in det.detect(text) if label is None or s.label == label]
    return all(any(s.start <= i < s.end for s in spans) for i in range(start, end))
