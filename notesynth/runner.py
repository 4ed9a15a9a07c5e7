"""Batch runs: read, skip what is done, synthesize in batches, write, record, report.

Exit codes (also in ``notesynth synth --help`` and the README):
  0  every note written
  1  some notes held back by the privacy check (nothing risky was written)
  3  some inputs unreadable or failed (see the manifest's "error" rows)
  4  setup failed: model missing or corrupt, output not writable, disk full
  2  usage or config error (bad flag, unknown config key, out-of-range value)
  130 interrupted (SIGINT/SIGTERM): the notes in hand were finished and recorded
"""
from __future__ import annotations

import errno
import logging
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from notesynth.config import SynthConfig
from notesynth.io import Note, ReadError, clean_stale_temp_files, input_format, read_notes, text_hash
from notesynth.pipeline import NoteResult, Synthesizer
from notesynth.sinks import FolderSink, Manifest, Output, open_sink

log = logging.getLogger(__name__)

EXIT_OK, EXIT_HELD, EXIT_USAGE, EXIT_INPUT, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


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


@dataclass
class RunSummary:
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    interrupted: bool = False
    fatal: str | None = None

    @property
    def exit_code(self) -> int:
        if self.fatal:
            return EXIT_SETUP
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.counts["error"]:
            return EXIT_INPUT
        if self.counts["held"]:
            return EXIT_HELD
        return EXIT_OK

    def line(self) -> str:
        done = sum(self.counts[k] for k in ("written", "held", "error"))
        rate = done / self.seconds if self.seconds > 0 else 0.0
        parts = ", ".join(f"{k} {self.counts[k]}" for k in ("written", "held", "error", "skipped") if self.counts[k])
        return f"notesynth: {parts or 'no notes'}; {self.seconds:.1f}s, {rate:.2f} notes/s"


class _Interrupt:
    """Turns SIGINT/SIGTERM into a flag checked between batches."""

    def __init__(self):
        self.flag = False
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        if self.flag:  # second signal: stop now
            raise KeyboardInterrupt
        self.flag = True
        log.warning("signal %d received: finishing the notes in hand, then stopping", signum)

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _count_notes(path: str, kind: str) -> int | None:
    """How many notes to expect (for the ETA); None when it can't be known cheaply."""
    from pathlib import Path

    try:
        if path == "-":
            return None
        if kind == "folder":
            return sum(1 for _ in Path(path).rglob("*.txt"))
        if kind == "jsonl":
            with open(path, "rb") as fh:
                return sum(1 for line in fh if line.strip())
        if kind == "txt":
            return 1
    except OSError:
        return None
    return None


def _progress(total: int | None, enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="note", file=sys.stderr, dynamic_ncols=True)


def run(opts: RunOptions, config: SynthConfig, synthesizer: Synthesizer | None = None) -> RunSummary:
    """Synthesize every note of ``opts.input`` into ``opts.output``."""
    started = time.perf_counter()
    summary = RunSummary()
    kind = input_format(opts.input, opts.in_format)
    out_fmt = opts.out_format or (kind if kind in ("jsonl", "csv", "folder") else "txt")
    if opts.output == "-" and out_fmt == "folder":
        out_fmt = "jsonl"
    try:
        sink = open_sink(opts.output, out_fmt, opts.id_field, opts.text_field)
        manifest_path = opts.manifest or sink.manifest_path
        from pathlib import Path
        manifest = Manifest(Path(manifest_path) if manifest_path else None)
        if hasattr(sink, "folder"):
            clean_stale_temp_files(sink.folder)
    except OSError as exc:
        summary.fatal = f"output {opts.output} is not writable ({exc.strerror or type(exc).__name__}); " \
                        "choose another output or fix its permissions"
        return summary

    synth = synthesizer or Synthesizer(config)
    fingerprint = config.fingerprint()
    seen: set[str] = set()
    order: list[str] = []
    batch: list[Note] = []
    notes_iter = read_notes(opts.input, opts.in_format, opts.id_field, opts.text_field,
                            opts.keep_fields, opts.max_note_bytes)
    bar = _progress(_count_notes(opts.input, kind), opts.progress)
    last_log = time.monotonic()

    def record(row: dict) -> None:
        summary.counts[row["status"]] += 1
        manifest.record(row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: v for k, v in summary.counts.items()}, refresh=False)

    pool = _start_pool(opts.workers, config) if opts.workers > 1 else None
    wave_size = max(1, config.batch_size) * (opts.workers * 2 if pool else 1)

    def flush_batch() -> None:
        nonlocal batch
        if not batch:
            return
        chunks = [batch[k:k + config.batch_size] for k in range(0, len(batch), max(1, config.batch_size))]
        ann = opts.annotations or {}
        payload = [([(n.id, n.text) for n in chunk], {n.id: ann[n.id] for n in chunk if n.id in ann})
                   for chunk in chunks]
        if pool is not None:
            done = pool.map(_work, payload, chunksize=1)
        else:
            done = [synth.synthesize_batch(p, a) for p, a in payload]
        for chunk, results in zip(chunks, done):
            for note, res in zip(chunk, results):
                _finish(note, res, sink, record, fingerprint)
        batch = []

    with _Interrupt() as interrupt:
        try:
            for item in notes_iter:
                if isinstance(item, ReadError):
                    record({"id": item.id, "status": "error", "source": item.source, "error": item.message})
                    log.warning("%s: %s", item.source, item.message)
                    continue
                if item.id in seen:
                    record({"id": item.id + "#dup", "status": "error", "source": item.source,
                            "error": "duplicate id (only the first note with this id was used); make ids unique"})
                    log.warning("%s: duplicate id %s skipped", item.source, item.id)
                    continue
                seen.add(item.id)
                order.append(item.id)
                prior = manifest.get(item.id)
                key = text_hash(item.text)
                if (not opts.overwrite and prior and prior.get("input_hash") == key
                        and prior.get("settings") == fingerprint
                        and (prior.get("status") == "held" or
                             (prior.get("status") == "written" and sink.exists(item.id, item.rel_path)))):
                    summary.counts["skipped"] += 1
                    continue
                batch.append(item)
                if len(batch) >= wave_size:
                    flush_batch()
                if bar is None and opts.progress and time.monotonic() - last_log > 30:
                    done = sum(summary.counts.values())
                    log.info("progress: %d notes done (%s), %.2f notes/s", done, dict(summary.counts),
                             done / max(1e-9, time.perf_counter() - started))
                    last_log = time.monotonic()
                if interrupt.flag:
                    break
            if not interrupt.flag:
                flush_batch()
            summary.interrupted = interrupt.flag
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                summary.fatal = "disk full while writing outputs; free space and re-run (finished notes are kept)"
            else:
                summary.fatal = f"could not write outputs ({exc.strerror or type(exc).__name__}); check the output path"
            log.error(summary.fatal)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            if pool is not None:
                pool.terminate()
            if bar is not None:
                bar.close()
            try:
                sink.close(order)
                manifest.close()
            except OSError as exc:
                summary.fatal = summary.fatal or f"could not finish writing outputs ({exc.strerror})"
    summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------- worker processes
_WORKER: Synthesizer | None = None


def _init_worker(config: SynthConfig, threads: int) -> None:
    """Each worker loads the detector and model once; SIGINT is left to the parent."""
    global _WORKER
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    _WORKER = Synthesizer(config)
    _WORKER.detector, _WORKER.infiller  # noqa: B018 - load now, not on the first batch


def _work(job) -> list[NoteResult]:
    notes, annotations = job
    return _WORKER.synthesize_batch(notes, annotations)


def _start_pool(workers: int, config: SynthConfig):
    import multiprocessing
    import os

    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can deadlock
    return ctx.Pool(workers, initializer=_init_worker, initargs=(config, threads))


def _finish(note: Note, res: NoteResult, sink, record, fingerprint: str) -> None:
    row = res.manifest_row()
    row.update({"source": note.source, "input_hash": text_hash(note.text), "settings": fingerprint})
    if res.status == "written":
        keep = dict(note.keep)
        if res.annotations is not None:
            keep["spans"] = [{"start": a.start, "end": a.end, "label": a.label} for a in res.annotations]
        sink.write(Output(note.id, res.text, keep, note.rel_path))
        if isinstance(sink, FolderSink):
            row["output"] = str(sink.target(note.id, note.rel_path))
    else:
        sink.remove(note.id, note.rel_path)  # a held note never keeps an older output
    row = {k: v for k, v in row.items() if v is not None}
    record(row)
