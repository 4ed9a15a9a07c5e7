"""BERTScore from a local encoder folder (no hub download, no bert-score package)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence


class BertScorer:
    """BERTScore (Zhang et al., 2020) with a local encoder, computed with transformers.

    Each text is tokenized without special tokens, cut into windows that fit the
    model, and embedded (hidden states of ``layer``; special tokens dropped).
    Precision is the mean over candidate tokens of the best cosine similarity to a
    reference token, recall the converse, F1 their harmonic mean.  No IDF weights
    and no baseline rescaling.  ``layer`` indexes ``hidden_states`` (0 = the
    embeddings); the default is three quarters of the way up the encoder, where
    Zhang et al. found the best layers for BERT-style models.
    """

    def __init__(self, model_path: str, layer: int | None = None, device: str = "cpu", batch_size: int = 8,
                 max_tokens: int = 512):
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        path = Path(model_path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"score model folder {model_path} not found or has no config.json")
        self.model_path = str(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_path, local_files_only=True, dtype=torch.float32)
        self.model.eval()
        self.device = device
        self.model.to(device)
        n_layers = int(getattr(self.model.config, "num_hidden_layers", 1))
        self.layer = max(1, math.ceil(0.75 * n_layers)) if layer is None else int(layer)
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise ValueError(f"layer {layer} out of range: the model has {n_layers} layers (0 = embeddings)")
        self.batch_size = max(1, batch_size)
        limit = int(getattr(self.model.config, "max_position_embeddings", max_tokens) or max_tokens)
        tok = self.tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        self._prefix = [first] if first is not None else []
        self._suffix = [last] if last is not None else []
        # RoBERTa-style models offset positions by the padding index: keep a margin
        self.window = max(8, min(max_tokens, limit) - len(self._prefix) - len(self._suffix) - 2)

    def _embed(self, texts: Sequence[str]) -> list:
        """One (tokens x hidden) L2-normalised tensor per text (None for a text without tokens)."""
        import torch

        tok = self.tokenizer
        chunks: list[tuple[int, list[int]]] = []  # (text index, input ids with special tokens)
        for t, text in enumerate(texts):
            ids = tok(text, add_special_tokens=False)["input_ids"]
            for a in range(0, len(ids), self.window):
                chunks.append((t, self._prefix + ids[a:a + self.window] + self._suffix))
        pieces: list[list] = [[] for _ in texts]
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][1]))
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        with torch.no_grad():
            for b in range(0, len(order), self.batch_size):
                batch = [chunks[c] for c in order[b:b + self.batch_size]]
                length = max(len(ids) for _, ids in batch)
                input_ids = torch.full((len(batch), length), pad, dtype=torch.long)
                attention = torch.zeros((len(batch), length), dtype=torch.long)
                for r, (_, ids) in enumerate(batch):
                    input_ids[r, :len(ids)] = torch.tensor(ids)
                    attention[r, :len(ids)] = 1
                out = self.model(input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device),
                                 output_hidden_states=True)
                hidden = out.hidden_states[self.layer].float().cpu()
                a = len(self._prefix)
                for r, (t, ids) in enumerate(batch):
                    pieces[t].append(hidden[r, a:len(ids) - len(self._suffix)])
        result = []
        for parts in pieces:
            if not parts or sum(p.shape[0] for p in parts) == 0:
                result.append(None)
                continue
            emb = torch.cat(parts)
            result.append(torch.nn.functional.normalize(emb, dim=-1))
        return result

    def score(self, candidates: Sequence[str], references: Sequence[str]) -> list[tuple[float, float, float] | None]:
        """(P, R, F1) per (candidate, reference) pair; None where a text has no tokens."""
        if len(candidates) != len(references):
            raise ValueError("candidates and references differ in number")
        emb = self._embed(list(candidates) + list(references))
        n = len(candidates)
        out: list[tuple[float, float, float] | None] = []
        for c, r in zip(emb[:n], emb[n:]):
            if c is None or r is None:
                out.append(None)
                continue
            sim = c @ r.T
            p = float(sim.max(dim=1).values.mean())
            rec = float(sim.max(dim=0).values.mean())
            f = 2 * p * rec / (p + rec) if p + rec > 0 else 0.0
            out.append((p, rec, f))
        return out
