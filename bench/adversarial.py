"""Hostile and careless input through the real CLI (issue 16): one row per case.

Each case builds its inputs in a fresh folder, runs ``python -m notesynth.cli`` as a
subprocess, and reports: the exit code (and the one expected), notes in, notes out (in
the written outputs), manifest rows, whether any PHI string of the inputs appears in any
byte the run wrote (outputs, manifests, journals, logs, stdout, stderr; the inputs
themselves excluded), the seconds, and whether the case's own check holds.

`redact` is used where a language model is not the point; where `synth` is, a tiny model is
trained once (``notesynth train --from-scratch --size tiny --max-steps 30`` on
data/sample_notes) unless --model names one.

    .venv/bin/python bench/adversarial.py [--model DIR] [--keep] [--only WORD,WORD]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "data" / "sample_notes"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}

PHI_NOTE = ("Patient Bartholomew Wigglesworth (MRN 8842193) seen 03/14/2021 at Saint Ignatius Hospital by "
            "Dr. Philippa Thistlewood. Wife Griselda Wigglesworth, phone (617) 555-0199, lives at "
            "42 Larkspur Lane, Framingham MA 01701. BP 132/84, HR 90, on metoprolol 25 mg BID.\n")
PHI = ["Bartholomew", "Wigglesworth", "8842193", "03/14/2021", "Ignatius", "Philippa", "Thistlewood",
       "Griselda", "555-0199", "Larkspur", "01701"]
PLAIN = "Pt resting comfortably. BP 120/80, HR 72. Continue metoprolol 25 mg BID. Plan: ambulate.\n"


@dataclass
class Row:
    case: str
    expect: str
    rc: int
    n_in: int
    n_out: int
    rows: int
    phi: bool
    seconds: float
    ok: bool
    note: str = ""


def cli(args, cwd: Path, timeout: float = 600, env: dict | None = None, umask: int | None = None):
    """(exit code, stdout, stderr, seconds) of one notesynth command."""
    def pre():
        if umask is not None:
            os.umask(umask)
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "notesynth.cli", *map(str, args)], cwd=cwd, env=env or ENV,
                         capture_output=True, text=True, errors="replace", timeout=timeout, preexec_fn=pre)
    return res.returncode, res.stdout, res.stderr, time.monotonic() - started


def phi_in(case_dir: Path, inputs: list[Path], *texts: str) -> bool:
    """Any PHI string in any file under ``case_dir`` that is not an input, or in ``texts``."""
    blob = "\n".join(texts)
    skip = [Path(os.path.abspath(p)) for p in inputs]
    for p in case_dir.rglob("*"):
        if p.is_symlink() or not p.is_file() or any(p == s or s in p.parents for s in skip):
            continue
        blob += "\n" + p.read_bytes().decode("utf-8", "replace")
    low = blob.lower()
    return any(s.lower() in low for s in PHI)


def manifest_rows(path: Path) -> list[dict]:
    try:
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    except OSError:
        return []


def out_count(path: Path) -> int:
    """Notes in a written output: files of a folder, rows of a JSONL/CSV, 1 for a .txt."""
    if not path.exists():
        return 0
    if path.is_dir():
        return len([p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".txt"
                    and not p.name.startswith(".")])
    if path.suffix == ".jsonl":
        return len([x for x in path.read_text().splitlines() if x.strip()])
    if path.suffix == ".csv":
        with open(path, newline="") as fh:
            return max(0, len(list(csv.reader(fh))) - 1)
    if path.suffix == ".conll":
        return 1 if path.read_text().strip() else 0
    return 1


def jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------- the cases
# Each returns a Row; ``d`` is its own empty folder, ``model`` the tiny model.

def simple(d: Path, case: str, expect: set[int], args, inputs: list[Path], n_in: int, out: Path | None,
           manifest: Path | None = None, check=None, **kw) -> Row:
    rc, so, se, s = cli(args, d, **kw)
    rows = manifest_rows(manifest) if manifest else []
    ok = rc in expect and (check is None or check(rc, so, se, rows))
    return Row(case, "/".join(map(str, sorted(expect))), rc, n_in, out_count(out) if out else 0, len(rows),
               phi_in(d, inputs, so, se), s, ok)


def c_keep_text(d, model):
    src = jsonl(d / "in.jsonl", [{"id": f"n{i}", "text": PHI_NOTE} for i in range(3)])
    return simple(d, "1 --keep-field text", {2}, ["redact", src, d / "out.jsonl", "--keep-field", "text"], [src], 3,
                  d / "out.jsonl")


def c_id_text(d, model):
    src = jsonl(d / "in.jsonl", [{"id": f"n{i}", "text": PHI_NOTE} for i in range(3)])
    return simple(d, "1 --id-field text", {2}, ["redact", src, d / "out.jsonl", "--id-field", "text"], [src], 3,
                  d / "out.jsonl")


def c_bad_id_values(d, model):
    ids = ["Wigglesworth" * 25, "Bartholomew Wigglesworth", "MRN\n8842193", "ok-1"]
    src = jsonl(d / "in.jsonl", [{"id": i, "text": PLAIN} for i in ids])
    return simple(d, "1 bad id values (long, spaces, newline)", {3}, ["redact", src, d / "out.jsonl"], [src], 4,
                  d / "out.jsonl", d / "out.jsonl.manifest.jsonl",
                  check=lambda rc, so, se, rows: len(rows) == 4)


def c_x_x_folder(d, model):
    notes = d / "notes"
    notes.mkdir()
    for i in range(3):
        (notes / f"n{i}.txt").write_text(PHI_NOTE)
    return simple(d, "3 synth X X (folder)", {2}, ["redact", notes, notes], [notes], 3, None,
                  check=lambda *a: all((notes / f"n{i}.txt").read_text() == PHI_NOTE for i in range(3)))


def c_x_x_file(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "a", "text": PHI_NOTE}, {"id": "b", "text": ""}])
    before = src.read_bytes()
    return simple(d, "3 synth X X (file, an error row)", {2}, ["redact", src, src], [src], 2, None,
                  check=lambda *a: src.read_bytes() == before)


def c_out_inside(d, model):
    notes = d / "notes"
    notes.mkdir()
    (notes / "n.txt").write_text(PHI_NOTE)
    return simple(d, "3 output inside the input folder", {2}, ["redact", notes, notes / "out"], [notes], 1, None,
                  check=lambda *a: not (notes / "out").exists())


def c_headerless_csv(d, model):
    src = d / "in.csv"
    src.write_text(f"1,{PHI_NOTE.strip()}\n2,{PLAIN.strip()}\n")
    return simple(d, "4 headerless CSV", {3}, ["redact", src, d / "out.csv"], [src], 2, d / "out.csv",
                  d / "out.csv.manifest.jsonl")


def c_stale_conll(d, model):
    stale = d / ".notesynth-conll-x1y2"
    stale.mkdir()
    (stale / "doc-1.txt").write_text(PHI_NOTE)
    src = d / "in.conll"
    src.write_text("Pt\tO\nseen\tO\nby\tO\nDr\tO\nThistlewood\tB-NAME\n\nBP\tO\nstable\tO\n")
    return simple(d, "5 stale .notesynth-conll-* folder", {0, 1},
                  ["redact", src, d / "out.conll", "--format", "conll", "--output-format", "conll"], [src], 1,
                  d / "out.conll", d / "out.conll.manifest.jsonl", check=lambda *a: not stale.exists())


def c_umask(d, model):
    notes = d / "notes"
    notes.mkdir()
    for i in range(2):
        (notes / f"n{i}.txt").write_text(PHI_NOTE)
    out = d / "out"

    def modes_ok(*a):
        made = [p for p in d.rglob("*") if notes not in p.parents and p != notes]
        files = [p for p in made if p.is_file()]
        dirs = [p for p in made if p.is_dir()]
        return (len(files) >= 3 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
                and all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in dirs))
    row = simple(d, "6 umask 000: every file 0600", {0, 1},
                 ["synth", notes, out, "--model", model, "--log-file", d / "run.log", "-q", "--max-risk", "1.0"],
                 [notes], 2, out, out / "manifest.jsonl", check=modes_ok, umask=0)
    return row


def c_bad_ids_folder(d, model):
    src = d / "in.jsonl"
    lines = [json.dumps({"id": i, "text": PLAIN}) for i in ("x" * 300, "a", "a.txt/b", "nul\u0000id", "fine")]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bad\xffbyte", "text": "Pt stable."}\n')
    out = d / "out"
    return simple(d, "7 bad ids into a folder (300 chars, a + a.txt/b, NUL, bad UTF-8)", {3},
                  ["redact", src, out, "--output-format", "folder"], [src], 6, out, out / "manifest.jsonl",
                  check=lambda rc, so, se, rows: len(rows) == 6 and out_count(out) == 3)


def c_colliding_ids(d, model):
    ids = ["evil", "../../tmp/evil", "x", "/etc/x", ".", "..", "a/b/"]
    src = jsonl(d / "in.jsonl", [{"id": i, "text": PLAIN} for i in ids])
    out = d / "o1" / "o2" / "out"

    def check(rc, so, se, rows):
        paths = {r.get("output") for r in rows if r["status"] == "written"}
        return (len(paths) == 7 and all(p and Path(p).parent == out.resolve() for p in paths)
                and not list((d / "o1").glob("*.txt")) and not list(out.glob(".*.txt")))
    return simple(d, "8 ids evil ../../tmp/evil x /etc/x . .. a/b/", {0},
                  ["redact", src, out, "--output-format", "folder"], [src], 7, out, out / "manifest.jsonl",
                  check=check)


def c_two_runs(d, model):
    n = 20
    notes = [{"id": "long", "text": slow_note(3000)}] + [{"id": f"n{i}", "text": PHI_NOTE} for i in range(n - 1)]
    src = jsonl(d / "in.jsonl", notes)
    out = d / "out.jsonl"
    first = subprocess.Popen([sys.executable, "-m", "notesynth.cli", "redact", str(src), str(out), "-q",
                              "--max-note-bytes", "5000000"], cwd=d, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = d / ".out.jsonl.lock"
    deadline = time.time() + 120
    while time.time() < deadline and not lock.exists() and first.poll() is None:
        time.sleep(0.05)
    rc, so, se, s = cli(["redact", src, out, "-q", "--max-note-bytes", "5000000"], d)
    still_running = first.poll() is None
    so1, se1 = first.communicate(timeout=900)
    rows = manifest_rows(d / "out.jsonl.manifest.jsonl")
    ok = rc == 4 and "in use" in se and still_running and first.returncode in (0, 1, 3) and len(rows) == n
    return Row("9 two runs into one JSONL (second run)", "4", rc, n, out_count(out), len(rows),
               phi_in(d, [src], so, se, so1, se1), s, ok, f"first run exit {first.returncode}")


def c_unbalanced_quote(d, model):
    src = d / "in.csv"
    src.write_text(f'id,text\n1,"{PHI_NOTE.strip()}\n2,{PLAIN.strip()}\n')
    return simple(d, "10 CSV unbalanced quote (2 rows)", {3}, ["redact", src, d / "out.csv"], [src], 2,
                  d / "out.csv", d / "out.csv.manifest.jsonl",
                  check=lambda rc, so, se, rows: len(rows) == 1 and rows[0]["status"] == "error")


def c_formulas(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "=1+1", "text": "-Pt stable.\n", "dept": "=HYPERLINK(\"http://x\")"},
                                 {"id": "b", "text": "@SUM(A1:A9) Pt stable.\n", "dept": "+icu"}])
    out = d / "out.csv"

    def check(*a):
        with open(out, newline="") as fh:
            cells = [c for r in list(csv.reader(fh))[1:] for c in r]
        return cells and not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    return simple(d, "10 CSV formula cells (= + - @)", {0},
                  ["redact", src, out, "--output-format", "csv", "--keep-field", "dept"], [src], 2, out,
                  d / "out.csv.manifest.jsonl", check=check)


def c_folder_oddities(d, model):
    notes, elsewhere = d / "notes", d / "elsewhere"
    notes.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text(PHI_NOTE)
    (notes / "upper.TXT").write_text(PLAIN)
    (notes / ".hidden.txt").write_text(PHI_NOTE)
    (notes / "readme.md").write_text(PHI_NOTE)
    os.mkfifo(notes / "fifo.txt")
    (notes / "dangling.txt").symlink_to(notes / "missing.txt")
    (notes / "outside.txt").symlink_to(elsewhere / "secret.txt")
    out = d / "out"
    return simple(d, "11 folder: .TXT, hidden, .md, FIFO, dangling/outside links", {0},
                  ["redact", notes, out], [notes, elsewhere], 6, out, out / "manifest.jsonl",
                  check=lambda rc, so, se, rows: len(rows) == 6 and
                  sorted(r["status"] for r in rows) == ["skipped"] * 5 + ["written"])


def c_fifo_input(d, model):
    fifo = d / "pipe.txt"
    os.mkfifo(fifo)
    return simple(d, "11 a FIFO given as the input", {2}, ["redact", fifo, d / "out.txt"], [fifo], 1, d / "out.txt",
                  timeout=120)


def c_workers(d, model):
    notes = d / "notes"
    notes.mkdir()
    for i in range(4):
        (notes / f"n{i}.txt").write_text(PHI_NOTE)
    out = d / "out"
    return simple(d, "12 --workers 100", {0, 1},
                  ["synth", notes, out, "--model", model, "--workers", "100", "--max-risk", "1.0"], [notes], 4, out,
                  out / "manifest.jsonl", check=lambda rc, so, se, rows: "lowered to" in se and len(rows) == 4)


def slow_note(lines: int = 4000) -> str:
    """A note the detector takes long over (minutes here): many short lines of capitalised
    words and numbers (each line has dozens of candidate spans)."""
    line = "Seen By Dr Smith Jones Brown On 03/14/2021 At 10:30 Room 12 Bed 4 Ward B North\n"
    return PHI_NOTE + line * lines


def c_slow_note(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "fast", "text": PHI_NOTE}, {"id": "slow", "text": slow_note()}])
    out = d / "out.jsonl"
    return simple(d, "13 a slow note, --max-seconds-per-note 5", {3},
                  ["redact", src, out, "--max-seconds-per-note", "5", "--max-note-bytes", "5000000"], [src], 2, out,
                  d / "out.jsonl.manifest.jsonl",
                  check=lambda rc, so, se, rows: any("max-seconds" in r.get("error", "") for r in rows))


def c_sigterm(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "slow", "text": slow_note()}])
    out = d / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "notesynth.cli", "redact", str(src), str(out),
                             "--max-note-bytes", "5000000", "--verbose"], cwd=d, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lock = d / ".out.jsonl.lock"
    deadline = time.time() + 120
    while time.time() < deadline and not lock.exists():
        time.sleep(0.05)
    time.sleep(15)  # well inside the note (detector loaded, the note in hand)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    so, se = proc.communicate(timeout=600)
    s = time.monotonic() - sent
    rows = manifest_rows(d / "out.jsonl.manifest.jsonl")
    ok = proc.returncode == 130 and s < 10 and any("interrupted" in r.get("error", "") for r in rows)
    return Row("14 SIGTERM 15 s into a long note (s: to exit)", "130", proc.returncode, 1, out_count(out), len(rows),
               phi_in(d, [src], so, se), s, ok)


def c_validation(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "a", "text": PHI_NOTE}])
    out = d / "o.jsonl"
    (d / "bad.toml").write_text('phi_threshold = "x"\n')
    (d / "extra.toml").write_text("[notesynth]\nmask_ratio = 0.3\n[other]\nmask_ratio = 0.9\n")
    rows = []
    for name, extra in [("--temperature inf", ["--temperature", "inf"]),
                        ("--temperature 1e-45", ["--temperature", "1e-45"]),
                        ("--format xml", ["--format", "xml"]), ("--output-format pdf", ["--output-format", "pdf"]),
                        ("--log-format xml", ["--log-format", "xml"]),
                        ('phi_threshold = "x" in TOML', ["--config", d / "bad.toml"]),
                        ("extra TOML table", ["--config", d / "extra.toml"]),
                        ("--log-file in a missing folder", ["--log-file", d / "missing" / "x.log"])]:
        rc, so, se, s = cli(["synth", src, out, "--model", model, *extra], d)
        rows.append(Row(f"15 {name}", "2", rc, 1, out_count(out), 0, phi_in(d, [src], so, se), s,
                        rc == 2 and "Traceback" not in se))
    return rows


def c_nan_model(d, model):
    import torch
    from transformers import AutoModelForMaskedLM

    bad = d / "nan-model"
    shutil.copytree(model, bad)
    m = AutoModelForMaskedLM.from_pretrained(bad)
    with torch.no_grad():
        next(m.parameters()).fill_(float("nan"))
    m.save_pretrained(bad)
    src = jsonl(d / "in.jsonl", [{"id": "a", "text": PHI_NOTE}])
    return simple(d, "15 model weights that compute NaN", {4}, ["synth", src, d / "o.jsonl", "--model", bad],
                  [src, bad], 1, d / "o.jsonl", check=lambda rc, so, se, rows: "NaN" in se)


def c_hub(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "a", "text": PHI_NOTE}])
    env = {k: v for k, v in ENV.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens there (the discard port)
    a = simple(d, "15 hub id, HF_HUB_OFFLINE=1", {4}, ["synth", src, d / "o.jsonl", "--model", "no-org/no-model"],
               [src], 1, d / "o.jsonl")
    b = simple(d, "15 hub id, hub unreachable", {4}, ["synth", src, d / "o.jsonl", "--model", "no-org/no-model"],
               [src], 1, d / "o.jsonl", env=env, check=lambda rc, so, se, rows: "reached" in se)
    return [a, b]


def c_empty_null(d, model):
    src = jsonl(d / "in.jsonl", [{"id": "e", "text": ""}, {"id": "n", "text": None}, {"id": "a", "text": PHI_NOTE}])

    def check(rc, so, se, rows):
        by = {r["id"]: r for r in rows}
        return ("null" in by["n"]["error"] and by["e"]["status"] == "error"
                and all(os.path.isabs(r["output"]) for r in rows if r["status"] == "written"))
    return simple(d, "16 empty and null text; output paths", {3}, ["redact", "in.jsonl", "out"], [src], 3,
                  d / "out", d / "out" / "manifest.jsonl", check=check)


ACCENTED_NOTE = ("Patient Jos\u00e9 N\u00fa\u00f1ez is a 67 yo man seen by Dr. Fran\u00e7oise Lef\u00e8vre. His daughter "
                 "Jo\u200bhanna Wrzes\u00adniewski called; Zo\u00eb Kowalczyk visited. BP 132/84, HR 90.\n")
ACCENTED_PHI = ["N\u00fa\u00f1ez", "Nunez", "Fran\u00e7oise", "Francoise", "Lef\u00e8vre", "Lefevre", "Wrzes",
                "niewski", "Johanna", "Kowalczyk"]


def c_accented_names(d, model):
    """Item 2: names with accents, a zero-width space or a soft hyphen inside, through redact and synth."""
    src = jsonl(d / "in.jsonl", [{"id": "n1", "text": ACCENTED_NOTE}])
    rows = []
    started = time.monotonic()
    rcs, blob = [], ""
    for cmd, extra in (("redact", []), ("synth", ["--model", model])):
        out = d / f"{cmd}.jsonl"
        rc, so, se, _ = cli([cmd, src, out, *extra], d)
        rcs.append(rc)
        rows += manifest_rows(out.parent / f"{out.name}.manifest.jsonl")
        blob += so + se
    written = ""
    for f in d.rglob("*"):
        if f.is_file() and f != src:
            written += f.read_bytes().decode("utf-8", "replace")
    written = (written + blob).lower()
    leaked = any(x.lower() in written for x in ACCENTED_PHI)
    n_out = sum(out_count(d / f"{c}.jsonl") for c in ("redact", "synth"))
    return Row("2 accented / invisible-character names (redact, synth)", "0/1", max(rcs), 2, n_out, len(rows),
               leaked, time.monotonic() - started, all(rc in (0, 1) for rc in rcs) and not leaked)


def c_control(d, model):
    notes = d / "notes"
    notes.mkdir()
    for i in range(3):
        (notes / f"n{i}.txt").write_text(PHI_NOTE)
    out = d / "out"
    return simple(d, "control: synth a folder of PHI notes", {0, 1},
                  ["synth", notes, out, "--model", model, "--log-file", d / "run.log", "--verbose"], [notes], 3, out,
                  out / "manifest.jsonl", check=lambda rc, so, se, rows: len(rows) == 3)


CASES = [c_control, c_keep_text, c_id_text, c_bad_id_values, c_accented_names, c_x_x_folder, c_x_x_file, c_out_inside,
         c_headerless_csv, c_stale_conll, c_umask, c_bad_ids_folder, c_colliding_ids, c_two_runs,
         c_unbalanced_quote, c_formulas, c_folder_oddities, c_fifo_input, c_workers, c_slow_note, c_sigterm,
         c_validation, c_nan_model, c_hub, c_empty_null]


def train_tiny(folder: Path) -> Path:
    out = folder / "tiny"
    rc, so, se, s = cli(["train", NOTES, "--out", out, "--from-scratch", "--size", "tiny", "--max-steps", "30",
                         "--batch-size", "8", "--seq-len", "64", "--learning-rate", "5e-3", "--warmup-steps", "0"],
                        folder)
    if rc != 0:
        sys.exit(f"training the tiny model failed:\n{se[-2000:]}")
    print(f"tiny model trained in {s:.0f}s: {out}", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="Model folder for the synth cases (default: train a tiny one).")
    ap.add_argument("--keep", action="store_true", help="Keep the work folder.")
    ap.add_argument("--only", help="Only the cases whose function name holds one of these comma-separated words.")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="notesynth-adversarial-"))
    try:
        model = Path(args.model) if args.model else train_tiny(work)
        rows: list[Row] = []
        for case in CASES:
            if args.only and not any(w and w in case.__name__ for w in args.only.split(",")):
                continue
            d = work / case.__name__
            d.mkdir()
            got = case(d, model)
            for r in got if isinstance(got, list) else [got]:
                rows.append(r)
                print(f"  {r.case}: exit {r.rc} ({'ok' if r.ok else 'FAILED'})", file=sys.stderr, flush=True)
        w = max(len(r.case) for r in rows)
        print(f"| {'case':{w}} | expect | exit | in | out | rows | PHI written | s | holds |")
        print(f"|{'-' * (w + 2)}|--------|------|----|-----|------|-------------|---|-------|")
        for r in rows:
            print(f"| {r.case:{w}} | {r.expect:6} | {r.rc:4} | {r.n_in:2} | {r.n_out:3} | {r.rows:4} | "
                  f"{'YES' if r.phi else 'no':11} | {r.seconds:.1f} | {'yes' if r.ok and not r.phi else 'NO'} |")
        bad = [r.case for r in rows if not r.ok or r.phi]
        print(f"\n{len(rows) - len(bad)}/{len(rows)} cases hold" + (f"; failing: {', '.join(bad)}" if bad else ""))
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
