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
import json
import math
import re
import statistics
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

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
    "medical_kept": "Medical terms kept: share of the original's protected spans (notesynth.medical.protect: "
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
    from notesynth import medical

    phi = [_offsets(s) for s in phi_spans]
    phi = [p for p in phi if p is not None]
    counts: dict[str, int] = {}
    for span in medical.protect(original):
        if any(span.start < end and start < span.end for start, end in phi):
            continue
        value = original[span.start:span.end].strip()
        if value:
            counts[value] = counts.get(value, 0) + 1
    total = sum(counts.values())
    if not total:
        return None, 0
    kept = sum(min(n, len(_bounded(value).findall(synthetic))) for value, n in counts.items())
    return kept / total, total


class BertScorer:
    """BERTScore (Zhang et al., 2020) with a local encoder, computed with transformers.

    Each text is tokenized without special tokens, cut into windows that fit the
    model, and embedded (hidden states of ``layer``; special tokens dropped).
    Precision is the mean over candidate tokens of the best cosine similarity to a
    reference token, recall the converse, F1 their harmonic mean.  No IDF weights
    and no baseline rescaling.  ``layer`` indexes ``hidden_states`` (0 = the
    embeddings); the default is three quarters of the way up the encoder, where
    Zhang et al. found the best layers for BERT-style models.
    """

    def __init__(self, model_path: str, layer: int | None = None, device: str = "cpu", batch_size: int = 8,
                 max_tokens: int = 512):
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        path = Path(model_path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"score model folder {model_path} not found or has no config.json")
        self.model_path = str(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_path, local_files_only=True, dtype=torch.float32)
        self.model.eval()
        self.device = device
        self.model.to(device)
        n_layers = int(getattr(self.model.config, "num_hidden_layers", 1))
        self.layer = max(1, math.ceil(0.75 * n_layers)) if layer is None else int(layer)
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise ValueError(f"layer {layer} out of range: the model has {n_layers} layers (0 = embeddings)")
        self.batch_size = max(1, batch_size)
        limit = int(getattr(self.model.config, "max_position_embeddings", max_tokens) or max_tokens)
        tok = self.tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        self._prefix = [first] if first is not None else []
        self._suffix = [last] if last is not None else []
        # RoBERTa-style models offset positions by the padding index: keep a margin
        self.window = max(8, min(max_tokens, limit) - len(self._prefix) - len(self._suffix) - 2)

    def _embed(self, texts: Sequence[str]) -> list:
        """One (tokens x hidden) L2-normalised tensor per text (None for a text without tokens)."""
        import torch

        tok = self.tokenizer
        chunks: list[tuple[int, list[int]]] = []  # (text index, input ids with special tokens)
        for t, text in enumerate(texts):
            ids = tok(text, add_special_tokens=False)["input_ids"]
            for a in range(0, len(ids), self.window):
                chunks.append((t, self._prefix + ids[a:a + self.window] + self._suffix))
        pieces: list[list] = [[] for _ in texts]
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][1]))
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        with torch.no_grad():
            for b in range(0, len(order), self.batch_size):
                batch = [chunks[c] for c in order[b:b + self.batch_size]]
                length = max(len(ids) for _, ids in batch)
                input_ids = torch.full((len(batch), length), pad, dtype=torch.long)
                attention = torch.zeros((len(batch), length), dtype=torch.long)
                for r, (_, ids) in enumerate(batch):
                    input_ids[r, :len(ids)] = torch.tensor(ids)
                    attention[r, :len(ids)] = 1
                out = self.model(input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device),
                                 output_hidden_states=True)
                hidden = out.hidden_states[self.layer].float().cpu()
                a = len(self._prefix)
                for r, (t, ids) in enumerate(batch):
                    pieces[t].append(hidden[r, a:len(ids) - len(self._suffix)])
        result = []
        for parts in pieces:
            if not parts or sum(p.shape[0] for p in parts) == 0:
                result.append(None)
                continue
            emb = torch.cat(parts)
            result.append(torch.nn.functional.normalize(emb, dim=-1))
        return result

    def score(self, candidates: Sequence[str], references: Sequence[str]) -> list[tuple[float, float, float] | None]:
        """(P, R, F1) per (candidate, reference) pair; None where a text has no tokens."""
        if len(candidates) != len(references):
            raise ValueError("candidates and references differ in number")
        emb = self._embed(list(candidates) + list(references))
        n = len(candidates)
        out: list[tuple[float, float, float] | None] = []
        for c, r in zip(emb[:n], emb[n:]):
            if c is None or r is None:
                out.append(None)
                continue
            sim = c @ r.T
            p = float(sim.max(dim=1).values.mean())
            rec = float(sim.max(dim=0).values.mean())
            f = 2 * p * rec / (p + rec) if p + rec > 0 else 0.0
            out.append((p, rec, f))
        return out


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

def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def summarise(per_note: list[dict]) -> dict:
    """Mean, median, min, max and count of every numeric per-note metric (None values skipped)."""
    keys: list[str] = []
    for row in per_note:
        for k, v in row.items():
            if k not in _NOT_AVERAGED and k not in keys and _numeric(v):
                keys.append(k)
    metrics = {}
    for k in keys:
        values = [float(row[k]) for row in per_note if _numeric(row.get(k))]
        metrics[k] = {"mean": statistics.fmean(values), "median": statistics.median(values),
                      "min": min(values), "max": max(values), "n": len(values)}
    out: dict = {"n_notes": len(per_note), "metrics": metrics}
    statuses = [row["status"] for row in per_note if row.get("status")]
    if statuses:
        out["status_counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    return out


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


HISTOGRAMS = ("rougeL", "bertscore_f1", "words_changed", "medical_kept", "risk", "phi_survival")


def write_report(folder: str | Path, metrics: dict, per_note: list[dict], title: str = "notesynth evaluation") -> dict:
    """Write ``metrics.json``, ``per_note.jsonl``, ``report.md`` and histogram PNGs into ``folder``.

    ``metrics`` is what ``summarise`` returns, optionally with more sections
    (e.g. ``privacy`` from ``privacy_summary``, ``diversity``, ``settings``).
    Returns the paths written, by kind.
    """
    from notesynth.io import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True, default=_json_default) + "\n")
    atomic_write_text(folder / "per_note.jsonl",
                      "".join(json.dumps(r, sort_keys=True, default=_json_default) + "\n" for r in per_note))
    plots = []
    plt = _matplotlib()
    for key in HISTOGRAMS:
        values = [float(r[key]) for r in per_note if _numeric(r.get(key))]
        if not values:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.hist(values, bins=min(20, max(5, len(values) // 2)), color="#4878a8", edgecolor="white")
        ax.set_xlabel(key)
        ax.set_ylabel("notes")
        ax.set_title(f"{key} (n={len(values)}, mean {statistics.fmean(values):.3f})", fontsize=10)
        fig.tight_layout()
        name = f"hist_{key}.png"
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        plots.append(name)

    lines = [f"# {title}", ""]
    lines.append(f"Notes evaluated: {metrics.get('n_notes', len(per_note))}.")
    if metrics.get("status_counts"):
        lines.append("Statuses: " + ", ".join(f"{k} {v}" for k, v in metrics["status_counts"].items()) + ".")
    for key, value in sorted(metrics.get("settings", {}).items()):
        lines.append(f"- {key}: `{value}`")
    lines += ["", "## Per-note metrics", "", "| metric | mean | median | min | max | n |", "|---|---|---|---|---|---|"]
    for key, s in metrics.get("metrics", {}).items():
        lines.append(f"| {key} | {_fmt(s['mean'])} | {_fmt(s['median'])} | {_fmt(s['min'])} | {_fmt(s['max'])} | {s['n']} |")
    for section in ("diversity", "privacy"):
        if metrics.get(section):
            lines += ["", f"## {section.capitalize()}", "", "| metric | value |", "|---|---|"]
            for key, value in metrics[section].items():
                lines.append(f"| {key} | {_fmt(value)} |")
    if plots:
        lines += ["", "## Distributions", ""]
        lines += [f"![{p[5:-4]}]({p})" for p in plots]
    used = set(metrics.get("metrics", {})) | set(metrics.get("diversity", {}) or {}) | set(metrics.get("privacy", {}) or {})
    lines += _definitions(used)
    atomic_write_text(folder / "report.md", "\n".join(lines) + "\n")
    return {"metrics": str(folder / "metrics.json"), "report": str(folder / "report.md"),
            "per_note": str(folder / "per_note.jsonl"), "plots": [str(folder / p) for p in plots]}


def _definitions(used: Iterable[str]) -> list[str]:
    used = set(used)
    lines = ["", "## Definitions", ""]
    for key, text in DEFINITIONS.items():
        if key in used:
            lines.append(f"- **{key}**: {text}")
    return lines


def _json_default(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


# ---------------------------------------------------------------- sweep report

SWEEP_COLUMNS = ("strategy", "mask_ratio", "n_notes", "written", "held_share", "mean_risk", "max_risk",
                 "rouge1", "rougeL", "bertscore_f1", "medical_kept", "length_ratio", "words_changed",
                 "self_bleu", "distinct_1", "distinct_2", "phi_survival", "fre_synthetic", "fkgl_synthetic",
                 "mean_attempts", "seconds_per_note")


def write_sweep_report(folder: str | Path, rows: list[dict], meta: dict | None = None) -> dict:
    """Write a sweep's ``metrics.json``, ``report.md`` (one row per setting) and ``sweep.png``.

    Each row holds ``strategy``, ``mask_ratio`` and the setting's mean metrics.
    ``sweep.png`` plots, against the mask ratio and one curve per strategy,
    fidelity (ROUGE-L), diversity (self-BLEU, words changed) and privacy (mean
    risk, held share), plus the fidelity/diversity trade-off.
    """
    from notesynth.io import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    atomic_write_text(folder / "metrics.json",
                      json.dumps({"settings": rows, **meta}, indent=2, sort_keys=True, default=_json_default) + "\n")

    plt = _matplotlib()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    panels = [("rougeL", "fidelity: ROUGE-L F1"), ("self_bleu", "diversity: self-BLEU (0-100)"),
              ("words_changed", "diversity: words changed"), ("mean_risk", "privacy: mean risk"),
              ("held_share", "privacy: held-back share")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (key, label) in zip(axes.flat, panels):
        for s in strategies:
            pts = sorted((r["mask_ratio"], r[key]) for r in rows if r["strategy"] == s and _numeric(r.get(key)))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s)
        ax.set_xlabel("mask ratio")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    ax = axes.flat[-1]
    for s in strategies:
        pts = sorted((r["words_changed"], r["rougeL"], r["mask_ratio"]) for r in rows
                     if r["strategy"] == s and _numeric(r.get("words_changed")) and _numeric(r.get("rougeL")))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s)
            for x, y, ratio in pts:
                ax.annotate(f"{ratio:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("words changed (diversity from the source)")
    ax.set_ylabel("ROUGE-L F1 (fidelity)")
    ax.set_title("trade-off (labels: mask ratio)", fontsize=10)
    ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=len(labels))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(folder / "sweep.png", dpi=110)
    plt.close(fig)

    cols = [c for c in SWEEP_COLUMNS if any(r.get(c) is not None for r in rows)]
    lines = ["# notesynth sweep", ""]
    for key, value in sorted(meta.get("config", {}).items()):
        lines.append(f"- {key}: `{value}`")
    if meta.get("originals"):
        lines.append("- originals' readability (means): " +
                     ", ".join(f"{k} {_fmt(v, 2)}" for k, v in meta["originals"].items()))
    lines += ["", "One row per setting; metrics are means over the written syntheses (k per note), "
              "risk and held share over all notes and seeds.", "",
              "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    lines += ["", "![sweep](sweep.png)"]
    defs = dict(DEFINITIONS)
    defs.update({
        "mask_ratio": "Share of non-PHI words masked and re-generated (SynthConfig.mask_ratio; retries raise it).",
        "written": "Syntheses that passed the privacy check (all notes x k seeds).",
        "seconds_per_note": "Wall-clock synthesis time per note and seed.",
        "mean_attempts": "Mean synthesis attempts per (note, seed): above 1 means privacy retries, each at a "
                         "higher mask ratio than the setting's.",
        "fre_synthetic": DEFINITIONS["fre_synthetic"], "fkgl_synthetic": DEFINITIONS["fkgl_synthetic"],
    })
    lines += ["", "## Definitions", ""]
    lines += [f"- **{c}**: {defs[c]}" for c in cols if c in defs]
    lines.append("- Held-back share and mean risk are over the final result of each (note, seed); "
                 "a note's retries (higher mask ratio) are part of its result.")
    atomic_write_text(folder / "report.md", "\n".join(lines) + "\n")
    return {"metrics": str(folder / "metrics.json"), "report": str(folder / "report.md"),
            "plots": [str(folder / "sweep.png")]}
