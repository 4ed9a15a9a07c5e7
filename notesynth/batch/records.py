"""Notes from record files: JSONL lines, CSV rows, Parquet rows (one note per record).

A record that can't be a note (no text, a bad id, malformed CSV, over the size limit)
becomes one ``ReadError`` naming the file and line or row, never its content; reading
goes on at the next record.
"""
from __future__ import annotations

import csv
import json
from typing import Iterator

from notesynth.batch.readers import Note, ReadError, id_problem, parquet_files, printable


def _note_id(row: dict, id_field: str, n: int) -> tuple[str, str | None]:
    """(id, problem): the row's id (the line/row number when it has none) or why it can't be one."""
    value = row.get(id_field)
    if value is None or value == "":
        return str(n), None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return "", "the id is not a string or a whole number"
    value = str(value)
    return value, id_problem(value)


def _row_to_note(row, where: str, n: int, id_field: str, text_field: str,
                 keep_fields: tuple[str, ...], max_bytes: int, unit: str = "line") -> Note | ReadError:
    note_id, problem = _note_id(row, id_field, n)
    if problem:  # never echoed: it may be the note's text (--id-field text) or garbage
        return ReadError(f"{unit} {n}", where, f"{problem}; the {unit} number stands in for it; "
                         "fix the id or choose the id field with --id-field", id_replaced=True)
    if text_field not in row:
        return ReadError(note_id, where, f"no {text_field!r} field; name the text field with --text-field")
    text = row[text_field]
    if text is None:
        return ReadError(note_id, where, f"field {text_field!r} is null (no text); nothing to synthesize")
    if not isinstance(text, str):
        return ReadError(note_id, where, f"field {text_field!r} is not a string")
    if not text.strip():
        return ReadError(note_id, where, "empty note (no text); nothing to synthesize")
    try:
        size = len(text.encode("utf-8"))  # a lone surrogate (bytes that were not UTF-8) fails here, at C speed
    except UnicodeEncodeError:
        return ReadError(note_id, where, "text is not valid UTF-8; re-encode the file as UTF-8")
    if size > max_bytes:
        return ReadError(note_id, where, f"note is over the {max_bytes:,}-byte limit; split it or raise --max-note-bytes")
    keep = {k: row[k] for k in keep_fields if k in row}
    for k, v in keep.items():
        try:
            json.dumps(v, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            return ReadError(note_id, where, f"kept field {k!r} is not valid UTF-8; re-encode the file as UTF-8")
    return Note(note_id, text, where, keep=keep)


def read_jsonl_lines(stream, name, id_field, text_field, keep_fields, max_bytes):
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{name}:{n}"
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            yield ReadError(f"line {n}", where, "line is not valid JSON; fix or remove it", id_replaced=True)
            continue
        if not isinstance(row, dict):
            yield ReadError(f"line {n}", where, "line is JSON but not an object like {\"id\": ..., \"text\": ...}",
                            id_replaced=True)
            continue
        yield _row_to_note(row, where, n, id_field, text_field, keep_fields, max_bytes)


_CSV_PROBLEMS = {
    "unexpected end of data": "a quote opened in this record is never closed, so every line after it "
                              "was read into one field",
    "expected after": "a closing quote is followed by more text (an unbalanced or unescaped quote)",
    "line contains nul": "the record holds a NUL byte",
    "field larger than field limit": "a field is over the size limit (an unclosed quote?)",
    "new-line character seen in unquoted field": "a line break inside an unquoted field",
}


def read_csv(stream, name, id_field, text_field, keep_fields, max_bytes):
    """Strict CSV: a quote must close, a closing quote must be followed by a comma or the end
    of the line, and every record has as many fields as the header.  A record breaking any of
    these (an unbalanced quote merges rows) is one error row naming its physical lines, and
    reading goes on at the next line.  A quoted field that spans lines and closes properly is
    taken as written: notes hold line breaks."""
    csv.field_size_limit(max(max_bytes * 2, 1_000_000))
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error:
        yield ReadError("header", f"{name}:line 1", "the header row is malformed CSV; fix the quoting",
                        id_replaced=True)
        return
    if text_field not in header:
        # the header cells are never listed: a file without a header has a note there
        yield ReadError("header", f"{name}:line 1", f"no {text_field!r} column among the {len(header)} header "
                        "cells of line 1 (the first line must name the columns); use --text-field or add a header",
                        id_replaced=True)
        return
    n = 0
    last_line = reader.line_num
    while True:
        first = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            text = str(exc).lower()
            why = next((v for k, v in _CSV_PROBLEMS.items() if k in text), "malformed CSV")
            last_line = reader.line_num
            lines = f"{first}-{last_line}" if last_line > first else f"{first}"
            yield ReadError(f"lines {lines}", f"{name}:lines {lines}",
                            f"{why}; lines {lines} are not read; fix the quoting", id_replaced=True)
            continue
        last_line = reader.line_num
        if not cells:
            continue
        n += 1
        lines = f"{first}-{last_line}" if last_line > first else f"{first}"
        where = f"{name}:row {n} (lines {lines})"
        if len(cells) != len(header):
            yield ReadError(f"row {n}", where, f"record has {len(cells)} fields, the header has {len(header)} "
                            "(an unquoted comma or an unbalanced quote?); fix the quoting", id_replaced=True)
            continue
        yield _row_to_note(dict(zip(header, cells)), where, n, id_field, text_field, keep_fields, max_bytes,
                           unit="row")


def read_parquet(path: str, id_field, text_field, keep_fields, max_bytes) -> Iterator[Note | ReadError]:
    """Rows of one Parquet file or of a glob's files (columns id and text, as --id-field and
    --text-field name them), a record batch at a time.  A row without an id takes its number
    counted over all the files (stable while the files are)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError('reading Parquet needs pyarrow: pip install "notesynth[ray]"') from None
    n = 0
    for f in parquet_files(path):
        where = printable(str(f))
        k = 0
        try:
            pf = pq.ParquetFile(f)
            names = pf.schema_arrow.names
            if text_field not in names:
                yield ReadError(f"{where} (no text)", where, f"no {text_field!r} column (columns: "
                                f"{', '.join(map(printable, names))}); use --text-field", id_replaced=True)
                continue
            columns = [c for c in dict.fromkeys((id_field, text_field, *keep_fields)) if c in names]
            for batch in pf.iter_batches(batch_size=1024, columns=columns):
                for row in batch.to_pylist():
                    n, k = n + 1, k + 1
                    try:
                        yield _row_to_note(row, f"{where}:row {k}", n, id_field, text_field, keep_fields,
                                           max_bytes, unit="row")
                    except TypeError:  # a kept column of a type JSON can't hold (a timestamp, bytes)
                        yield ReadError(f"row {n}", f"{where}:row {k}", "a kept column is not text or a number; "
                                        "drop its --keep-field", id_replaced=True)
        except (OSError, ValueError, pa.ArrowException) as exc:  # a file, or its rest after row k, unreadable
            yield ReadError(f"{where} (unreadable)", where, f"Parquet file unreadable after {k} rows "
                            f"({type(exc).__name__}); check or rewrite it", id_replaced=True)
