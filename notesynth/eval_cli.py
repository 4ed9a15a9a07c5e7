"""The ``eval`` and ``sweep`` commands; ``register(app)`` adds them to a typer app.

Both print ids and numbers only, never note text or PHI.
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

log = logging.getLogger(__name__)

# Rows of the printed summary table (metric keys of evaluate.summarise).
TABLE_KEYS = ("rouge1", "rouge2", "rougeL", "bertscore_f1", "length_ratio", "medical_kept", "words_changed",
              "fre_original", "fre_synthetic", "fkgl_original", "fkgl_synthetic", "smog_original", "smog_synthetic",
              "phi_survival", "risk")


def _quiet_libraries() -> None:
    # rouge-score logs through absl at INFO; presidio lists its recognizers
    for name in ("absl", "presidio-analyzer", "presidio_analyzer", "transformers", "filelock", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _fail(message: str, code: int) -> None:
    typer.echo(f"notesynth: {message}", err=True)
    raise typer.Exit(code)


def _read(path: str, id_field: str, text_field: str, what: str) -> dict[str, str]:
    """id -> text; read errors are counted (by id) and reported, never their content."""
    from notesynth.io import ReadError, read_notes

    if path != "-" and not Path(path).exists():
        _fail(f"{what} {path} does not exist", 2)
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
    if errors:
        typer.echo(f"notesynth: {errors} {what} note(s) unreadable, skipped", err=True)
    return notes


def _read_gold(path: Path, id_field: str = "id") -> dict[str, list]:
    """Gold PHI spans: JSONL rows {"id", "spans": [{"start", "end", "label"[, "text"]}]}."""
    if not path.exists():
        _fail(f"gold file {path} does not exist", 2)
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
                _fail(f"gold file {path}:{n} is not a JSON object with a 'spans' list", 2)
            gold[str(row.get(id_field, n))] = spans
    return gold


def _read_manifest(path: Path) -> dict[str, dict]:
    from notesynth.io import read_jsonl_rows

    rows = {}
    for row in read_jsonl_rows(path):
        if isinstance(row, dict) and "id" in row:
            rows[str(row["id"])] = row  # the last row of an id wins (re-runs append)
    return rows


def _default_manifest(synthetic: str) -> Path | None:
    p = Path(synthetic)
    candidate = p / "manifest.jsonl" if p.is_dir() else p.parent / f"{p.name}.manifest.jsonl"
    return candidate if candidate.exists() else None


def _scorer(score_model: Optional[str], no_bertscore: bool, layer: Optional[int], device: str):
    if no_bertscore:
        return None
    from notesynth.config import default_model_path
    from notesynth.evaluate import BertScorer
    from notesynth.infill import ModelLoadError, resolve_device

    path = score_model or default_model_path()
    try:
        return BertScorer(path, layer=layer, device=resolve_device(device))
    except (FileNotFoundError, ModelLoadError) as exc:
        _fail(f"{exc}; give --score-model a local Hugging Face model folder, or --no-bertscore", 4)
    except ValueError as exc:
        _fail(str(exc), 2)
    except Exception as exc:  # transformers raises many kinds for a corrupt folder
        _fail(f"could not load score model {path}: {type(exc).__name__}", 4)


def _print_table(summary: dict, privacy: dict | None = None) -> None:
    typer.echo(f"{'metric':<18} {'mean':>9} {'median':>9} {'n':>6}")
    for key in TABLE_KEYS:
        s = summary["metrics"].get(key)
        if s:
            typer.echo(f"{key:<18} {s['mean']:>9.3f} {s['median']:>9.3f} {s['n']:>6}")
    if privacy and privacy.get("n"):
        for key in ("mean_risk", "max_risk", "held_share"):
            if privacy.get(key) is not None:
                typer.echo(f"{key:<18} {privacy[key]:>9.3f} {'':>9} {privacy['n']:>6}")


def _parse_floats(value: str, name: str) -> list[float]:
    try:
        out = [float(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"{name} must be comma-separated numbers, e.g. 0.1,0.3,0.5") from None
    if not out or any(not 0 <= x <= 1 for x in out):
        raise typer.BadParameter(f"{name} must be numbers between 0 and 1")
    return out


# ---------------------------------------------------------------- eval

def eval_command(
    originals: str = typer.Argument(..., help="Original notes (folder of .txt, .jsonl, .csv)."),
    synthetic: str = typer.Argument(..., help="Synthetic notes, matched to the originals by id."),
    report: Path = typer.Option(..., "--report", help="Folder for metrics.json, report.md and plots."),
    score_model: Optional[str] = typer.Option(None, "--score-model", help="Local HF model folder for BERTScore (default: the shipped model)."),
    no_bertscore: bool = typer.Option(False, "--no-bertscore", help="Skip BERTScore (no model needed)."),
    layer: Optional[int] = typer.Option(None, help="Hidden layer for BERTScore (0 = embeddings; default 3/4 of the depth)."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="JSONL of gold PHI spans {id, spans:[{start,end,label}]} (offsets into the originals): adds PHI survival."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="Manifest of the synth run (default: found beside SYNTHETIC) for risk and held-back share."),
    check_risk: bool = typer.Option(False, "--check-risk", help="Score every pair with the re-identification checker (runs the PHI detector; replaces the manifest's risk per note). Residual PHI counts surrogates too: no placement record."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    device: str = typer.Option("cpu", help="cpu, cuda or auto (BERTScore)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Evaluate synthetic notes against their originals: fidelity, diversity, readability, privacy.

    Writes REPORT/metrics.json, per_note.jsonl, report.md and histograms; prints a summary table.
    Exit codes: 0 done; 2 usage error or no matching pairs; 4 score model missing.
    """
    from notesynth import evaluate as ev

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    orig = _read(originals, id_field, text_field, "original")
    syn = _read(synthetic, id_field, text_field, "synthetic")
    gold_spans = _read_gold(gold, id_field) if gold else None
    manifest_path = manifest or _default_manifest(synthetic)
    manifest_rows = _read_manifest(manifest_path) if manifest_path else {}
    if manifest and not manifest.exists():
        _fail(f"manifest {manifest} does not exist", 2)
    ids = [i for i in orig if i in syn]
    if not ids:
        _fail(f"no synthetic note matches an original by id ({len(orig)} originals, {len(syn)} synthetic)", 2)
    scorer = _scorer(score_model, no_bertscore, layer, device)

    reports: dict[str, dict] = {i: r["risk"] for i, r in manifest_rows.items() if isinstance(r.get("risk"), dict)}
    if check_risk:
        reports.update(_check_risk(orig, syn, ids, scorer))
    pairs = [(i, orig[i], syn[i]) for i in ids]
    per_note = ev.evaluate_pairs(pairs, scorer, gold_spans, reports)
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
    summary["settings"] = {"originals": originals, "synthetic": synthetic,
                           "score_model": scorer.model_path if scorer else None,
                           "bertscore_layer": scorer.layer if scorer else None,
                           "gold": str(gold) if gold else None,
                           "manifest": str(manifest_path) if manifest_path else None}
    summary["unmatched"] = {"originals_without_synthetic": len([i for i in orig if i not in syn]),
                            "synthetic_without_original": len([i for i in syn if i not in orig])}
    ev.write_report(report, summary, per_note)
    _print_table(summary, summary["privacy"])
    typer.echo(f"notesynth: {len(ids)} pair(s) evaluated, {summary['unmatched']['originals_without_synthetic']} "
               f"original(s) without a synthetic match; report in {report}", err=True)


def _check_risk(orig: dict, syn: dict, ids: list[str], scorer) -> dict[str, dict]:
    from notesynth.pipeline import _is_single_piece, shared_detector
    from notesynth.reid import RiskSettings, score

    detector = shared_detector(None)
    settings = RiskSettings(fail_on_residual_phi=False)
    if scorer is not None:
        tokenizer = scorer.tokenizer
    else:
        from transformers import AutoTokenizer

        from notesynth.config import default_model_path
        tokenizer = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)
    out = {}
    for i in ids:
        phi = detector.detect(orig[i])
        residual = detector.detect(syn[i])
        out[i] = score(orig[i], syn[i], phi, residual, settings, lambda w: _is_single_piece(tokenizer, w)).to_dict()
    return out


# ---------------------------------------------------------------- sweep

def sweep_command(
    notes: str = typer.Argument(..., help="Notes to synthesize (folder of .txt, .jsonl, .csv)."),
    report: Path = typer.Option(..., "--report", help="Folder for metrics.json, report.md and sweep.png."),
    mask_ratios: str = typer.Option("0.1,0.3,0.5,0.7,0.9", "--mask-ratios", help="Comma-separated mask ratios."),
    strategies: str = typer.Option("confidence", "--strategies", help="Comma-separated: confidence, left-to-right."),
    k: int = typer.Option(3, "--k", min=1, help="Syntheses per note and setting (different seeds), for self-BLEU."),
    model: Optional[str] = typer.Option(None, "--model", help="Masked LM for synthesis (default: the shipped model)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use only the first N notes."),
    seed: int = typer.Option(0, help="First seed; syntheses use seed, seed+1, ..., seed+k-1."),
    passes: Optional[int] = typer.Option(None, help="Infilling passes (default: SynthConfig's)."),
    retries: Optional[int] = typer.Option(None, help="Privacy retries per note (default: SynthConfig's)."),
    max_risk: Optional[float] = typer.Option(None, help="Risk above which a note is retried, then held."),
    batch_size: int = typer.Option(8, help="Notes per synthesize_batch call."),
    score_model: Optional[str] = typer.Option(None, "--score-model", help="Model folder for BERTScore (default: --model, else the shipped model)."),
    no_bertscore: bool = typer.Option(False, "--no-bertscore", help="Skip BERTScore."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="JSONL of gold PHI spans (offsets into the notes): adds PHI survival."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    device: str = typer.Option("cpu", help="cpu, cuda or auto."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Synthesize NOTES at several mask ratios and strategies, k seeds each, and compare
    fidelity, diversity and privacy (one table row and one plot point per setting)."""
    from notesynth import SynthConfig, Synthesizer
    from notesynth import evaluate as ev
    from notesynth.config import ConfigError
    from notesynth.infill import Infiller, InfillSettings, ModelLoadError

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    logging.getLogger("notesynth.pipeline").setLevel(logging.WARNING)
    ratios = _parse_floats(mask_ratios, "--mask-ratios")
    strats = [s.strip() for s in strategies.split(",") if s.strip()]
    if not strats or any(s not in ("confidence", "left-to-right") for s in strats):
        raise typer.BadParameter("--strategies must be a comma-separated list of confidence, left-to-right")
    texts = _read(notes, id_field, text_field, "input")
    ids = list(texts)[:limit] if limit else list(texts)
    if not ids:
        _fail("no readable notes", 2)
    gold_spans = _read_gold(gold, id_field) if gold else None

    try:
        base = SynthConfig(model=model or "", device=device, seed=seed)
        overrides = {k_: v for k_, v in {"passes": passes, "retries": retries, "max_risk": max_risk}.items() if v is not None}
        base = replace(base, **overrides).validate()
    except (ConfigError, TypeError) as exc:
        _fail(f"config error: {exc}", 2)
    try:
        c = base
        infiller = Infiller(c.resolved_model(), c.device, InfillSettings.from_config(c, strategy=strats[0]))
    except ModelLoadError as exc:
        _fail(str(exc), 4)
    scorer = _scorer(score_model or model, no_bertscore, None, device)

    originals_read = [ev.readability(texts[i]) for i in ids]
    rows: list[dict] = []
    per_setting: dict[str, list[dict]] = {}
    typer.echo(f"{'strategy':<14} {'ratio':>5} {'written':>7} {'held':>5} {'risk':>6} {'rougeL':>7} "
               f"{'bertF1':>7} {'changed':>7} {'selfBLEU':>8}")
    for strategy in strats:
        # one loaded model for every setting: only the infilling settings differ
        filler = infiller.with_settings(replace(infiller.settings, strategy=strategy))
        for ratio in ratios:
            cfg = replace(base, mask_ratio=ratio, strategy=strategy).validate()
            outputs: dict[str, list[str]] = {i: [] for i in ids}
            manifest_rows: list[dict] = []
            pairs: list[tuple[str, str, str]] = []
            started = time.perf_counter()
            for j in range(k):
                synth = Synthesizer(replace(cfg, seed=seed + j), infiller=filler)
                for b in range(0, len(ids), batch_size):
                    chunk = ids[b:b + batch_size]
                    for res in synth.synthesize_batch([(i, texts[i]) for i in chunk]):
                        manifest_rows.append(res.manifest_row())
                        if res.status == "written" and res.text is not None:
                            outputs[res.id].append(res.text)
                            pairs.append((res.id, texts[res.id], res.text))
            seconds = (time.perf_counter() - started) / max(1, len(ids) * k)
            per_note = ev.evaluate_pairs(pairs, scorer, gold_spans)
            summary = ev.summarise(per_note)["metrics"]
            privacy = ev.privacy_summary(manifest_rows)
            sb = [ev.self_bleu(v) for v in outputs.values() if len(v) >= 2]
            all_out = [t for v in outputs.values() for t in v]
            row = {"strategy": strategy, "mask_ratio": ratio, "k": k, "n_notes": len(ids),
                   "written": sum(len(v) for v in outputs.values()),
                   "held_share": privacy["held_share"], "error_share": privacy["error_share"],
                   "mean_risk": privacy["mean_risk"], "max_risk": privacy["max_risk"],
                   "self_bleu": statistics.fmean(sb) if sb else None,
                   "distinct_1": ev.distinct_n(all_out, 1), "distinct_2": ev.distinct_n(all_out, 2),
                   "seconds_per_note": seconds,
                   "mean_attempts": statistics.fmean(r.get("attempts", 0) for r in manifest_rows)}
            for key in ("rouge1", "rouge2", "rougeL", "bertscore_f1", "length_ratio", "medical_kept",
                        "words_changed", "phi_survival", "fre_synthetic", "fkgl_synthetic", "smog_synthetic"):
                row[key] = summary[key]["mean"] if key in summary else None
            rows.append(row)
            per_setting[f"{strategy}@{ratio:g}"] = per_note
            typer.echo(f"{strategy:<14} {ratio:>5.2f} {row['written']:>7} {_f(row['held_share'], 5, 2)} "
                       f"{_f(row['mean_risk'], 6)} {_f(row['rougeL'], 7)} {_f(row['bertscore_f1'], 7)} "
                       f"{_f(row['words_changed'], 7)} {_f(row['self_bleu'], 8, 1)}")
    meta = {
        "config": {"notes": notes, "n_notes": len(ids), "k": k, "seed": seed, "strategies": ",".join(strats),
                   "mask_ratios": ",".join(f"{r:g}" for r in ratios), "model": base.resolved_model(),
                   "passes": base.passes, "retries": base.retries, "max_risk": base.max_risk,
                   "score_model": scorer.model_path if scorer else None,
                   "bertscore_layer": scorer.layer if scorer else None},
        "originals": {k_: statistics.fmean(r[k_] for r in originals_read) for k_ in ("fre", "fkgl", "smog")},
        "per_note": per_setting,
    }
    ev.write_sweep_report(report, rows, meta)
    typer.echo(f"notesynth: sweep of {len(rows)} setting(s) x {len(ids)} note(s) x k={k}; report in {report}", err=True)


def _f(value, width: int, digits: int = 3) -> str:
    return f"{value:>{width}.{digits}f}" if isinstance(value, (int, float)) else f"{'–':>{width}}"


def register(app: typer.Typer) -> None:
    """Add ``eval`` and ``sweep`` to ``app``."""
    app.command("eval")(eval_command)
    app.command("sweep")(sweep_command)
