"""Reading bad input: each problem becomes a ReadError that names the input, never its text."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from notesynth.batch.files import atomic_write_text, read_jsonl_rows
from notesynth.batch.readers import Note, ReadError, decode_bytes, read_notes

SECRET = "Zebediah Quartermaine"


def _read(path, **kw):
    return list(read_notes(str(path), **kw))


def test_folder_with_bad_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "ok.txt").write_text(f"Seen by {SECRET}.\r\nStable.\r\n")
    (tmp_path / "sub" / "nested.txt").write_text("Nested note.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    (tmp_path / "latin.txt").write_bytes("Patient caf\xe9 visit, temp 37\xb0C".encode("latin-1"))
    (tmp_path / "garbage.txt").write_bytes(bytes(range(128, 256)) * 4 + b"\x81\x8d\x8f\x90\x9d")
    items = {i.id: i for i in _read(tmp_path)}
    assert isinstance(items["ok"], Note) and "\r\n" in items["ok"].text  # Windows line endings kept
    assert items["sub/nested"].rel_path == "sub/nested.txt"
    assert isinstance(items["empty"], ReadError) and "empty" in items["empty"].message
    assert isinstance(items["binary"], ReadError) and "binary" in items["binary"].message
    assert isinstance(items["latin"], Note) and "café" in items["latin"].text  # Windows-1252 fallback
    assert isinstance(items["garbage"], ReadError) and "UTF-8" in items["garbage"].message
    for item in items.values():
        if isinstance(item, ReadError):
            assert SECRET not in item.message and item.source.endswith(".txt")


def test_huge_note_is_refused_with_advice(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 1_200_000)  # 6 MB
    [item] = _read(big, max_bytes=5_000_000)
    assert isinstance(item, ReadError) and "--max-note-bytes" in item.message


def test_jsonl_bad_lines(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a", "text": f"note about {SECRET}"}),
        "{not json",
        json.dumps({"id": "b", "body": "no text field"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "c", "text": ""}),
        json.dumps({"text": "no id: uses the line number"}),
    ]) + "\n")
    items = _read(src)
    assert isinstance(items[0], Note) and items[0].id == "a"
    assert isinstance(items[1], ReadError) and "not valid JSON" in items[1].message and items[1].source.endswith(":2")
    assert isinstance(items[2], ReadError) and "--text-field" in items[2].message
    assert isinstance(items[3], ReadError)
    assert isinstance(items[4], ReadError) and "empty" in items[4].message
    assert isinstance(items[5], Note) and items[5].id == "6"


def test_csv_with_embedded_newlines_and_missing_column(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,text,mrn\nn1,"line one\nline two, with comma",123\nn2,"second ""quoted"" note",456\n')
    items = _read(src, keep_fields=("mrn",))
    assert [i.id for i in items] == ["n1", "n2"]
    assert items[0].text == "line one\nline two, with comma" and items[0].keep == {"mrn": "123"}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,hello\n")
    [err] = _read(bad)
    assert isinstance(err, ReadError) and "--text-field" in err.message


def test_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "locked.txt").write_text("secret")
    def deny(self):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "read_bytes", deny)
    [item] = _read(tmp_path)
    assert isinstance(item, ReadError) and "permission" in item.message


def test_stdin_raw_and_jsonl():
    stream = io.TextIOWrapper(io.BytesIO("one raw note\n".encode()), encoding="utf-8")
    [note] = list(read_notes("-", stdin=stream))
    assert note.text == "one raw note\n"
    stream = io.StringIO('{"id": "x", "text": "t"}\n{"id": "y", "text": "u"}\n')
    assert [n.id for n in read_notes("-", fmt="jsonl", stdin=stream)] == ["x", "y"]


def test_decode_utf16_and_bom():
    assert decode_bytes("héllo".encode("utf-16")) == "héllo"
    assert decode_bytes(b"\xef\xbb\xbfhello") == "hello"


def test_atomic_write_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    import os
    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "second")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_torn_jsonl_line_is_ignored(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "sta')
    assert [r["id"] for r in read_jsonl_rows(path)] == ["a", "b"]
