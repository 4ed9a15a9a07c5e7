"""The trained model's folder: weights, tokenizer, metrics and a model card (counts only, never text)."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notesynth.train.trainer import TrainConfig


def save_model_folder(model, tokenizer, cfg: TrainConfig, metrics: dict, per_source: dict) -> None:
    """Write a complete Hugging Face folder: config, weights, tokenizer, card."""
    out = Path(cfg.out)
    tmp = out.parent / (out.name + ".tmp-save")
    if tmp.exists():
        shutil.rmtree(tmp)
    if cfg.fp16_weights:
        model = model.half()
    model.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    (tmp / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (tmp / "README.md").write_text(model_card(cfg, metrics, per_source))
    for p in tmp.iterdir():
        target = out / p.name
        if target.exists():
            target.unlink()
        os.replace(p, target)
    tmp.rmdir()


def model_card(cfg: TrainConfig, metrics: dict, per_source: dict) -> str:
    sources = "\n".join(f"- `{Path(k).name}`: {len(v):,} documents" for k, v in sorted(per_source.items()))
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("extra_card", "command", "site_words")}
    extra = "\n".join(f"{k}\n\n{v}\n" for k, v in cfg.extra_card.items())
    return f"""---
library_name: transformers
pipeline_tag: fill-mask
language: en
tags: [clinical, masked-lm, notesynth]
---
# notesynth masked language model

A BERT-style masked language model used by notesynth to re-generate masked
words of clinical notes. Trained with `notesynth train`
({"from scratch" if cfg.from_scratch else "fine-tuned from `" + str(cfg.base) + "`"}).

## Training data
{sources}

{extra}
## Command
```
{cfg.command or "(library call)"}
```

## Held-out metrics (15% whole-word masking, documents never trained on)
- top-1 accuracy on masked word-pieces: {metrics.get("top1", 0):.4f}
- pseudo-perplexity: {metrics.get("pseudo_perplexity", 0):.2f}
- masked tokens scored: {metrics.get("masked_tokens", 0):,}
- training steps: {metrics.get("steps")}, minutes: {metrics.get("train_minutes")}
- parameters: {metrics.get("parameters", 0):,}

## Settings
```json
{json.dumps(settings, indent=2)}
```

## Intended use and limits
Filling masked words in clinical notes for synthetic-note generation. It can
write plausible but false clinical text; it is not a diagnostic tool.
"""
