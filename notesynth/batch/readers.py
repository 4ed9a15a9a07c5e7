"""Reading notes: folders of .txt, a file, stdin (JSONL, CSV and Parquet records: records.py).

Every read problem becomes a ``ReadError`` that names the input (path, line,
id), never its text.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
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
    spans: tuple | None = None      # labelled spans the input carries (CoNLL), kept through synthesis


@dataclass(frozen=True)
class ReadError:
    id: str
    source: str
    message: str                    # what went wrong and what to do; never the note's text
    rel_path: str = ""              # for folder inputs: where the note's output would go
    id_replaced: bool = False       # the id could not be used: ``id`` is a stand-in (row or line number)


@dataclass(frozen=True)
class Skipped(ReadError):
    """An entry of an input folder that is not read (hidden, not .txt, not a regular file, a link...).

    A ReadError, so that callers that only skip errors skip these too; the runner records
    them as manifest rows with status ``skipped``."""


FORMATS = ("txt", "jsonl", "csv", "folder", "conll")
MAX_ID_CHARS = 200


def printable(s: str) -> str:
    """``s`` safe to put in a log line or a manifest: control characters, line breaks and
    bytes that were not UTF-8 are escaped (a file name can hold any of them)."""
    if s.isprintable():
        return s
    out = []
    for c in s:
        if c.isprintable():
            out.append(c)
        elif "\udc80" <= c <= "\udcff":  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return "".join(out)


def id_problem(value, *, from_file_name: bool = False) -> str | None:
    """Why ``value`` can't be a note id (None: it can).

    An id names output files, manifest rows and log lines, so it must look like an id:
    1 to 200 printable characters, no spaces or line breaks, valid UTF-8.  Ids taken from
    file names may hold spaces and need no length limit (the file system bounds them).
    The message never quotes the id."""
    if not isinstance(value, str):
        return "the id is not a string or a whole number"
    if not value:
        return "the id is empty"
    if _has_surrogate(value):
        return "the id is not valid UTF-8"
    if from_file_name:
        return None if value.isprintable() else "the file name holds control characters or line breaks"
    if len(value) > MAX_ID_CHARS:
        return f"the id is longer than {MAX_ID_CHARS} characters (does --id-field name the text field?)"
    if not value.isprintable() or " " in value:
        return "the id holds spaces, line breaks or control characters (does --id-field name the text field?)"
    return None


def input_format(path: str, fmt: str | None = None) -> str:
    """txt-folder, txt, jsonl or csv (stdin defaults to one raw note)."""
    if fmt:
        return fmt
    if path == "-":
        return "txt"
    p = Path(path)
    if p.suffix.lower() in PARQUET_SUFFIXES:  # a file, or a glob of files ("notes/*.parquet")
        return "parquet"
    if p.is_dir():
        return "folder"
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
            ".conll": "conll", ".bio": "conll"}.get(p.suffix.lower(), "txt")


PARQUET_SUFFIXES = (".parquet", ".pq")


def is_glob(path: str) -> bool:
    """``path`` is a pattern (quoted, so that the shell left it to us): only Parquet inputs take one."""
    return any(c in path for c in "*?[")


def parquet_files(path: str) -> list[Path]:
    """The Parquet files a path or a glob names, sorted (a stable note order)."""
    if not is_glob(path):
        return [Path(path)]
    import glob

    return [Path(q) for q in sorted(glob.glob(path, recursive=True)) if Path(q).is_file()]


def input_problem(path: str) -> str | None:
    """Why ``path`` can't be read as an input (None: it can).  Only folders and regular
    files are read: a FIFO or a device would block or never end (use - for a pipe)."""
    if path == "-":
        return None
    if is_glob(path) and input_format(path) == "parquet":
        return None if parquet_files(path) else f"input {printable(path)} matches no Parquet file"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"input {printable(path)} does not exist"
    except OSError as exc:
        return f"input {printable(path)} can't be read ({exc.strerror or type(exc).__name__})"
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return (f"input {printable(path)} is not a regular file or a folder (a FIFO, socket or device); "
                "to read from a pipe, give - and pipe it to stdin")
    return None


def decode_bytes(data: bytes, max_bytes: int = MAX_BYTES_DEFAULT) -> str:
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


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


# ---------------------------------------------------------------- readers

def read_notes(path: str, fmt: str | None = None, id_field: str = "id", text_field: str = "text",
               keep_fields: tuple[str, ...] = (), max_bytes: int = MAX_BYTES_DEFAULT,
               stdin: TextIO | None = None, follow_links: bool = False) -> Iterator[Note | ReadError]:
    """Notes (or read errors, or skipped folder entries) from a folder, a file, or stdin ("-"),
    in a stable order.

    ``keep_fields`` may not name the id or the text field (the output's own fields)."""
    from notesynth.batch import records  # (it imports this module's types)

    if id_field == text_field:
        raise ValueError("the id field and the text field must differ")
    if id_field in keep_fields or text_field in keep_fields:
        raise ValueError("--keep-field can't name the id or the text field")
    kind = input_format(path, fmt)
    if path == "-":
        stream = stdin or sys.stdin
        if kind == "jsonl":
            yield from records.read_jsonl_lines(stream, "<stdin>", id_field, text_field, keep_fields, max_bytes)
        elif kind == "csv":
            yield from records.read_csv(stream, "<stdin>", id_field, text_field, keep_fields, max_bytes)
        else:
            raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
            try:
                yield Note("stdin", decode_bytes(raw, max_bytes), "<stdin>")
            except ValueError as exc:
                yield ReadError("stdin", "<stdin>", str(exc))
        return
    if kind == "parquet":
        problem = input_problem(path)
        if problem:
            raise FileNotFoundError(problem)
        yield from records.read_parquet(path, id_field, text_field, keep_fields, max_bytes)
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input {printable(path)} does not exist")
    problem = input_problem(path)
    if problem:
        raise ValueError(problem)
    if kind == "folder":
        yield from _read_folder(p, max_bytes, follow_links)
    elif kind == "jsonl":
        with open(p, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            yield from records.read_jsonl_lines(fh, printable(str(p)), id_field, text_field, keep_fields, max_bytes)
    elif kind == "csv":
        with open(p, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            yield from records.read_csv(fh, printable(str(p)), id_field, text_field, keep_fields, max_bytes)
    elif kind == "conll":
        yield from _read_conll(p)
    else:
        yield _read_text_file(p, p.stem, p.name, max_bytes)


def _read_text_file(p: Path, note_id: str, rel: str, max_bytes: int) -> Note | ReadError:
    where = printable(str(p))
    problem = id_problem(note_id, from_file_name=True)
    if problem:
        shown = printable(note_id)
        return ReadError(f"{shown} (unusable name)", where, f"{problem}; rename the file", id_replaced=True)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the run; a device would never end
            return Skipped(f"skipped:{printable(rel)}", where, "not a regular file (FIFO, socket or device)",
                           rel_path=rel, id_replaced=True)
        if st.st_size > max_bytes:
            return ReadError(note_id, where, f"note is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit; "
                             "split it or raise --max-note-bytes", rel_path=rel)
        data = p.read_bytes()
        return Note(note_id, decode_bytes(data, max_bytes), where, rel_path=rel)
    except PermissionError:
        return ReadError(note_id, where, "file is not readable (permission denied); check its permissions", rel_path=rel)
    except OSError as exc:
        return ReadError(note_id, where, f"file could not be read ({exc.strerror or type(exc).__name__})", rel_path=rel)
    except ValueError as exc:
        return ReadError(note_id, where, str(exc), rel_path=rel)


def walk_folder(root: Path, follow_links: bool = False) -> Iterator[tuple[Path, str, str | None]]:
    """(path, relative name, reason it is not read or None) for every entry of ``root``, sorted.

    Read: regular ``.txt`` files (any case: ``.TXT`` too), and links to them inside the tree.
    Not read, each with its reason: hidden entries, other suffixes, FIFOs/sockets/devices,
    dangling links, links out of the tree and links to folders (both followed with
    ``follow_links``), unreadable folders."""
    root_real = os.path.realpath(root)
    visited = {root_real}

    def inside(real: str) -> bool:
        return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)

    def walk(folder: Path, prefix: str):
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield folder, prefix.rstrip("/") or ".", f"folder not readable ({exc.strerror or type(exc).__name__})"
            return
        for e in entries:
            rel = prefix + e.name
            path = Path(e.path)
            if e.name.startswith("."):
                is_dir = e.is_dir(follow_symlinks=False)
                yield path, rel, "hidden folder (not read)" if is_dir else "hidden file"
                continue
            if e.is_symlink():
                real = os.path.realpath(path)
                if not os.path.exists(real):
                    yield path, rel, "link to nothing (dangling link)"
                    continue
                if not inside(real) and not follow_links:
                    yield path, rel, "link to outside the input folder (not followed; see --follow-links)"
                    continue
                if os.path.isdir(real):
                    if not follow_links:
                        yield path, rel, "link to a folder (not followed; see --follow-links)"
                    elif real in visited:
                        yield path, rel, "link to a folder already read (loop)"
                    else:
                        visited.add(real)
                        yield from walk(path, rel + "/")
                    continue
            elif e.is_dir(follow_symlinks=False):
                visited.add(os.path.realpath(path))
                yield from walk(path, rel + "/")
                continue
            try:
                st = path.stat()
            except OSError as exc:
                yield path, rel, f"not readable ({exc.strerror or type(exc).__name__})"
                continue
            if not stat.S_ISREG(st.st_mode):
                yield path, rel, "not a regular file (FIFO, socket or device)"
            elif not e.name.lower().endswith(".txt"):
                yield path, rel, "not a .txt file"
            else:
                yield path, rel, None

    yield from walk(root, "")


def _read_folder(root: Path, max_bytes: int, follow_links: bool = False) -> Iterator[Note | ReadError]:
    for q, rel, reason in walk_folder(root, follow_links):
        if reason:
            yield Skipped(f"skipped:{printable(rel)}", printable(str(q)), reason, rel_path=rel, id_replaced=True)
        else:
            yield _read_text_file(q, rel[:-4], rel, max_bytes)


def _read_conll(p: Path) -> Iterator[Note | ReadError]:
    """Groups of sentences as notes, their labelled spans attached (see conll.py)."""
    from notesynth.batch import conll

    where = printable(str(p))
    try:
        notes = conll.to_notes(conll.read_sentences(p))
    except (OSError, UnicodeDecodeError) as exc:
        yield ReadError("conll", where, f"CoNLL input unreadable ({type(exc).__name__})", id_replaced=True)
        return
    except ValueError as exc:  # our own message: path and line, no content
        yield ReadError("conll", where, f"CoNLL input unreadable: {printable(str(exc))[:200]}", id_replaced=True)
        return
    for note_id, text, spans in notes:
        yield Note(note_id, text, f"{where}:{note_id}", spans=tuple(spans))


def read_annotations(path: Path) -> dict[str, list]:
    """Labelled spans by note id from JSONL rows {"id", "spans": [{"start","end","label"}]}.

    Raises ValueError naming the line (never its content)."""
    from notesynth.spans import Span

    spans: dict[str, list] = {}
    n = 0
    try:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            spans[str(row["id"])] = [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable at line {n} ({type(exc).__name__}); expected JSONL rows "
                         '{"id", "spans": [{"start","end","label"}]}') from None
    return spans
