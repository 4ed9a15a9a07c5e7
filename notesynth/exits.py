"""Exit codes of every command, and the help text that explains them (one definition)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0            # every note written
    HELD = 1          # some notes held back by the privacy check (nothing risky was written)
    USAGE = 2         # usage or config error (bad flag, unknown config key, out-of-range value)
    INPUT = 3         # some inputs unreadable or failed (see the manifest's "error" rows)
    SETUP = 4         # setup failed: model missing or corrupt, output not writable or locked, disk full
    INTERRUPTED = 130  # SIGINT/SIGTERM: finished notes kept; the note in hand recorded as an interrupted error


HELP = (
    "Exit codes: 0 all written; 1 some notes held back by the privacy check; 2 usage or config error; "
    "3 some inputs unreadable or failed; 4 setup failed (model missing/corrupt, output not writable or in use by another run, disk full); "
    "130 interrupted (finished notes kept; re-run to resume)."
)
