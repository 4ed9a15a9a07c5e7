"""Where results go: a folder of .txt, a JSONL or CSV file, or stdout; plus the manifest.

File outputs are journalled: each finished note is appended durably to a hidden
journal beside the target, and the target itself is (re)written atomically in
input order when the run ends.  A killed run leaves the previous complete target
(or none) and a journal the next run resumes from.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from notesynth.io import append_line_durable, atomic_write_text, read_jsonl_rows


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
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(journal, "a", encoding="utf-8")

    def _journal_path(self) -> Path:
        return self.path.parent / f".{self.path.name}.journal"

    def get(self, note_id: str) -> dict | None:
        return self.rows.get(note_id)

    def record(self, row: dict) -> None:
        self.rows[str(row["id"])] = row
        if self._fh:
            append_line_durable(self._fh, json.dumps(row, ensure_ascii=False, sort_keys=True))

    def close(self) -> None:
        if self.path is None:
            return
        if self._fh:
            self._fh.close()
            self._fh = None
        body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in self.rows.values())
        atomic_write_text(self.path, body)
        self._journal_path().unlink(missing_ok=True)


@dataclass
class Output:
    id: str
    text: str
    keep: dict
    rel_path: str = ""


class FolderSink:
    """One .txt per note, same relative name as the input; each written atomically."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.manifest_path = folder / "manifest.jsonl"

    def target(self, note_id: str, rel_path: str = "") -> Path:
        rel = rel_path or f"{note_id}.txt"
        path = (self.folder / rel).resolve()
        if self.folder.resolve() not in path.parents:
            path = self.folder / (Path(rel).name or "note.txt")
        return path

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return self.target(note_id, rel_path).exists()

    def write(self, out: Output) -> None:
        atomic_write_text(self.target(out.id, out.rel_path), out.text)

    def remove(self, note_id: str, rel_path: str = "") -> None:
        self.target(note_id, rel_path).unlink(missing_ok=True)

    def close(self, order: list[str]) -> None:
        pass


class RecordFileSink:
    """A JSONL or CSV file of {id, text, kept fields}; journalled, rewritten atomically at close."""

    def __init__(self, path: Path, fmt: str, id_field: str = "id", text_field: str = "text"):
        self.path = path
        self.fmt = fmt
        self.id_field = id_field
        self.text_field = text_field
        self.manifest_path = path.parent / f"{path.name}.manifest.jsonl"
        self.journal = path.parent / f".{path.name}.journal"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: dict[str, dict] = {}
        for row in self._read_existing() + read_jsonl_rows(self.journal):
            self.rows[str(row.get(id_field))] = row
        self._fh = open(self.journal, "a", encoding="utf-8")

    def _read_existing(self) -> list[dict]:
        if not self.path.exists():
            return []
        if self.fmt == "jsonl":
            return read_jsonl_rows(self.path)
        with open(self.path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return note_id in self.rows

    def write(self, out: Output) -> None:
        row = {self.id_field: out.id, self.text_field: out.text, **out.keep}
        self.rows[out.id] = row
        append_line_durable(self._fh, json.dumps(row, ensure_ascii=False))

    def remove(self, note_id: str, rel_path: str = "") -> None:
        if self.rows.pop(note_id, None) is not None:
            append_line_durable(self._fh, json.dumps({self.id_field: note_id, "__removed__": True}))

    def close(self, order: list[str]) -> None:
        self._fh.close()
        ordered = [self.rows[i] for i in order if i in self.rows and "__removed__" not in self.rows[i]]
        seen = set(order)
        ordered += [r for k, r in self.rows.items() if k not in seen and "__removed__" not in r]
        if self.fmt == "jsonl":
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered)
        else:
            buf = io.StringIO()
            fields = [self.id_field, self.text_field] + sorted({k for r in ordered for k in r} - {self.id_field, self.text_field})
            writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(ordered)
            body = buf.getvalue()
        atomic_write_text(self.path, body)
        self.journal.unlink(missing_ok=True)


class StdoutSink:
    """Raw text (one note) or one JSONL/CSV line per note, flushed as it is done."""

    def __init__(self, fmt: str, id_field: str = "id", text_field: str = "text", stream=None):
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self.id_field = id_field
        self.text_field = text_field
        self.manifest_path = None
        self._csv_header = False

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return False

    def write(self, out: Output) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps({self.id_field: out.id, self.text_field: out.text, **out.keep},
                                         ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            writer = csv.writer(self.stream, lineterminator="\n")
            if not self._csv_header:
                writer.writerow([self.id_field, self.text_field, *out.keep])
                self._csv_header = True
            writer.writerow([out.id, out.text, *out.keep.values()])
        else:
            self.stream.write(out.text)
        self.stream.flush()

    def remove(self, note_id: str, rel_path: str = "") -> None:
        pass

    def close(self, order: list[str]) -> None:
        self.stream.flush()


def open_sink(path: str, fmt: str, id_field: str = "id", text_field: str = "text"):
    if path == "-":
        return StdoutSink(fmt, id_field, text_field)
    p = Path(path)
    if fmt == "folder" or p.is_dir() or (not p.suffix and fmt != "txt"):
        return FolderSink(p)
    if fmt in ("jsonl", "csv"):
        return RecordFileSink(p, fmt, id_field, text_field)
    return SingleFileSink(p)


class SingleFileSink(FolderSink):
    """One input note, one output file."""

    def __init__(self, path: Path):
        self.path = path
        self.folder = path.parent
        path.parent.mkdir(parents=True, exist_ok=True)
        self.manifest_path = path.parent / f"{path.name}.manifest.jsonl"

    def target(self, note_id: str, rel_path: str = "") -> Path:
        return self.path
