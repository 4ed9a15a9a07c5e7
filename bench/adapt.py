"""Site adaptation: realism of synthetic notes before and after `notesynth adapt`.

Texts of a style the default model was not trained on: NCBI Disease PubMed abstracts
(../shared/data/ner/ncbi_disease, CoNLL tokens joined by spaces, 5 sentences per note, as
notesynth's CoNLL reader builds them). Adaptation uses train.tsv; realism is measured on
notes of devel.tsv (never adapted on), N of them drawn with a fixed seed.
1. synthesize the N notes with the base model (default settings), realism AUC;
2. `adapt` on train.tsv (PHI replaced by surrogates first) with a wall-clock budget;
3. synthesize the same N notes with the adapted model (same settings and seed), realism AUC.
Realism AUC: logistic regression on TF-IDF word 1-2-grams, 5-fold CV grouped by note
(0.5: indistinguishable from the real notes; 1.0: always told apart).
    .venv/bin/python bench/adapt.py [--minutes 15] [--n 150] [--out /tmp/notesynth-adapt-bench]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from _common import SHARED
from realism import report, synthesize, telling

NCBI = SHARED / "ner" / "ncbi_disease"


def conll_rows(path: Path) -> list[dict]:
    from notesynth.batch.readers import ReadError, read_notes

    return [{"id": n.id, "text": n.text, "spans": []} for n in read_notes(str(path), "conll")
            if not isinstance(n, ReadError)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=15.0, help="adaptation budget (notesynth adapt --max-minutes)")
    ap.add_argument("--n", type=int, default=150, help="held-out notes synthesized with each model")
    ap.add_argument("--base", default="", help="model to adapt (default: the shipped model)")
    ap.add_argument("--out", default="/tmp/notesynth-adapt-bench/site")
    ap.add_argument("--skip-adapt", action="store_true", help="reuse the adapted model in --out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--telling", type=int, default=0, metavar="K",
                    help="also print the K word n-grams that most give synthetic (and real) notes away")
    ap.add_argument("--stage", choices=("all", "base", "adapt", "adapted"), default="all",
                    help="run one stage (they can run in parallel: base and adapt; then adapted); "
                         "each stage's figures are kept in OUT/../bench_<stage>.json and the last prints both AUCs")
    args = ap.parse_args()

    from notesynth.config import default_model_path
    from notesynth.train.adapt import AdaptConfig, adapt

    base = args.base or default_model_path()
    held = conll_rows(NCBI / "devel.tsv")
    rows = sorted(random.Random(args.seed).sample(held, min(args.n, len(held))), key=lambda r: int(r["id"].split("-")[1]))
    print(f"base model: {base}; adaptation notes: {NCBI / 'train.tsv'} ({len(conll_rows(NCBI / 'train.tsv'))} notes); "
          f"measured on {len(rows)} notes of devel.tsv")

    keep = Path(args.out).parent
    keep.mkdir(parents=True, exist_ok=True)
    if args.stage in ("all", "base"):
        t0 = time.perf_counter()
        results = synthesize(rows, base, seed=args.seed)
        before = report(rows, results, "base model")
        _telling(rows, results, args.telling)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
        (keep / "bench_base.json").write_text(json.dumps(before))
        if args.stage == "base":
            return
    if args.stage == "adapt" or (args.stage == "all" and not args.skip_adapt):
        t0 = time.perf_counter()
        metrics = adapt(AdaptConfig(notes=str(NCBI / "train.tsv"), out=args.out, base=base, fmt="conll",
                                    max_minutes=args.minutes, seed=13, resume=False,
                                    command=f"bench/adapt.py --minutes {args.minutes}"))
        counts = metrics["adaptation"]
        print(f"adapted in {(time.perf_counter() - t0) / 60:.1f} min (budget {args.minutes} min for training): "
              f"{counts['documents']} notes, {counts['phi_spans_replaced']} PHI spans replaced, "
              f"{metrics['steps']} steps, held-out top-1 {metrics['top1']:.3f}", flush=True)
        if args.stage == "adapt":
            return
    else:
        metrics = json.loads((Path(args.out) / "training_metrics.json").read_text())
        print(f"reusing {args.out}: {metrics['steps']} steps, held-out top-1 {metrics['top1']:.3f}")

    t0 = time.perf_counter()
    results = synthesize(rows, args.out, seed=args.seed)
    after = report(rows, results, "adapted model")
    _telling(rows, results, args.telling)
    print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    (keep / "bench_adapted.json").write_text(json.dumps(after))
    before = json.loads((keep / "bench_base.json").read_text())
    print(f"realism AUC: base {before['auc']:.3f} -> adapted {after['auc']:.3f} "
          f"(change {after['auc'] - before['auc']:+.3f}; bar: at least 0.10 lower)")


def _telling(rows, results, k: int) -> None:
    if k:
        written = {r.id: r.text for r in results if r.status == "written" and r.text}
        telling({r["id"]: r["text"] for r in rows if r["id"] in written}, written, k)


if __name__ == "__main__":
    main()
