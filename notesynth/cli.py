"""The notesynth command line: parsing and printing only; the work lives in the library."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn real clinical notes into synthetic notes that keep the medical content and carry no patient identity.",
)


@app.callback()
def _root() -> None:
    """notesynth: PHI detection, masking, iterative infilling and a privacy check before any write."""


def _setup_logging(verbose: bool = False, quiet: bool = False, log_file: Optional[str] = None,
                   log_format: str = "text") -> None:
    from notesynth import logs

    logs.setup(verbose, quiet, log_file, log_format)


EXIT_CODES_HELP = (
    "Exit codes: 0 all written; 1 some notes held back by the privacy check; 2 usage or config error; "
    "3 some inputs unreadable or failed; 4 setup failed (model missing/corrupt, output not writable, disk full); "
    "130 interrupted."
)


def _load_config(config_file: Optional[Path], **flags):
    from notesynth.config import ConfigError, build_config, load_toml

    try:
        values = load_toml(config_file) if config_file else {}
        return build_config(values, **flags)
    except ConfigError as exc:
        typer.echo(f"notesynth: config error: {exc}", err=True)
        raise typer.Exit(2)


@app.command(epilog=EXIT_CODES_HELP)
def synth(
    input: str = typer.Argument(..., help="Folder of .txt, a .jsonl/.csv/.txt file, or - for stdin."),
    output: str = typer.Argument(..., help="Output folder, .jsonl/.csv/.txt file, or - for stdout."),
    model: Optional[str] = typer.Option(None, help="Masked LM: a local Hugging Face folder or a hub id. Default: the model shipped in models/default."),
    mask_ratio: Optional[float] = typer.Option(None, help="Share of non-PHI words re-generated (0-1). Default 0.3."),
    seed: Optional[int] = typer.Option(None, help="Random seed: same seed and input give the same output. Default 0."),
    device: Optional[str] = typer.Option(None, help="cpu, cuda or auto. Default cpu."),
    batch_size: Optional[int] = typer.Option(None, help="Notes per batch (and windows per forward pass). Default 8."),
    passes: Optional[int] = typer.Option(None, help="Infilling passes (iterative refinement). Default 4."),
    strategy: Optional[str] = typer.Option(None, help="confidence (most confident first) or left-to-right."),
    temperature: Optional[float] = typer.Option(None, help="Sampling temperature. Default 1.0."),
    top_k: Optional[int] = typer.Option(None, help="Sample among the k most likely word-pieces (0: off). Default 40."),
    top_p: Optional[float] = typer.Option(None, help="Nucleus sampling mass. Default 0.95."),
    max_pieces_per_word: Optional[int] = typer.Option(None, help="Word-pieces the model may write per masked word (up to the original's count). Default 1: a whole in-vocabulary word, which avoids half-words and rare (identifying) tokens."),
    max_risk: Optional[float] = typer.Option(None, help="Notes with a higher re-identification risk are retried, then held back. Default 0.5."),
    retries: Optional[int] = typer.Option(None, help="Re-syntheses (new seed, higher mask ratio) before a note is held back. Default 2."),
    on_fail: Optional[str] = typer.Option(None, help="hold (record and go on) or error (count as an error). Default hold."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with any of these settings ([notesynth] table or top level)."),
    format: Optional[str] = typer.Option(None, "--format", help="Input format when it can't be told from the name: txt, jsonl, csv, folder, conll (token<TAB>BIO-tag; labelled spans are carried into a CoNLL output)."),
    output_format: Optional[str] = typer.Option(None, help="Output format (default: as the input)."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    keep_field: List[str] = typer.Option([], "--keep-field", help="Extra input field to copy to the output (others are dropped: they may hold PHI)."),
    manifest: Optional[str] = typer.Option(None, help="Manifest path (default: manifest.jsonl beside the outputs)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo every note, even those a previous run finished."),
    max_note_bytes: int = typer.Option(1_000_000, help="Larger notes are reported as errors."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help='Labelled spans to keep, JSONL rows {"id", "spans": [{"start","end","label"}]}: never masked, re-offset in the output (JSONL output gets a "spans" field).'),
    workers: int = typer.Option(1, "--workers", "-j", help="Worker processes on CPU (the model is loaded once per worker). Output does not depend on it."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the summary line."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (never note text)."),
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Also write the log to this file."),
    log_format: str = typer.Option("text", "--log-format", help="text or json (one JSON object per line)."),
) -> None:
    """Synthesize notes: detect PHI, replace it, re-generate a share of words, check, write.

    A note is written only if it passes the re-identification check; a manifest row
    per note records its status, counts and risk figures (never its text).
    """
    _setup_logging(verbose, quiet, log_file, log_format)
    if workers < 1:
        typer.echo("notesynth: --workers must be at least 1", err=True)
        raise typer.Exit(2)
    cfg = _load_config(config, model=model, mask_ratio=mask_ratio, seed=seed, device=device,
                       batch_size=batch_size, passes=passes, strategy=strategy, temperature=temperature,
                       top_k=top_k, top_p=top_p, max_pieces_per_word=max_pieces_per_word, max_risk=max_risk, retries=retries, on_fail=on_fail)
    if format == "conll" or input.endswith((".conll", ".bio")):
        _run_conll(cfg, input, output, manifest, overwrite, quiet, workers)
        return
    spans = _load_annotations(annotations, output, output_format) if annotations else None
    _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model=True, workers=workers, annotations=spans)


def _run_conll(cfg, input: str, output: str, manifest, overwrite: bool, quiet: bool, workers: int) -> None:
    """CoNLL in, CoNLL out: labelled spans are protected, carried through and re-tagged."""
    import json as _json
    import shutil
    import tempfile

    from notesynth import conll
    from notesynth.io import atomic_write_text
    from notesynth.spans import Span

    if output == "-" or not output.endswith((".conll", ".bio", ".tsv")):
        typer.echo("notesynth: a CoNLL input needs a CoNLL output file (.conll, .bio or .tsv)", err=True)
        raise typer.Exit(2)
    try:
        notes = conll.to_notes(conll.read_sentences(input))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"notesynth: CoNLL input unreadable: {str(exc)[:200] if isinstance(exc, ValueError) else type(exc).__name__}", err=True)
        raise typer.Exit(3)
    work = Path(tempfile.mkdtemp(prefix=".notesynth-conll-", dir=str(Path(output).resolve().parent)))
    src = work / "in.jsonl"
    src.write_text("".join(_json.dumps({"id": i, "text": t}) + "\n" for i, t, _ in notes), encoding="utf-8")
    annotations = {i: spans for i, _, spans in notes}
    out_jsonl = work / "out.jsonl"
    try:
        _run(cfg, str(src), str(out_jsonl), "jsonl", "jsonl", "id", "text", [], manifest or f"{output}.manifest.jsonl",
             overwrite, 10_000_000, quiet, load_model=True, workers=workers, annotations=annotations)
    except typer.Exit:
        rows = [_json.loads(x) for x in out_jsonl.read_text(encoding="utf-8").splitlines()] if out_jsonl.exists() else []
        body = "".join(conll.to_conll(r["text"], [Span(s["start"], s["end"], s["label"]) for s in r.get("spans", [])])
                       for r in rows)
        atomic_write_text(Path(output), body)
        raise
    finally:  # the work folder holds note text: never leave it behind
        shutil.rmtree(work, ignore_errors=True)


def _load_annotations(path: Path, output: str, output_format: Optional[str]) -> dict:
    import json as _json

    from notesynth.spans import Span

    if not (output.endswith(".jsonl") or output_format == "jsonl" or (output == "-" and output_format != "txt")):
        typer.echo("notesynth: --annotations needs a JSONL output (the spans go in each row)", err=True)
        raise typer.Exit(2)
    spans: dict = {}
    n = 0
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = _json.loads(line)
            spans[str(row["id"])] = [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(f"notesynth: annotations file {path}: unreadable at line {n} "
                   f"({type(exc).__name__}); expected JSONL rows {{\"id\", \"spans\": [{{\"start\",\"end\",\"label\"}}]}}", err=True)
        raise typer.Exit(2)
    return spans


def _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model: bool, workers: int = 1, annotations=None) -> None:
    from notesynth.infill import ModelLoadError
    from notesynth.pipeline import Synthesizer
    from notesynth.runner import EXIT_SETUP, RunOptions, run

    if input != "-" and not Path(input).exists():
        typer.echo(f"notesynth: input {input} does not exist", err=True)
        raise typer.Exit(2)
    synthesizer = Synthesizer(cfg)
    if load_model:
        try:
            synthesizer.infiller  # load the model before reading notes: fail fast with a clear message
        except ModelLoadError as exc:
            typer.echo(f"notesynth: {exc}", err=True)
            raise typer.Exit(EXIT_SETUP)
    opts = RunOptions(input=input, output=output, in_format=format, out_format=output_format,
                      id_field=id_field, text_field=text_field, keep_fields=tuple(keep_field),
                      overwrite=overwrite, manifest=manifest, progress=not quiet, max_note_bytes=max_note_bytes,
                      workers=workers, annotations=annotations)
    summary = run(opts, cfg, synthesizer)
    if summary.fatal:
        typer.echo(f"notesynth: {summary.fatal}", err=True)
    typer.echo(summary.line(), err=True)
    raise typer.Exit(summary.exit_code)


@app.command(epilog=EXIT_CODES_HELP)
def redact(
    input: str = typer.Argument(..., help="Folder of .txt, a .jsonl/.csv/.txt file, or - for stdin."),
    output: str = typer.Argument(..., help="Output folder, .jsonl/.csv/.txt file, or - for stdout."),
    seed: Optional[int] = typer.Option(None, help="Seed for the surrogates."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file."),
    format: Optional[str] = typer.Option(None, "--format", help="Input format: txt, jsonl, csv, folder."),
    output_format: Optional[str] = typer.Option(None, help="Output format (default: as the input)."),
    id_field: str = typer.Option("id"),
    text_field: str = typer.Option("text"),
    keep_field: List[str] = typer.Option([], "--keep-field", help="Extra input field to copy to the output."),
    manifest: Optional[str] = typer.Option(None, help="Manifest path (default: beside the outputs)."),
    overwrite: bool = typer.Option(False, "--overwrite"),
    max_note_bytes: int = typer.Option(1_000_000),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Replace PHI by surrogates only (no language model); every other word is kept.

    The leak and residual-PHI checks still run before a note is written.
    """
    _setup_logging(verbose, quiet)
    cfg = _load_config(config, seed=seed, mask_ratio=0.0, check_overlap=False, retries=0)
    _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model=False)


@app.command()
def detect(
    input: str = typer.Argument(..., help="Folder of .txt, a .jsonl/.csv/.txt file, or - for stdin."),
    show: bool = typer.Option(False, "--show", help="Print each note with its PHI highlighted (shows PHI: for a human check only)."),
    format: Optional[str] = typer.Option(None, "--format", help="Input format: txt, jsonl, csv, folder."),
    id_field: str = typer.Option("id"),
    text_field: str = typer.Option("text"),
    threshold: Optional[float] = typer.Option(None, help="Detector score threshold (default: the benchmarked one)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Find PHI: one JSONL row per note on stdout, {"id", "spans": [{"start","end","label","score"}]}.

    Spans carry offsets and labels, never the PHI text (unless --show is given).
    """
    import json as _json

    from notesynth.io import ReadError, read_notes
    from notesynth.pipeline import shared_detector

    _setup_logging(False, quiet)
    if input != "-" and not Path(input).exists():
        typer.echo(f"notesynth: input {input} does not exist", err=True)
        raise typer.Exit(2)
    detector = shared_detector(threshold)
    errors = 0
    for item in read_notes(input, format, id_field, text_field):
        if isinstance(item, ReadError):
            errors += 1
            typer.echo(f"notesynth: {item.source}: {item.message}", err=True)
            continue
        spans = detector.detect(item.text)
        if show:
            typer.echo(typer.style(f"== {item.id} ({len(spans)} PHI spans)", bold=True))
            typer.echo(_highlight(item.text, spans))
        else:
            typer.echo(_json.dumps({"id": item.id, "spans": [s.to_dict() for s in spans]}))
    raise typer.Exit(3 if errors else 0)


def _highlight(text: str, spans) -> str:
    out, pos = [], 0
    for s in spans:
        out.append(text[pos:s.start])
        out.append(typer.style(f"[{text[s.start:s.end]}]", fg="red", bold=True) + typer.style(f"{{{s.label}}}", fg="yellow"))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)




@app.command()
def score(
    originals: str = typer.Argument(..., help="Original notes (folder, .jsonl, .csv)."),
    synthetic: str = typer.Argument(..., help="Synthetic notes, matched to the originals by id."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write one JSONL RiskReport row per note here."),
    max_risk: float = typer.Option(0.5, help="Risk above which a pair is reported as failing."),
    model: Optional[str] = typer.Option(None, help="Model whose vocabulary decides which words are distinctive (default: shipped model)."),
    id_field: str = typer.Option("id"),
    text_field: str = typer.Option("text"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Score existing (original, synthetic) pairs with the re-identification checker.

    Prints a table (id, risk, leaks, residual PHI, overlap, longest run, verdict) and exits 1
    when any pair fails.  Residual PHI is reported but does not fail here: without the
    synthesis run, surrogates cannot be told from memorised PHI.
    """
    import json as _json

    from notesynth.config import SynthConfig
    from notesynth.infill import ModelLoadError, load_model
    from notesynth.io import ReadError, read_notes
    from notesynth.pipeline import _is_single_piece, shared_detector
    from notesynth.reid import RiskSettings, score as score_pair

    _setup_logging(False, quiet)
    for path in (originals, synthetic):
        if not Path(path).exists():
            typer.echo(f"notesynth: input {path} does not exist", err=True)
            raise typer.Exit(2)
    try:
        tokenizer, _ = load_model(SynthConfig(model=model or "").resolved_model())
    except ModelLoadError as exc:
        typer.echo(f"notesynth: {exc}", err=True)
        raise typer.Exit(4)
    synth_notes = {n.id: n.text for n in read_notes(synthetic, None, id_field, text_field) if not isinstance(n, ReadError)}
    detector = shared_detector(None)
    settings = RiskSettings(max_risk=max_risk, fail_on_residual_phi=False)
    sink = open(output, "w", encoding="utf-8") if output else None
    failed = missing = 0
    typer.echo(f"{'id':<28} {'risk':>6} {'leaks':>5} {'resid':>5} {'overlap':>7} {'run':>4}  verdict")
    for note in read_notes(originals, None, id_field, text_field):
        if isinstance(note, ReadError) or note.id not in synth_notes:
            missing += 1
            continue
        out_text = synth_notes[note.id]
        phi = detector.detect(note.text)
        residual = detector.detect(out_text)
        report = score_pair(note.text, out_text, phi, residual, settings, lambda w: _is_single_piece(tokenizer, w))
        failed += not report.passed
        typer.echo(f"{note.id[:28]:<28} {report.risk:>6.3f} {report.leaked_phi:>5} {report.residual_phi:>5} "
                   f"{report.distinctive_overlap:>7.3f} {report.longest_verbatim_run:>4}  {'pass' if report.passed else 'FAIL'}")
        if sink:
            sink.write(_json.dumps({"id": note.id, **report.to_dict()}) + "\n")
    if sink:
        sink.close()
    typer.echo(f"notesynth: {failed} failing pair(s), {missing} original(s) without a synthetic match", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def train(
    corpus: List[Path] = typer.Argument(..., help="Folders of .txt, or .jsonl/.csv files with a text field."),
    out: Path = typer.Option(..., "--out", help="Folder to write the Hugging Face model to."),
    base: Optional[str] = typer.Option(None, help="Masked LM to fine-tune: a local folder or a hub id."),
    from_scratch: bool = typer.Option(False, "--from-scratch", help="Train a new tokenizer and model."),
    size: str = typer.Option("small", help="Model size when training from scratch: tiny, small, base."),
    text_field: str = typer.Option("text", help="Field/column holding the text in JSONL/CSV."),
    seq_len: int = typer.Option(128, help="Tokens per training block."),
    batch_size: int = typer.Option(32),
    learning_rate: float = typer.Option(2e-4),
    warmup_steps: int = typer.Option(200),
    max_steps: int = typer.Option(-1, help="Stop after this many steps (-1: use --epochs)."),
    epochs: float = typer.Option(1.0),
    max_minutes: Optional[float] = typer.Option(None, help="Wall-clock budget; stops cleanly and saves."),
    eval_share: float = typer.Option(0.05, help="Share of each source's documents held out for evaluation."),
    eval_steps: int = typer.Option(500),
    save_steps: int = typer.Option(500, help="Checkpoint every N steps (for --resume)."),
    seed: int = typer.Option(13),
    device: str = typer.Option("cpu", help="cpu, cuda or auto."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint in OUT/checkpoints."),
    fp16_weights: bool = typer.Option(False, "--fp16-weights", help="Store weights in fp16 (half the disk size)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Train a masked LM from scratch or fine-tune one (whole-word masking)."""
    from notesynth.train import SIZES, TrainConfig, train as run_train

    _setup_logging(verbose)
    if size not in SIZES:
        raise typer.BadParameter(f"--size must be one of {', '.join(SIZES)}")
    if not from_scratch and not base:
        raise typer.BadParameter("give --base MODEL to fine-tune, or --from-scratch")
    cfg = TrainConfig(
        corpus=tuple(str(c) for c in corpus), out=str(out), base=base, from_scratch=from_scratch,
        size=size, text_field=text_field, seq_len=seq_len, batch_size=batch_size,
        learning_rate=learning_rate, warmup_steps=warmup_steps, max_steps=max_steps, epochs=epochs,
        max_minutes=max_minutes, eval_share=eval_share, eval_steps=eval_steps, save_steps=save_steps,
        seed=seed, device=device, resume=resume, fp16_weights=fp16_weights,
        command="notesynth train " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
    )
    metrics = run_train(cfg)
    typer.echo(f"saved {out}: held-out top-1 {metrics['top1']:.4f}, pseudo-perplexity {metrics['pseudo_perplexity']:.2f}")


def _register_extra_commands() -> None:
    from notesynth.eval_cli import register

    register(app)


_register_extra_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
