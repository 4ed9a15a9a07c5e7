"""Combine several `bench/utility.py --json` runs into one grid of synthesis seed x spaCy seed.

One utility run varies the spaCy seed only; the synthesis itself (which words are masked,
what the model writes) is a second source of spread, as large or larger.  Run the bench
once per synthesis seed (`--seed S`, optionally split over several calls with `--reuse`)
and pass every JSON file here:

    python bench/utility_grid.py run_s0.json run_s1.json run_s2.json

The real split does not depend on the synthesis seed: its F1 per spaCy seed must agree
across files (spaCy training is deterministic for a seed) and is taken once.  Bars (issue
#6): (b) synthetic within 2 F1 points of real, (c) both not below real, on the means over
the whole grid.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def load_runs(paths: list[Path]) -> dict[str, dict[tuple[int | None, int], float]]:
    """F1 by set name and (synthesis seed, spaCy seed); the real set's synthesis seed is None."""
    grid: dict[str, dict[tuple[int | None, int], float]] = {"real": {}, "synthetic": {}, "both": {}}
    for path in paths:
        run = json.loads(path.read_text())
        synth_seed = int(run["args"]["seed"])
        spacy_seeds = [int(x) for x in str(run["args"]["seeds"]).split(",")]
        for name, cells in grid.items():
            for spacy_seed, f1 in zip(spacy_seeds, run["results"][name]["f1_runs"]):
                key = (None if name == "real" else synth_seed, spacy_seed)
                if key in cells and abs(cells[key] - f1) > 1e-9:
                    raise SystemExit(f"{path}: {name} F1 for {key} is {f1}, another file has {cells[key]}")
                cells[key] = f1
    return grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="JSON files written by bench/utility.py --json")
    args = ap.parse_args()
    grid = load_runs(args.runs)
    real = grid["real"]
    spacy_seeds = sorted({s for cells in grid.values() for _, s in cells})
    synth_seeds = sorted({g for name in ("synthetic", "both") for g, _ in grid[name]})
    print(f"F1 on the real test split; rows: synthesis seed, columns: spaCy seed {spacy_seeds}")
    for name in ("real", "synthetic", "both"):
        rows = [None] if name == "real" else synth_seeds
        for g in rows:
            cells = [grid[name].get((g, s)) for s in spacy_seeds]
            label = name if g is None else f"{name} s{g}"
            print(f"  {label:<14}" + " ".join(f"{c:8.4f}" if c is not None else "       -" for c in cells))
    print("means over the cells present (paired: a synthetic/both cell is compared with real at its spaCy seed)")
    for name in ("real", "synthetic", "both"):
        values = list(grid[name].values())
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"  {name:<10} F1 {statistics.mean(values):.4f}  sd {sd:.4f}  n {len(values)}")
    for name, bar in (("synthetic", "(b) within 2"), ("both", "(c) not below 0")):
        diffs = [f1 - real[(None, s)] for (g, s), f1 in grid[name].items() if (None, s) in real]
        if not diffs:
            continue
        sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        low = sum(d < 0 for d in diffs)
        print(f"  {name} - real: {100 * statistics.mean(diffs):+.2f} F1 points (sd {100 * sd:.2f}, "
              f"{low}/{len(diffs)} cells below real)  bar {bar}")


if __name__ == "__main__":
    main()
