"""Scoring used by bench/phi_recall.py and the recall regression test (definitions as in
the benchmark data README). Works on offsets and labels only; never prints text."""
from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

from ..spans import INSTITUTION_LABELS, Span
from ..text import HONORIFICS

TOKEN_RE = re.compile(r"\w+")


def scored_tokens(text: str, start: int, end: int):
    """The tokens of a span that count: an honorific ("Dr", "Mrs") is not PHI and the gold
    standards disagree on it (ASQ-PHI puts "Dr." inside the name, the nursing gold leaves it
    out), so it counts neither as gold nor as a prediction."""
    return (m for m in TOKEN_RE.finditer(text, start, end) if m.group().lower() not in HONORIFICS)


def load_rows(path: str | Path, limit: int | None = None) -> List[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
                if limit and len(rows) >= limit:
                    break
    return rows


class _Cover:
    """Fast 'does [s, e) overlap any predicted span' / 'is it fully covered' queries."""

    def __init__(self, spans: Sequence[Span]):
        merged: List[List[int]] = []
        for s in sorted(spans, key=lambda x: (x.start, x.end)):
            if merged and s.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], s.end)
            else:
                merged.append([s.start, s.end])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect.bisect_left(self.ends, s + 1)  # first interval ending after s
        return i < len(self.starts) and self.starts[i] < e

    def covers(self, s: int, e: int) -> bool:
        i = bisect.bisect_right(self.starts, s) - 1
        return i >= 0 and self.ends[i] >= e


@dataclass
class Scores:
    hipaa_tokens: int = 0
    hipaa_found: int = 0
    pred_tokens: int = 0
    pred_tokens_on_gold: int = 0
    gold_spans: int = 0
    gold_spans_covered: int = 0
    label_tokens: Counter = field(default_factory=Counter)
    label_found: Counter = field(default_factory=Counter)
    negatives: int = 0
    negatives_flagged: int = 0
    rows: int = 0

    @property
    def token_recall(self) -> float:
        return self.hipaa_found / self.hipaa_tokens if self.hipaa_tokens else 1.0

    @property
    def token_precision(self) -> float:
        return self.pred_tokens_on_gold / self.pred_tokens if self.pred_tokens else 1.0

    @property
    def span_recall(self) -> float:
        return self.gold_spans_covered / self.gold_spans if self.gold_spans else 1.0

    @property
    def negative_flag_rate(self) -> float:
        return self.negatives_flagged / self.negatives if self.negatives else 0.0

    def label_recall(self) -> Dict[str, float]:
        return {lab: self.label_found[lab] / n for lab, n in sorted(self.label_tokens.items()) if n}


def score_row(text: str, gold: Iterable[dict], pred: Sequence[Span], acc: Scores | None = None) -> Scores:
    acc = acc if acc is not None else Scores()
    gold = list(gold)
    acc.rows += 1
    pcover = _Cover(pred)
    gcover = _Cover([Span(g["start"], g["end"], g["label"]) for g in gold])
    for g in gold:
        tokens = list(scored_tokens(text, g["start"], g["end"]))
        acc.gold_spans += 1
        # covered: the span from its first to its last scored token ("Dr." before a name aside)
        first, last = (tokens[0].start(), tokens[-1].end()) if tokens else (g["start"], g["end"])
        if pcover.covers(first, last):
            acc.gold_spans_covered += 1
        for m in tokens:
            hit = pcover.overlaps(m.start(), m.end())
            acc.label_tokens[g["label"]] += 1
            acc.label_found[g["label"]] += hit
            if g["label"] not in INSTITUTION_LABELS:
                acc.hipaa_tokens += 1
                acc.hipaa_found += hit
    seen = set()
    for p in pred:
        for m in scored_tokens(text, p.start, p.end):
            if m.span() in seen:
                continue
            seen.add(m.span())
            acc.pred_tokens += 1
            acc.pred_tokens_on_gold += gcover.overlaps(m.start(), m.end())
    if not gold:
        acc.negatives += 1
        acc.negatives_flagged += bool(pred)
    return acc


def score_rows(rows: Sequence[dict], preds: Sequence[Sequence[Span]]) -> Scores:
    acc = Scores()
    for row, pred in zip(rows, preds):
        score_row(row["text"], row["spans"], pred, acc)
    return acc
