"""Helpers shared by the benchmark scripts (not part of the product)."""
from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def load_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


AUDIT = Path(__file__).with_name("silver_audit.jsonl")


def load_audit(path: Path = AUDIT) -> dict[str, set[tuple[str, int, int]]]:
    """Gold spans a human review found are not PHI, by data file name: {(id, start, end)}.

    bench/silver_audit.jsonl gives each one's category and reason (silver labels from a
    rule-based tagger: clinical values read as dates, clock times, name surrogates that
    the data set put on non-name words)."""
    audit: dict[str, set[tuple[str, int, int]]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            e = json.loads(line)
            audit.setdefault(e["file"], set()).add((e["id"], e["start"], e["end"]))
    return audit


def run_watched(cmd: list[str], env: dict | None = None, interval: float = 0.25, tick=None) -> dict:
    """Run ``cmd`` while polling its process tree: wall time, exit code, stderr, and per pid the
    peak RSS (MB) and the command name.  ``tick(elapsed_seconds)`` runs on every poll."""
    import subprocess
    import threading
    import time

    import psutil

    peaks: dict[int, float] = {}
    names: dict[int, str] = {}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    done = threading.Event()

    def watch():
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                for p in [root] + root.children(recursive=True):
                    try:
                        names.setdefault(p.pid, " ".join(p.cmdline()[:1]) + p.name())
                        peaks[p.pid] = max(peaks.get(p.pid, 0.0), p.memory_info().rss / 1e6)
                    except psutil.Error:
                        continue
            except psutil.Error:
                pass
            if tick is not None:
                tick(time.perf_counter() - start)
            time.sleep(interval)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    _, err = proc.communicate()
    done.set()
    thread.join()
    return {"wall": time.perf_counter() - start, "code": proc.returncode, "stderr": err or "", "pid": proc.pid,
            "peaks": peaks, "names": names}


def corpus_heldout(names: list[str], trained_as: str | None = None, seed: int = 13) -> dict[str, list[dict]]:
    """The rows of corpus files (../shared/data/corpus/NAME) that `notesynth train` held out.

    train's split is seeded by each source path *as given on its command line*, so the same
    file spelled another way splits differently: ``trained_as`` is the folder as the model's
    training command spelled it (its model card, "Command"); default: this folder, absolute."""
    from notesynth.train import split_documents

    folder = trained_as or str(SHARED / "corpus")
    out = {}
    for name in names:
        rows = [r for r in load_jsonl(SHARED / "corpus" / name) if r.get("text", "").strip()]
        _, held = split_documents({f"{folder.rstrip('/')}/{name}": [r["text"] for r in rows]}, 0.05, seed)
        held = set(held)
        out[name] = [r for r in rows if r["text"] in held]
    return out


def parse_setting(item: str) -> tuple[str, object]:
    """'passes=2' -> ('passes', 2): a SynthConfig field, typed by its default (bench --set/--grid)."""
    from notesynth import SynthConfig

    key, _, value = item.partition("=")
    default = getattr(SynthConfig(), key)  # AttributeError names a field that does not exist
    if isinstance(default, bool):
        return key, value.lower() in ("1", "true", "yes")
    return key, type(default)(value) if default is not None else float(value)
