"""The notesynth command line: parsing and printing only; the work lives in the library."""
from __future__ import annotations

import logging
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


def _setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


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
    max_risk: Optional[float] = typer.Option(None, help="Notes with a higher re-identification risk are retried, then held back. Default 0.5."),
    retries: Optional[int] = typer.Option(None, help="Re-syntheses (new seed, higher mask ratio) before a note is held back. Default 2."),
    on_fail: Optional[str] = typer.Option(None, help="hold (record and go on) or error (count as an error). Default hold."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with any of these settings ([notesynth] table or top level)."),
    format: Optional[str] = typer.Option(None, "--format", help="Input format when it can't be told from the name: txt, jsonl, csv, folder."),
    output_format: Optional[str] = typer.Option(None, help="Output format (default: as the input)."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    keep_field: List[str] = typer.Option([], "--keep-field", help="Extra input field to copy to the output (others are dropped: they may hold PHI)."),
    manifest: Optional[str] = typer.Option(None, help="Manifest path (default: manifest.jsonl beside the outputs)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo every note, even those a previous run finished."),
    max_note_bytes: int = typer.Option(8_000_000, help="Larger notes are reported as errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the summary line."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging (never note text)."),
) -> None:
    """Synthesize notes: detect PHI, replace it, re-generate a share of words, check, write.

    A note is written only if it passes the re-identification check; a manifest row
    per note records its status, counts and risk figures (never its text).
    """
    _setup_logging(verbose, quiet)
    cfg = _load_config(config, model=model, mask_ratio=mask_ratio, seed=seed, device=device,
                       batch_size=batch_size, passes=passes, strategy=strategy, temperature=temperature,
                       top_k=top_k, top_p=top_p, max_risk=max_risk, retries=retries, on_fail=on_fail)
    from notesynth.infill import ModelLoadError
    from notesynth.pipeline import Synthesizer
    from notesynth.runner import EXIT_SETUP, RunOptions, run

    if input != "-" and not Path(input).exists():
        typer.echo(f"notesynth: input {input} does not exist", err=True)
        raise typer.Exit(2)
    synthesizer = Synthesizer(cfg)
    try:
        synthesizer.infiller  # load the model before reading notes: fail fast with a clear message
    except ModelLoadError as exc:
        typer.echo(f"notesynth: {exc}", err=True)
        raise typer.Exit(EXIT_SETUP)
    opts = RunOptions(input=input, output=output, in_format=format, out_format=output_format,
                      id_field=id_field, text_field=text_field, keep_fields=tuple(keep_field),
                      overwrite=overwrite, manifest=manifest, progress=not quiet, max_note_bytes=max_note_bytes)
    summary = run(opts, cfg, synthesizer)
    if summary.fatal:
        typer.echo(f"notesynth: {summary.fatal}", err=True)
    typer.echo(summary.line(), err=True)
    raise typer.Exit(summary.exit_code)


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
