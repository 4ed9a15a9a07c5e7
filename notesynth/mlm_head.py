"""Run a masked LM's prediction head only at the positions that need it.

The encoder output is cheap next to a vocabulary-sized softmax at every
token; training and infilling only read the masked positions.
"""
from __future__ import annotations

import torch


def _head(model):
    """The module mapping hidden states to vocabulary logits, if we know it."""
    for name in ("cls", "lm_head"):  # BERT family, RoBERTa family
        if hasattr(model, name):
            return getattr(model, name)
    if hasattr(model, "vocab_projector"):  # DistilBERT
        def distil(h):
            h = model.vocab_transform(h)
            h = model.activation(h)
            h = model.vocab_layer_norm(h)
            return model.vocab_projector(h)
        return distil
    return None


def masked_only_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                       positions: torch.Tensor) -> torch.Tensor:
    """Logits [n_selected, vocab] for the True cells of ``positions``."""
    head = _head(model)
    if head is None:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
        return logits[positions]
    base = getattr(model, model.base_model_prefix)
    hidden = base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return head(hidden[positions])
