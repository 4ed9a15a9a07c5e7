"""Hostile and careless input (issue 16): no path writes PHI, no note is lost silently.

One test (or a few) per item of the issue; each fails on the code before the fix.  Runs go
through the CLI in-process with `redact` (no language model) unless a model is the point.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import stat
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notesynth.batch import RunOptions, run
from notesynth.batch.files import OutputLock
from notesynth.batch.manifest import Manifest
from notesynth.batch.readers import ReadError, read_notes
from notesynth.batch.runner import cap_workers, synthesize_bounded
from notesynth.batch.sinks import Output, RecordFileSink, neutralise_cell, output_name, unneutralise_cell
from notesynth.cli import app
from notesynth.config import ConfigError, SynthConfig
from notesynth.pipeline import NoteResult, Synthesizer

runner = CliRunner()

PHI_NOTE = ("Patient Bartholomew Wigglesworth (MRN 8842193) seen 03/14/2021 at Saint Ignatius Hospital by "
            "Dr. Philippa Thistlewood. Phone (617) 555-0199. BP 132/84, HR 90, on metoprolol 25 mg BID.\n")
PHI = ["Bartholomew", "Wigglesworth", "8842193", "03/14/2021", "Ignatius", "Philippa", "Thistlewood", "555-0199"]
PLAIN = "Pt resting comfortably. BP 120/80, HR 72. Continue metoprolol 25 mg BID. Plan: ambulate.\n"
NO_COMMA = "Pt resting comfortably. Continue metoprolol 25 mg BID."


def redact(*args):
    return runner.invoke(app, ["redact", *map(str, args), "-q"])


def manifest_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def written_bytes(*roots: Path, skip: Path | None = None) -> bytes:
    """Every byte under ``roots`` (what the tool wrote), except under ``skip`` (the input)."""
    blob = b""
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for p in paths:
            if skip is not None and (p == skip or skip in p.parents):
                continue
            blob += p.read_bytes()
    return blob


def assert_no_phi(*texts) -> None:
    blob = "\n".join(t.decode("utf-8", "replace") if isinstance(t, bytes) else t for t in texts).lower()
    for phi in PHI:
        assert phi.lower() not in blob, phi


def jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class SlowSynth(Synthesizer):
    """Redaction, except that a note holding SLOWNOTE takes ``delay`` seconds (sleeps)."""

    delay = 30.0

    def synthesize_batch(self, notes, annotations=None):
        if any("SLOWNOTE" in text for _, text in notes):
            time.sleep(self.delay)
        return super().synthesize_batch(notes, annotations)


@pytest.fixture(scope="module")
def redactor(detector):
    cfg = SynthConfig(mask_ratio=0.0, check_overlap=False, retries=0, mask_unknown_words=False, max_risk=1.0)
    return SlowSynth(cfg, detector=detector)


# ---------------------------------------------------------------- 1 kept fields, id field, id values

def test_1_kept_text_field_is_refused_and_never_overrides(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PHI_NOTE, "dept": "icu"}])
    for flags in (["--keep-field", "text"], ["--keep-field", "id"], ["--id-field", "text"]):
        out = tmp_path / "out.jsonl"
        res = redact(src, out, *flags)
        assert res.exit_code == 2, (flags, res.output)
        assert "--keep-field" in res.output or "--id-field" in res.output
        assert not out.exists()
        assert_no_phi(res.output)
    # and the sink itself never lets a kept field replace the synthetic text or the id
    sink = RecordFileSink(tmp_path / "direct.jsonl", "jsonl")
    sink.write(Output("a", "SYNTHETIC", {"text": PHI_NOTE, "id": "other", "dept": "icu"}))
    sink.close(["a"])
    [row] = manifest_rows(tmp_path / "direct.jsonl")
    assert row == {"id": "a", "text": "SYNTHETIC", "dept": "icu"}
    with pytest.raises(ValueError):
        list(read_notes(str(src), keep_fields=("text",)))


def test_1_bad_id_values_are_error_rows_never_echoed(tmp_path):
    long_id = "Wigglesworth" * 25  # 300 characters
    rows = [{"id": long_id, "text": PLAIN}, {"id": "Bartholomew Wigglesworth", "text": PLAIN},
            {"id": "a\nb", "text": PLAIN}, {"id": "ok", "text": PLAIN}, {"id": {"nested": 1}, "text": PLAIN}]
    src = jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    res = redact(src, out)
    assert res.exit_code == 3, res.output
    got = {r["id"]: r for r in manifest_rows(tmp_path / "out.jsonl.manifest.jsonl")}
    assert got["ok"]["status"] == "written"
    bad = [r for r in got.values() if r["id"] != "ok"]
    assert len(bad) == 4 and all(r["status"] == "error" for r in bad)
    assert sorted(r["id"] for r in bad) == ["line 1", "line 2", "line 3", "line 5"]
    assert_no_phi(res.output, written_bytes(tmp_path, skip=src))


# ---------------------------------------------------------------- 3 output is (inside) the input

def test_3_output_equal_to_or_inside_the_input_is_refused(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text(PHI_NOTE)
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PHI_NOTE}, {"id": "b", "text": ""}])
    before = {p: p.read_bytes() for p in (notes / "a.txt", src)}
    cases = [(notes, notes), (notes, notes / "sub"), (src, src), (notes / "a.txt", notes),
             (src, tmp_path / "o.jsonl", "--manifest", src)]
    for inp, out, *extra in cases:
        res = redact(inp, out, *extra)
        assert res.exit_code == 2, (inp, out, res.output)
        assert "input" in res.output
    assert {p: p.read_bytes() for p in before} == before
    assert not (notes / "sub").exists() and sorted(p.name for p in notes.iterdir()) == ["a.txt"]


def test_3_an_error_note_loses_its_older_output(tmp_path):
    out = tmp_path / "out.jsonl"
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}, {"id": "b", "text": PLAIN}])
    assert redact(src, out).exit_code == 0
    jsonl(src, [{"id": "a", "text": PLAIN}, {"id": "b", "text": None}])  # b now fails to read
    res = redact(src, out)
    assert res.exit_code == 3
    assert [r["id"] for r in manifest_rows(out)] == ["a"]


# ---------------------------------------------------------------- 4 no message quotes input content

def test_4_headerless_csv_is_never_echoed(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"1,{PHI_NOTE.strip()}\n2,{PLAIN.strip()}\n")
    out = tmp_path / "out.csv"
    res = redact(src, out)
    assert res.exit_code == 3, res.output
    [row] = manifest_rows(tmp_path / "out.csv.manifest.jsonl")
    assert row["status"] == "error" and "header" in row["error"]
    assert_no_phi(res.output, written_bytes(tmp_path, skip=src))


# ---------------------------------------------------------------- 5 stale CoNLL work folders

def test_5_stale_conll_work_folders_are_removed(tmp_path):
    stale = tmp_path / ".notesynth-conll-abc123"
    stale.mkdir()
    (stale / "doc-1.txt").write_text(PHI_NOTE)
    src = tmp_path / "in.conll"
    src.write_text("Pt\tO\nseen\tO\nby\tO\nDr\tO\nSmith\tB-NAME\n\nBP\tO\nstable\tO\n")
    res = redact(src, tmp_path / "out.conll", "--format", "conll", "--output-format", "conll")
    assert res.exit_code in (0, 1), res.output
    assert not stale.exists()


# ---------------------------------------------------------------- 6 one file mode for everything

def test_6_every_file_is_0600_whatever_the_umask(tmp_path):
    from notesynth import logs

    old = os.umask(0)
    try:
        src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}])
        assert redact(src, tmp_path / "o" / "out.jsonl").exit_code == 0
        assert redact(tmp_path / "in.jsonl", tmp_path / "folder", "--output-format", "folder").exit_code == 0
        made = [p for d in ("o", "folder") for p in (tmp_path / d).rglob("*") if p.is_file()]
        man = Manifest(tmp_path / "m" / "manifest.jsonl")  # journal open while running
        made.append(tmp_path / "m" / ".manifest.jsonl.journal")
        logs.setup(log_file=str(tmp_path / "run.log"))
        logging.getLogger("notesynth.test").warning("a line")
        made.append(tmp_path / "run.log")
        lock = OutputLock(tmp_path / "locked.jsonl").acquire()
        made.append(lock.path)
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in made}
        lock.release()
        man.close()
    finally:
        os.umask(old)
        logs.setup(quiet=True)
    assert len(modes) >= 6
    for name, mode in modes.items():
        assert mode == 0o600, (name, oct(mode))
    for d in (tmp_path / "o", tmp_path / "folder", tmp_path / "m"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


# ---------------------------------------------------------------- 7 and 8 ids as file names

def test_7_bad_ids_in_a_folder_run_are_single_error_rows(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": i, "text": PLAIN}) for i in ("x" * 300, "a", "a.txt/b", "nul\u0000id", "fine")]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bad\xffbyte", "text": "Pt stable."}\n')
    out = tmp_path / "out"
    res = redact(src, out, "--output-format", "folder")
    assert res.exit_code == 3, res.output
    rows = manifest_rows(out / "manifest.jsonl")
    status = {r["id"]: r["status"] for r in rows}
    assert status["a"] == status["a.txt/b"] == status["fine"] == "written"
    assert sorted(i for i, s in status.items() if s == "error") == ["line 1", "line 4", "line 6"]
    outputs = [Path(r["output"]) for r in rows if r["status"] == "written"]
    assert len(set(outputs)) == 3 and all(p.parent == out.resolve() and p.exists() for p in outputs)


def test_7_unusable_file_names_in_an_input_folder(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "good.txt").write_text(PLAIN)
    with open(os.path.join(os.fsencode(notes), b"bad\xffname.txt"), "w") as fh:
        fh.write(PLAIN)
    (notes / "line\nbreak.txt").write_text(PLAIN)
    out = tmp_path / "out"
    res = redact(notes, out)
    assert res.exit_code == 3, res.output
    rows = manifest_rows(out / "manifest.jsonl")
    assert len(rows) == 3
    assert [r["status"] for r in rows].count("written") == 1 and [r["status"] for r in rows].count("error") == 2
    assert (out / "good.txt").exists() and len(list(out.glob("*.txt"))) == 1


def test_8_ids_map_to_distinct_safe_files(tmp_path):
    ids = ["evil", "../../evil", "x", "/etc/x", ".", "..", "a/b/", "A~", "e-1"]
    src = jsonl(tmp_path / "in.jsonl", [{"id": i, "text": PLAIN} for i in ids])
    out = tmp_path / "deep" / "er" / "out"
    res = redact(src, out, "--output-format", "folder")
    assert res.exit_code == 0, res.output
    rows = manifest_rows(out / "manifest.jsonl")
    assert len(rows) == len(ids) and all(r["status"] == "written" for r in rows)
    paths = [Path(r["output"]) for r in rows]
    assert len(set(paths)) == len(ids)
    assert all(p.is_absolute() and p.parent == out.resolve() and not p.name.startswith(".") for p in paths)
    assert sorted(p.name for p in out.glob("*.txt")) == sorted(p.name for p in paths)
    assert not (tmp_path / "deep" / "evil.txt").exists() and not list(tmp_path.glob("deep/*.txt"))
    back = [n for n in read_notes(str(out)) if not isinstance(n, ReadError)]
    assert len(back) == len(ids)  # nothing hidden: the folder reader gets every note back
    names = [output_name(i) for i in ids + ["evil~0", "a.txt", "a"]]
    assert len(set(names)) == len(names)


# ---------------------------------------------------------------- 9 one run per output

def test_9_a_second_run_on_a_locked_output_is_refused(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}])
    out = tmp_path / "out.jsonl"
    lock = OutputLock(out).acquire()
    try:
        res = redact(src, out)
        assert res.exit_code == 4 and "in use" in res.output, res.output
        assert not out.exists() and not (tmp_path / "out.jsonl.manifest.jsonl").exists()
    finally:
        lock.release()
    assert redact(src, out).exit_code == 0
    assert not lock.path.exists()


# ---------------------------------------------------------------- 10 CSV merges and formulas

def test_10_unbalanced_quote_is_reported_not_merged(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f'id,text\n1,"{PLAIN.strip()}\n2,{PLAIN.strip()}\n')
    out = tmp_path / "out.csv"
    res = redact(src, out)
    assert res.exit_code == 3, res.output
    [row] = manifest_rows(tmp_path / "out.csv.manifest.jsonl")
    assert row["status"] == "error" and "lines 2-3" in row["error"]
    # a quote closed in a later line: that record is an error, the next one is read
    src.write_text(f'id,text\n1,"{PLAIN.strip()}\n2,"x" y\n3,{NO_COMMA}\n')
    res = redact(src, out)
    rows = manifest_rows(tmp_path / "out.csv.manifest.jsonl")
    assert {r["id"]: r["status"] for r in rows}["3"] == "written"
    assert [r["status"] for r in rows].count("error") == 1
    # an unquoted comma splits the text: the record has too many fields
    src.write_text(f"id,text\n1,{NO_COMMA}, more\n")
    redact(src, out, "--overwrite")
    rows = {r["id"]: r for r in manifest_rows(tmp_path / "out.csv.manifest.jsonl")}
    assert rows["row 1"]["status"] == "error" and "fields" in rows["row 1"]["error"]


def test_10_csv_formulas_are_neutralised(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "=1+1", "text": "-Pt stable.\n", "dept": "=HYPERLINK(\"x\")"},
                                        {"id": "b", "text": "@Pt stable.\n", "dept": "'quoted"}])
    out = tmp_path / "out.csv"
    assert redact(src, out, "--output-format", "csv", "--keep-field", "dept").exit_code == 0
    with open(out, newline="") as fh:
        cells = [c for r in list(csv.reader(fh))[1:] for c in r]
    assert cells == ["'=1+1", "'-Pt stable.\n", "'=HYPERLINK(\"x\")", "b", "'@Pt stable.\n", "''quoted"]
    # resuming reads them back as they were (no double quoting)
    assert redact(src, out, "--output-format", "csv", "--keep-field", "dept").exit_code == 0
    with open(out, newline="") as fh:
        assert [c for r in list(csv.reader(fh))[1:] for c in r] == cells
    out2 = tmp_path / "raw.csv"
    assert redact(src, out2, "--output-format", "csv", "--no-csv-neutralise").exit_code == 0
    assert "\n=1+1," in out2.read_text()
    for v in ("=x", "'=x", "''", "plain", "-", "'"):
        assert unneutralise_cell(neutralise_cell(v)) == v


# ---------------------------------------------------------------- 11 skipped inputs

def test_11_every_folder_entry_is_read_or_recorded(tmp_path):
    notes, elsewhere = tmp_path / "notes", tmp_path / "elsewhere"
    notes.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text(PHI_NOTE)
    (notes / "upper.TXT").write_text(PLAIN)
    (notes / ".hidden.txt").write_text(PLAIN)
    (notes / "readme.md").write_text("about")
    os.mkfifo(notes / "fifo.txt")
    (notes / "dangling.txt").symlink_to(notes / "missing.txt")
    (notes / "outside.txt").symlink_to(elsewhere / "secret.txt")
    out = tmp_path / "out"
    res = redact(notes, out)
    assert res.exit_code == 0, res.output
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in manifest_rows(out / "manifest.jsonl")}
    assert rows["upper.TXT"]["status"] == "written"
    for name in (".hidden.txt", "readme.md", "fifo.txt", "dangling.txt", "outside.txt"):
        assert rows[name]["status"] == "skipped" and rows[name]["reason"], name
    assert "not read 5" in res.output
    assert_no_phi(written_bytes(out), res.output)
    assert redact(notes, tmp_path / "out2", "--follow-links").exit_code in (0, 1)
    [row] = [r for r in manifest_rows(tmp_path / "out2" / "manifest.jsonl") if r["source"].endswith("outside.txt")]
    assert row["status"] in ("written", "held")


def test_11_a_fifo_given_as_input_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def too_slow(signum, frame):
        raise TimeoutError("blocked on the FIFO")
    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        res = redact(fifo, tmp_path / "out.txt")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert res.exit_code == 2 and "regular file" in res.output, res.output


# ---------------------------------------------------------------- 12 worker cap

def test_12_workers_are_capped_by_cores_and_memory():
    n, why = cap_workers(100)
    assert 1 <= n <= (os.cpu_count() or 1) and "1 GB" in why
    assert cap_workers(8, cores=16, memory_gb=3.5)[0] == 3
    assert cap_workers(8, cores=2, memory_gb=64)[0] == 2
    assert cap_workers(2, cores=16, memory_gb=64) == (2, None)


# ---------------------------------------------------------------- 13 and 14 time limits and signals

def test_13_a_slow_note_becomes_an_error_within_the_limit(redactor, tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}, {"id": "slow", "text": "SLOWNOTE " + PLAIN},
                                        {"id": "c", "text": PLAIN}])
    one_by_one = SlowSynth(replace(redactor.config, batch_size=1), detector=redactor.detector)
    one_by_one.delay = 60.0
    opts = RunOptions(input=str(src), output=str(tmp_path / "out.jsonl"), progress=False, max_seconds_per_note=4.0)
    started = time.monotonic()
    summary = run(opts, one_by_one)
    assert time.monotonic() - started < 40  # without the limit: over 60 s
    assert summary.exit_code == 3
    rows = {r["id"]: r for r in manifest_rows(tmp_path / "out.jsonl.manifest.jsonl")}
    assert rows["slow"]["status"] == "error" and "--max-seconds-per-note" in rows["slow"]["error"]
    assert rows["a"]["status"] == rows["c"]["status"] == "written", rows
    # a batch that runs over is redone note by note: only the slow note fails
    started = time.monotonic()
    res = synthesize_bounded(one_by_one, [("a", PLAIN), ("s", "SLOWNOTE " + PLAIN), ("c", PLAIN)], None, 3.0)
    assert [r.status for r in res] == ["written", "error", "written"]
    assert time.monotonic() - started < 40


def test_14_sigterm_during_a_long_note_stops_within_seconds(redactor, tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}, {"id": "slow", "text": "SLOWNOTE " + PLAIN},
                                        {"id": "c", "text": PLAIN}])
    opts = RunOptions(input=str(src), output=str(tmp_path / "out.jsonl"), progress=False)
    unhandled = []
    old = signal.signal(signal.SIGTERM, lambda *a: unhandled.append(a))  # if run() installs nothing
    redactor.synthesize_batch([("warm", PLAIN)])  # detector loaded before the clock starts
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    timer.start()
    try:
        summary = run(opts, redactor)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, old)
    assert not unhandled
    assert time.monotonic() - started < 12
    assert summary.exit_code == 130
    rows = {r["id"]: r for r in manifest_rows(tmp_path / "out.jsonl.manifest.jsonl")}
    assert rows["slow"]["status"] == "error" and "interrupted" in rows["slow"]["error"]
    assert not any(r["id"] == "slow" for r in manifest_rows(tmp_path / "out.jsonl"))


# ---------------------------------------------------------------- 15 validation

def test_15_bad_values_are_usage_errors_not_tracebacks(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}])
    out = str(tmp_path / "o.jsonl")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('phi_threshold = "x"\n')
    extra_table = tmp_path / "extra.toml"
    extra_table.write_text("[notesynth]\nmask_ratio = 0.3\n[other]\nmask_ratio = 0.9\n")
    cases = [
        (["synth", src, out, "--temperature", "inf"], "temperature"),
        (["synth", src, out, "--temperature", "1e-45"], "temperature"),
        (["synth", src, out, "--format", "xml"], "jsonl"),
        (["synth", src, out, "--output-format", "pdf"], "jsonl"),
        (["synth", src, out, "--log-format", "xml"], "json"),
        (["synth", src, out, "--config", bad_toml], "phi_threshold"),
        (["synth", src, out, "--config", extra_table], "other"),
        (["synth", src, out, "--log-file", tmp_path / "missing" / "run.log"], "does not exist"),
        (["synth", src, out, "--max-seconds-per-note", "-1"], "max-seconds"),
        (["redact", src, out, "--format", "xml", "-q"], "jsonl"),
    ]
    for args, word in cases:
        res = runner.invoke(app, [str(a) for a in args])
        assert res.exit_code == 2, (args, res.output, res.exception)
        assert word in res.output, (args, res.output)
        assert isinstance(res.exception, SystemExit), (args, repr(res.exception))
    for kw in ({"mask_ratio": "0.3"}, {"temperature": float("nan")}, {"phi_threshold": "x"}, {"seed": True}):
        with pytest.raises(ConfigError):
            SynthConfig(**kw).validate()


def test_15_a_model_computing_nan_fails_at_load(tiny_model, tmp_path):
    import torch
    from transformers import AutoModelForMaskedLM

    from notesynth.infill import ModelLoadError, load_model

    bad = tmp_path / "nan-model"
    shutil.copytree(tiny_model, bad)
    model = AutoModelForMaskedLM.from_pretrained(bad)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    model.save_pretrained(bad)
    with pytest.raises(ModelLoadError, match="NaN"):
        load_model(str(bad))
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": PLAIN}])
    res = runner.invoke(app, ["synth", str(src), str(tmp_path / "o.jsonl"), "--model", str(bad), "-q"])
    assert res.exit_code == 4 and "NaN" in res.output


def test_15_an_unreachable_hub_fails_in_seconds(monkeypatch):
    from notesynth.infill import ModelLoadError, load_model

    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE"):
        load_model("no-such-org-x1/no-such-model-x1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ModelLoadError, match="can't be reached"):
        load_model("no-such-org-x1/no-such-model-x1")
    assert time.monotonic() - started < 15


# ---------------------------------------------------------------- 16 small ones

def test_16_empty_and_null_notes_and_absolute_outputs(redactor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jsonl(tmp_path / "in.jsonl", [{"id": "e", "text": ""}, {"id": "n", "text": None}, {"id": "a", "text": PLAIN}])
    (tmp_path / "one.txt").write_text(PLAIN)
    assert redact("in.jsonl", "out.jsonl").exit_code == 3
    rows = {r["id"]: r for r in manifest_rows(tmp_path / "out.jsonl.manifest.jsonl")}
    assert rows["e"]["status"] == "error" and "empty" in rows["e"]["error"]
    assert rows["n"]["status"] == "error" and "null" in rows["n"]["error"]
    assert redact("in.jsonl", "folder", "--output-format", "folder").exit_code == 3
    assert redact("one.txt", "single.txt").exit_code == 0
    outputs = [r.get("output") for m in ("out.jsonl.manifest.jsonl", "folder/manifest.jsonl", "single.txt.manifest.jsonl")
               for r in manifest_rows(tmp_path / m) if r["status"] == "written"]
    assert len(outputs) == 3 and all(o and os.path.isabs(o) and os.path.exists(o) for o in outputs)

    class Empty(Synthesizer):  # a synthesizer that "writes" an empty note: the batch layer refuses it
        def synthesize_batch(self, notes, annotations=None):
            return [NoteResult(i, "written", "", attempts=1) for i, _ in notes]
    empty = Empty(redactor.config, detector=redactor.detector)
    summary = run(RunOptions(input="in.jsonl", output="empty.jsonl", progress=False), empty)
    assert summary.counts["written"] == 0 and summary.exit_code == 3


def test_16_the_library_refuses_an_empty_note(redactor):
    assert Synthesizer(redactor.config, detector=redactor.detector).synthesize("", "e").status == "error"
