"""Where results go: a folder of .txt, a JSONL or CSV file, or stdout (Parquet shards: shards.py).

File outputs are journalled: each finished note is appended durably to a hidden
journal beside the target, and the target itself is (re)written atomically in
input order when the run ends.  A killed run leaves the previous complete target
(or none) and a journal the next run resumes from.

Every file is written 0600 (see files.py).  A note's own output fields (id, text)
are never overridden by kept fields.  CSV cells that a spreadsheet would run as a
formula are neutralised unless asked not to (see ``neutralise_cell``).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path

from notesynth.batch.files import (append_line_durable, atomic_write_text, clean_stale_conll_dirs,
                                   clean_stale_temp_files, ensure_dir, open_private_append, read_jsonl_rows)


@dataclass
class Output:
    id: str
    text: str
    keep: dict
    rel_path: str = ""


class OutputCollision(ValueError):
    """This note's output would land on a file another note (or the input) owns."""


# ---------------------------------------------------------------- ids to file names

_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,119}")


def output_name(note_id: str) -> str:
    """The file name of a note's output in a folder: ``ID.txt`` when the id is already a safe
    name (ASCII letters, digits, ``._-``, not hidden, no ``/``, at most 120 characters), else a
    slug of it and 12 hex digits of its SHA-256 joined by ``~``.  Safe names never hold ``~``,
    so the mapping is injective: different ids never share a file."""
    if _SAFE_NAME.fullmatch(note_id):
        return f"{note_id}.txt"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", note_id).lstrip("._-")[:60] or "note"
    digest = hashlib.sha256(note_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug}~{digest}.txt"


# ---------------------------------------------------------------- CSV formula injection

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise_cell(value):
    """A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a CR) gets
    a leading ``'``; so does one that already starts with ``'``, so that the change can be undone
    (``unneutralise_cell``) and a spreadsheet shows the original text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def unneutralise_cell(value):
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _csv_value(v):
    """A kept value as one CSV cell (lists and objects as JSON)."""
    if v is None or isinstance(v, str):
        return "" if v is None else v
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return v


class Sink(ABC):
    """Where written notes go.  ``manifest_path`` is the default manifest (None: no manifest)."""

    manifest_path: Path | None = None

    @abstractmethod
    def exists(self, note_id: str, rel_path: str = "") -> bool:
        """A finished output of this note is already there (for resume)."""

    @abstractmethod
    def write(self, out: Output) -> str | None:
        """Write one note; returns the absolute path of the file it went to (None: stdout)."""

    @abstractmethod
    def remove(self, note_id: str, rel_path: str = "") -> None:
        """Drop an older output of a note that is now held back or failed."""

    def close(self, order: list[str]) -> None:
        """Finish the output (``order``: note ids in input order)."""


def _record(id_field: str, text_field: str, out: Output) -> dict:
    """The output row: id and text first; kept fields never override them."""
    row = {id_field: out.id, text_field: out.text}
    row.update({k: v for k, v in out.keep.items() if k not in (id_field, text_field)})
    return row


def _case_insensitive(folder: Path) -> bool:
    """Whether ``folder``'s file system folds case (then two ids differing in case would share a file)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".notesynth-case-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    try:
        return os.path.exists(os.path.join(folder, os.path.basename(tmp).upper()))
    finally:
        os.unlink(tmp)


class FolderSink(Sink):
    """One .txt per note: the input's relative name for folder inputs, else ``output_name(id)``;
    each written atomically.  ``protect``: a file or folder (the input) never written into."""

    def __init__(self, folder: Path, protect: Path | None = None):
        self.folder = Path(os.path.abspath(folder))
        ensure_dir(self.folder)
        self.manifest_path = self.folder / "manifest.jsonl"
        self.protect = Path(os.path.realpath(protect)) if protect is not None else None
        self._root = Path(os.path.realpath(self.folder))
        self._parents: dict[Path, Path] = {}  # output folder -> its real path (cached: one realpath per folder)
        self._fold = _case_insensitive(self.folder)
        self._claimed: dict[str, str] = {}  # target -> note id, this run
        clean_stale_temp_files(self.folder)  # temporary files of a killed run are never complete outputs

    def target(self, note_id: str, rel_path: str = "") -> Path:
        rel = rel_path or output_name(note_id)
        path = Path(os.path.abspath(self.folder / rel))
        # where the file really lands: os.replace writes into the real parent folder (a link
        # in the last place is replaced, not followed)
        real = self._real_parent(path.parent) / path.name
        if self._root not in real.parents:
            raise OutputCollision("its output path would leave the output folder")
        if self.protect is not None and (real == self.protect or self.protect in real.parents):
            raise OutputCollision("its output path is inside the input; choose another output")
        return path

    def _real_parent(self, folder: Path) -> Path:
        real = self._parents.get(folder)
        if real is None:
            real = Path(os.path.realpath(folder))
            if len(self._parents) < 10_000:
                self._parents[folder] = real
        return real

    def _claim(self, note_id: str, path: Path) -> None:
        key = str(path).casefold() if self._fold else str(path)
        owner = self._claimed.setdefault(key, note_id)
        if owner != note_id:
            raise OutputCollision("another note of this run has the same output file "
                                  "(ids that differ only in case, on a case-insensitive file system?)")

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        try:
            return self.target(note_id, rel_path).exists()
        except OutputCollision:
            return False

    def write(self, out: Output) -> str | None:
        target = self.target(out.id, out.rel_path)
        self._claim(out.id, target)
        atomic_write_text(target, out.text)
        return str(target)

    def remove(self, note_id: str, rel_path: str = "") -> None:
        try:
            self.target(note_id, rel_path).unlink(missing_ok=True)
        except (OutputCollision, IsADirectoryError, NotADirectoryError):
            pass


class RecordFileSink(Sink):
    """A JSONL or CSV file of {id, text, kept fields}; journalled, rewritten atomically at close."""

    def __init__(self, path: Path, fmt: str, id_field: str = "id", text_field: str = "text",
                 neutralise: bool = True):
        self.path = Path(os.path.abspath(path))
        self.fmt = fmt
        self.id_field = id_field
        self.text_field = text_field
        self.neutralise = neutralise and fmt == "csv"
        self.manifest_path = self.path.parent / f"{self.path.name}.manifest.jsonl"
        self.journal = self.path.parent / f".{self.path.name}.journal"
        ensure_dir(self.path.parent)
        self.rows: dict[str, dict] = {}
        for row in self._read_existing() + read_jsonl_rows(self.journal):
            self.rows[str(row.get(id_field))] = row
        self._fh = open_private_append(self.journal)

    def _read_existing(self) -> list[dict]:
        if not self.path.exists():
            return []
        if self.fmt == "jsonl":
            return read_jsonl_rows(self.path)
        with open(self.path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if self.neutralise:
            rows = [{k: unneutralise_cell(v) for k, v in r.items()} for r in rows]
        return rows

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return note_id in self.rows

    def write(self, out: Output) -> str | None:
        row = _record(self.id_field, self.text_field, out)
        line = json.dumps(row, ensure_ascii=False)
        line.encode("utf-8")  # a lone surrogate fails here, for this note only, before anything is written
        self.rows[out.id] = row
        append_line_durable(self._fh, line)
        return str(self.path)

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
            cell = neutralise_cell if self.neutralise else (lambda v: v)
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow([cell(f) for f in fields])
            for r in ordered:
                writer.writerow([cell(_csv_value(r.get(f))) for f in fields])
            body = buf.getvalue()
        atomic_write_text(self.path, body)
        self.journal.unlink(missing_ok=True)


class StdoutSink(Sink):
    """Raw text (one note) or one JSONL/CSV line per note, flushed as it is done."""

    def __init__(self, fmt: str, id_field: str = "id", text_field: str = "text", stream=None,
                 keep_fields: tuple[str, ...] = (), neutralise: bool = True):
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self.id_field = id_field
        self.text_field = text_field
        self.keep_fields = tuple(k for k in keep_fields if k not in (id_field, text_field))
        self.neutralise = neutralise
        self.manifest_path = None
        self._csv_header = False

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return False

    def write(self, out: Output) -> str | None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(_record(self.id_field, self.text_field, out), ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            cell = neutralise_cell if self.neutralise else (lambda v: v)
            writer = csv.writer(self.stream, lineterminator="\n")
            fields = [self.id_field, self.text_field, *self.keep_fields]
            if not self._csv_header:  # fixed columns: a row missing a kept field leaves its cell empty
                writer.writerow([cell(f) for f in fields])
                self._csv_header = True
            row = _record(self.id_field, self.text_field, out)
            writer.writerow([cell(_csv_value(row.get(f))) for f in fields])
        else:
            self.stream.write(out.text)
        self.stream.flush()
        return None

    def remove(self, note_id: str, rel_path: str = "") -> None:
        pass

    def close(self, order: list[str]) -> None:
        self.stream.flush()


class ConllSink(Sink):
    """A CoNLL/BIO file: each written note's tokens, tagged from its carried spans; written at close."""

    def __init__(self, path: Path):
        self.path = Path(os.path.abspath(path))
        ensure_dir(self.path.parent)
        self.manifest_path = self.path.parent / f"{self.path.name}.manifest.jsonl"
        self.rows: dict[str, str] = {}

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return False  # a CoNLL file is rewritten whole: every note is synthesized again

    def write(self, out: Output) -> str | None:
        from notesynth.batch.conll import to_conll
        from notesynth.spans import Span

        spans = [Span(s["start"], s["end"], s["label"]) for s in out.keep.get("spans", [])]
        self.rows[out.id] = to_conll(out.text, spans)
        return str(self.path)

    def remove(self, note_id: str, rel_path: str = "") -> None:
        self.rows.pop(note_id, None)

    def close(self, order: list[str]) -> None:
        atomic_write_text(self.path, "".join(self.rows[i] for i in order if i in self.rows))


OUTPUT_FORMATS = ("txt", "jsonl", "csv", "folder", "conll", "parquet")


def sink_kind(path: str, fmt: str) -> str:
    """Which sink ``open_sink`` builds: conll, parquet, stdout, folder, record or single."""
    if fmt == "conll":
        return "conll"
    if fmt == "parquet":
        return "parquet"
    if path == "-":
        return "stdout"
    p = Path(path)
    if fmt == "folder" or p.is_dir() or (not p.suffix and fmt != "txt"):
        return "folder"
    if fmt in ("jsonl", "csv"):
        return "record"
    return "single"


def open_sink(path: str, fmt: str, id_field: str = "id", text_field: str = "text", *,
              keep_fields: tuple[str, ...] = (), neutralise: bool = True, protect: Path | None = None) -> Sink:
    kind = sink_kind(path, fmt)
    if kind != "stdout":
        clean_stale_conll_dirs(Path(os.path.abspath(path)).parent)  # plain copies of notes, from old versions
    if kind == "conll":
        return ConllSink(Path(path))
    if kind == "parquet":
        from notesynth.batch.shards import ParquetShardSink  # pyarrow only when asked for

        return ParquetShardSink(Path(path), id_field, text_field)
    if kind == "stdout":
        return StdoutSink(fmt, id_field, text_field, keep_fields=keep_fields, neutralise=neutralise)
    if kind == "folder":
        return FolderSink(Path(path), protect=protect)
    if kind == "record":
        return RecordFileSink(Path(path), fmt, id_field, text_field, neutralise=neutralise)
    return SingleFileSink(Path(path), protect=protect)


class SingleFileSink(FolderSink):
    """One input note, one output file (a second note of the run is an error, never an overwrite)."""

    def __init__(self, path: Path, protect: Path | None = None):
        self.path = Path(os.path.abspath(path))
        self.folder = self.path.parent
        ensure_dir(self.folder)
        self.manifest_path = self.folder / f"{self.path.name}.manifest.jsonl"
        self.protect = Path(os.path.realpath(protect)) if protect is not None else None
        self._fold = False
        self._claimed = {}
        for tmp in self.folder.glob(f".{glob_escape(self.path.name)}.*.tmp"):  # only this output's own
            tmp.unlink(missing_ok=True)

    def target(self, note_id: str, rel_path: str = "") -> Path:
        real = Path(os.path.realpath(self.path))
        if self.protect is not None and (real == self.protect or self.protect in real.parents):
            raise OutputCollision("its output path is the input; choose another output")
        return self.path

    def _claim(self, note_id: str, path: Path) -> None:
        owner = self._claimed.setdefault(str(path), note_id)
        if owner != note_id:
            raise OutputCollision("a single .txt output holds one note; give a folder or a .jsonl/.csv output")
