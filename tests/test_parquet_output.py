"""Parquet shard output (`--output-format parquet`): shards of N rows, journalled, resumable, 0600."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from notesynth.batch.shards import ParquetShardSink
from notesynth.batch.sinks import Output
from notesynth.cli import app

runner = CliRunner()
PLAIN = "Pt resting comfortably. BP 120/80, HR 72. Continue metoprolol 25 mg BID. Plan: ambulate."
PHI_NOTE = "Patient Bartholomew Wigglesworth (MRN 8842193) seen by Dr. Philippa Thistlewood. " + PLAIN


def _rows(folder: Path) -> list[dict]:
    rows = []
    for shard in sorted(folder.glob("part-*.parquet")):
        rows += pq.read_table(shard).to_pylist()
    return rows


def _out(i: int) -> Output:
    return Output(id=f"n{i}", text=f"synthetic {i}", keep={"ward": "5B", "bed": i})


def test_shards_of_n_rows_with_kept_fields_as_strings(tmp_path):
    sink = ParquetShardSink(tmp_path / "o", shard_rows=2)
    paths = [sink.write(_out(i)) for i in range(5)]
    sink.close([f"n{i}" for i in range(5)])
    shards = sorted((tmp_path / "o").glob("part-*.parquet"))
    assert [p.name for p in shards] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [Path(p).name for p in paths] == [s.name for s in shards for _ in range(2)][:5]  # where each row went
    rows = _rows(tmp_path / "o")
    assert [r["id"] for r in rows] == [f"n{i}" for i in range(5)]
    assert rows[3] == {"id": "n3", "text": "synthetic 3", "bed": "3", "ward": "5B"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in shards)
    assert not (tmp_path / "o" / ".pending.jsonl").exists()


def test_a_killed_run_loses_no_row_and_duplicates_none(tmp_path):
    folder = tmp_path / "o"
    sink = ParquetShardSink(folder, shard_rows=2)
    for i in range(3):
        sink.write(_out(i))  # n0, n1 in a shard; n2 only journalled; then the process "dies" (no close)
    assert len(list(folder.glob("part-*.parquet"))) == 1
    # a kill between a shard's rename and the journal's reset: the journal still holds a shard's row
    with open(folder / ".pending.jsonl", "a") as fh:
        fh.write(json.dumps({"id": "n1", "text": "synthetic 1"}) + "\n")
        fh.write('{"id": "n9", "te')  # and a torn last line
    again = ParquetShardSink(folder, shard_rows=2)
    assert all(again.exists(f"n{i}") for i in range(3)) and not again.exists("n9")
    again.write(_out(3))
    again.close([f"n{i}" for i in range(4)])
    assert sorted(r["id"] for r in _rows(folder)) == ["n0", "n1", "n2", "n3"]


def test_remove_takes_a_row_out_of_its_shard(tmp_path):
    sink = ParquetShardSink(tmp_path / "o", shard_rows=2)
    for i in range(3):
        sink.write(_out(i))
    sink.remove("n0")  # in a written shard
    sink.remove("n2")  # pending
    sink.close([])
    assert [r["id"] for r in _rows(tmp_path / "o")] == ["n1"]


def test_cli_writes_parquet_shards_and_resumes(tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": [PHI_NOTE, PLAIN, "  "]}), src)
    out = tmp_path / "out"
    res = runner.invoke(app, ["redact", str(src), str(out), "--output-format", "parquet", "--seed", "3", "-q"])
    assert res.exit_code == 3, res.output  # c is empty: an error row
    rows = {r["id"]: r for r in _rows(out)}
    assert set(rows) == {"a", "b"}
    assert "Wigglesworth" not in rows["a"]["text"] and "8842193" not in rows["a"]["text"]
    manifest = {r["id"]: r for r in map(json.loads, (out / "manifest.jsonl").read_text().splitlines())}
    assert manifest["a"]["status"] == "written" and manifest["a"]["output"] == str(out / "part-00000.parquet")
    assert manifest["c"]["status"] == "error"
    res = runner.invoke(app, ["redact", str(src), str(out), "--output-format", "parquet", "--seed", "3"])
    assert res.exit_code == 3 and "skipped 2" in res.output, res.output
    assert sorted(r["id"] for r in _rows(out)) == ["a", "b"]  # nothing written twice

    res = runner.invoke(app, ["redact", str(src), "-", "--output-format", "parquet"])
    assert res.exit_code == 2 and "folder" in res.output
