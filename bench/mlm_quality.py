"""Masked-LM quality: top-1 accuracy on masked word-pieces, pseudo-perplexity, fill-in speed.

Held-out set 1: the 5% of each corpus file held out (by document) when the default model
was trained (same split function and seed as `notesynth train`).
Held-out set 2: notes of another style the model never saw (ICU nursing notes,
../shared/data/phi/physionet_nursing_dev.jsonl).
Masking: 15% whole-word masking (80/10/10), fixed seed.
Speed: forward passes at batch 8 x 256 tokens (encoder + MLM head at every position).
    .venv/bin/python bench/mlm_quality.py [--model models/default] [--blocks 400]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from _common import ROOT, SHARED, load_jsonl, peak_rss_mb

from notesynth.train import WholeWordMaskCollator, encode_blocks, evaluate_blocks, load_corpus_texts, split_documents


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--blocks", type=int, default=400, help="128-token blocks scored per set")
    ap.add_argument("--seed", type=int, default=13, help="the training run's split seed")
    args = ap.parse_args()

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = AutoModelForMaskedLM.from_pretrained(args.model, local_files_only=True, dtype=torch.float32).eval()
    n_params = sum(p.numel() for p in model.parameters())
    size_mb = sum(p.stat().st_size for p in Path(args.model).glob("*") if p.is_file()) / 1e6
    print(f"model: {args.model}  parameters: {n_params / 1e6:.1f}M  folder size: {size_mb:.1f} MB")

    corpus = [str(SHARED / "corpus" / "mtsamples.jsonl"), str(SHARED / "corpus" / "e3c_case_reports.jsonl")]
    _, held = split_documents(load_corpus_texts(corpus), 0.05, args.seed)
    nursing = [r["text"] for r in load_jsonl(SHARED / "phi" / "physionet_nursing_dev.jsonl")]
    for name, docs in (("held-out corpus documents", held), ("nursing notes (other style, unseen)", nursing)):
        blocks = encode_blocks(tok, docs, 128)
        random.Random(0).shuffle(blocks)
        blocks = blocks[: args.blocks]
        m = evaluate_blocks(model, WholeWordMaskCollator(tok, 0.15, seed=1234), blocks)
        print(f"{name}: top-1 {m['top1']:.4f}  pseudo-perplexity {m['pseudo_perplexity']:.2f}  "
              f"({m['masked_tokens']} masked word-pieces in {len(blocks)} blocks)")

    ids = torch.randint(1000, len(tok) - 1, (8, 256))
    att = torch.ones_like(ids)
    with torch.no_grad():
        model(input_ids=ids, attention_mask=att)  # warm-up
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=att)
            runs.append(time.perf_counter() - t0)
    best = min(runs)
    print(f"fill-in speed: {8 * 256 / best:.0f} tokens/s (forward, batch 8 x 256, full MLM head; "
          f"median {8 * 256 / sorted(runs)[2]:.0f}) with {torch.get_num_threads()} threads")
    card = Path(args.model) / "training_metrics.json"
    if card.exists():
        t = json.loads(card.read_text())
        print(f"training: {t.get('steps')} steps, {t.get('train_minutes')} min, final train loss {t.get('train_loss'):.3f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
