"""Engines: where the notes of a ``synth`` run are synthesized.

The local engine is ``batch/runner.py`` itself (this process, or ``--workers`` processes).
An engine here only computes results: the runner still reads the input, skips what a
previous run finished, writes through the sinks and records the manifest on the driver,
so every engine gives the same guarantees.  ``ray.py`` runs on Ray Data.

Importing this package imports no engine's dependencies.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

ENGINES = ("local", "ray")


class EngineError(RuntimeError):
    """The engine itself failed (cluster unreachable, workers lost); never names note text."""


class Engine(ABC):
    """Computes ``NoteResult``s for the notes the runner hands over.

    ``wave_size``: how many notes the runner gathers before handing them over (None: all
    of them, in one go).  ``synthesize`` yields one result per note, in any order, as they
    finish; the runner matches them to notes by id (ids are unique within a run).
    """

    wave_size: int | None = None

    @abstractmethod
    def synthesize(self, notes: list[tuple[str, str]], annotations: dict) -> Iterator:
        """One ``NoteResult`` per ``(id, text)`` of ``notes``; ``annotations``: spans by id."""

    def close(self) -> None:
        """Release what the engine started."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
