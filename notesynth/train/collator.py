"""Whole-word masking for masked-LM training (BERT's 80/10/10), deterministic for a seed."""
from __future__ import annotations

import random

import torch


class WholeWordMaskCollator:
    """Masks whole words (all their word-pieces), 80/10/10 as in BERT.

    Special tokens are never masked.  Deterministic given the generator seed.
    """

    def __init__(self, tokenizer, mask_prob: float = 0.15, seed: int = 0):
        self.tokenizer = tokenizer
        self.mask_prob = mask_prob
        self.rng = random.Random(seed)
        self.special = set(tokenizer.all_special_ids)
        self.vocab_size = len(tokenizer)

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, labels = [], []
        for row in rows:
            ids = list(row["input_ids"])
            lab = [-100] * len(ids)
            words: list[list[int]] = []
            for i, (tid, st) in enumerate(zip(ids, row["word_start"])):
                if tid in self.special:
                    continue
                if st or not words:
                    words.append([i])
                else:
                    words[-1].append(i)
            n = max(1, int(round(len(words) * self.mask_prob))) if words else 0
            for w in self.rng.sample(words, n):
                roll = self.rng.random()
                for i in w:
                    lab[i] = ids[i]
                    if roll < 0.8:
                        ids[i] = self.tokenizer.mask_token_id
                    elif roll < 0.9:
                        ids[i] = self.rng.randrange(self.vocab_size)
            input_ids.append(ids)
            labels.append(lab)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "attention_mask": torch.ones(len(input_ids), len(input_ids[0]), dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
        }


# ---------------------------------------------------------------- model
