"""Step 7 of the flow: batch runs. Readers (one per format), sinks (one per output kind),
the manifest, atomic files, and the local runner; engines for clusters plug in beside it."""
from notesynth.batch.readers import Note, ReadError, read_notes
from notesynth.batch.runner import RunOptions, RunSummary, run

__all__ = ["Note", "ReadError", "RunOptions", "RunSummary", "read_notes", "run"]
