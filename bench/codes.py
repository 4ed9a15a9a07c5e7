"""Benchmark `notesynth codes` (EHRDiff-style diffusion) against two baselines, on Synthea then MIMIC-III demo.

For each data set: 80/20 split by patient (seeded); train with `python -m notesynth.codes train`,
sample as many records as the training set, and evaluate with `codes eval` against the held-out
records (privacy against the training records). Baselines go through the same `codes eval`:
- independent Bernoulli at the training prevalences (keeps every code's rate, no co-occurrence): a floor;
- resampling training records with replacement: perfect fidelity, the privacy worst case.

    .venv/bin/python bench/codes.py [--max-minutes 20] [--steps N] [--only synthea|mimic]

Runs the CLI in subprocesses with OMP_NUM_THREADS=1 unless set (this model is small: one
thread beats two on a shared 2-core machine). Writes under runs/codes-bench/ (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import ROOT, SHARED  # noqa: E402
from notesynth.codes.data import Record, build_vocab, from_matrix, read_records, to_matrix, write_records  # noqa: E402

DATASETS = {
    "synthea": (SHARED / "ehr" / "synthea_conditions.jsonl", "none"),
    "mimic": (SHARED / "ehr" / "mimic3_demo_diagnoses.jsonl", "icd9-3"),
}
VARIANTS = [  # (row label, file slug, extra `codes train` options)
    ("EHRDiff + per-code head (default)", "ehrdiff", []),
    ("EHRDiff, plain MLP (--head-width 0)", "ehrdiff-plain", ["--head-width", "0"]),
]
COLUMNS = [
    ("prevalence r", "fidelity", "prevalence_r", "{:.3f}"),
    ("NZC", "fidelity", "nzc", "{}"),
    ("co-occ. r", "fidelity", "cooccurrence_r", "{:.3f}"),
    ("size W1", "fidelity", "size_wasserstein", "{:.2f}"),
    ("disc. AUC", "fidelity", "discriminator_auc", "{:.3f}"),
    ("MMD", "fidelity", "mmd_jaccard", "{:.3f}"),
    ("exact copies", "privacy", "exact_copies_of_train", "{}"),
    ("copies >3 codes", "privacy", "exact_copies_of_train_over_3_codes", "{}"),
    ("MIA adv.", "privacy", "membership_advantage", "{:+.3f}"),
    ("DCR train-closer", "privacy", "dcr_train_closer_share", "{:.2f}"),
    ("attr. F1 train/held-out", "privacy", None, None),
]


def split_by_patient(path: Path, seed: int, work: Path) -> tuple[Path, Path, int, int]:
    """80/20 by patient (a MIMIC patient's admissions stay on one side); raw rows are copied."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    patients = sorted({str(r.get("patient", r["id"])) for r in rows})
    random.Random(seed).shuffle(patients)
    train_ids = set(patients[: int(round(0.8 * len(patients)))])
    sides = {"train": [], "held": []}
    for r in rows:
        sides["train" if str(r.get("patient", r["id"])) in train_ids else "held"].append(r)
    for name, part in sides.items():
        (work / f"{name}.jsonl").write_text("".join(json.dumps({"id": r["id"], "codes": r["codes"]}) + "\n" for r in part))
    return work / "train.jsonl", work / "held.jsonl", len(sides["train"]), len(sides["held"])


def run(cmd: list[str], env: dict) -> str:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"command failed with exit code {proc.returncode}")
    out = proc.stdout.strip()
    if out:
        print("  " + out.replace("\n", "\n  "), flush=True)
    return out


def baselines(train_path: Path, truncate: str, n: int, seed: int, work: Path) -> dict[str, Path]:
    """Independent Bernoulli at training prevalences, and resampled training records."""
    train = read_records(train_path, truncate=truncate)
    vocab = build_vocab(train)
    x = to_matrix(train, vocab)
    rng = np.random.default_rng(seed)
    bern = (rng.random((n, len(vocab))) < x.mean(0)).astype(np.uint8)
    paths = {"Bernoulli (independent codes)": work / "bernoulli.jsonl", "resample training records": work / "resample.jsonl"}
    write_records(paths["Bernoulli (independent codes)"], from_matrix(bern, vocab, prefix="bern-"))
    picks = rng.integers(0, len(train), n)
    write_records(paths["resample training records"], [Record(f"res-{i:06d}", train[j].codes) for i, j in enumerate(picks)])
    return paths


def cell(report: dict, section: str, key: str | None, fmt: str | None) -> str:
    part = report.get(section) or {}
    if key is None:
        return f"{part.get('attr_f1_train', float('nan')):.3f}/{part.get('attr_f1_holdout', float('nan')):.3f}"
    value = part.get(key)
    return "n/a" if value is None else fmt.format(value)


def bench(name: str, args, env: dict) -> None:
    path, truncate = DATASETS[name]
    work = ROOT / "runs" / "codes-bench" / name
    work.mkdir(parents=True, exist_ok=True)
    train_path, held_path, n_train, n_held = split_by_patient(path, args.seed, work)
    print(f"\n## {name}: {path.name}, {n_train} training / {n_held} held-out records (80/20 by patient, seed {args.seed}), truncate {truncate}\n")
    py = [sys.executable, "-m", "notesynth.codes"]
    trunc = ["--truncate", truncate] if truncate != "none" else []
    synth = {}
    for label, slug, extra in VARIANTS:
        model = work / f"model-{slug}"
        train_cmd = py + ["train", str(train_path.relative_to(ROOT)), "--out", str(model.relative_to(ROOT)), "--seed", str(args.seed),
                          "--max-minutes", str(args.max_minutes), "--overwrite"] + trunc + extra
        if args.steps:
            train_cmd += ["--steps", str(args.steps)]
        t0 = time.monotonic()
        run(train_cmd, env)
        metrics = json.loads((model / "metrics.json").read_text())
        print(f"training minutes ({label}): {metrics['minutes']:.2f} ({metrics['steps_done']} steps; "
              f"{(time.monotonic() - t0) / 60:.2f} min with start-up)")
        synth[label] = work / f"{slug}.jsonl"
        run(py + ["sample", str(model.relative_to(ROOT)), "--n", str(n_train), "--out", str(synth[label].relative_to(ROOT)),
                  "--seed", str(args.seed)], env)
    synth.update(baselines(train_path, truncate, n_train, args.seed, work))
    reports = {}
    for label, spath in synth.items():
        rep = work / f"report-{spath.stem}"
        run(py + ["eval", str(held_path.relative_to(ROOT)), str(spath.relative_to(ROOT)), "--report", str(rep.relative_to(ROOT)),
                  "--train", str(train_path.relative_to(ROOT)), "--seed", str(args.seed)] + trunc, env)
        reports[label] = json.loads((rep / "report.json").read_text())
    real_nzc = next(iter(reports.values()))["counts"]["real_nonzero_codes"]
    print(f"\n{name}: {n_held} held-out real records use {real_nzc} distinct codes; synthetic sets have {n_train} records each\n")
    print("| method | " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for label, rep in reports.items():
        print(f"| {label} | " + " | ".join(cell(rep, s, k, f) for _, s, k, f in COLUMNS) + " |")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-minutes", type=float, default=20.0, help="training time cap per data set")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the CLI's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=sorted(DATASETS), default=None)
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    print(f"# bench/codes.py (OMP_NUM_THREADS={env['OMP_NUM_THREADS']}, seed {args.seed})")
    for name in ([args.only] if args.only else list(DATASETS)):
        bench(name, args, env)


if __name__ == "__main__":
    main()
