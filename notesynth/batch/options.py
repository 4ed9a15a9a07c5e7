"""Options of a batch run and their checks: a usage error is found before anything heavy is
imported (torch, presidio) and before anything is read or written."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from notesynth.batch.readers import FORMATS, input_format, input_problem
from notesynth.batch.sinks import OUTPUT_FORMATS, sink_kind

MAX_SECONDS_PER_NOTE = 120.0   # default watchdog per note (0: none)


@dataclass
class RunOptions:
    input: str
    output: str
    in_format: str | None = None
    out_format: str | None = None
    id_field: str = "id"
    text_field: str = "text"
    keep_fields: tuple[str, ...] = ()
    overwrite: bool = False
    manifest: str | None = None
    progress: bool = True
    max_note_bytes: int = 1_000_000
    workers: int = 1
    annotations: dict | None = None  # note id -> [Span] carried through synthesis (JSONL output)
    follow_links: bool = False       # folder inputs: follow links out of the tree and links to folders
    csv_neutralise: bool = True      # CSV outputs: a ' before cells a spreadsheet would run as formulas
    max_seconds_per_note: float = MAX_SECONDS_PER_NOTE  # 0: no limit
    engine: object | None = None     # a batch.engines.Engine that synthesizes the notes (None: here, --workers)


def check_options(opts: RunOptions) -> str | None:
    """Why these options can't run (a usage error, exit 2), or None.  Nothing is read or written."""
    for flag, value, choices in (("--format", opts.in_format, FORMATS),
                                 ("--output-format", opts.out_format, OUTPUT_FORMATS)):
        if value is not None and value not in choices:
            return f"{flag} must be one of {', '.join(choices)}"
    if opts.out_format == "parquet" and opts.output == "-":
        return "--output-format parquet writes shards into a folder: give an output folder, not -"
    if opts.id_field == opts.text_field:
        return (f"--id-field and --text-field both name {opts.text_field!r}: the id becomes file names, "
                "manifest rows and log lines, so it can't be the note's text")
    for k in opts.keep_fields:
        if k in (opts.id_field, opts.text_field):
            return (f"--keep-field {k!r} is the {'id' if k == opts.id_field else 'text'} field: the output's id and "
                    "text are never copied from the input (a kept text field would write the original note)")
    if opts.max_note_bytes < 1:
        return "--max-note-bytes must be at least 1"
    if opts.workers < 1:
        return "--workers must be at least 1"
    m = opts.max_seconds_per_note
    if not isinstance(m, (int, float)) or not math.isfinite(m) or m < 0:
        return "--max-seconds-per-note must be a finite number of seconds (0: no limit)"
    return input_problem(opts.input) or _path_problem(opts)


def default_manifest(output: str, out_fmt: str) -> Path | None:
    kind = sink_kind(output, out_fmt)
    if kind == "stdout":
        return None
    p = Path(os.path.abspath(output))
    return p / "manifest.jsonl" if kind in ("folder", "parquet") else p.parent / f"{p.name}.manifest.jsonl"


def _path_problem(opts: RunOptions) -> str | None:
    """The output (or the manifest) is the input, or inside the input folder: the run would
    overwrite or mix with the original notes."""
    if opts.input == "-":
        return None
    src = Path(os.path.realpath(opts.input))
    src_is_dir = src.is_dir()
    out_fmt = output_format(opts, input_format(opts.input, opts.in_format))
    named = [("output", opts.output)] if opts.output != "-" else []
    manifest = opts.manifest or default_manifest(opts.output, out_fmt)
    if manifest is not None:
        named.append(("manifest", str(manifest)))
    for what, path in named:
        real = Path(os.path.realpath(path))
        same = real == src or (real.exists() and os.path.samefile(real, src))
        if same:
            return (f"the {what} {path} is the input: the run would overwrite the original notes; "
                    f"choose another {what}")
        if src_is_dir and src in real.parents:
            return (f"the {what} {path} is inside the input folder {opts.input}: outputs would mix with the "
                    f"original notes; choose a {what} outside it")
    if not src_is_dir and opts.output != "-" and sink_kind(opts.output, out_fmt) == "folder":
        target = Path(os.path.realpath(Path(opts.output) / src.name))
        if target == src:
            return (f"the output folder {opts.output} holds the input: the note's output would overwrite it; "
                    "choose another output")
    return None


def output_format(opts: RunOptions, in_kind: str) -> str:
    out_fmt = opts.out_format or (in_kind if in_kind in ("jsonl", "csv", "folder", "conll")
                                  else "jsonl" if in_kind == "parquet" else "txt")  # many notes: records or a folder
    return "jsonl" if opts.output == "-" and out_fmt == "folder" else out_fmt
