"""Parquet shards: the output for large runs (``--output-format parquet``, a folder).

A folder of ``part-00000.parquet``, ``part-00001.parquet``, ... with columns id, text and the
kept fields (strings).  Rows are journalled as they finish (``.pending.jsonl``, durable, 0600)
and go into the next shard, written atomically, once ``shard_rows`` are pending and at the end
of the run.  A killed run loses nothing: the next run reads the shards' ids and the journal,
drops journalled rows a shard already holds, and goes on.  Shards hold rows in the order they
finished (which, with Ray, depends on scheduling): join on id, or read them sorted by id.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from notesynth.batch.files import (FILE_MODE, append_line_durable, atomic_write_text, ensure_dir,
                                   open_private_append, read_jsonl_rows)
from notesynth.batch.sinks import Output, Sink

SHARD_ROWS = 10_000  # rows per shard: large enough for columnar reads, small enough to write in seconds
PATTERN = "part-{:05d}.parquet"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError('Parquet output needs pyarrow: pip install "notesynth[ray]" (or pyarrow)') from None
    return pa, pq


def _cell(value) -> str | None:
    """Kept fields as strings (a column holds one type; JSON keeps numbers and lists readable)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class ParquetShardSink(Sink):
    """Finished notes into Parquet shards of ``shard_rows`` rows in an output folder."""

    def __init__(self, folder: Path, id_field: str = "id", text_field: str = "text", shard_rows: int = SHARD_ROWS):
        _pyarrow()
        self.folder = Path(os.path.abspath(folder))
        self.id_field, self.text_field = id_field, text_field
        self.shard_rows = max(1, shard_rows)
        ensure_dir(self.folder)
        self.manifest_path = self.folder / "manifest.jsonl"
        self.journal = self.folder / ".pending.jsonl"
        for tmp in self.folder.glob(".part-*.tmp"):  # a shard a killed run was writing
            tmp.unlink(missing_ok=True)
        self.shards = sorted(self.folder.glob("part-*.parquet"))
        self.in_shard: dict[str, Path] = {}
        for shard in self.shards:
            for note_id in self._ids(shard):
                self.in_shard[note_id] = shard
        self.pending: dict[str, dict] = {}
        for row in read_jsonl_rows(self.journal):
            note_id = str(row.get(id_field))
            if row.get("__removed__"):
                self.pending.pop(note_id, None)
            elif note_id not in self.in_shard:  # a shard written just before a kill holds it already
                self.pending[note_id] = row
        self._rewrite_journal()
        self._fh = open_private_append(self.journal)

    def _ids(self, shard: Path) -> list[str]:
        _, pq = _pyarrow()
        return [str(x) for x in pq.read_table(shard, columns=[self.id_field]).column(0).to_pylist()]

    def _next_shard(self) -> Path:
        last = max((int(p.stem.split("-")[1]) for p in self.shards), default=-1)
        return self.folder / PATTERN.format(last + 1)

    def _rewrite_journal(self) -> None:
        atomic_write_text(self.journal, "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                for r in self.pending.values()))

    def _write_shard(self, path: Path, rows: list[dict]) -> None:
        pa, pq = _pyarrow()
        fields = [self.id_field, self.text_field] + sorted({k for r in rows for k in r}
                                                           - {self.id_field, self.text_field})
        table = pa.table({f: pa.array([_cell(r.get(f)) for r in rows], type=pa.string()) for f in fields})
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _flush(self) -> None:
        if not self.pending:
            return
        shard = self._next_shard()
        self._write_shard(shard, list(self.pending.values()))
        self.shards.append(shard)
        for note_id in self.pending:
            self.in_shard[note_id] = shard
        self.pending = {}
        self._fh.close()
        self._rewrite_journal()
        self._fh = open_private_append(self.journal)

    def exists(self, note_id: str, rel_path: str = "") -> bool:
        return note_id in self.pending or note_id in self.in_shard

    def write(self, out: Output) -> str | None:
        row = {self.id_field: out.id, self.text_field: out.text}
        row.update({k: v for k, v in out.keep.items() if k not in row})
        line = json.dumps(row, ensure_ascii=False)
        line.encode("utf-8")  # a lone surrogate fails here, for this note only, before anything is written
        if out.id in self.in_shard:  # a redo (--overwrite): the older row leaves its shard
            self.remove(out.id)
        self.pending[out.id] = row
        append_line_durable(self._fh, line)
        target = self._next_shard()
        if len(self.pending) >= self.shard_rows:
            self._flush()
        return str(target)

    def remove(self, note_id: str, rel_path: str = "") -> None:
        if self.pending.pop(note_id, None) is not None:
            append_line_durable(self._fh, json.dumps({self.id_field: note_id, "__removed__": True}))
        shard = self.in_shard.pop(note_id, None)
        if shard is not None:  # rare (a note now held back or failed on a re-run): rewrite its shard
            _, pq = _pyarrow()
            rows = [r for r in pq.read_table(shard).to_pylist() if str(r.get(self.id_field)) != note_id]
            self._write_shard(shard, rows)

    def close(self, order: list[str]) -> None:
        self._flush()
        self._fh.close()
        self.journal.unlink(missing_ok=True)
