"""Unattended batch runs: resume, kill -9, signals, workers, offline, PHI silence, fuzzing."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from notesynth.cli import app

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "data" / "sample_notes"
runner = CliRunner()
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def _manifest(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _cli(*args):
    return [sys.executable, "-m", "notesynth.cli", *map(str, args)]


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt"))}


@pytest.fixture(scope="module")
def reference_run(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    res = runner.invoke(app, ["synth", str(NOTES), str(out), "--model", str(tiny_model), "--seed", "4",
                              "--batch-size", "2", "-q"])
    assert res.exit_code in (0, 1)
    return out


def test_rerun_resumes_and_never_duplicates(tiny_model, reference_run, tmp_path):
    notes = tmp_path / "notes"
    shutil.copytree(NOTES, notes)
    out = tmp_path / "out"
    args = ["synth", str(notes), str(out), "--model", str(tiny_model), "--seed", "4", "--batch-size", "2", "-q"]
    runner.invoke(app, args)
    first = _manifest(out / "manifest.jsonl")
    res = runner.invoke(app, args)
    assert "skipped 10" in res.output
    (notes / "pn-018-027.txt").write_text((notes / "pn-018-027.txt").read_text() + "\nPt resting.\n")
    res = runner.invoke(app, args)
    assert "skipped 9" in res.output
    rows = _manifest(out / "manifest.jsonl")
    assert len(rows) == len(first) == 10 and len({r["id"] for r in rows}) == 10
    assert _outputs(out).keys() <= _outputs(reference_run).keys() | {"pn-018-027.txt"}
    res = runner.invoke(app, args + ["--overwrite"])
    assert "skipped" not in res.output


def test_sigkill_mid_run_then_resume(tiny_model, reference_run, tmp_path):
    out = tmp_path / "out"
    cmd = _cli("synth", NOTES, out, "--model", tiny_model, "--seed", 4, "--batch-size", 2, "-q")
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and len(list(out.glob("*.txt"))) < 2:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not list(out.glob(".*.tmp")) or True  # a temp file may exist right after the kill...
    res = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    assert not list(out.rglob(".*.tmp"))  # ...but never after the next run
    rows = _manifest(out / "manifest.jsonl")
    assert sorted(r["id"] for r in rows) == sorted(p.stem for p in NOTES.glob("*.txt"))
    assert _outputs(out) == _outputs(reference_run)  # byte-identical to an uninterrupted run


def test_sigterm_finishes_the_batch_and_exits_130(tiny_model, tmp_path):
    out = tmp_path / "out"
    cmd = _cli("synth", NOTES, out, "--model", tiny_model, "--batch-size", 1, "-q")
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob("*.txt")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-1500:]
    rows = _manifest(out / "manifest.jsonl")
    assert 1 <= len(rows) < 10
    assert all((out / f"{r['id']}.txt").exists() == (r["status"] == "written") for r in rows)


def test_worker_count_does_not_change_output(tiny_model, reference_run, tmp_path):
    out = tmp_path / "out"
    res = subprocess.run(_cli("synth", NOTES, out, "--model", tiny_model, "--seed", 4, "--batch-size", 2,
                              "--workers", 2, "-q"), env=ENV, capture_output=True, text=True, timeout=600)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    assert _outputs(out) == _outputs(reference_run)


BLOCK_SOCKETS = """
import socket, sys
def _refuse(*a, **k):
    raise OSError("network access attempted during an offline run")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
from notesynth.cli import app
sys.argv = ["notesynth"] + sys.argv[1:]
app()
"""


def test_whole_cli_runs_with_network_blocked(tiny_model, tmp_path):
    out = tmp_path / "out"
    for args in (["synth", NOTES, out, "--model", tiny_model, "-q"],
                 ["detect", NOTES / "pn-018-027.txt"]):
        env = {k: v for k, v in ENV.items() if k not in ("HF_HUB_OFFLINE",)}
        res = subprocess.run([sys.executable, "-c", BLOCK_SOCKETS, *map(str, args)], env=env,
                             capture_output=True, text=True, timeout=600)
        assert res.returncode in (0, 1), res.stderr[-2000:]
        assert "network access attempted" not in res.stderr


PHI_NOTE = ("Patient Bartholomew Wigglesworth (MRN 8842193) seen 03/14/2021 at Saint Ignatius Hospital by "
            "Dr. Philippa Thistlewood. Wife Griselda Wigglesworth, phone (617) 555-0199, lives at "
            "42 Larkspur Lane, Framingham MA 01701. SSN 123-45-6789. Email bwiggles@example.org. "
            "BP 132/84, HR 90, on metoprolol 25 mg BID. Follow up 04/02/2021.\n")
PHI_STRINGS = ["Bartholomew", "Wigglesworth", "8842193", "03/14/2021", "Ignatius", "Philippa",
               "Thistlewood", "Griselda", "555-0199", "Larkspur", "01701", "123-45-6789", "bwiggles",
               "04/02/2021"]


def test_no_phi_in_anything_but_synthetic_texts(tiny_model, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(2):
        (notes / f"n{i}.txt").write_text(PHI_NOTE)
    (notes / "bad.txt").write_bytes(PHI_NOTE.encode("utf-8") + b"\x00\x00binary")
    (notes / "huge.txt").write_text(PHI_NOTE * 12)
    runs = [
        ("ok", ["--max-risk", "1.0"]),
        ("held", ["--max-risk", "0.0", "--retries", "0"]),
        ("err", ["--max-note-bytes", "2000", "--on-fail", "error"]),
    ]
    collected = []
    for name, extra in runs:
        out = tmp_path / name
        log = tmp_path / f"{name}.log"
        res = subprocess.run(_cli("synth", notes, out, "--model", tiny_model, "--verbose", "--log-file", log, *extra),
                             env=ENV, capture_output=True, text=True, timeout=600)
        assert res.returncode in (0, 1, 3), res.stderr[-2000:]
        collected += [res.stdout, res.stderr, log.read_text(), (out / "manifest.jsonl").read_text()]
        if name == "held":
            assert not list(out.glob("*.txt"))  # a held note is written nowhere
    # interrupt path
    out = tmp_path / "int"
    proc = subprocess.Popen(_cli("synth", notes, out, "--model", tiny_model, "--verbose", "--batch-size", 1),
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    so, se = proc.communicate(timeout=300)
    collected += [so, se]
    if (out / "manifest.jsonl").exists():
        collected.append((out / "manifest.jsonl").read_text())
    blob = "\n".join(collected)
    assert "status" in blob  # the sweep looked at real manifests
    for phi in PHI_STRINGS:
        assert phi.lower() not in blob.lower(), phi


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=0, max_size=400))
def test_arbitrary_unicode_never_crashes(synthesizer, text):
    result = synthesizer.synthesize(text, note_id="fuzz")
    assert result.status in ("written", "held", "error")
    if result.status == "written":
        assert isinstance(result.text, str)
    else:
        assert result.text is None


def test_unwritable_output_and_full_disk(tiny_model, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = runner.invoke(app, ["synth", str(NOTES), str(blocker / "out"), "--model", str(tiny_model), "-q"])
    assert res.exit_code == 4 and "not writable" in res.output

    import errno

    import notesynth.batch.sinks as sinks

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(sinks, "atomic_write_text", full)
    res = runner.invoke(app, ["synth", str(NOTES), str(tmp_path / "out"), "--model", str(tiny_model), "-q",
                              "--max-risk", "1.0"])
    assert res.exit_code == 4 and "disk full" in res.output
