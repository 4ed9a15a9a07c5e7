"""Realism of synthetic ICU nursing notes: a classifier two-sample test (notesynth.evaluate.realism).

Notes: N held-out nursing notes from ../shared/data/phi/physionet_nursing_dev.jsonl. Held out =
the notes of every 5th patient (patient number divisible by 5: pn-005, pn-010, ..., pn-080;
16 patients, 406 notes), which models/default was NOT trained on (its training used the
other 65 patients' 1,236 notes). N notes are drawn from those, seeded.
Synthesis: notesynth.Synthesizer with default settings (SynthConfig(), seed 0).
Prints realism AUC (logistic regression on TF-IDF word 1-2-grams, 5-fold CV grouped by note)
of the written syntheses against their originals, and of surrogate-only (redact) copies;
held-back share; PHI survival over written notes (gold spans; notesynth.evaluate.phi_survival).
    .venv/bin/python bench/realism.py [--n 300] [--model models/default] [--set passes=2]
                                      [--grid passes=1,2,4 --grid mask_ratio=0.2,0.3]
"""
from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from _common import SHARED, load_jsonl, parse_setting

NURSING = SHARED / "phi" / "physionet_nursing_dev.jsonl"


def patient(note_id: str) -> int:
    """pn-017-004 -> 17."""
    return int(note_id.split("-")[1])


def is_heldout_patient(note_id: str) -> bool:
    """The nursing patients models/default never saw in training: every 5th patient."""
    return patient(note_id) % 5 == 0


def nursing_rows(heldout: bool = True) -> list[dict]:
    return [r for r in load_jsonl(NURSING) if is_heldout_patient(r["id"]) == heldout]


def redact_copies(rows: list[dict], seed: int = 0) -> dict[str, str]:
    """Surrogate-only copies: every detected PHI span replaced, every other word kept (as redact)."""
    from notesynth.batch.readers import Note
    from notesynth.phi import shared_detector
    from notesynth.train.adapt import prepare_corpus

    corpus = prepare_corpus([Note(r["id"], r["text"], "bench") for r in rows], shared_detector(), seed)
    return dict(zip(corpus.ids, corpus.texts))


def synthesize(rows: list[dict], model: str = "", batch_size: int = 8, seed: int = 0, **settings):
    from notesynth import SynthConfig, Synthesizer

    synth = Synthesizer(SynthConfig(model=model, seed=seed, batch_size=batch_size, **settings))
    results = []
    for i in range(0, len(rows), batch_size):
        results += synth.synthesize_batch([(r["id"], r["text"]) for r in rows[i:i + batch_size]])
    return results


def report(rows: list[dict], results, label: str = "synth") -> dict:
    from notesynth.evaluate import phi_survival
    from notesynth.evaluate.realism import realism_auc

    by_id = {r["id"]: r for r in rows}
    status = Counter(r.status for r in results)
    written = {r.id: r.text for r in results if r.status == "written" and r.text is not None}
    survived = total = 0
    for i, text in written.items():
        share, n = phi_survival(by_id[i]["text"], text, by_id[i].get("spans", []))
        if n:
            survived += round(share * n)
            total += n
    real = {i: by_id[i]["text"] for i in written}
    res = realism_auc(real, written)
    out = {"auc": res.auc if res else None, "held_share": status.get("held", 0) / max(1, len(results)),
           "error_share": status.get("error", 0) / max(1, len(results)), "written": len(written),
           "phi_survival": survived / total if total else None, "phi_spans": total}
    survival = (f"PHI survival {survived}/{total} = {out['phi_survival']:.2%} of gold spans in written notes"
                if total else "no gold PHI spans")
    auc = f"{out['auc']:.3f}" if out["auc"] is not None else "n/a"
    print(f"{label}: realism AUC {auc} (written {len(written)}/{len(results)}; "
          f"held back {out['held_share']:.1%}, errors {out['error_share']:.1%}); {survival}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300, help="held-out nursing notes to synthesize")
    ap.add_argument("--model", default="", help="masked LM (default: the shipped model)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0, help="seeds the note sample and the synthesis")
    ap.add_argument("--skip-redact", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a SynthConfig setting other than its default (repeatable), e.g. --set passes=2; "
                         "with several --grid runs, one line per setting")
    ap.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                    help="run the synthesis once per value (repeatable: the product of the values)")
    ap.add_argument("--telling", type=int, default=0, metavar="K",
                    help="also print the K word n-grams that most give synthetic (and real) notes away")
    args = ap.parse_args()

    from notesynth.config import default_model_path
    from notesynth.evaluate.realism import realism_auc

    rows = nursing_rows(heldout=True)
    rows = sorted(random.Random(args.seed).sample(rows, min(args.n, len(rows))), key=lambda r: r["id"])
    print(f"model: {args.model or default_model_path()}; {len(rows)} held-out nursing notes "
          f"({len({patient(r['id']) for r in rows})} patients never trained on)")
    if not args.skip_redact:
        t0 = time.perf_counter()
        copies = redact_copies(rows, args.seed)
        res = realism_auc({r["id"]: r["text"] for r in rows}, copies)
        print(f"redact (surrogates only): realism AUC {res.auc:.3f} ({time.perf_counter() - t0:.0f} s)")
    fixed = dict(parse_setting(item) for item in args.set)
    for settings in _grid(args.grid):
        settings = {**fixed, **settings}
        label = "synth (" + (", ".join(f"{k}={v}" for k, v in settings.items()) or "default settings") + ")"
        t0 = time.perf_counter()
        results = synthesize(rows, args.model, args.batch_size, args.seed, **settings)
        elapsed = time.perf_counter() - t0
        out = report(rows, results, label)
        attempts = sum(r.attempts for r in results) / len(results)
        print(f"    {len(rows) / elapsed:.2f} notes/s ({elapsed / len(rows):.2f} s per note), "
              f"attempts/note {attempts:.2f}; realism AUC {out['auc']:.3f}", flush=True)
        if args.telling:
            written = {r.id: r.text for r in results if r.status == "written" and r.text}
            telling({r["id"]: r["text"] for r in rows if r["id"] in written}, written, args.telling)


def telling(real: dict, synthetic: dict, k: int) -> None:
    """The n-grams with the largest logistic-regression weights, fitted on all notes (public
    benchmark text; a diagnosis of the register, not a score)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = list(real.values()) + list(synthetic.values())
    y = np.array([0] * len(real) + [1] * len(synthetic))
    vec = TfidfVectorizer(ngram_range=(1, 2), lowercase=True, sublinear_tf=True)  # as realism_auc
    x = vec.fit_transform(texts)
    coef = LogisticRegression(max_iter=2000).fit(x, y).coef_[0]
    names = vec.get_feature_names_out()
    order = np.argsort(coef)
    print("    gives synthetic away: " + ", ".join(names[i] for i in order[::-1][:k]))
    print("    gives real away:      " + ", ".join(names[i] for i in order[:k]))


def _grid(items: list[str]) -> list[dict]:
    combos: list[dict] = [{}]
    for item in items:
        key, _, values = item.partition("=")
        combos = [{**c, **dict([parse_setting(f"{key}={v}")])} for c in combos for v in values.split(",")]
    return combos


if __name__ == "__main__":
    main()
