"""`synth --engine ray`: same notes as the local engine, resume after a kill, bad notes, no PHI in Ray's logs.

One local Ray cluster (2 CPUs, loopback, no dashboard) for the module.  The Ray runs are
few on purpose: each starts actors that load the detector and the model.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from notesynth.batch.engines.ray import (RESULT_COLUMNS, NoteSynthesizer, RayOptions, connect, note_result,
                                         result_row)
from notesynth.cli import app
from notesynth.config import SynthConfig

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "data" / "sample_notes"
GOOD = ["pn-018-027", "pn-015-066", "pn-051-017", "pn-032-001", "pn-057-007", "pn-025-007"]  # the shortest
PLANTED = ["Bartholomew", "Wigglesworth", "Thistlewood", "8842193"]
BAD_NOTE = ("Patient Bartholomew Wigglesworth (MRN 8842193) seen by Dr. Philippa Thistlewood; "
            "BP 132/84, HR 90, on metoprolol 25 mg BID. ") * 30  # over max_note_chars below: fails in the actor
runner = CliRunner()
# The CLI, with the manifest's record() made to SIGKILL the process once it has journalled the first row.
KILLED_AFTER_FIRST_RECORD = """
import os, signal, sys
from notesynth.batch import manifest
original = manifest.Manifest.record
def record_then_die(self, row):
    original(self, row)
    os.kill(os.getpid(), signal.SIGKILL)
manifest.Manifest.record = record_then_die
from notesynth.cli import app
sys.argv = ["notesynth", *sys.argv[1:]]
app()
"""
# The CLI, with a thread that SIGKILLs the first Ray actor process it sees (a MapWorker, most
# likely still loading the detector and the model): Ray restarts the actor and retries its work.
ACTOR_KILLED_ONCE = """
import os, signal, sys, threading, time
import psutil
def kill_first_actor():
    deadline = time.time() + 120
    while time.time() < deadline:
        for p in psutil.process_iter(["cmdline"]):
            if "MapWorker" in " ".join(p.info["cmdline"] or []):
                os.kill(p.pid, signal.SIGKILL)
                print("killed actor", file=sys.stderr, flush=True)
                return
        time.sleep(0.05)
threading.Thread(target=kill_first_actor, daemon=True).start()
from notesynth.cli import app
sys.argv = ["notesynth", *sys.argv[1:]]
app()
"""
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")  # Ray's own, about its own settings


@pytest.fixture(scope="module")
def ray_dir():
    """A local Ray cluster for the module; its session and log folders under a short temp folder
    (Ray's socket paths must fit in 107 bytes)."""
    import ray

    root = tempfile.mkdtemp(prefix="nsray-", dir="/tmp")
    assert connect(RayOptions(num_cpus=2, temp_dir=root))
    yield Path(root)
    ray.shutdown()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Seven notes in Ray batches of 3 (--ray-batch-size 3): the bad one in the middle of the second."""
    d = tmp_path_factory.mktemp("ray-in")
    rows = [{"id": n, "text": (NOTES / f"{n}.txt").read_text()} for n in GOOD]
    rows.insert(4, {"id": "bad", "text": BAD_NOTE})
    texts = {r["id"]: r["text"] for r in rows if r["id"] != "bad"}
    (d / "notes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "cfg.toml").write_text("max_note_chars = 2500\n")
    assert all(len(t) < 2500 for t in texts.values()) and len(BAD_NOTE) > 2500
    return d


def _args(inputs, tiny_model, out, *extra):
    # rules-only detection: the engine is the point here, and each actor then loads in seconds
    return ["synth", str(inputs / "notes.jsonl"), str(out), "--output-format", "folder", "--model", str(tiny_model),
            "--seed", "4", "--config", str(inputs / "cfg.toml"), "--no-phi-tagger", *map(str, extra)]


def _manifest(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines()]


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt"))}


def test_actor_turns_bad_rows_and_crashes_into_error_rows(tiny_model, monkeypatch):
    """The callable class in this process: bad rows in the middle of a batch, and an exception
    that quotes the note, come back as error rows naming ids and exception types only."""
    actor = NoteSynthesizer(SynthConfig(model=str(tiny_model), seed=4))
    good = (NOTES / f"{GOOD[0]}.txt").read_text()
    batch = pa.table({"id": ["a", "b", None, "d", "e"], "text": [good, None, good, good, good],
                      "spans": [None, None, None, "not json", '[{"start": 0, "end": 2, "label": "X"}]']})
    out = actor(batch)
    assert out.column_names == list(RESULT_COLUMNS) and out.num_rows == 5
    rows = out.to_pylist()
    assert [r["status"] for r in rows[1:4]] == ["error"] * 3
    assert rows[0]["status"] in ("written", "held") and rows[4]["status"] in ("written", "held")
    assert rows[4]["spans"] is not None or rows[4]["status"] != "written"
    for r in rows:
        assert (r["text"] is not None) == (r["status"] == "written")
        back = note_result(r)
        assert back.manifest_row() == json.loads(r["manifest"]) and result_row(back)["manifest"] == r["manifest"]

    import notesynth.batch.engines.ray as engine

    def leaky(synth, notes, annotations, max_seconds):
        raise RuntimeError("could not parse " + notes[0][1])  # a library error quoting the note

    monkeypatch.setattr(engine, "synthesize_bounded", leaky)
    rows = actor(pa.table({"id": ["x", "y"], "text": [BAD_NOTE, good]})).to_pylist()
    assert [(r["id"], r["status"], r["error"]) for r in rows] == [
        ("x", "error", "synthesis failed (RuntimeError)"), ("y", "error", "synthesis failed (RuntimeError)")]
    assert not any(p in json.dumps(rows) for p in PLANTED)


def test_killed_ray_run_resumes_to_local_output(tiny_model, ray_dir, inputs, tmp_path, capfd):
    import ray

    local = tmp_path / "local"
    res = runner.invoke(app, _args(inputs, tiny_model, local, "--batch-size", "2", "-q"))
    assert res.exit_code == 3, res.output  # the bad note is an error row
    reference = _outputs(local)
    assert len(reference) >= 1

    # 1. a Ray run (its own driver process, joined to the module's cluster), killed -9 right after the
    #    first manifest row is recorded: the driver kills itself there (polling from outside raced a fast
    #    machine, where every batch can arrive at once and the journal lives only milliseconds)
    out = tmp_path / "ray"
    address = ray.get_runtime_context().gcs_address
    args = _args(inputs, tiny_model, out, "--engine", "ray", "--ray-address", address, "--num-actors", "1",
                 "--ray-batch-size", "3")
    cmd = [sys.executable, "-c", KILLED_AFTER_FIRST_RECORD, *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    # (os.environ now holds what Ray set for this process's cluster: token auth, usage stats off)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    so, se = proc.stdout, proc.stderr
    assert proc.returncode == -signal.SIGKILL, se[-3000:]
    journal = out / ".manifest.jsonl.journal"
    assert journal.exists(), se[-3000:]
    killed_rows = [json.loads(x) for x in journal.read_text().splitlines()]
    assert len(killed_rows) == 1, se[-2000:]  # killed right after the first row, before the rest

    # 2. the same command again, in this process: resumes, finishes every note exactly once
    res = runner.invoke(app, _args(inputs, tiny_model, out, "--engine", "ray", "--num-actors", "1",
                                   "--ray-batch-size", "3"))
    assert res.exit_code == 3, res.output
    rows = _manifest(out)
    assert sorted(r["id"] for r in rows) == sorted(GOOD + ["bad"])
    written_before = {r["id"] for r in killed_rows if r["status"] in ("written", "held")}
    assert f"skipped {len(written_before)}" in res.output
    bad = next(r for r in rows if r["id"] == "bad")
    assert bad["status"] == "error" and "max_note_chars" in bad["error"]
    assert _outputs(out) == reference  # byte-identical to --engine local
    assert {r["id"] for r in rows if r["status"] == "written"} == {p[:-4] for p in reference}

    # 3. no planted PHI in anything but the input: driver output, Ray's session logs, the manifest
    blob = [so, se, res.output, *capfd.readouterr(), (out / "manifest.jsonl").read_text()]
    logs = list((ray_dir / "session_latest" / "logs").rglob("*"))
    assert any(p.name.startswith("worker") for p in logs)  # the actors' logs are there
    blob += [p.read_bytes().decode("utf-8", "replace") for p in logs if p.is_file()]
    text = "\n".join(blob).lower()
    for phi in PLANTED:
        assert phi.lower() not in text, phi


def test_a_killed_actor_is_replaced_and_every_note_done_once(tiny_model, ray_dir, inputs, tmp_path):
    import ray

    out = tmp_path / "ray"
    args = _args(inputs, tiny_model, out, "--engine", "ray", "--ray-address", ray.get_runtime_context().gcs_address,
                 "--num-actors", "1", "--ray-batch-size", "2")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", ACTOR_KILLED_ONCE, *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert "killed actor" in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 3, proc.stderr[-3000:]  # the bad note is an error row; nothing else failed
    rows = _manifest(out)
    assert sorted(r["id"] for r in rows) == sorted(GOOD + ["bad"])  # every note exactly once
    assert {r["id"] for r in rows if r["status"] == "error"} == {"bad"}
    assert {p.stem for p in out.glob("*.txt")} == {r["id"] for r in rows if r["status"] == "written"}


def test_ray_flags_need_the_ray_engine(tmp_path):
    res = runner.invoke(app, ["synth", str(NOTES), str(tmp_path / "o"), "--num-actors", "2"])
    assert res.exit_code == 2 and "--engine ray" in res.output
    res = runner.invoke(app, ["synth", str(NOTES), str(tmp_path / "o"), "--engine", "spark"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["synth", str(NOTES), str(tmp_path / "o"), "--engine", "ray", "--workers", "2"])
    assert res.exit_code == 2 and "--num-actors" in res.output


def test_parquet_input_reads_like_jsonl(tmp_path):
    import pyarrow.parquet as pq

    from notesynth.batch.readers import Note, ReadError, input_format, read_notes

    pq.write_table(pa.table({"id": [1, 2], "text": ["Pt resting.", " "]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"text": ["BP stable."], "ward": ["5B"]}), tmp_path / "b.parquet")
    glob = str(tmp_path / "*.parquet")
    assert input_format(glob) == "parquet"
    items = list(read_notes(glob, keep_fields=("ward",)))
    assert [type(i) for i in items] == [Note, ReadError, Note]
    assert items[0].id == "1" and items[0].text == "Pt resting."
    assert items[2].id == "3" and items[2].keep == {"ward": "5B"}  # no id column: the row number over all files
    assert "a.parquet:row 2" in items[1].source
