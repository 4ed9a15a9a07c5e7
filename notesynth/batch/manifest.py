"""The manifest: one row per note (status, counts, risk, hashes), never its text."""
from __future__ import annotations

import json
from pathlib import Path

from notesynth.batch.files import (append_line_durable, atomic_write_text, ensure_dir, open_private_append,
                                   read_jsonl_rows)


def _dumps(row: dict) -> str:
    """One JSON line; strings that can't be UTF-8 (lone surrogates) are escaped, never fatal."""
    line = json.dumps(row, ensure_ascii=False, sort_keys=True)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(row, ensure_ascii=True, sort_keys=True)
    return line


class Manifest:
    """One row per note id (latest wins); journalled while running, compacted at close."""

    def __init__(self, path: Path | None):
        self.path = path
        self.rows: dict[str, dict] = {}
        self._fh = None
        if path is None:
            return
        journal = self._journal_path()
        for row in read_jsonl_rows(path) + read_jsonl_rows(journal):
            if "id" in row:
                self.rows[str(row["id"])] = row
        ensure_dir(path.parent)
        self._fh = open_private_append(journal)

    def _journal_path(self) -> Path:
        return self.path.parent / f".{self.path.name}.journal"

    def get(self, note_id: str) -> dict | None:
        return self.rows.get(note_id)

    def record(self, row: dict) -> None:
        self.rows[str(row["id"])] = row
        if self._fh:
            append_line_durable(self._fh, _dumps(row))

    def close(self) -> None:
        if self.path is None:
            return
        if self._fh:
            self._fh.close()
            self._fh = None
        body = "".join(_dumps(r) + "\n" for r in self.rows.values())
        atomic_write_text(self.path, body)
        self._journal_path().unlink(missing_ok=True)
