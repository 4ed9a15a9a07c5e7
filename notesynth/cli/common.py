"""What every command shares: logging set-up, config loading, failing with an exit code."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, List, NoReturn, Optional

import typer

from notesynth.config import option_help
from notesynth.exits import ExitCode


def setup_logging(verbose: bool = False, quiet: bool = False, log_file: Optional[str] = None,
                  log_format: str = "text") -> None:
    from notesynth import logs

    try:
        logs.setup(verbose, quiet, log_file, log_format)
    except logs.LogSetupError as exc:
        fail(str(exc), ExitCode.USAGE)


def quiet_libraries() -> None:
    """rouge-score logs through absl at INFO; presidio lists its recognizers."""
    for name in ("absl", "presidio-analyzer", "presidio_analyzer", "transformers", "filelock", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def fail(message: str, code: ExitCode) -> NoReturn:
    typer.echo(f"notesynth: {message}", err=True)
    raise typer.Exit(int(code))


def require_input(path: str, what: str = "input") -> None:
    if path != "-" and not Path(path).exists():
        fail(f"{what} {path} does not exist", ExitCode.USAGE)


def require_choice(flag: str, value: Optional[str], allowed: tuple[str, ...]) -> None:
    """A flag with a fixed set of values: anything else is a usage error that lists them."""
    if value is not None and value not in allowed:
        fail(f"{flag} must be one of {', '.join(allowed)}", ExitCode.USAGE)


def load_config(config_file: Optional[Path], **flags):
    """Settings from the TOML file, then the flags that were given."""
    from notesynth.config import ConfigError, build_config, load_toml

    try:
        values = load_toml(config_file) if config_file else {}
        return build_config(values, **flags)
    except ConfigError as exc:
        fail(f"config error: {exc}", ExitCode.USAGE)


# Options several commands share, written once (typer reads the Annotated metadata).
InputArg = Annotated[str, typer.Argument(help="Folder of .txt, a .jsonl/.csv/.txt/.conll file, or - for stdin.")]
OutputArg = Annotated[str, typer.Argument(help="Output folder, .jsonl/.csv/.txt/.conll file, or - for stdout.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="TOML file with any of these settings (top level or a 'notesynth' table).")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", help="Input format when it can't be told from the name: txt, jsonl, csv, folder, conll (token<TAB>BIO-tag; labelled spans are carried into a CoNLL output).")]
PhiTaggerOpt = Annotated[Optional[bool], typer.Option("--phi-tagger/--no-phi-tagger", help=option_help("phi_tagger"))]
OutputFormatOpt = Annotated[Optional[str], typer.Option(help="Output format (default: as the input; JSONL for Parquet input): txt, jsonl, csv, folder, conll, or parquet (shards of 10,000 notes in an output folder, for large runs).")]
IdFieldOpt = Annotated[str, typer.Option(help="JSONL/CSV field holding the note id.")]
TextFieldOpt = Annotated[str, typer.Option(help="JSONL/CSV field holding the note text.")]
KeepFieldOpt = Annotated[List[str], typer.Option("--keep-field", help="Extra input field to copy to the output (others are dropped: they may hold PHI). Never the id or text field.")]
FollowLinksOpt = Annotated[bool, typer.Option("--follow-links", help="Folder inputs: also read links that point outside the folder, and links to folders (otherwise each is a manifest row with status skipped).")]
CsvNeutraliseOpt = Annotated[bool, typer.Option("--csv-neutralise/--no-csv-neutralise", help="CSV outputs: put a ' before cells starting with = + - @ (or a tab, CR or ') so that a spreadsheet never runs them as formulas.")]
MaxSecondsOpt = Annotated[Optional[float], typer.Option("--max-seconds-per-note", help="A note still unfinished after this many seconds is stopped and recorded as an error (0: no limit). Default: 120.")]
ManifestOpt = Annotated[Optional[str], typer.Option(help="Manifest path (default: manifest.jsonl beside the outputs).")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Redo every note, even those a previous run finished.")]
MaxNoteBytesOpt = Annotated[int, typer.Option(help="Larger notes are reported as errors.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the summary line.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging (never note text).")]
