"""Reading notes and writing results: folders of .txt, JSONL, CSV, stdin/stdout.

Every read problem becomes a ``ReadError`` that names the input (path, line,
id), never its text.  Every write is atomic: a temporary file in the target
folder, flushed and fsync'd, then renamed over the target.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TextIO

MAX_BYTES_DEFAULT = 1_000_000


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    source: str                     # where it came from: path or path:line (no content)
    keep: dict = field(default_factory=dict)   # extra fields the user asked to keep
    rel_path: str = ""              # for folder inputs: relative output path


@dataclass(frozen=True)
class ReadError:
    id: str
    source: str
    message: str                    # what went wrong and what to do; never the note's text


def input_format(path: str, fmt: str | None = None) -> str:
    """txt-folder, txt, jsonl or csv (stdin defaults to one raw note)."""
    if fmt:
        return fmt
    if path == "-":
        return "txt"
    p = Path(path)
    if p.is_dir():
        return "folder"
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}.get(p.suffix.lower(), "txt")


def decode_bytes(data: bytes, source: str, max_bytes: int = MAX_BYTES_DEFAULT) -> str:
    """UTF-8 (with or without BOM), else UTF-16 with BOM, else Windows-1252; binary is refused."""
    if not data.strip():
        raise ValueError("empty note (no text); nothing to synthesize")
    if len(data) > max_bytes:
        raise ValueError(f"note is {len(data):,} bytes, over the {max_bytes:,}-byte limit; "
                         "split it or raise --max-note-bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text; convert it to UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ValueError(f"not UTF-8 (bad byte at offset {exc.start}) and not Windows-1252; "
                             "re-encode the file as UTF-8") from None
        if sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\f") > len(text) // 100:
            raise ValueError("binary or unknown encoding; re-encode the file as UTF-8") from None
        return text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# ---------------------------------------------------------------- readers

def read_notes(path: str, fmt: str | None = None, id_field: str = "id", text_field: str = "text",
               keep_fields: tuple[str, ...] = (), max_bytes: int = MAX_BYTES_DEFAULT,
               stdin: TextIO | None = None) -> Iterator[Note | ReadError]:
    """Notes (or read errors) from a folder, a file, or stdin ("-"), in a stable order."""
    kind = input_format(path, fmt)
    if path == "-":
        stream = stdin or sys.stdin
        if kind == "jsonl":
            yield from _read_jsonl_lines(stream, "<stdin>", id_field, text_field, keep_fields, max_bytes)
        elif kind == "csv":
            yield from _read_csv(stream, "<stdin>", id_field, text_field, keep_fields, max_bytes)
        else:
            raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
            try:
                yield Note("stdin", decode_bytes(raw, "<stdin>", max_bytes), "<stdin>")
            except ValueError as exc:
                yield ReadError("stdin", "<stdin>", str(exc))
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input {path} does not exist")
    if kind == "folder":
        yield from _read_folder(p, max_bytes)
    elif kind == "jsonl":
        with open(p, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            yield from _read_jsonl_lines(fh, str(p), id_field, text_field, keep_fields, max_bytes)
    elif kind == "csv":
        with open(p, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            yield from _read_csv(fh, str(p), id_field, text_field, keep_fields, max_bytes)
    else:
        yield _read_text_file(p, p.stem, p.name, max_bytes)


def _read_text_file(p: Path, note_id: str, rel: str, max_bytes: int) -> Note | ReadError:
    try:
        size = p.stat().st_size
        if size > max_bytes:
            return ReadError(note_id, str(p), f"note is {size:,} bytes, over the {max_bytes:,}-byte limit; "
                             "split it or raise --max-note-bytes")
        data = p.read_bytes()
        return Note(note_id, decode_bytes(data, str(p), max_bytes), str(p), rel_path=rel)
    except PermissionError:
        return ReadError(note_id, str(p), "file is not readable (permission denied); check its permissions")
    except OSError as exc:
        return ReadError(note_id, str(p), f"file could not be read ({exc.strerror or type(exc).__name__})")
    except ValueError as exc:
        return ReadError(note_id, str(p), str(exc))


def _read_folder(root: Path, max_bytes: int) -> Iterator[Note | ReadError]:
    files = sorted(q for q in root.rglob("*.txt") if q.is_file() and not q.name.startswith("."))
    for q in files:
        rel = q.relative_to(root).as_posix()
        yield _read_text_file(q, rel[:-4], rel, max_bytes)


def _row_to_note(row, where: str, n: int, id_field: str, text_field: str,
                 keep_fields: tuple[str, ...], max_bytes: int) -> Note | ReadError:
    note_id = str(row.get(id_field) if row.get(id_field) not in (None, "") else n)
    text = row.get(text_field)
    if text is None:
        return ReadError(note_id, where, f"no {text_field!r} field; name the text field with --text-field")
    if not isinstance(text, str):
        return ReadError(note_id, where, f"field {text_field!r} is not a string")
    if not text.strip():
        return ReadError(note_id, where, "empty note (no text); nothing to synthesize")
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return ReadError(note_id, where, f"note is over the {max_bytes:,}-byte limit; split it or raise --max-note-bytes")
    if any("\udc80" <= c <= "\udcff" for c in text):
        return ReadError(note_id, where, "text is not valid UTF-8; re-encode the file as UTF-8")
    keep = {k: row[k] for k in keep_fields if k in row}
    return Note(note_id, text, where, keep=keep)


def _read_jsonl_lines(stream, name, id_field, text_field, keep_fields, max_bytes):
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{name}:{n}"
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            yield ReadError(str(n), where, "line is not valid JSON; fix or remove it")
            continue
        if not isinstance(row, dict):
            yield ReadError(str(n), where, "line is JSON but not an object like {\"id\": ..., \"text\": ...}")
            continue
        yield _row_to_note(row, where, n, id_field, text_field, keep_fields, max_bytes)


def _read_csv(stream, name, id_field, text_field, keep_fields, max_bytes):
    csv.field_size_limit(max(max_bytes * 2, 1_000_000))
    reader = csv.DictReader(stream)
    if reader.fieldnames and text_field not in reader.fieldnames:
        yield ReadError("-", name, f"no {text_field!r} column (columns: {', '.join(reader.fieldnames)}); use --text-field")
        return
    try:
        for n, row in enumerate(reader, start=1):
            yield _row_to_note(row, f"{name}:row {n}", n, id_field, text_field, keep_fields, max_bytes)
    except csv.Error as exc:
        yield ReadError("-", f"{name}:line {reader.line_num}", f"malformed CSV ({exc}); fix the quoting")


# ---------------------------------------------------------------- atomic writes

def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def append_line_durable(fh, line: str) -> None:
    fh.write(line if line.endswith("\n") else line + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def read_jsonl_rows(path: Path) -> list[dict]:
    """Rows of a JSONL file, ignoring a torn last line (from a crash mid-append)."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def clean_stale_temp_files(folder: Path) -> int:
    """Remove temporary files left by a killed run (they are never complete outputs)."""
    n = 0
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            try:
                tmp.unlink()
                n += 1
            except OSError:
                pass
    return n
