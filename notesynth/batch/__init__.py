"""Step 7 of the flow: batch runs. Readers (one per format), sinks (one per output kind),
the manifest, atomic files, and the local runner; engines for clusters plug in beside it.

Names are imported on first use: the readers, sinks and option checks are light, the
runner imports the pipeline (torch, presidio), so a usage error is reported at once."""
from __future__ import annotations

__all__ = ["Note", "ReadError", "RunOptions", "RunSummary", "read_notes", "run"]

_HOME = {"Note": "readers", "ReadError": "readers", "read_notes": "readers",
         "RunOptions": "options", "RunSummary": "runner", "run": "runner"}


def __getattr__(name: str):
    if name in _HOME:
        from importlib import import_module

        return getattr(import_module(f"notesynth.batch.{_HOME[name]}"), name)
    raise AttributeError(f"module 'notesynth.batch' has no attribute {name!r}")
