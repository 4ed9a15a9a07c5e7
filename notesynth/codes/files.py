"""Atomic, private writes for `notesynth codes`: the batch writer's (``batch/files.py``: a temp
file in the target folder, fsync'd, 0600, renamed over the target), with a failure turned
into a ``SetupError`` that says what to do.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from notesynth.batch import files
from notesynth.codes.errors import SetupError


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    try:
        files.atomic_write_bytes(Path(path), data)
    except OSError as exc:
        raise SetupError(f"cannot write {path}: {exc.strerror or type(exc).__name__}; "
                         "check free space and permissions, or choose a writable location") from exc


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_write_figure(path: str | Path, fig) -> None:
    """matplotlib figure -> PNG, through memory so the file itself is written atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
