"""The eval and sweep loops: plain functions the CLI calls (ids and numbers out, never note text)."""
from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from notesynth.evaluate import metrics as ev

log = logging.getLogger(__name__)


class EvalInputError(ValueError):
    """An input of eval/sweep is missing or malformed; the message says which (never its content)."""


def read_texts(path: str, id_field: str, text_field: str, what: str) -> tuple[dict[str, str], int]:
    """id -> text, and how many notes could not be read (reported by id, never content)."""
    from notesynth.batch.readers import ReadError, read_notes

    if path != "-" and not Path(path).exists():
        raise EvalInputError(f"{what} {path} does not exist")
    notes: dict[str, str] = {}
    errors = 0
    for item in read_notes(path, None, id_field, text_field):
        if isinstance(item, ReadError):
            errors += 1
            log.warning("%s: note %s unreadable: %s", what, item.id, item.message)
            continue
        if item.id in notes:
            log.warning("%s: duplicate id %s; the later note is used", what, item.id)
        notes[item.id] = item.text
    return notes, errors


def read_gold(path: Path, id_field: str = "id") -> dict[str, list]:
    """Gold PHI spans: JSONL rows {"id", "spans": [{"start", "end", "label"[, "text"]}]}."""
    if not path.exists():
        raise EvalInputError(f"gold file {path} does not exist")
    gold: dict[str, list] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                spans = row.get("spans", row.get("phi"))
                if not isinstance(spans, list):
                    raise ValueError
            except (ValueError, AttributeError):
                raise EvalInputError(f"gold file {path}:{n} is not a JSON object with a 'spans' list") from None
            gold[str(row.get(id_field, n))] = spans
    return gold


def read_manifest(path: Path) -> dict[str, dict]:
    from notesynth.batch.files import read_jsonl_rows

    rows = {}
    for row in read_jsonl_rows(path):
        if isinstance(row, dict) and "id" in row:
            rows[str(row["id"])] = row  # the last row of an id wins (re-runs append)
    return rows


def default_manifest(synthetic: str) -> Path | None:
    p = Path(synthetic)
    candidate = p / "manifest.jsonl" if p.is_dir() else p.parent / f"{p.name}.manifest.jsonl"
    return candidate if candidate.exists() else None


def check_risk(orig: dict, syn: dict, ids: list[str], tokenizer) -> dict[str, dict]:
    """Risk reports for existing pairs (no placement record: surrogates count as residual)."""
    from notesynth.check import Checker, RiskSettings, Vocabulary, score_pairs
    from notesynth.phi import shared_detector

    checker = Checker(shared_detector(None), RiskSettings(fail_on_residual_phi=False), Vocabulary(tokenizer).is_common)
    return {i: report.to_dict() for i, report in score_pairs(checker, ((i, orig[i], syn[i]) for i in ids))}


def evaluate_run(orig: dict[str, str], syn: dict[str, str], scorer=None, gold: dict | None = None,
                 manifest_rows: dict[str, dict] | None = None, risk_tokenizer=None) -> tuple[dict, list[dict]]:
    """Summary and per-note rows for every original with a synthetic match.

    ``risk_tokenizer``: score every pair with the checker (replaces the manifest's risk)."""
    manifest_rows = manifest_rows or {}
    ids = [i for i in orig if i in syn]
    if not ids:
        raise EvalInputError(f"no synthetic note matches an original by id ({len(orig)} originals, {len(syn)} synthetic)")
    reports: dict[str, dict] = {i: r["risk"] for i, r in manifest_rows.items() if isinstance(r.get("risk"), dict)}
    if risk_tokenizer is not None:
        reports.update(check_risk(orig, syn, ids, risk_tokenizer))
    per_note = ev.evaluate_pairs([(i, orig[i], syn[i]) for i in ids], scorer, gold, reports)
    for row in per_note:
        if row["id"] in manifest_rows and manifest_rows[row["id"]].get("status"):
            row["status"] = manifest_rows[row["id"]]["status"]
    summary = ev.summarise(per_note)
    privacy_rows = list(manifest_rows.values()) if manifest_rows else [{"risk": reports[i]} for i in ids if i in reports]
    summary["privacy"] = ev.privacy_summary(privacy_rows) if privacy_rows else None
    summary["diversity"] = {"distinct_1": ev.distinct_n([syn[i] for i in ids], 1),
                            "distinct_2": ev.distinct_n([syn[i] for i in ids], 2),
                            "distinct_1_originals": ev.distinct_n([orig[i] for i in ids], 1),
                            "distinct_2_originals": ev.distinct_n([orig[i] for i in ids], 2)}
    summary["realism"] = realism_summary({i: orig[i] for i in ids}, {i: syn[i] for i in ids})
    summary["unmatched"] = {"originals_without_synthetic": len([i for i in orig if i not in syn]),
                            "synthetic_without_original": len([i for i in syn if i not in orig])}
    return summary, per_note


def realism_summary(real: dict, synthetic: dict) -> dict | None:
    """The realism section of metrics.json: the classifier two-sample test (evaluate/realism.py)."""
    from notesynth.evaluate.realism import realism_auc

    try:
        res = realism_auc(real, synthetic)
    except ValueError as exc:  # e.g. every note empty: no vocabulary
        log.warning("realism not scored: %s", exc)
        return None
    return res.to_dict() if res is not None else None


@dataclass(frozen=True)
class SweepSettings:
    ratios: tuple[float, ...]
    strategies: tuple[str, ...]
    k: int = 3                 # syntheses per note and setting (seeds seed..seed+k-1)
    seed: int = 0
    batch_size: int = 8


# per-note metrics whose mean goes into a sweep row
SWEEP_MEANS = ("rouge1", "rouge2", "rougeL", "bertscore_f1", "length_ratio", "medical_kept",
               "words_changed", "phi_survival", "fre_synthetic", "fkgl_synthetic", "smog_synthetic")


def sweep(texts: dict[str, str], base, infiller, settings: SweepSettings, scorer=None, gold: dict | None = None,
          on_row=None) -> tuple[list[dict], dict[str, list[dict]]]:
    """Synthesize ``texts`` at every (strategy, mask ratio), k seeds each; one summary row per setting.

    ``base`` is a validated SynthConfig; ``infiller`` one loaded model reused by every setting.
    ``on_row(row)`` is called as each row is done (for printing)."""
    from notesynth.pipeline import Synthesizer

    ids = list(texts)
    rows: list[dict] = []
    per_setting: dict[str, list[dict]] = {}
    for strategy in settings.strategies:
        filler = infiller.with_settings(replace(infiller.settings, strategy=strategy))
        for ratio in settings.ratios:
            cfg = replace(base, mask_ratio=ratio, strategy=strategy).validate()
            row, per_note = _sweep_setting(texts, ids, cfg, filler, settings, scorer, gold, Synthesizer)
            rows.append(row)
            per_setting[f"{strategy}@{ratio:g}"] = per_note
            if on_row:
                on_row(row)
    return rows, per_setting


def _sweep_setting(texts, ids, cfg, filler, settings: SweepSettings, scorer, gold, synthesizer_cls):
    outputs: dict[str, list[str]] = {i: [] for i in ids}
    manifest_rows: list[dict] = []
    pairs: list[tuple[str, str, str]] = []
    started = time.perf_counter()
    for j in range(settings.k):
        synth = synthesizer_cls(replace(cfg, seed=settings.seed + j), infiller=filler)
        for b in range(0, len(ids), settings.batch_size):
            chunk = ids[b:b + settings.batch_size]
            for res in synth.synthesize_batch([(i, texts[i]) for i in chunk]):
                manifest_rows.append(res.manifest_row())
                if res.status == "written" and res.text is not None:
                    outputs[res.id].append(res.text)
                    pairs.append((res.id, texts[res.id], res.text))
    seconds = (time.perf_counter() - started) / max(1, len(ids) * settings.k)
    per_note = ev.evaluate_pairs(pairs, scorer, gold)
    summary = ev.summarise(per_note)["metrics"]
    privacy = ev.privacy_summary(manifest_rows)
    sb = [ev.self_bleu(v) for v in outputs.values() if len(v) >= 2]
    all_out = [t for v in outputs.values() for t in v]
    row = {"strategy": cfg.strategy, "mask_ratio": cfg.mask_ratio, "k": settings.k, "n_notes": len(ids),
           "written": sum(len(v) for v in outputs.values()),
           "held_share": privacy["held_share"], "error_share": privacy["error_share"],
           "mean_risk": privacy["mean_risk"], "max_risk": privacy["max_risk"],
           "self_bleu": statistics.fmean(sb) if sb else None,
           "distinct_1": ev.distinct_n(all_out, 1), "distinct_2": ev.distinct_n(all_out, 2),
           "seconds_per_note": seconds,
           "mean_attempts": statistics.fmean(r.get("attempts", 0) for r in manifest_rows)}
    for key in SWEEP_MEANS:
        row[key] = summary[key]["mean"] if key in summary else None
    realism = realism_summary({i: texts[i] for i in ids if outputs[i]}, {i: v for i, v in outputs.items() if v})
    row["realism_auc"] = realism["auc"] if realism else None
    return row, per_note
