"""Progress of a run on the terminal: a bar with an ETA when the note count is cheap to know."""
from __future__ import annotations

import sys
from pathlib import Path

from notesynth.batch.options import RunOptions
from notesynth.batch.readers import walk_folder


def count_notes(path: str, kind: str, follow_links: bool) -> int | None:
    """How many notes to expect (for the ETA); None when it can't be known cheaply."""
    try:
        if path == "-":
            return None
        if kind == "folder":
            return sum(1 for _, _, reason in walk_folder(Path(path), follow_links) if reason is None)
        if kind == "jsonl":
            with open(path, "rb") as fh:
                return sum(1 for line in fh if line.strip())
        if kind == "txt":
            return 1
    except OSError:
        return None
    return None


def progress_bar(opts: RunOptions, kind: str):
    if not opts.progress or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=count_notes(opts.input, kind, opts.follow_links), unit="note", file=sys.stderr,
                dynamic_ncols=True)
