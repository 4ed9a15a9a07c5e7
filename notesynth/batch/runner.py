"""Batch runs: read, skip what is done, synthesize in batches, write, record, report.

Exit codes: ``notesynth.exits.ExitCode``.

What a run guarantees, whatever the input:
- every input item ends as one manifest row: written, held, error (with a reason that
  never quotes the note) or skipped (a folder entry that is not read, with the reason);
- one output file per note id, never shared, never outside the output, never the input;
- one run per output at a time (a lock file beside it);
- every note finishes or fails within ``max_seconds_per_note`` (a watchdog in the process
  that synthesizes it), and a signal abandons the note in hand within seconds (limits.py).

Where notes are synthesized: here, in ``--workers`` processes (pool.py), or by an engine
(engines/).  Reading, resume, writing and the manifest stay here, whatever the engine.
"""
from __future__ import annotations

import errno
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from notesynth.batch.files import OutputBusy, OutputLock
from notesynth.batch.limits import Interrupted, SignalGuard, cap_workers, synthesize_bounded, warm_up
from notesynth.batch.manifest import Manifest
from notesynth.batch.options import (MAX_SECONDS_PER_NOTE, RunOptions, check_options, default_manifest,
                                     output_format)
from notesynth.batch.pool import start_pool, work
from notesynth.batch.progress import progress_bar
from notesynth.batch.readers import Note, ReadError, Skipped, input_format, read_notes, text_hash
from notesynth.batch.sinks import Output, OutputCollision, Sink, open_sink, output_name
from notesynth.exits import ExitCode
from notesynth.pipeline import NoteResult, Synthesizer

log = logging.getLogger(__name__)

_FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}  # the whole output is broken, not one note


@dataclass
class RunSummary:
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    interrupted: bool = False
    fatal: str | None = None
    usage: str | None = None         # the options were refused before anything was read or written
    workers: int = 1

    @property
    def exit_code(self) -> int:
        if self.usage:
            return ExitCode.USAGE
        if self.fatal:
            return ExitCode.SETUP
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.counts["error"]:
            return ExitCode.INPUT
        if self.counts["held"]:
            return ExitCode.HELD
        return ExitCode.OK

    def line(self) -> str:
        done = sum(self.counts[k] for k in ("written", "held", "error"))
        rate = done / self.seconds if self.seconds > 0 else 0.0
        parts = ", ".join(f"{k} {self.counts[k]}" for k in ("written", "held", "error", "skipped", "not read")
                          if self.counts[k])
        return f"notesynth: {parts or 'no notes'}; {self.seconds:.1f}s, {rate:.2f} notes/s"


def _lock_targets(opts: RunOptions, out_fmt: str) -> list[Path]:
    """The output and, when given apart from it, the manifest: one run at a time on each."""
    targets = []
    if opts.output != "-":
        targets.append(Path(os.path.abspath(opts.output)))
    if opts.manifest and Path(os.path.abspath(opts.manifest)) != default_manifest(opts.output, out_fmt):
        targets.append(Path(os.path.abspath(opts.manifest)))
    return targets


def run(opts: RunOptions, synthesizer: Synthesizer) -> RunSummary:
    """Synthesize every note of ``opts.input`` into ``opts.output`` with ``synthesizer``'s settings."""
    started = time.perf_counter()
    summary = RunSummary()
    summary.usage = check_options(opts)
    if summary.usage:
        return summary
    kind = input_format(opts.input, opts.in_format)
    out_fmt = output_format(opts, kind)
    locks: list[OutputLock] = []
    try:
        for target in _lock_targets(opts, out_fmt):
            locks.append(OutputLock(target).acquire())
        sink = open_sink(opts.output, out_fmt, opts.id_field, opts.text_field, keep_fields=opts.keep_fields,
                         neutralise=opts.csv_neutralise,
                         protect=Path(opts.input) if opts.input != "-" else None)
        manifest_path = opts.manifest or sink.manifest_path
        manifest = Manifest(Path(manifest_path) if manifest_path else None)
    except OutputBusy as exc:
        summary.fatal = str(exc)
    except OSError as exc:
        summary.fatal = f"output {opts.output} is not writable ({exc.strerror or type(exc).__name__}); " \
                        "choose another output or fix its permissions"
    if summary.fatal:
        for lock in locks:
            lock.release()
        return summary
    try:
        summary.workers, note = cap_workers(opts.workers)
        if note:
            log.warning(note)
        _run_batches(opts, synthesizer, sink, manifest, summary, kind, started)
    finally:
        for lock in locks:
            lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


def _run_batches(opts, synthesizer, sink, manifest, summary, kind, started) -> None:
    with SignalGuard() as interrupt:
        batch = _Batch(opts, synthesizer, sink, manifest, summary, progress_bar(opts, kind), interrupt)
        notes = read_notes(opts.input, opts.in_format, opts.id_field, opts.text_field, opts.keep_fields,
                           opts.max_note_bytes, follow_links=opts.follow_links)
        try:
            for item in notes:
                batch.add(item)
                if interrupt.flag:
                    break
                batch.log_progress(started)
            if not interrupt.flag:
                batch.flush()
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
            if interrupt.flag:
                log.warning("signal %s received: the notes in hand were abandoned (manifest rows 'interrupted'); "
                            "run again to finish", interrupt.signum)
            batch.close()
    batch.report_unread()


class _Batch:
    """Notes waiting for the synthesizer, and what happens to each when it comes back."""

    def __init__(self, opts: RunOptions, synth: Synthesizer, sink: Sink, manifest: Manifest,
                 summary: RunSummary, bar, interrupt: SignalGuard):
        self.opts, self.synth, self.sink, self.manifest, self.summary, self.bar = opts, synth, sink, manifest, summary, bar
        self.interrupt = interrupt
        config = synth.config
        self.fingerprint = config.fingerprint()
        self.batch_size = max(1, config.batch_size)
        self.max_seconds = float(opts.max_seconds_per_note or 0)
        workers = summary.workers
        self.engine = opts.engine
        self.pool = start_pool(workers, config, self.max_seconds) if workers > 1 and not self.engine else None
        self.wave_size = self.batch_size * (workers * 2 if self.pool else 1)
        if self.engine is not None:
            self.wave_size = self.engine.wave_size or math.inf
        self.seen: set[str] = set()
        self.dups: Counter = Counter()
        self.order: list[str] = []
        self.notes: list[Note] = []
        self.unread: Counter = Counter()
        self.last_log = time.monotonic()
        self._warm = False

    # ---- reading
    def _unique(self, note_id: str, source: str) -> str | None:
        """None if ``note_id`` is new (it is now taken), else the id of its duplicate row."""
        if note_id not in self.seen:
            self.seen.add(note_id)
            return None
        self.dups[note_id] += 1
        log.warning("%s: duplicate id %s skipped", source, note_id)
        return f"{note_id} (duplicate {self.dups[note_id]})"

    def add(self, item: Note | ReadError) -> None:
        if isinstance(item, Skipped):
            self.unread[item.message] += 1
            log.debug("%s: not read (%s)", item.source, item.message)
            self.record({"id": item.id, "status": "skipped", "source": item.source, "reason": item.message},
                        count_as="not read")
            return
        if isinstance(item, ReadError):
            row = {"id": item.id, "status": "error", "source": item.source, "error": item.message}
            if not item.id_replaced:
                dup = self._unique(item.id, item.source)
                if dup is not None:
                    row.update(id=dup, error="duplicate id (only the first note with this id was used); make ids unique")
                else:
                    self._drop_output(item.id, item.rel_path)  # an error note never keeps an older output
            self.record(row)
            log.warning("%s: %s", item.source, item.message)
            return
        dup = self._unique(item.id, item.source)
        if dup is not None:
            self.record({"id": dup, "status": "error", "source": item.source,
                         "error": "duplicate id (only the first note with this id was used); make ids unique"})
            return
        self.order.append(item.id)
        if self._finished_before(item):
            self.summary.counts["skipped"] += 1
            return
        self.notes.append(item)
        if len(self.notes) >= self.wave_size:
            self.flush()

    def _finished_before(self, note: Note) -> bool:
        """Resume: the same text with the same settings was written (and is still there) or held."""
        prior = self.manifest.get(note.id)
        return (not self.opts.overwrite and prior is not None and prior.get("input_hash") == text_hash(note.text)
                and prior.get("settings") == self.fingerprint
                and (prior.get("status") == "held" or
                     (prior.get("status") == "written" and self.sink.exists(note.id, note.rel_path))))

    # ---- synthesizing
    def _warm_up(self) -> None:
        """Before the first watched batch: start-up time is not a note's."""
        if not self._warm:
            if self.max_seconds:
                warm_up(self.synth)
            self._warm = True

    def _synthesize(self, notes, annotations) -> list[NoteResult]:
        self._warm_up()
        self.interrupt.in_synth = True
        try:
            if self.interrupt.flag:  # a signal came while the previous batch was written
                raise Interrupted
            return synthesize_bounded(self.synth, notes, annotations, self.max_seconds)
        finally:
            self.interrupt.in_synth = False

    def flush(self) -> None:
        if not self.notes:
            return
        if self.engine is not None:
            notes, self.notes = self.notes, []
            return self._from_engine(notes)
        chunks = [self.notes[k:k + self.batch_size] for k in range(0, len(self.notes), self.batch_size)]
        payload = [([(n.id, n.text) for n in chunk], {n.id: s for n in chunk if (s := self._spans(n)) is not None})
                   for chunk in chunks]
        self.notes = []
        pending = list(chunks)
        try:
            if self.pool is not None:
                self.interrupt.in_synth = True
                try:
                    if self.interrupt.flag:
                        raise Interrupted
                    done = self.pool.imap(work, payload, chunksize=1)
                    for chunk in chunks:
                        results = next(done)
                        self.interrupt.in_synth = False
                        self._finish_chunk(chunk, results)
                        pending.pop(0)
                        if self.interrupt.flag:
                            raise Interrupted
                        self.interrupt.in_synth = True
                finally:
                    self.interrupt.in_synth = False
            else:
                for chunk, (notes, annotations) in zip(chunks, payload):
                    results = self._synthesize(notes, annotations)
                    self._finish_chunk(chunk, results)
                    pending.pop(0)
        except Interrupted:
            self.interrupt.flag = True
            for chunk in pending:
                for note in chunk:
                    self._abandon(note)

    def _from_engine(self, notes: list[Note]) -> None:
        """An engine's results, as they finish, in any order (matched by id: ids are unique in a run).
        A signal abandons the notes not yet back; an engine failure records them and is fatal."""
        from notesynth.batch.engines import EngineError

        waiting = {n.id: n for n in notes}
        annotations = {n.id: s for n in notes if (s := self._spans(n)) is not None}
        self.interrupt.in_synth = True
        try:
            if self.interrupt.flag:
                raise Interrupted
            results = iter(self.engine.synthesize([(n.id, n.text) for n in notes], annotations))
            while waiting:
                try:
                    res = next(results)
                except StopIteration:
                    break
                except EngineError as exc:
                    self.summary.fatal = str(exc)
                    log.error(self.summary.fatal)
                    break
                note = waiting.pop(res.id, None)
                if note is None:
                    continue
                self.interrupt.in_synth = False
                self.finish(note, res)
                if self.interrupt.flag:
                    raise Interrupted
                self.interrupt.in_synth = True
        except Interrupted:
            self.interrupt.flag = True
        finally:
            self.interrupt.in_synth = False
        for note in waiting.values():
            self._abandon(note, None if self.interrupt.flag else "not synthesized: the engine failed; run again to do it")

    def _finish_chunk(self, chunk: list[Note], results: list[NoteResult]) -> None:
        for note, res in zip(chunk, results):
            self.finish(note, res)

    def _abandon(self, note: Note, error: str | None = None) -> None:
        self._drop_output(note.id, note.rel_path)
        self.record({"id": note.id, "status": "error", "source": note.source, "input_hash": text_hash(note.text),
                     "error": error or "interrupted (signal) before this note was finished; run again to do it"})

    def _spans(self, note: Note):
        """Labelled spans to carry: the input's own (CoNLL), else the --annotations file's."""
        if note.spans is not None:
            return list(note.spans)
        return (self.opts.annotations or {}).get(note.id)

    # ---- writing
    def _drop_output(self, note_id: str, rel_path: str) -> None:
        try:
            self.sink.remove(note_id, rel_path)
        except OSError as exc:
            if exc.errno in _FATAL_ERRNOS:
                raise

    def finish(self, note: Note, res: NoteResult) -> None:
        """Write a passing note (else drop any older output of it) and record its manifest row."""
        row = res.manifest_row()
        row.update({"source": note.source, "input_hash": text_hash(note.text), "settings": self.fingerprint})
        if res.status == "written" and not (res.text or "").strip():
            row.update(status="error", error="the synthetic note is empty; nothing written")
        if row["status"] == "written":
            keep = dict(note.keep)
            if res.annotations is not None:
                keep["spans"] = [{"start": a.start, "end": a.end, "label": a.label} for a in res.annotations]
            try:
                row["output"] = self.sink.write(Output(note.id, res.text, keep, note.rel_path))
            except OutputCollision as exc:
                row.update(status="error", error=f"output not written: {exc}")
            except (OSError, ValueError) as exc:  # this note's file only: a name, an encoding
                if isinstance(exc, OSError) and exc.errno in _FATAL_ERRNOS:
                    raise
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                row.update(status="error", error=f"output not written ({reason})")
            if row["status"] == "error":
                log.warning("note %s: %s", note.id, row["error"])
        if row["status"] != "written":
            self._drop_output(note.id, note.rel_path)  # a held or failed note never keeps an older output
        self.record({k: v for k, v in row.items() if v is not None})

    def record(self, row: dict, count_as: str | None = None) -> None:
        self.summary.counts[count_as or row["status"]] += 1
        self.manifest.record(row)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(dict(self.summary.counts), refresh=False)

    def log_progress(self, started: float) -> None:
        """Without a progress bar (not a terminal), a log line every 30 s."""
        if self.bar is None and self.opts.progress and time.monotonic() - self.last_log > 30:
            done = sum(self.summary.counts.values())
            log.info("progress: %d notes done (%s), %.2f notes/s", done, dict(self.summary.counts),
                     done / max(1e-9, time.perf_counter() - started))
            self.last_log = time.monotonic()

    def report_unread(self) -> None:
        if self.unread:
            reasons = "; ".join(f"{n} {why}" for why, n in self.unread.most_common())
            log.warning("%d input entries not read (%s); each has a manifest row with status 'skipped'",
                        sum(self.unread.values()), reasons)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
        if self.bar is not None:
            self.bar.close()
        try:
            self.sink.close(self.order)
            self.manifest.close()
        except OSError as exc:
            self.summary.fatal = self.summary.fatal or f"could not finish writing outputs ({exc.strerror})"


__all__ = ["RunOptions", "RunSummary", "check_options", "cap_workers", "run", "synthesize_bounded", "warm_up",
           "output_name", "MAX_SECONDS_PER_NOTE"]
