"""`train`: fine-tune or train from scratch the masked LM that fills the masks."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer

from notesynth.cli.common import setup_logging


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
    repeat: List[str] = typer.Option([], "--repeat", help="SOURCE=K: see that corpus file's training documents K times per epoch (oversample a small in-domain source)."),
    site_vocab: int = typer.Option(0, "--site-vocab", help="Fine-tuning: up to N frequent words the base tokenizer splits (\"cont\", \"secretions\") become tokens of their own, so fills can write them; the base vocabulary's unused slots are used first (0: off)."),
    site_vocab_min_docs: int = typer.Option(5, "--site-vocab-min-docs", help="A site-vocabulary word occurs in at least this many training documents."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Train a masked LM from scratch or fine-tune one (whole-word masking)."""
    from notesynth.train import SIZES, TrainConfig, train as run_train

    setup_logging(verbose)
    if size not in SIZES:
        raise typer.BadParameter(f"--size must be one of {', '.join(SIZES)}")
    if not from_scratch and not base:
        raise typer.BadParameter("give --base MODEL to fine-tune, or --from-scratch")
    pairs = []
    for item in repeat:
        name, _, k = item.rpartition("=")
        if not name or not k.isdigit() or int(k) < 1:
            raise typer.BadParameter(f"--repeat wants SOURCE=K, got {item!r}")
        pairs.append((name, int(k)))
    cfg = TrainConfig(
        corpus=tuple(str(c) for c in corpus), out=str(out), base=base, from_scratch=from_scratch,
        size=size, text_field=text_field, seq_len=seq_len, batch_size=batch_size,
        learning_rate=learning_rate, warmup_steps=warmup_steps, max_steps=max_steps, epochs=epochs,
        max_minutes=max_minutes, eval_share=eval_share, eval_steps=eval_steps, save_steps=save_steps,
        seed=seed, device=device, resume=resume, fp16_weights=fp16_weights, repeat=tuple(pairs),
        site_vocab=site_vocab, site_vocab_min_docs=site_vocab_min_docs,
        command="notesynth train " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
    )
    metrics = run_train(cfg)
    typer.echo(f"saved {out}: held-out top-1 {metrics['top1']:.4f}, pseudo-perplexity {metrics['pseudo_perplexity']:.2f}")


def adapt(
    notes: str = typer.Argument(..., help="The site's notes: a folder of .txt, a .jsonl/.csv file, or CoNLL (as for synth)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the adapted Hugging Face model to."),
    base: Optional[str] = typer.Option(None, "--base", help="Model to adapt (default: the shipped model)."),
    max_minutes: Optional[float] = typer.Option(15.0, "--max-minutes", help="Wall-clock budget for training; stops cleanly and saves. 0: no budget."),
    max_steps: int = typer.Option(-1, help="Stop after this many steps (-1: use --epochs or the budget)."),
    epochs: Optional[float] = typer.Option(None, help="Passes over the notes (default: as many as --max-minutes allows; 3 without a budget)."),
    seed: int = typer.Option(13, "--seed", help="Seeds surrogates, the held-out split and training."),
    batch_size: int = typer.Option(16),
    learning_rate: float = typer.Option(1e-4),
    save_steps: int = typer.Option(50, help="Checkpoint every N steps (an interrupted run resumes from the newest)."),
    restart: bool = typer.Option(False, "--restart", help="Discard OUT's checkpoints instead of resuming from them."),
    site_vocab: int = typer.Option(500, "--site-vocab", help="Up to N frequent ordinary words of your notes that the base tokenizer splits become tokens of their own, so fills can write them (each in at least 5 notes; never a name or medical term; 0: keep the base tokenizer)."),
    calibration_notes: int = typer.Option(400, "--calibration-notes", help="After training, estimate the fill calibration (fills write each word about as often as your notes do) on this many of your notes, with surrogates (0: off; a few minutes beyond --max-minutes)."),
    id_field: str = typer.Option("id", help="JSONL/CSV field holding the note id."),
    text_field: str = typer.Option("text", help="JSONL/CSV field holding the note text."),
    input_format: Optional[str] = typer.Option(None, "--format", help="Input format: txt, jsonl, csv, folder, conll (default: from the path)."),
    device: str = typer.Option("cpu", help="cpu, cuda or auto."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Fine-tune the masked LM on your own notes, after every detected PHI span is replaced by a
    surrogate, so that synthetic notes read like your site's notes (see docs/ADAPT.md)."""
    from notesynth.cli.common import fail
    from notesynth.exits import ExitCode
    from notesynth.train.adapt import AdaptConfig, adapt as run_adapt

    setup_logging(verbose)
    cfg = AdaptConfig(
        notes=notes, out=str(out), base=base, max_minutes=max_minutes or None, max_steps=max_steps, epochs=epochs,
        seed=seed, batch_size=batch_size, learning_rate=learning_rate, save_steps=save_steps,
        site_vocab=site_vocab, calibration_notes=calibration_notes, id_field=id_field, text_field=text_field, fmt=input_format, resume=not restart, device=device,
        command="notesynth adapt " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
    )
    try:
        metrics = run_adapt(cfg)
    except FileNotFoundError as exc:
        fail(str(exc), ExitCode.USAGE)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    counts = metrics["adaptation"]
    typer.echo(f"saved {out}: {counts['documents']} notes ({counts['phi_spans_replaced']} PHI spans replaced by "
               f"surrogates), {metrics['steps']} steps in {metrics['train_minutes']} min, held-out top-1 "
               f"{metrics['top1']:.4f}")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(adapt)
