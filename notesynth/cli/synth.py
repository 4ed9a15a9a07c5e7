"""`synth` and `redact`: parse options, build the config, run the batch, report."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from notesynth.cli.common import (ConfigOpt, CsvNeutraliseOpt, FollowLinksOpt, FormatOpt, IdFieldOpt, InputArg,
                                  KeepFieldOpt, ManifestOpt, MaxNoteBytesOpt, MaxSecondsOpt, OutputArg,
                                  OutputFormatOpt, OverwriteOpt, PhiTaggerOpt, QuietOpt, TextFieldOpt, VerboseOpt, fail,
                                  load_config, require_choice, require_input, setup_logging)
from notesynth.config import option_help
from notesynth.exits import HELP as EXIT_CODES_HELP
from notesynth.exits import ExitCode

EPILOG = (EXIT_CODES_HELP + " Exit 4 also when another run holds the output (its lock file); exit 130: the notes "
          "being synthesized were abandoned and recorded as 'interrupted' errors.")


def synth(
    input: InputArg,
    output: OutputArg,
    model: Optional[str] = typer.Option(None, help=option_help("model")),
    mask_ratio: Optional[float] = typer.Option(None, help=option_help("mask_ratio")),
    seed: Optional[int] = typer.Option(None, help=option_help("seed")),
    device: Optional[str] = typer.Option(None, help=option_help("device")),
    backend: Optional[str] = typer.Option(None, help=option_help("backend")),
    batch_size: Optional[int] = typer.Option(None, help=option_help("batch_size")),
    passes: Optional[int] = typer.Option(None, help=option_help("passes")),
    strategy: Optional[str] = typer.Option(None, help=option_help("strategy")),
    temperature: Optional[float] = typer.Option(None, help=option_help("temperature")),
    top_k: Optional[int] = typer.Option(None, help=option_help("top_k")),
    top_p: Optional[float] = typer.Option(None, help=option_help("top_p")),
    max_pieces_per_word: Optional[int] = typer.Option(None, help=option_help("max_pieces_per_word")),
    max_risk: Optional[float] = typer.Option(None, help=option_help("max_risk")),
    retries: Optional[int] = typer.Option(None, help=option_help("retries")),
    on_fail: Optional[str] = typer.Option(None, help=option_help("on_fail")),
    phi_tagger: PhiTaggerOpt = None,
    config: ConfigOpt = None,
    format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    id_field: IdFieldOpt = "id",
    text_field: TextFieldOpt = "text",
    keep_field: KeepFieldOpt = [],
    manifest: ManifestOpt = None,
    overwrite: OverwriteOpt = False,
    max_note_bytes: MaxNoteBytesOpt = 1_000_000,
    follow_links: FollowLinksOpt = False,
    csv_neutralise: CsvNeutraliseOpt = True,
    max_seconds_per_note: MaxSecondsOpt = None,
    annotations: Optional[Path] = typer.Option(None, "--annotations", help='Labelled spans to keep, JSONL rows {"id", "spans": [{"start","end","label"}]}: never masked, re-offset in the output (JSONL output gets a "spans" field).'),
    workers: int = typer.Option(1, "--workers", "-j", help="Worker processes on CPU (each loads the detector and the model, about 1 GB; capped by the cores and the available memory). Output does not depend on it."),
    engine: str = typer.Option("local", "--engine", help="local: this process (and --workers); ray: a pool of Ray actors (pip install \"notesynth[ray]\"). Output does not depend on it."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="--engine ray: the cluster to join (auto, or host:port); default: start a local one for the run."),
    num_actors: Optional[int] = typer.Option(None, "--num-actors", help="--engine ray: actors, each loading the detector and the model once (default: one per CPU of the cluster, one per GPU with --device cuda)."),
    ray_batch_size: Optional[int] = typer.Option(None, "--ray-batch-size", help="--engine ray: notes per actor call (default: --batch-size)."),
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: Optional[str] = typer.Option(None, "--log-file", help="Also write the log to this file."),
    log_format: str = typer.Option("text", "--log-format", help="text or json (one JSON object per line)."),
) -> None:
    """Synthesize notes: detect PHI, replace it, re-generate a share of words, check, write.

    A note is written only if it passes the re-identification check; a manifest row
    per note records its status, counts and risk figures (never its text).
    """
    _check_flags(format, output_format, log_format)
    _check_log_file(log_file, input, output)
    setup_logging(verbose, quiet, log_file, log_format)
    if workers < 1:
        fail("--workers must be at least 1", ExitCode.USAGE)
    ray_options = _ray_options(engine, workers, ray_address, num_actors, ray_batch_size, quiet)
    cfg = load_config(config, model=model, mask_ratio=mask_ratio, seed=seed, device=device, backend=backend,
                      batch_size=batch_size, passes=passes, strategy=strategy, temperature=temperature,
                      top_k=top_k, top_p=top_p, max_pieces_per_word=max_pieces_per_word, max_risk=max_risk,
                      retries=retries, on_fail=on_fail, phi_tagger=phi_tagger)
    spans = None
    if format == "conll" or input.endswith((".conll", ".bio")):
        if output == "-" or not output.endswith((".conll", ".bio", ".tsv")):
            fail("a CoNLL input needs a CoNLL output file (.conll, .bio or .tsv)", ExitCode.USAGE)
        format, output_format, max_note_bytes = "conll", "conll", max(max_note_bytes, 10_000_000)
        manifest = manifest or f"{output}.manifest.jsonl"
    elif annotations:
        spans = _load_annotations(annotations, output, output_format)
    _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model=True, workers=workers, annotations=spans,
         follow_links=follow_links, csv_neutralise=csv_neutralise, max_seconds_per_note=max_seconds_per_note,
         ray_options=ray_options)


def _ray_options(engine: str, workers: int, address, num_actors, batch_size, quiet: bool):
    """The Ray engine's options (None: the local engine); usage errors exit 2."""
    from notesynth.batch.engines import ENGINES

    require_choice("--engine", engine, ENGINES)
    if engine != "ray":
        if address or num_actors or batch_size:
            fail("--ray-address, --num-actors and --ray-batch-size need --engine ray", ExitCode.USAGE)
        return None
    if workers != 1:
        fail("--workers is for --engine local; with --engine ray use --num-actors", ExitCode.USAGE)
    for flag, value in (("--num-actors", num_actors), ("--ray-batch-size", batch_size)):
        if value is not None and value < 1:
            fail(f"{flag} must be at least 1", ExitCode.USAGE)
    from notesynth.batch.engines.ray import RayOptions

    return RayOptions(address=address, num_actors=num_actors, batch_size=batch_size, progress=not quiet)


def _check_flags(format: Optional[str], output_format: Optional[str], log_format: str = "text") -> None:
    from notesynth.batch.readers import FORMATS
    from notesynth.batch.sinks import OUTPUT_FORMATS
    from notesynth.logs import LOG_FORMATS

    require_choice("--format", format, FORMATS)
    require_choice("--output-format", output_format, OUTPUT_FORMATS)
    require_choice("--log-format", log_format, LOG_FORMATS)


def _check_log_file(log_file: Optional[str], input: str, output: str) -> None:
    """The log is appended to: never to the input or the output."""
    import os

    if not log_file:
        return
    real = os.path.realpath(log_file)
    for what, path in (("input", input), ("output", output)):
        if path != "-" and real == os.path.realpath(path):
            fail(f"--log-file {log_file} is the {what}; choose another file", ExitCode.USAGE)


def _load_annotations(path: Path, output: str, output_format: Optional[str]) -> dict:
    from notesynth.batch.readers import read_annotations

    if not (output.endswith(".jsonl") or output_format == "jsonl" or (output == "-" and output_format != "txt")):
        fail("--annotations needs a JSONL output (the spans go in each row)", ExitCode.USAGE)
    try:
        return read_annotations(path)
    except ValueError as exc:
        fail(f"annotations file {path}: {exc}", ExitCode.USAGE)


def _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model: bool, workers: int = 1, annotations=None,
         follow_links: bool = False, csv_neutralise: bool = True, max_seconds_per_note: Optional[float] = None,
         ray_options=None) -> None:
    from notesynth.batch.options import MAX_SECONDS_PER_NOTE, RunOptions, check_options  # light: no torch yet
    from notesynth.batch.readers import is_glob

    if not is_glob(input):  # a Parquet glob: check_options says when it matches nothing
        require_input(input)
    opts = RunOptions(input=input, output=output, in_format=format, out_format=output_format,
                      id_field=id_field, text_field=text_field, keep_fields=tuple(keep_field),
                      overwrite=overwrite, manifest=manifest, progress=not quiet, max_note_bytes=max_note_bytes,
                      workers=workers, annotations=annotations, follow_links=follow_links,
                      csv_neutralise=csv_neutralise,
                      max_seconds_per_note=MAX_SECONDS_PER_NOTE if max_seconds_per_note is None else max_seconds_per_note)
    problem = check_options(opts)  # before the model loads: a usage error costs nothing
    if problem:
        fail(problem, ExitCode.USAGE)
    from notesynth.batch import run
    from notesynth.infill import ModelLoadError
    from notesynth.pipeline import Synthesizer

    synthesizer = Synthesizer(cfg)
    if load_model and ray_options is None:  # (with Ray, each actor loads it: a load error stops the run, exit 4)
        try:
            synthesizer.infiller  # load the model before reading notes: fail fast with a clear message
        except ModelLoadError as exc:
            fail(str(exc), ExitCode.SETUP)
    if ray_options is not None:
        summary = _run_on_ray(opts, synthesizer, ray_options)
    else:
        summary = run(opts, synthesizer)
    if summary.usage:
        fail(summary.usage, ExitCode.USAGE)
    if summary.fatal:
        typer.echo(f"notesynth: {summary.fatal}", err=True)
    typer.echo(summary.line(), err=True)
    raise typer.Exit(summary.exit_code)


def _run_on_ray(opts, synthesizer, ray_options):
    from dataclasses import replace

    from notesynth.batch import run
    from notesynth.batch.engines import EngineError
    from notesynth.batch.engines.ray import RayEngine

    ray_options = replace(ray_options, max_seconds_per_note=opts.max_seconds_per_note)
    try:
        engine = RayEngine(synthesizer.config, ray_options)
    except EngineError as exc:
        fail(str(exc), ExitCode.SETUP)
    with engine:
        opts.engine = engine
        return run(opts, synthesizer)


def redact(
    input: InputArg,
    output: OutputArg,
    seed: Optional[int] = typer.Option(None, help="Seed for the surrogates."),
    phi_tagger: PhiTaggerOpt = None,
    config: ConfigOpt = None,
    format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    id_field: IdFieldOpt = "id",
    text_field: TextFieldOpt = "text",
    keep_field: KeepFieldOpt = [],
    manifest: ManifestOpt = None,
    overwrite: OverwriteOpt = False,
    max_note_bytes: MaxNoteBytesOpt = 1_000_000,
    follow_links: FollowLinksOpt = False,
    csv_neutralise: CsvNeutraliseOpt = True,
    max_seconds_per_note: MaxSecondsOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Replace PHI by surrogates only (no language model); every other word is kept.

    The leak and residual-PHI checks still run before a note is written.
    """
    _check_flags(format, output_format)
    setup_logging(verbose, quiet)
    cfg = load_config(config, seed=seed, mask_ratio=0.0, check_overlap=False, retries=0, mask_unknown_words=False,
                      phi_tagger=phi_tagger)
    _run(cfg, input, output, format, output_format, id_field, text_field, keep_field, manifest,
         overwrite, max_note_bytes, quiet, load_model=False, follow_links=follow_links,
         csv_neutralise=csv_neutralise, max_seconds_per_note=max_seconds_per_note)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(synth)
    app.command(epilog=EPILOG)(redact)
