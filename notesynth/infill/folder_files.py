"""The small JSON files beside a model's weights (``fill_prior.json``, ``fill_calibration.json``).

Each has a format tag, so a file of another version reads as absent (the setting then does
nothing) instead of as wrong numbers; each is written atomically, like everything the tool writes.
"""
from __future__ import annotations

import json
from pathlib import Path

from notesynth.batch.files import atomic_write_text


def write_folder_json(folder: str | Path, name: str, fmt: str, payload: dict) -> Path:
    """Write ``{"format": fmt, **payload}`` to ``folder/name`` atomically; returns the path."""
    target = Path(folder) / name
    atomic_write_text(target, json.dumps({"format": fmt, **payload}, sort_keys=True) + "\n")
    return target


def read_folder_json(folder: str | Path, name: str, fmt: str) -> dict | None:
    """``folder/name`` as a dict when it exists and has format ``fmt``; else None."""
    path = Path(folder) / name
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if data.get("format") == fmt else None
