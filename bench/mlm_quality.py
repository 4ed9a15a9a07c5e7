"""Masked-LM quality: top-1 accuracy on masked word-pieces, pseudo-perplexity, fill-in speed.

Held-out set 1: the 5% of each corpus file held out (by document) when the default model
was trained (same split function and seed as `notesynth train`).
Held-out set 2: ICU nursing notes (../shared/data/phi/physionet_nursing_dev.jsonl) of the
patients models/default was not trained on: every 5th patient (pn-005, pn-010, ..., pn-080;
406 notes; bench/realism.py). --nursing all scores every note of the file instead (as before
the default model was trained on the other patients' notes).
Masking: 15% whole-word masking (80/10/10), fixed seed.
Speed: forward passes at batch 8 x 256 tokens (encoder + MLM head at every position).
    .venv/bin/python bench/mlm_quality.py [--model models/default] [--blocks 400] [--nursing heldout|all]
    [--skip-speed]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from _common import ROOT, SHARED, corpus_heldout, load_jsonl, peak_rss_mb

from notesynth.train import WholeWordMaskCollator, encode_blocks, evaluate_blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--blocks", type=int, default=400, help="128-token blocks scored per set")
    ap.add_argument("--seed", type=int, default=13, help="the training run's split seed")
    ap.add_argument("--nursing", choices=("heldout", "all"), default="heldout",
                    help="nursing notes scored: the held-out patients' (default) or all")
    ap.add_argument("--skip-speed", action="store_true", help="only the accuracy figures")
    ap.add_argument("--train-corpus", default=None,
                    help="the corpus folder as the model's training command spelled it (its card); the split "
                         "of held-out documents depends on it (default: ../shared/data/corpus, absolute)")
    args = ap.parse_args()

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = AutoModelForMaskedLM.from_pretrained(args.model, local_files_only=True, dtype=torch.float32).eval()
    n_params = sum(p.numel() for p in model.parameters())
    size_mb = sum(p.stat().st_size for p in Path(args.model).glob("*") if p.is_file()) / 1e6
    print(f"model: {args.model}  parameters: {n_params / 1e6:.1f}M  folder size: {size_mb:.1f} MB")

    # speed first: after the corpus is tokenized (datasets, tokenizers threads) CPU timings are unreliable here
    from notesynth.infill.model import masked_only_logits

    torch.set_flush_denormal(True)
    ids = torch.randint(1000, len(tok) - 1, (8, 256))
    att = torch.ones_like(ids)
    masked = torch.rand(8, 256, generator=torch.Generator().manual_seed(0)) < 0.15

    def timed(fn) -> tuple[float, float]:
        with torch.no_grad():
            fn()  # warm-up
            runs = []
            for _ in range(7):
                t0 = time.perf_counter()
                fn()
                runs.append(time.perf_counter() - t0)
        return 8 * 256 / min(runs), 8 * 256 / sorted(runs)[3]

    if not args.skip_speed:
        best, median = timed(lambda: masked_only_logits(model, ids, att, masked))
        print(f"fill-in speed, as the infiller runs it (encoder + MLM head at the 15% masked positions), "
              f"batch 8 x 256: {best:.0f} tokens/s (median {median:.0f}) with {torch.get_num_threads()} threads")
        best, median = timed(lambda: model(input_ids=ids, attention_mask=att))
        print(f"forward with the MLM head at every position (not what the infiller does): {best:.0f} tokens/s "
              f"(median {median:.0f})")
    held = [r["text"] for rows in corpus_heldout(["mtsamples.jsonl", "e3c_case_reports.jsonl"], args.train_corpus,
                                                  args.seed).values() for r in rows]
    if args.nursing == "heldout":
        from realism import nursing_rows

        nursing = [r["text"] for r in nursing_rows(heldout=True)]
        nursing_name = f"nursing notes of held-out patients ({len(nursing)} notes, never trained on)"
    else:
        nursing = [r["text"] for r in load_jsonl(SHARED / "phi" / "physionet_nursing_dev.jsonl")]
        nursing_name = f"nursing notes, all patients ({len(nursing)} notes)"
    for name, docs in (("held-out corpus documents", held), (nursing_name, nursing)):
        blocks = encode_blocks(tok, docs, 128)
        random.Random(0).shuffle(blocks)
        blocks = blocks[: args.blocks]
        m = evaluate_blocks(model, WholeWordMaskCollator(tok, 0.15, seed=1234), blocks)
        print(f"{name}: top-1 {m['top1']:.4f}  pseudo-perplexity {m['pseudo_perplexity']:.2f}  "
              f"({m['masked_tokens']} masked word-pieces in {len(blocks)} blocks)")

    card = Path(args.model) / "training_metrics.json"
    if card.exists():
        t = json.loads(card.read_text())
        print(f"training: {t.get('steps')} steps, {t.get('train_minutes')} min, final train loss {t.get('train_loss'):.3f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
