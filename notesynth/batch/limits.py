"""Limits of a run: how many worker processes, how long a note may take, and signals.

Every note finishes or fails within ``max_seconds_per_note`` (a SIGALRM watchdog in the
process that synthesizes it), a signal abandons the notes in hand within seconds, and
``--workers`` never asks for more processes than the cores and memory hold.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from notesynth.pipeline import NoteResult, Synthesizer

log = logging.getLogger(__name__)

WORKER_GB = 1.0                # memory one worker process needs (detector + model), for the worker cap


# ---------------------------------------------------------------- workers

def _available_memory_gb() -> float | None:
    """Memory this process may still use: MemAvailable, lowered by a cgroup limit."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit.isdigit():
            room = int(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return None if avail is None else max(0.0, avail / 2**30)


def cap_workers(requested: int, cores: int | None = None, memory_gb: float | None = None) -> tuple[int, str | None]:
    """Worker processes to start: no more than the cores this process may use, nor than
    available memory / ``WORKER_GB``; the reason when ``requested`` is lowered.
    (``cores`` and ``memory_gb`` default to this machine's.)"""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    mem = _available_memory_gb() if memory_gb is None else memory_gb
    limit = cores if mem is None else min(cores, max(1, int(mem // WORKER_GB)))
    n = max(1, min(requested, limit))
    if n == requested:
        return n, None
    mem_text = "unknown memory" if mem is None else f"{mem:.1f} GB of memory available"
    return n, (f"--workers {requested} lowered to {n}: {cores} cores and {mem_text}; each worker loads "
               f"the PHI detector and the model (about {WORKER_GB:g} GB)")


# ---------------------------------------------------------------- time limit and signals

class NoteTimeout(BaseException):
    """The watchdog's alarm (a BaseException, so that no ``except Exception`` in the pipeline eats it)."""


class Interrupted(BaseException):
    """A signal arrived while notes were being synthesized: they are abandoned."""


def _alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def _deadline(seconds: float):
    """Raise NoteTimeout in this (main) thread after ``seconds``.  A note stuck inside one C call
    (one regular-expression match, one tensor operation) is stopped when that call returns."""
    armed = [True]

    def alarm(signum, frame):
        if armed[0]:
            armed[0] = False
            raise NoteTimeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


WARM_UP_NOTE = "Patient seen today. Vitals stable. Continue current plan."


def warm_up(synth: Synthesizer) -> None:
    """Load everything a first note would load lazily (detector, checker, lexicons, the model's
    first call) by synthesizing one short fixed note, unwatched and unlogged: a note's time
    limit then measures the note, not start-up."""
    synth.detector, synth.checker  # noqa: B018
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        synth.synthesize_batch([("warm-up", WARM_UP_NOTE)])
    except Exception:  # a real problem shows on the first real note, with its own row
        pass
    finally:
        logging.disable(previous)


def _timed_out(note_id: str, max_seconds: float) -> NoteResult:
    log.warning("note %s: stopped after %g s (--max-seconds-per-note); recorded as an error", note_id, max_seconds)
    return NoteResult(note_id, "error", None, seconds=max_seconds, error=(
        f"took over {max_seconds:g} s (--max-seconds-per-note) and was stopped; split the note or raise the limit"))


def synthesize_bounded(synth: Synthesizer, notes: list[tuple[str, str]], annotations: dict | None,
                       max_seconds: float) -> list[NoteResult]:
    """``synth.synthesize_batch`` within ``max_seconds`` per note.

    The batch gets ``max_seconds * len(notes)``; past that, its notes are redone one by one
    (a note's result does not depend on its batch), each within ``max_seconds``, and a note
    that runs over becomes an error result.  Without a limit, or off the main thread (no
    SIGALRM there), this is ``synthesize_batch``."""
    annotations = annotations or {}
    if not max_seconds or not _alarm_available():
        return synth.synthesize_batch(notes, annotations)
    try:
        with _deadline(max_seconds * len(notes)):
            return synth.synthesize_batch(notes, annotations)
    except NoteTimeout:
        if len(notes) == 1:
            return [_timed_out(notes[0][0], max_seconds)]
    results = []
    for note_id, text in notes:
        one = {note_id: annotations[note_id]} if note_id in annotations else {}
        try:
            with _deadline(max_seconds):
                results.extend(synth.synthesize_batch([(note_id, text)], one))
        except NoteTimeout:
            results.append(_timed_out(note_id, max_seconds))
    return results


class SignalGuard:
    """SIGINT/SIGTERM: a flag checked between notes, and, while notes are being synthesized,
    ``Interrupted`` raised at once (the notes in hand are abandoned and recorded).  A second
    signal stops the run where it is (KeyboardInterrupt)."""

    def __init__(self):
        self.flag = False
        self.signum: int | None = None
        self.in_synth = False
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
        self.flag, self.signum = True, signum  # logged by the run, not here (no I/O in a handler)
        if self.in_synth:
            self.in_synth = False
            raise Interrupted

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
