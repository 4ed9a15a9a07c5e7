"""`eval` and `sweep`: options in, the loops of notesynth.evaluate.loops, a table out (ids and numbers only)."""
from __future__ import annotations

import logging
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from notesynth.cli.common import fail, quiet_libraries
from notesynth.exits import ExitCode

# Rows of the printed summary table (metric keys of evaluate.summarise).
TABLE_KEYS = ("rouge1", "rouge2", "rougeL", "bertscore_f1", "length_ratio", "medical_kept", "words_changed",
              "fre_original", "fre_synthetic", "fkgl_original", "fkgl_synthetic", "smog_original", "smog_synthetic",
              "phi_survival", "risk")


def _basic_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries()


def _read(path: str, id_field: str, text_field: str, what: str) -> dict[str, str]:
    from notesynth.evaluate.loops import EvalInputError, read_texts

    try:
        notes, errors = read_texts(path, id_field, text_field, what)
    except EvalInputError as exc:
        fail(str(exc), ExitCode.USAGE)
    if errors:
        typer.echo(f"notesynth: {errors} {what} note(s) unreadable, skipped", err=True)
    return notes


def _gold(path: Optional[Path], id_field: str):
    from notesynth.evaluate.loops import EvalInputError, read_gold

    if path is None:
        return None
    try:
        return read_gold(path, id_field)
    except EvalInputError as exc:
        fail(str(exc), ExitCode.USAGE)


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
        fail(f"{exc}; give --score-model a local Hugging Face model folder, or --no-bertscore", ExitCode.SETUP)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    except Exception as exc:  # transformers raises many kinds for a corrupt folder
        fail(f"could not load score model {path}: {type(exc).__name__}", ExitCode.SETUP)


def _print_table(summary: dict, privacy: dict | None = None) -> None:
    typer.echo(f"{'metric':<18} {'mean':>9} {'median':>9} {'n':>6}")
    for key in TABLE_KEYS:
        s = summary["metrics"].get(key)
        if s:
            typer.echo(f"{key:<18} {s['mean']:>9.3f} {s['median']:>9.3f} {s['n']:>6}")
    realism = summary.get("realism")
    if realism:  # one figure over the whole set: 0.5 reads like the originals, 1.0 always told apart
        typer.echo(f"{'realism_auc':<18} {realism['auc']:>9.3f} {'':>9} {realism['n_synthetic']:>6}")
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
    from notesynth.evaluate.loops import EvalInputError, default_manifest, evaluate_run, read_manifest

    _basic_logging(quiet)
    orig = _read(originals, id_field, text_field, "original")
    syn = _read(synthetic, id_field, text_field, "synthetic")
    gold_spans = _gold(gold, id_field)
    manifest_path = manifest or default_manifest(synthetic)
    manifest_rows = read_manifest(manifest_path) if manifest_path else {}
    if manifest and not manifest.exists():
        fail(f"manifest {manifest} does not exist", ExitCode.USAGE)
    if not any(i in syn for i in orig):
        fail(f"no synthetic note matches an original by id ({len(orig)} originals, {len(syn)} synthetic)", ExitCode.USAGE)
    scorer = _scorer(score_model, no_bertscore, layer, device)
    tokenizer = None
    if check_risk:
        tokenizer = scorer.tokenizer if scorer is not None else _default_tokenizer()
    try:
        summary, per_note = evaluate_run(orig, syn, scorer, gold_spans, manifest_rows, tokenizer)
    except EvalInputError as exc:
        fail(str(exc), ExitCode.USAGE)
    summary["settings"] = {"originals": originals, "synthetic": synthetic,
                           "score_model": scorer.model_path if scorer else None,
                           "bertscore_layer": scorer.layer if scorer else None,
                           "gold": str(gold) if gold else None,
                           "manifest": str(manifest_path) if manifest_path else None}
    ev.write_report(report, summary, per_note)
    _print_table(summary, summary["privacy"])
    n_pairs = len(per_note)
    typer.echo(f"notesynth: {n_pairs} pair(s) evaluated, {summary['unmatched']['originals_without_synthetic']} "
               f"original(s) without a synthetic match; report in {report}", err=True)


def _default_tokenizer():
    from notesynth.check import Vocabulary
    from notesynth.config import default_model_path

    return Vocabulary.from_model(default_model_path()).tokenizer


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
    from notesynth import SynthConfig
    from notesynth import evaluate as ev
    from notesynth.config import ConfigError
    from notesynth.evaluate.loops import SweepSettings, sweep
    from notesynth.infill import Infiller, InfillSettings, ModelLoadError

    _basic_logging(quiet)
    logging.getLogger("notesynth.pipeline").setLevel(logging.WARNING)
    ratios = _parse_floats(mask_ratios, "--mask-ratios")
    strats = [s.strip() for s in strategies.split(",") if s.strip()]
    if not strats or any(s not in ("confidence", "left-to-right") for s in strats):
        raise typer.BadParameter("--strategies must be a comma-separated list of confidence, left-to-right")
    texts = _read(notes, id_field, text_field, "input")
    ids = list(texts)[:limit] if limit else list(texts)
    if not ids:
        fail("no readable notes", ExitCode.USAGE)
    gold_spans = _gold(gold, id_field)
    try:
        overrides = {k_: v for k_, v in {"passes": passes, "retries": retries, "max_risk": max_risk}.items() if v is not None}
        base = replace(SynthConfig(model=model or "", device=device, seed=seed), **overrides).validate()
    except (ConfigError, TypeError) as exc:
        fail(f"config error: {exc}", ExitCode.USAGE)
    try:
        infiller = Infiller(base.resolved_model(), base.device, InfillSettings.from_config(base, strategy=strats[0]))
    except ModelLoadError as exc:
        fail(str(exc), ExitCode.SETUP)
    scorer = _scorer(score_model or model, no_bertscore, None, device)

    typer.echo(f"{'strategy':<14} {'ratio':>5} {'written':>7} {'held':>5} {'risk':>6} {'rougeL':>7} "
               f"{'bertF1':>7} {'changed':>7} {'selfBLEU':>8} {'realism':>7}")

    def show(row: dict) -> None:
        typer.echo(f"{row['strategy']:<14} {row['mask_ratio']:>5.2f} {row['written']:>7} {_f(row['held_share'], 5, 2)} "
                   f"{_f(row['mean_risk'], 6)} {_f(row['rougeL'], 7)} {_f(row['bertscore_f1'], 7)} "
                   f"{_f(row['words_changed'], 7)} {_f(row['self_bleu'], 8, 1)} {_f(row.get('realism_auc'), 7)}")

    settings = SweepSettings(tuple(ratios), tuple(strats), k=k, seed=seed, batch_size=batch_size)
    rows, per_setting = sweep({i: texts[i] for i in ids}, base, infiller, settings, scorer, gold_spans, show)
    originals_read = [ev.readability(texts[i]) for i in ids]
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
    app.command("eval")(eval_command)
    app.command("sweep")(sweep_command)
