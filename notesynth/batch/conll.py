"""CoNLL/BIO corpora in and out, for label-preserving synthesis.

A CoNLL file (one ``token<TAB>tag`` per line, blank lines between sentences) becomes
notes of ``per_doc`` sentences (tokens joined by spaces, sentences by newlines) with
their labelled spans; a synthetic note with remapped spans becomes CoNLL again
(whitespace tokens, B-/I-/O tags).
"""
from __future__ import annotations

import re
from pathlib import Path

from notesynth.spans import Span


def read_sentences(path: str | Path) -> list[list[tuple[str, str]]]:
    sentences, current = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected 'token<TAB>tag'")
            current.append((parts[0], parts[-1]))
    if current:
        sentences.append(current)
    return sentences


def to_notes(sentences: list[list[tuple[str, str]]], per_doc: int = 5) -> list[tuple[str, str, list[Span]]]:
    """(id, text, spans) per group of ``per_doc`` sentences."""
    notes = []
    for d in range(0, len(sentences), per_doc):
        parts: list[str] = []
        spans: list[Span] = []
        pos = 0
        for s, sent in enumerate(sentences[d:d + per_doc]):
            if s:
                parts.append("\n")
                pos += 1
            start, label, end = None, "", 0
            for t, (token, tag) in enumerate(sent):
                if t:
                    parts.append(" ")
                    pos += 1
                if start is not None and not (tag.startswith("I-") and tag[2:] == label):
                    spans.append(Span(start, end, label))
                    start = None
                if tag.startswith("B-") or (tag.startswith("I-") and start is None):
                    start, label = pos, tag[2:]
                parts.append(token)
                pos += len(token)
                end = pos
            if start is not None:
                spans.append(Span(start, end, label))
        notes.append((f"doc-{d // per_doc + 1}", "".join(parts), spans))
    return notes


def to_conll(text: str, spans: list[Span]) -> str:
    """Whitespace tokens of ``text`` tagged B-/I-/O from ``spans``; one sentence per line of text."""
    out = []
    for line in re.finditer(r"[^\n]+", text):
        for m in re.finditer(r"\S+", line.group()):
            a, b = line.start() + m.start(), line.start() + m.end()
            tag = "O"
            for s in spans:
                if s.start < b and a < s.end:
                    tag = ("B-" if a <= s.start else "I-") + s.label
                    break
            out.append(f"{m.group()}\t{tag}\n")
        out.append("\n")
    return "".join(out)
