"""Code-set records: read and write JSONL or long CSV, truncate codes, map records to vectors.

A record is one patient or admission and the set of codes it carries; order and repeats
are dropped because the model sees a binary vector over the vocabulary.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from notesynth.codes.errors import UsageError
from notesynth.codes.files import atomic_write_text
from notesynth.codes.settings import FORMATS, TRUNCATIONS, RecordFormat

log = logging.getLogger("notesynth.codes")



@dataclass(frozen=True)
class Record:
    id: str
    codes: tuple[str, ...]  # sorted and unique


def detect_format(path: str | Path, fmt: Optional[str] = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    raise UsageError(f"{path}: can't tell the format from the name; use a .jsonl, .csv or .tsv name or pass --format")


# ---------------------------------------------------------------- truncation

def truncate_code(code: str, rule: str = "none") -> str:
    """Map a code to its category: fewer, denser columns for small data sets.

    icd9-3: ICD-9-CM to its 3-character category (V codes too); E codes keep 4
    characters (E800-E999 are only told apart there). Dotted codes with a short
    numeric head are zero-padded first ("38.9" -> "038"). icd10-3: the 3-character
    ICD-10 category ("I25.10" -> "I25").
    """
    code = code.strip()
    if rule == "none" or not code:
        return code
    c = code.upper()
    if rule == "icd9-3":
        if "." in c:
            head = c.split(".", 1)[0]
            c = head.zfill(3) if head.isdigit() else head
        return c[:4] if c.startswith("E") else c[:3]
    if rule == "icd10-3":
        return c.replace(".", "")[:3]
    raise UsageError(f"unknown truncation {rule!r}; use one of {', '.join(TRUNCATIONS)}")


def make_record(record_id, codes: Iterable, truncate: str = "none") -> Record:
    cleaned = {truncate_code(str(c), truncate) for c in codes}
    cleaned.discard("")
    return Record(str(record_id), tuple(sorted(cleaned)))


# ---------------------------------------------------------------- reading

def read_records(path: str | Path, fmt: RecordFormat | None = None, truncate: str = "none") -> list[Record]:
    """All records of a JSONL or long-CSV file, codes truncated by `truncate`."""
    fmt = fmt or RecordFormat()
    if truncate not in TRUNCATIONS:
        raise UsageError(f"unknown truncation {truncate!r}; use one of {', '.join(TRUNCATIONS)}")
    path = Path(path)
    kind = detect_format(path, fmt.format)
    if not path.is_file():
        raise UsageError(f"{path}: no such file; give a JSONL file of {{\"id\", \"codes\"}} rows or a long CSV of (record id, code) rows")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); re-encode it as UTF-8") from None
    records = _read_jsonl(text, path, fmt, truncate) if kind == "jsonl" else _read_csv(text, path, fmt, truncate, kind)
    log.info("read %d records from %s", len(records), path.name)
    return records


def _read_jsonl(text: str, path: Path, fmt: RecordFormat, truncate: str) -> list[Record]:
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise UsageError(f"{path} line {n}: not valid JSON; each line must be one {{\"id\", \"codes\"}} object") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path} line {n}: not a JSON object")
        if fmt.codes_field not in row:
            raise UsageError(f"{path} line {n}: no field {fmt.codes_field!r}; set --codes-field to the field holding the codes")
        codes = row[fmt.codes_field]
        if not isinstance(codes, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in codes):
            raise UsageError(f"{path} line {n}: field {fmt.codes_field!r} must be a list of codes (strings or integers)")
        records.append(make_record(row.get(fmt.id_field, f"line-{n}"), codes, truncate))
    return records


def _read_csv(text: str, path: Path, fmt: RecordFormat, truncate: str, kind: str) -> list[Record]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if kind == "tsv" else ",")
    columns = reader.fieldnames or []
    for col, opt in ((fmt.id_column, "--id-column"), (fmt.code_column, "--code-column")):
        if col not in columns:
            raise UsageError(f"{path}: no column {col!r} (columns: {', '.join(columns) or 'none'}); set {opt}")
    grouped: dict[str, list[str]] = {}
    for row in reader:
        rid = (row.get(fmt.id_column) or "").strip()
        if not rid:
            raise UsageError(f"{path} line {reader.line_num}: empty {fmt.id_column!r}")
        grouped.setdefault(rid, []).append(row.get(fmt.code_column) or "")  # empty code: a record with no codes
    return [make_record(rid, codes, truncate) for rid, codes in grouped.items()]


# ---------------------------------------------------------------- writing

def write_records(path: str | Path, records: Sequence[Record], fmt: RecordFormat | None = None) -> None:
    """JSONL rows or long CSV (a record without codes gets one row with an empty code)."""
    fmt = fmt or RecordFormat()
    kind = detect_format(path, fmt.format)
    if kind == "jsonl":
        text = "".join(json.dumps({fmt.id_field: r.id, fmt.codes_field: list(r.codes)}) + "\n" for r in records)
    else:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, delimiter="\t" if kind == "tsv" else ",", lineterminator="\n")
        writer.writerow([fmt.id_column, fmt.code_column])
        for r in records:
            for code in r.codes or ("",):
                writer.writerow([r.id, code])
        text = buf.getvalue()
    atomic_write_text(path, text)


# ---------------------------------------------------------------- vectors

def build_vocab(records: Sequence[Record], min_count: int = 1) -> list[str]:
    """Codes in at least `min_count` records, sorted; rarer codes are left out (they can identify)."""
    counts: dict[str, int] = {}
    for r in records:
        for c in r.codes:
            counts[c] = counts.get(c, 0) + 1
    return sorted(c for c, k in counts.items() if k >= min_count)


def to_matrix(records: Sequence[Record], vocab: Sequence[str]) -> np.ndarray:
    """(records x vocabulary) 0/1 float32 matrix; codes outside the vocabulary are dropped."""
    index = {c: i for i, c in enumerate(vocab)}
    x = np.zeros((len(records), len(vocab)), dtype=np.float32)
    for row, r in enumerate(records):
        cols = [index[c] for c in r.codes if c in index]
        x[row, cols] = 1.0
    return x


def from_matrix(x: np.ndarray, vocab: Sequence[str], prefix: str = "synth-", start: int = 0) -> list[Record]:
    vocab = list(vocab)
    return [Record(f"{prefix}{start + i:06d}", tuple(vocab[j] for j in np.flatnonzero(row))) for i, row in enumerate(x)]


def code_set_hash(codes: Iterable[str], salt: str) -> str:
    """Salted SHA-256 of a code set: lets the copy guard match records without storing codes."""
    body = "\x1f".join(sorted(set(codes)))
    return hashlib.sha256(f"{salt}\x1e{body}".encode("utf-8")).hexdigest()
