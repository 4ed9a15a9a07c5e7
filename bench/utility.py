"""Downstream utility: does a NER model trained on synthetic text do as well as one trained on real text?

On the NCBI Disease corpus (../shared/data/ner/ncbi_disease/, CoNLL/BIO), the training
split is synthesized with notesynth's masking and infilling while the gold disease
spans are protected from masking and carried through to the synthetic text.  The same
spaCy NER model (bench/ner_config.cfg: tok2vec + ner, CPU, seed 0) is trained on
(a) the real training split, (b) the synthetic one, (c) both, each selected on the real
devel split, and all three are evaluated on the real test split (entity P/R/F1).
Training steps scale with the set's size (3,000 for the real split, 6,000 for "both"), so
every model sees each training example about as often; --fixed-steps turns that off.

The synthesis mirrors notesynth.pipeline without its privacy check: PHI detection
(PHI spans overlapping a disease mention are dropped: the gold annotation wins),
medical.protect + the disease spans as protected spans, masking.plan, Infiller, render.

    .venv/bin/python bench/utility.py [--limit N] [--max-steps N] [--model PATH] [--mask-ratio 0.3]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED

from notesynth import protect as medical
from notesynth.batch import conll
from notesynth.config import SynthConfig
from notesynth.infill import FillJob, Infiller, InfillSettings
from notesynth.masking import plan as make_plan, remap_spans, render
from notesynth.surrogates import SurrogateMaker
from notesynth.pipeline import note_seed
from notesynth.spans import Span

DATA = SHARED / "ner" / "ncbi_disease"
CONFIG = ROOT / "bench" / "ner_config.cfg"
CONFIG_STEPS = 3000  # training.max_steps in CONFIG
LABEL = "Disease"


# ---------------------------------------------------------------- data

def read_conll(path: Path, limit: int | None = None) -> list[list[tuple[str, str]]]:
    return conll.read_sentences(path)[:limit]


def to_documents(sentences, per_doc: int) -> list[tuple[str, list[Span]]]:
    """Groups of ``per_doc`` sentences -> (text, labelled spans), as `notesynth synth x.conll` builds them."""
    return [(text, spans) for _, text, spans in conll.to_notes(sentences, per_doc)]


# ---------------------------------------------------------------- synthesis

def synthesize(docs, args) -> tuple[list[tuple[str, list[Span]]], dict]:
    cfg = SynthConfig(model=args.model or "", seed=args.seed, mask_ratio=args.mask_ratio, passes=args.passes,
                      strategy=args.strategy, device=args.device)
    infiller = Infiller(cfg.resolved_model(), cfg.device, InfillSettings.from_config(cfg))
    detector = None
    if not args.no_phi:
        from notesynth.phi import shared_detector
        detector = shared_detector(None)
    stats = {"docs": len(docs), "words": 0, "masked": 0, "phi": 0, "phi_dropped": 0, "spans": 0, "spans_lost": 0}
    out: list[tuple[str, list[Span]]] = []
    t0 = time.perf_counter()
    for b in range(0, len(docs), args.synth_batch):
        batch = docs[b:b + args.synth_batch]
        plans, seeds = [], []
        for n, (text, spans) in enumerate(batch):
            phi = detector.detect(text) if detector else []
            kept_phi = [p for p in phi if not any(p.overlaps(s) for s in spans)]
            stats["phi"] += len(kept_phi)
            stats["phi_dropped"] += len(phi) - len(kept_phi)
            seed = note_seed(cfg.seed, f"train-{b + n}", 0)
            plans.append(make_plan(text, kept_phi, medical.protect(text) + spans, cfg.mask_ratio,
                                   random.Random(seed), SurrogateMaker(seed)))
            seeds.append(seed)
        fills = infiller.fill([FillJob(p, s) for p, s in zip(plans, seeds)])
        for (text, spans), plan_, fill in zip(batch, plans, fills):
            synthetic, _ = render(plan_, fill)
            moved = remap_spans(plan_, fill, spans)
            stats["words"] += plan_.n_words
            stats["masked"] += plan_.n_masked
            stats["spans"] += len(spans)
            if None in moved or any(synthetic[m.start:m.end] != text[s.start:s.end] for m, s in zip(moved, spans)):
                stats["spans_lost"] += len(spans)   # keep the real document rather than a mislabelled one
                out.append((text, spans))
                continue
            out.append((synthetic, moved))
        print(f"  synthesized {min(b + args.synth_batch, len(docs))}/{len(docs)} documents "
              f"({time.perf_counter() - t0:.0f}s)", flush=True)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    return out, stats


# ---------------------------------------------------------------- spaCy

def write_docbin(docs: list[tuple[str, list[Span]]], path: Path) -> dict:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    db = DocBin()
    misaligned = 0
    for text, spans in docs:
        doc = nlp.make_doc(text)
        ents = []
        for s in spans:
            span = doc.char_span(s.start, s.end, label=s.label, alignment_mode="strict") or \
                doc.char_span(s.start, s.end, label=s.label, alignment_mode="expand")
            if span is None:
                misaligned += 1
                continue
            ents.append(span)
        doc.ents = spacy.util.filter_spans(ents)
        db.add(doc)
    db.to_disk(path)
    return {"docs": len(docs), "misaligned_spans": misaligned}


def train_ner(name: str, train: Path, dev: Path, out: Path, max_steps: int | None, seed: int = 0) -> Path:
    cmd = [sys.executable, "-m", "spacy", "train", str(CONFIG), "--output", str(out),
           "--paths.train", str(train), "--paths.dev", str(dev), "--system.seed", str(seed)]
    if max_steps:
        cmd += ["--training.max_steps", str(max_steps)]
        eval_every = max(1, min(250, max_steps // 6))
        cmd += ["--training.eval_frequency", str(eval_every)]
    t0 = time.perf_counter()
    with open(out.parent / f"train_{name}.log", "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    print(f"  trained ({name}) in {time.perf_counter() - t0:.0f}s", flush=True)
    best = out / "model-best"
    return best if best.exists() else out / "model-last"


def evaluate_ner(model: Path, test: Path) -> dict:
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    nlp = spacy.load(model)
    gold = list(DocBin().from_disk(test).get_docs(nlp.vocab))
    scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in gold])
    return {"precision": scores["ents_p"], "recall": scores["ents_r"], "f1": scores["ents_f"]}


# ---------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--limit", type=int, default=None, help="Training sentences to use (default: all).")
    ap.add_argument("--eval-limit", type=int, default=None, help="Devel/test sentences to use (default: all).")
    ap.add_argument("--max-steps", type=int, default=None, help="spaCy training steps for the real split (default: the config's 3000).")
    ap.add_argument("--fixed-steps", action="store_true",
                    help="Train every set for the same steps (default: steps scale with the set's size, so "
                         "'both', twice the data, gets twice the steps and every set sees each example as often).")
    ap.add_argument("--doc-sentences", type=int, default=5, help="Consecutive sentences per synthesized document.")
    ap.add_argument("--model", default="", help="Masked LM for infilling (default: the shipped model).")
    ap.add_argument("--seeds", default="0,1,2", help="spaCy training seeds; figures are means over them.")
    ap.add_argument("--reuse", action="store_true",
                    help="Reuse the synthetic split saved in --out by an earlier run with the same settings.")
    ap.add_argument("--mask-ratio", type=float, default=SynthConfig().mask_ratio)
    ap.add_argument("--strategy", default=SynthConfig().strategy)
    ap.add_argument("--passes", type=int, default=SynthConfig().passes, help="infilling passes (default: synth's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--synth-batch", type=int, default=32, help="Documents per infilling call.")
    ap.add_argument("--no-phi", action="store_true", help="Skip PHI detection (no surrogates).")
    ap.add_argument("--out", default=None, help="Working folder (default: a temporary folder, removed at the end).")
    ap.add_argument("--json", default=None, help="Also write the figures to this JSON file.")
    args = ap.parse_args()

    data = Path(args.data)
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="notesynth-utility-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        train_sents = read_conll(data / "train.tsv", args.limit)
        dev_sents = read_conll(data / "devel.tsv", args.eval_limit)
        test_sents = read_conll(data / "test.tsv", args.eval_limit)
        real = to_documents(train_sents, args.doc_sentences)
        print(f"train: {len(train_sents)} sentences in {len(real)} documents, "
              f"{sum(len(s) for _, s in real)} disease mentions; devel {len(dev_sents)}, test {len(test_sents)} sentences",
              flush=True)
        cache = work / "synthetic.json"
        if args.reuse and cache.exists():
            saved = json.loads(cache.read_text())
            synthetic = [(text, [Span(a, b, label) for a, b, label in spans]) for text, spans in saved["docs"]]
            stats = saved["stats"]
            print(f"reusing the synthetic split of an earlier run ({cache})", flush=True)
        else:
            print("synthesizing the training split ...", flush=True)
            synthetic, stats = synthesize(real, args)
            cache.write_text(json.dumps({"docs": [(t, [(x.start, x.end, x.label) for x in sp]) for t, sp in synthetic],
                                         "stats": stats}))
        changed = sum(a[0] != b[0] for a, b in zip(real, synthetic))
        print(f"  words {stats['words']}, masked {stats['masked']} ({stats['masked'] / max(1, stats['words']):.1%}), "
              f"PHI spans replaced {stats['phi']} (dropped as overlapping a mention: {stats['phi_dropped']}), "
              f"mentions carried {stats['spans'] - stats['spans_lost']}/{stats['spans']}, documents changed {changed}/{len(real)}",
              flush=True)
        sets = {"real": real, "synthetic": synthetic, "both": real + synthetic}
        paths = {}
        for name, docs in sets.items():
            paths[name] = work / f"{name}.spacy"
            info = write_docbin(docs, paths[name])
            if info["misaligned_spans"]:
                print(f"  {name}: {info['misaligned_spans']} span(s) not on token boundaries, dropped")
        write_docbin(to_documents(dev_sents, 1), work / "dev.spacy")
        write_docbin(to_documents(test_sents, 1), work / "test.spacy")

        results = {}
        base_steps = args.max_steps or CONFIG_STEPS
        steps = {name: base_steps if args.fixed_steps else round(base_steps * len(docs) / len(real))
                 for name, docs in sets.items()}
        seeds = [int(x) for x in args.seeds.split(",")]
        runs: dict[str, list[dict]] = {}
        for name in sets:
            for seed in seeds:
                print(f"training NER on {name} ({steps[name]} steps, seed {seed}) ...", flush=True)
                model = train_ner(f"{name}-{seed}", paths[name], work / "dev.spacy", work / f"ner_{name}_{seed}",
                                  steps[name], seed)
                runs.setdefault(name, []).append(evaluate_ner(model, work / "test.spacy"))
            results[name] = {k: statistics.mean(r[k] for r in runs[name]) for k in ("precision", "recall", "f1")}
            results[name]["f1_sd"] = statistics.stdev(r["f1"] for r in runs[name]) if len(seeds) > 1 else 0.0
            results[name]["f1_runs"] = [r["f1"] for r in runs[name]]
        print()
        print(f"NER ({LABEL}) on the real test split ({len(test_sents)} sentences); "
              f"synthesis: mask ratio {args.mask_ratio}, strategy {args.strategy}, model "
              f"{SynthConfig(model=args.model).resolved_model()}; spaCy steps {steps}")
        print(f"means over spaCy seeds {seeds}")
        print(f"{'train set':<12} {'precision':>9} {'recall':>9} {'F1':>9} {'F1 sd':>7}  F1 per seed")
        for name, r in results.items():
            print(f"{name:<12} {r['precision']:>9.4f} {r['recall']:>9.4f} {r['f1']:>9.4f} {r['f1_sd']:>7.4f}  "
                  + " ".join(f"{x:.4f}" for x in r["f1_runs"]))
        a, b, c = (results[k]["f1"] for k in ("real", "synthetic", "both"))
        print(f"(b) synthetic - real: {100 * (b - a):+.2f} F1 points (bar: within 2); "
              f"(c) both - real: {100 * (c - a):+.2f} (bar: not below 0)")
        if args.json:
            Path(args.json).write_text(json.dumps({"results": results, "synthesis": stats, "args": vars(args)}, indent=2))
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
