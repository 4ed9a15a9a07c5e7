"""Evaluation of synthetic notes: fidelity, diversity, readability and privacy.

Plain functions over (original, synthetic) texts plus a report writer.  Nothing
here downloads anything: ROUGE uses rouge-score's own tokenizer (no NLTK data),
BLEU uses sacrebleu's 13a tokenizer, readability uses textstat with the bundled
CMU dictionary (textstat 0.7.5-0.7.8; later versions fetch NLTK data at run time),
and BERTScore is computed here from a local Hugging Face model folder.

Per-note results are dicts of ids and numbers only; no function here returns or
logs note text or PHI.
"""
from __future__ import annotations

import difflib
import math
import re
import statistics
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    from notesynth.evaluate.bertscore import BertScorer

WORDS = re.compile(r"\w+")

# What each metric means; used by the report (and handy in notebooks).
DEFINITIONS: dict[str, str] = {
    "rouge1": "ROUGE-1 F1: unigram overlap between the synthetic note and its original (rouge-score, Porter "
              "stemming, lower case, letters and digits only). 1 = same words, 0 = none shared.",
    "rouge2": "ROUGE-2 F1: the same for word bigrams.",
    "rougeL": "ROUGE-L F1: longest common subsequence of words, as an F1 of its share of each text.",
    "bertscore_p": "BERTScore precision: mean, over the synthetic note's tokens, of the best cosine similarity "
                   "to any token of the original (contextual embeddings of one encoder layer; Zhang et al. 2020, "
                   "no IDF weighting, no baseline rescaling, so unrelated texts still score well above 0).",
    "bertscore_r": "BERTScore recall: mean, over the original's tokens, of the best cosine similarity to any "
                   "token of the synthetic note.",
    "bertscore_f1": "BERTScore F1: harmonic mean of BERTScore precision and recall.",
    "length_ratio": "Length ratio: words (\\w+ tokens) in the synthetic note / words in the original.",
    "medical_kept": "Medical terms kept: share of the original's protected spans (notesynth.protect.protect: "
                    "measures, headers, medical terms, abbreviations) whose exact text appears, word-bounded, "
                    "in the synthetic note (counted with multiplicity); with --gold, spans that overlap gold PHI "
                    "(dates that read as measures) are left out.",
    "n_medical": "Protected spans in the original (the denominator of medical_kept).",
    "words_changed": "Words changed: 1 - (words matched in order by difflib between original and synthetic, "
                     "lower case) / words in the original. 0 = unchanged.",
    "self_bleu": "Self-BLEU (0-100): for k syntheses of the same note, mean sentence BLEU (sacrebleu, 13a) of "
                 "each against the other k-1 as references. Lower = the syntheses differ more from each other.",
    "distinct_1": "Distinct-1: unique words / all words over a set of texts (words: lower-case \\w+).",
    "distinct_2": "Distinct-2: unique word bigrams / all word bigrams over a set of texts (bigrams within a text).",
    "fre_original": "Flesch reading ease of the original (textstat; higher = easier, 60-70 plain English).",
    "fre_synthetic": "Flesch reading ease of the synthetic note.",
    "fkgl_original": "Flesch-Kincaid grade level of the original (US school grade).",
    "fkgl_synthetic": "Flesch-Kincaid grade level of the synthetic note.",
    "smog_original": "SMOG index of the original (grade; textstat returns 0 for texts under 3 sentences).",
    "smog_synthetic": "SMOG index of the synthetic note.",
    "phi_survival": "PHI survival: share of gold PHI spans of the original whose text appears in the synthetic "
                    "note (case-insensitive, whole words, any whitespace). 0 = no gold PHI string survives.",
    "n_gold_phi": "Gold PHI spans of the original (the denominator of phi_survival).",
    "risk": "Re-identification risk of the pair from notesynth's checker (RiskReport.risk, 0-1).",
    "distinctive_overlap": "Share of the original's distinctive word trigrams found in the synthetic note (RiskReport).",
    "longest_verbatim_run": "Longest run of consecutive words shared with the original (RiskReport).",
    "held_share": "Share of notes held back by the privacy check (status 'held': nothing written).",
    "mean_risk": "Mean RiskReport.risk over the notes with a report.",
    "max_risk": "Largest RiskReport.risk.",
}

# Per-note keys that are counts or ids, not metrics to average.
_NOT_AVERAGED = {"id", "status", "attempts"}


# ---------------------------------------------------------------- fidelity

@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    # rougeLsum would need NLTK's punkt data: not used.
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge(original: str, synthetic: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 of the synthetic note against the original."""
    scores = _rouge_scorer().score(original, synthetic)
    return {name: float(s.fmeasure) for name, s in scores.items()}


def words(text: str) -> list[str]:
    return WORDS.findall(text)


def length_ratio(original: str, synthetic: str) -> float | None:
    n = len(words(original))
    return len(words(synthetic)) / n if n else None


def _bounded(value: str, flags: int = 0) -> re.Pattern:
    parts = [re.escape(p) for p in value.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", flags)


def medical_kept(original: str, synthetic: str, phi_spans: Iterable = ()) -> tuple[float | None, int]:
    """(share of protected spans kept verbatim, number of protected spans).

    Counted with multiplicity: a term the original has three times and the
    synthetic note once counts as one kept out of three.  Protected spans that
    overlap ``phi_spans`` (gold PHI, when known) are left out: a date that reads
    as a measure is meant to be replaced.
    """
    from notesynth.protect import protect

    phi = [_offsets(s) for s in phi_spans]
    phi = [p for p in phi if p is not None]
    counts: dict[str, int] = {}
    for span in protect(original):
        if span.label == "CUE" or any(span.start < end and start < span.end for start, end in phi):
            continue
        value = original[span.start:span.end].strip()
        if value:
            counts[value] = counts.get(value, 0) + 1
    total = sum(counts.values())
    if not total:
        return None, 0
    kept = sum(min(n, len(_bounded(value).findall(synthetic))) for value, n in counts.items())
    return kept / total, total


@dataclass(frozen=True)
class Fidelity:
    rouge1: float
    rouge2: float
    rougeL: float
    bertscore_p: float | None
    bertscore_r: float | None
    bertscore_f1: float | None
    length_ratio: float | None
    medical_kept: float | None
    n_medical: int

    def to_dict(self) -> dict:
        return asdict(self)


def fidelity(original: str, synthetic: str, scorer: BertScorer | None = None,
             phi_spans: Iterable = ()) -> Fidelity:
    """All fidelity metrics of one pair (BERTScore only with a scorer)."""
    r = rouge(original, synthetic)
    bs = scorer.score([synthetic], [original])[0] if scorer is not None else None
    kept, n_med = medical_kept(original, synthetic, phi_spans)
    return Fidelity(r["rouge1"], r["rouge2"], r["rougeL"],
                    bs[0] if bs else None, bs[1] if bs else None, bs[2] if bs else None,
                    length_ratio(original, synthetic), kept, n_med)


# ---------------------------------------------------------------- diversity

def self_bleu(texts: Sequence[str]) -> float | None:
    """Mean sentence BLEU (0-100) of each text against all the others; None for fewer than 2 texts."""
    import sacrebleu

    texts = list(texts)
    if len(texts) < 2:
        return None
    scores = [sacrebleu.sentence_bleu(h, texts[:i] + texts[i + 1:]).score for i, h in enumerate(texts)]
    return sum(scores) / len(scores)


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Unique n-grams / all n-grams of lower-case words, n-grams taken within each text."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        w = [x.lower() for x in words(text)]
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else None


def words_changed(original: str, synthetic: str) -> float | None:
    """1 - (words difflib matches in order, lower case) / words in the original."""
    a = [x.lower() for x in words(original)]
    if not a:
        return None
    b = [x.lower() for x in words(synthetic)]
    matched = sum(block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return 1.0 - matched / len(a)


# ---------------------------------------------------------------- readability

def readability(text: str) -> dict[str, float]:
    """Flesch reading ease, Flesch-Kincaid grade and SMOG index (textstat)."""
    import textstat

    return {"fre": float(textstat.flesch_reading_ease(text)),
            "fkgl": float(textstat.flesch_kincaid_grade(text)),
            "smog": float(textstat.smog_index(text))}


# ---------------------------------------------------------------- privacy

def _offsets(span) -> tuple[int, int] | None:
    """(start, end) of a Span or a {"start", "end"} dict; None when it has no offsets."""
    if isinstance(span, dict):
        if "start" in span and "end" in span:
            return int(span["start"]), int(span["end"])
        return None
    return span.start, span.end


def phi_survival(original: str, synthetic: str, spans: Iterable) -> tuple[float | None, int]:
    """(share of gold PHI spans whose text appears in the synthetic note, number of spans).

    ``spans`` are Span objects or dicts with ``start``/``end`` offsets into the
    original (a dict's ``text`` is used when it has no offsets).  Matching is
    case-insensitive, on whole words, with any whitespace between words.
    """
    values = []
    for s in spans:
        offsets = _offsets(s)
        value = original[offsets[0]:offsets[1]] if offsets else s.get("text", "")
        if value.strip():
            values.append(value.strip())
    if not values:
        return None, 0
    survived = sum(1 for v in values if _bounded(v, re.IGNORECASE).search(synthetic))
    return survived / len(values), len(values)


def privacy_summary(rows: Iterable[dict]) -> dict:
    """Summary of manifest-style rows ``{"status": ..., "risk": RiskReport.to_dict()}``.

    A row may also be a bare RiskReport dict (it then has a float ``risk``).
    """
    rows = list(rows)
    reports = []
    for row in rows:
        rep = row.get("risk")
        if isinstance(rep, dict):
            reports.append(rep)
        elif isinstance(rep, (int, float)) and "passed" in row:
            reports.append(row)
    statuses = [row.get("status") for row in rows if row.get("status")]
    risks = [float(r["risk"]) for r in reports]
    out: dict = {
        "n": len(rows),
        "n_reports": len(reports),
        "mean_risk": statistics.fmean(risks) if risks else None,
        "max_risk": max(risks) if risks else None,
        "held_share": (sum(s == "held" for s in statuses) / len(statuses)) if statuses else None,
        "error_share": (sum(s == "error" for s in statuses) / len(statuses)) if statuses else None,
        "passed_share": (sum(bool(r.get("passed")) for r in reports) / len(reports)) if reports else None,
        "leaked_phi": sum(int(r.get("leaked_phi", 0)) for r in reports),
        "residual_phi": sum(int(r.get("residual_phi", 0)) for r in reports),
    }
    overlaps = [float(r["distinctive_overlap"]) for r in reports if r.get("distinctive_overlap") is not None]
    runs = [float(r["longest_verbatim_run"]) for r in reports if r.get("longest_verbatim_run") is not None]
    out["mean_distinctive_overlap"] = statistics.fmean(overlaps) if overlaps else None
    out["mean_longest_verbatim_run"] = statistics.fmean(runs) if runs else None
    return out


# ---------------------------------------------------------------- one pair

def evaluate_pair(note_id: str, original: str, synthetic: str, scorer: BertScorer | None = None,
                  gold_spans: Iterable | None = None, report: dict | None = None) -> dict:
    """Every per-note metric of one pair, as a flat dict of the id and numbers."""
    row: dict = {"id": note_id}
    row.update(fidelity(original, synthetic, scorer, gold_spans or ()).to_dict())
    row["words_changed"] = words_changed(original, synthetic)
    for name, value in readability(original).items():
        row[f"{name}_original"] = value
    for name, value in readability(synthetic).items():
        row[f"{name}_synthetic"] = value
    if gold_spans is not None:
        row["phi_survival"], row["n_gold_phi"] = phi_survival(original, synthetic, gold_spans)
    if report is not None:
        for key in ("risk", "distinctive_overlap", "longest_verbatim_run", "leaked_phi", "residual_phi"):
            if report.get(key) is not None:
                row[key] = report[key]
    return row


def evaluate_pairs(pairs: Sequence[tuple[str, str, str]], scorer: BertScorer | None = None,
                   gold: dict[str, list] | None = None, reports: dict[str, dict] | None = None) -> list[dict]:
    """``evaluate_pair`` over (id, original, synthetic) triples, BERTScore batched."""
    bs = scorer.score([p[2] for p in pairs], [p[1] for p in pairs]) if scorer is not None and pairs else None
    rows = []
    for i, (note_id, original, synthetic) in enumerate(pairs):
        gold_spans = gold.get(note_id, []) if gold is not None else None
        row = evaluate_pair(note_id, original, synthetic, None, gold_spans,
                            (reports or {}).get(note_id))
        if bs is not None and bs[i] is not None:
            row["bertscore_p"], row["bertscore_r"], row["bertscore_f1"] = bs[i]
        rows.append(row)
    return rows


# ---------------------------------------------------------------- summary and report

def is_numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def summarise(per_note: list[dict]) -> dict:
    """Mean, median, min, max and count of every numeric per-note metric (None values skipped)."""
    keys: list[str] = []
    for row in per_note:
        for k, v in row.items():
            if k not in _NOT_AVERAGED and k not in keys and is_numeric(v):
                keys.append(k)
    metrics = {}
    for k in keys:
        values = [float(row[k]) for row in per_note if is_numeric(row.get(k))]
        metrics[k] = {"mean": statistics.fmean(values), "median": statistics.median(values),
                      "min": min(values), "max": max(values), "n": len(values)}
    out: dict = {"n_notes": len(per_note), "metrics": metrics}
    statuses = [row["status"] for row in per_note if row.get("status")]
    if statuses:
        out["status_counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    return out
