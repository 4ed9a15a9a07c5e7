"""``--workers N``: a pool of processes, each with its own detector and model.

The parent keeps reading, writing and the manifest; a worker only turns a chunk of
``(id, text)`` into ``NoteResult``s (a note's result never depends on which process made it).
"""
from __future__ import annotations

import os
import signal

from notesynth.batch.limits import synthesize_bounded, warm_up
from notesynth.config import SynthConfig
from notesynth.pipeline import NoteResult, Synthesizer

_WORKER: Synthesizer | None = None
_WORKER_MAX_SECONDS = 0.0


def _init_worker(config: SynthConfig, threads: int, max_seconds: float = 0.0) -> None:
    """Each worker loads the detector and model once; SIGINT is left to the parent."""
    global _WORKER, _WORKER_MAX_SECONDS
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    _WORKER = Synthesizer(config)
    _WORKER.detector, _WORKER.infiller, _WORKER.checker  # noqa: B018 - load now, not on the first batch
    if max_seconds:
        warm_up(_WORKER)
    _WORKER_MAX_SECONDS = max_seconds


def work(job) -> list[NoteResult]:
    notes, annotations = job
    return synthesize_bounded(_WORKER, notes, annotations, _WORKER_MAX_SECONDS)


def start_pool(workers: int, config: SynthConfig, max_seconds: float = 0.0):
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can deadlock
    return ctx.Pool(workers, initializer=_init_worker, initargs=(config, threads, max_seconds))
