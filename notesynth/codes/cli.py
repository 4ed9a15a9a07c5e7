"""`notesynth codes`: train, sample and evaluate the code-record diffusion model.

Parsing and printing only; the work lives in data, train, folder, sample, evaluate and report.
Option defaults and help come from the settings dataclasses' fields.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from notesynth.codes.errors import CodesError, UsageError
from notesynth.codes.settings import TRUNCATIONS, EvalSettings, ModelSettings, RecordFormat, SampleSettings, TrainSettings

EXIT_CODES = ("Exit codes: 0 done; 1 some synthetic records dropped by the copy guard (sample); "
              "2 usage error (bad option or input file); 4 setup failed (model folder missing or corrupt, "
              "output not writable, no CUDA device); 130 interrupted.")

app = typer.Typer(
    help="EHRDiff-style diffusion model for patient code records (one record = a set of diagnosis/condition codes): "
         "train on real records, sample synthetic ones, evaluate fidelity and privacy.",
    no_args_is_help=True, add_completion=False)


def _opt(cls, name: str, *decls: str, **kw):
    """A typer option whose default and help are the settings dataclass field's."""
    f = {f.name: f for f in fields(cls)}[name]
    return typer.Option(f.default, *decls, help=f.metadata["help"], **kw)


def _record_opt(name: str, *decls: str):
    """The help of a RecordFormat field, for an Annotated option (its default is the parameter's)."""
    return typer.Option(*decls, help={f.name: f for f in fields(RecordFormat)}[name].metadata["help"])


_FMT = {f.name: f.default for f in fields(RecordFormat)}
# the record-format options train, sample and eval share, written once
FormatOpt = Annotated[Optional[str], _record_opt("format", "--format")]
IdFieldOpt = Annotated[str, _record_opt("id_field", "--id-field")]
CodesFieldOpt = Annotated[str, _record_opt("codes_field", "--codes-field")]
IdColumnOpt = Annotated[str, _record_opt("id_column", "--id-column")]
CodeColumnOpt = Annotated[str, _record_opt("code_column", "--code-column")]


def _truncate(value: str) -> str:
    if value not in TRUNCATIONS:
        raise typer.BadParameter(f"use one of {', '.join(TRUNCATIONS)}")
    return value


def _device(value: str) -> str:
    if value not in ("cpu", "cuda", "auto") and not value.startswith("cuda:"):
        raise typer.BadParameter("use cpu, cuda or auto")
    return value


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (test runners swap it), not the one at set-up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (counts, never codes)."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Warnings and errors only.")) -> None:
    """EHRDiff-style synthetic code records."""
    logger = logging.getLogger("notesynth.codes")
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    if not logging.getLogger().handlers and not logger.handlers:  # the main CLI may already have set logging up
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def _fail(exc: CodesError):
    typer.echo(f"notesynth codes: error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


def _interrupted():
    typer.echo("notesynth codes: interrupted", err=True)
    raise typer.Exit(130)


@app.command(epilog=EXIT_CODES)
def train(
    records: Path = typer.Argument(..., help="Real records: JSONL {\"id\", \"codes\": [...]} or long CSV/TSV (one row per record and code)."),
    out: Path = typer.Option(..., "--out", help="Model folder to write (weights, vocabulary, settings, metrics, copy-guard hashes, model card)."),
    truncate: str = _opt(TrainSettings, "truncate", "--truncate", callback=_truncate),
    max_minutes: Optional[float] = _opt(TrainSettings, "max_minutes", "--max-minutes"),
    steps: int = _opt(TrainSettings, "steps", "--steps"),
    seed: int = _opt(TrainSettings, "seed", "--seed"),
    device: str = _opt(TrainSettings, "device", "--device", callback=_device),
    batch_size: int = _opt(TrainSettings, "batch_size", "--batch-size"),
    learning_rate: float = _opt(TrainSettings, "learning_rate", "--learning-rate"),
    min_code_count: int = _opt(TrainSettings, "min_code_count", "--min-code-count"),
    outer: int = _opt(ModelSettings, "outer", "--outer-width"),
    inner: int = _opt(ModelSettings, "inner", "--inner-width"),
    head: int = _opt(ModelSettings, "head", "--head-width"),
    sigma_data: float = _opt(ModelSettings, "sigma_data", "--sigma-data"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model already in --out."),
    format: FormatOpt = _FMT["format"],
    id_field: IdFieldOpt = _FMT["id_field"],
    codes_field: CodesFieldOpt = _FMT["codes_field"],
    id_column: IdColumnOpt = _FMT["id_column"],
    code_column: CodeColumnOpt = _FMT["code_column"],
) -> None:
    """Train a model on real code records and write its folder."""
    from notesynth.codes.data import read_records
    from notesynth.codes.folder import has_model, save_model
    from notesynth.codes.train import train as run_train

    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is a file; give a folder path")
        if has_model(out) and not overwrite:
            raise UsageError(f"{out} already holds a model; pass --overwrite or choose another --out")
        fmt = RecordFormat(format, id_field, codes_field, id_column, code_column)
        recs = read_records(records, fmt, truncate)
        settings = TrainSettings(steps=steps, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                 max_minutes=max_minutes, device=device, truncate=truncate, min_code_count=min_code_count)
        result = run_train(recs, settings, ModelSettings(outer=outer, inner=inner, head=head, sigma_data=sigma_data))
        save_model(out, result)
    except CodesError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _interrupted()
    m = result.metrics
    typer.echo(f"trained {m['steps_done']} steps ({m['stopped_by']}) in {m['minutes']:.2f} min on {m['records']} records, "
               f"{m['vocab_size']} codes, {m['parameters']:,} parameters; model in {out}")


@app.command(epilog=EXIT_CODES)
def sample(
    model: Path = typer.Argument(..., help="Model folder written by `notesynth codes train`."),
    out: Path = typer.Option(..., "--out", help="Synthetic records to write: .jsonl, .csv or .tsv (long: one row per record and code)."),
    n: int = _opt(SampleSettings, "n", "--n"),
    seed: int = _opt(SampleSettings, "seed", "--seed"),
    max_copy_codes: int = _opt(SampleSettings, "max_copy_codes", "--max-copy-codes"),
    max_redraws: int = _opt(SampleSettings, "max_redraws", "--max-redraws"),
    steps: int = _opt(SampleSettings, "steps", "--steps"),
    device: str = _opt(SampleSettings, "device", "--device", callback=_device),
    batch_size: int = _opt(SampleSettings, "batch_size", "--batch-size"),
    format: FormatOpt = _FMT["format"],
    id_field: IdFieldOpt = _FMT["id_field"],
    codes_field: CodesFieldOpt = _FMT["codes_field"],
    id_column: IdColumnOpt = _FMT["id_column"],
    code_column: CodeColumnOpt = _FMT["code_column"],
) -> None:
    """Draw synthetic records; exact copies of training records with more than k codes are re-drawn, then dropped."""
    from notesynth.codes.data import detect_format, write_records
    from notesynth.codes.folder import load_model
    from notesynth.codes.sample import generate

    try:
        fmt = RecordFormat(format, id_field, codes_field, id_column, code_column)
        detect_format(out, format)  # a bad output name fails before the work
        cm = load_model(model)
        settings = SampleSettings(n=n, seed=seed, max_copy_codes=max_copy_codes, max_redraws=max_redraws,
                                  steps=steps, device=device, batch_size=batch_size)
        result = generate(cm, settings)
        write_records(out, result.records, fmt)
    except CodesError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _interrupted()
    typer.echo(f"wrote {len(result.records)} synthetic records to {out}; copy guard (k={max_copy_codes}): "
               f"{result.redrawn} re-drawn, {result.dropped} dropped after {max_redraws} re-draw rounds; "
               f"{result.empty} records without codes")
    if result.dropped:
        raise typer.Exit(1)


@app.command("eval", epilog=EXIT_CODES)
def eval_(
    records: Path = typer.Argument(..., help="Held-out real records (not used in training)."),
    synthetic: Path = typer.Argument(..., help="Synthetic records from `notesynth codes sample`."),
    report: Path = typer.Option(..., "--report", help="Folder for report.json, report.md and prevalence.png."),
    train_records: Optional[Path] = typer.Option(None, "--train", help="The training records: enables the privacy metrics."),
    truncate: str = _opt(EvalSettings, "truncate", "--truncate", callback=_truncate),
    seed: int = _opt(EvalSettings, "seed", "--seed"),
    folds: int = _opt(EvalSettings, "folds", "--folds"),
    max_copy_codes: int = _opt(EvalSettings, "max_copy_codes", "--max-copy-codes"),
    known_share: float = _opt(EvalSettings, "known_share", "--known-share"),
    format: FormatOpt = _FMT["format"],
    id_field: IdFieldOpt = _FMT["id_field"],
    codes_field: CodesFieldOpt = _FMT["codes_field"],
    id_column: IdColumnOpt = _FMT["id_column"],
    code_column: CodeColumnOpt = _FMT["code_column"],
) -> None:
    """Compare synthetic with held-out real records (fidelity) and, given --train, measure leakage (privacy)."""
    from notesynth.codes.data import read_records
    from notesynth.codes.evaluate import evaluate
    from notesynth.codes.report import write_report

    try:
        if folds < 2:
            raise UsageError("--folds must be at least 2")
        if not 0 < known_share < 1:
            raise UsageError("--known-share must be between 0 and 1")
        fmt = RecordFormat(format, id_field, codes_field, id_column, code_column)
        real = read_records(records, fmt, truncate)
        synth = read_records(synthetic, fmt)  # already in the model's code space
        train_recs = read_records(train_records, fmt, truncate) if train_records else None
        settings = EvalSettings(seed=seed, folds=folds, max_copy_codes=max_copy_codes, known_share=known_share, truncate=truncate)
        result = evaluate(real, synth, train_recs, settings)
        write_report(report, result)
    except CodesError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _interrupted()
    typer.echo(summary(result.to_dict()))
    typer.echo(f"report in {report}")


def summary(d: dict) -> str:
    """A few headline numbers, one per line."""
    f, p = d["fidelity"], d["privacy"] or {}
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = [("prevalence r", f["prevalence_r"]), ("NZC", f["nzc"]), ("co-occurrence r", f["cooccurrence_r"]),
            ("size Wasserstein", f["size_wasserstein"]), ("discriminator AUC", f["discriminator_auc"]),
            ("MMD (Jaccard)", f["mmd_jaccard"])]
    if p:
        rows += [("exact copies of train", p["exact_copies_of_train"]), ("membership advantage", p.get("membership_advantage")),
                 ("attribute F1 train/held-out", f"{fmt(p['attr_f1_train'])}/{fmt(p['attr_f1_holdout'])}")]
    return "\n".join(f"{k:<28} {fmt(v)}" for k, v in rows)
