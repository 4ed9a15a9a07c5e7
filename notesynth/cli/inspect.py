"""`detect` and `score`: look at PHI and at the risk of existing pairs (offsets and numbers, never PHI text)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from notesynth.cli.common import fail, require_input, setup_logging
from notesynth.config import SynthConfig, option_help
from notesynth.exits import ExitCode


def detect(
    input: str = typer.Argument(..., help="Folder of .txt, a .jsonl/.csv/.txt file, or - for stdin."),
    show: bool = typer.Option(False, "--show", help="Print each note with its PHI highlighted (shows PHI: for a human check only)."),
    format: Optional[str] = typer.Option(None, "--format", help="Input format: txt, jsonl, csv, folder."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    threshold: Optional[float] = typer.Option(None, help="Detector score threshold (default: the benchmarked one)."),
    phi_tagger: bool = typer.Option(SynthConfig().phi_tagger, "--phi-tagger/--no-phi-tagger",
                                    help=option_help("phi_tagger")),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Find PHI: one JSONL row per note on stdout, {"id", "spans": [{"start","end","label","score"}]}.

    Spans carry offsets and labels, never the PHI text (unless --show is given).
    """
    from notesynth.batch.readers import ReadError, read_notes
    from notesynth.phi import shared_detector

    setup_logging(False, quiet)
    require_input(input)
    detector = shared_detector(threshold, phi_tagger)
    errors = 0
    for item in _checked(read_notes(input, format, id_field, text_field)):
        if isinstance(item, ReadError):
            errors += 1
            typer.echo(f"notesynth: {item.source}: {item.message}", err=True)
            continue
        spans = detector.detect(item.text)
        if show:
            typer.echo(typer.style(f"== {item.id} ({len(spans)} PHI spans)", bold=True))
            typer.echo(_highlight(item.text, spans))
        else:
            typer.echo(json.dumps({"id": item.id, "spans": [s.to_dict() for s in spans]}))
    raise typer.Exit(int(ExitCode.INPUT) if errors else 0)


def _checked(items):
    """The reader's items; a problem it raises on opening (a FIFO given as the input, an
    unreadable file) is a usage error with its own message, never a traceback."""
    try:
        yield from items
    except (ValueError, OSError) as exc:
        fail(f"{exc}", ExitCode.USAGE)


def _highlight(text: str, spans) -> str:
    out, pos = [], 0
    for s in spans:
        out.append(text[pos:s.start])
        out.append(typer.style(f"[{text[s.start:s.end]}]", fg="red", bold=True) + typer.style(f"{{{s.label}}}", fg="yellow"))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def score(
    originals: str = typer.Argument(..., help="Original notes (folder, .jsonl, .csv)."),
    synthetic: str = typer.Argument(..., help="Synthetic notes, matched to the originals by id."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write one JSONL RiskReport row per note here."),
    max_risk: float = typer.Option(0.5, help="Risk above which a pair is reported as failing."),
    model: Optional[str] = typer.Option(None, help="Model whose vocabulary decides which words are distinctive (default: shipped model)."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Score existing (original, synthetic) pairs with the re-identification checker.

    Prints a table (id, risk, leaks, residual PHI, overlap, longest run, verdict) and exits 1
    when any pair fails.  Residual PHI is reported but does not fail here: without the
    synthesis run, surrogates cannot be told from memorised PHI.
    """
    from notesynth.batch.readers import ReadError, read_notes
    from notesynth.check import Checker, RiskSettings, Vocabulary, score_pairs
    from notesynth.config import SynthConfig
    from notesynth.infill import ModelLoadError
    from notesynth.phi import shared_detector

    setup_logging(False, quiet)
    for path in (originals, synthetic):
        require_input(path)
    try:
        vocabulary = Vocabulary.from_model(SynthConfig(model=model or "").resolved_model())
    except ModelLoadError as exc:
        fail(str(exc), ExitCode.SETUP)
    synth_notes = {n.id: n.text for n in read_notes(synthetic, None, id_field, text_field) if not isinstance(n, ReadError)}
    pairs, missing = [], 0
    for note in read_notes(originals, None, id_field, text_field):
        if isinstance(note, ReadError) or note.id not in synth_notes:
            missing += 1
            continue
        pairs.append((note.id, note.text, synth_notes[note.id]))
    checker = Checker(shared_detector(None), RiskSettings(max_risk=max_risk, fail_on_residual_phi=False),
                      vocabulary.is_common)
    sink = open(output, "w", encoding="utf-8") if output else None
    failed = 0
    typer.echo(f"{'id':<28} {'risk':>6} {'leaks':>5} {'resid':>5} {'overlap':>7} {'run':>4}  verdict")
    for note_id, report in score_pairs(checker, pairs):
        failed += not report.passed
        typer.echo(f"{note_id[:28]:<28} {report.risk:>6.3f} {report.leaked_phi:>5} {report.residual_phi:>5} "
                   f"{report.distinctive_overlap:>7.3f} {report.longest_verbatim_run:>4}  {'pass' if report.passed else 'FAIL'}")
        if sink:
            sink.write(json.dumps({"id": note_id, **report.to_dict()}) + "\n")
    if sink:
        sink.close()
    typer.echo(f"notesynth: {failed} failing pair(s), {missing} original(s) without a synthetic match", err=True)
    raise typer.Exit(int(ExitCode.HELD) if failed else 0)


def register(app: typer.Typer) -> None:
    app.command()(detect)
    app.command()(score)
