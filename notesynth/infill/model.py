"""Loading a masked LM (offline unless a hub id is named) and running its head only where needed.

The encoder output is cheap next to a vocabulary-sized softmax at every
token; training and infilling only read the masked positions.
"""
from __future__ import annotations

from pathlib import Path

import torch


class ModelLoadError(RuntimeError):
    """The model folder is missing, incomplete or unreadable."""


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    return device


def is_wordpiece(tokenizer) -> bool:
    """WordPiece marks a word's later pieces ("##t"); byte-level BPE and sentencepiece mark its
    start instead, so a word is tokenized with a space before it."""
    return any(t and t.startswith("##") for t in tokenizer.convert_ids_to_tokens(list(range(min(5000, len(tokenizer))))))


def word_texts(tokenizer, words: list[str]) -> list[str]:
    """The words as the tokenizer must see them to split each as a word of running text."""
    return list(words) if is_wordpiece(tokenizer) else [" " + w for w in words]


def load_model(model: str, device: str = "cpu"):
    """Tokenizer and masked LM from a local folder, or a hub id the user named."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    path = Path(model)
    local = path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1
    if local:
        if not (path / "config.json").exists():
            raise ModelLoadError(
                f"model folder {model} not found or has no config.json; give --model a Hugging Face "
                "model folder (config.json, weights, tokenizer) or run `make demo` to get the default model")
    kwargs = {"local_files_only": True} if local or _in_hub_cache(model) else {}
    if not kwargs:
        _require_hub(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        mlm = AutoModelForMaskedLM.from_pretrained(model, dtype=torch.float32, **kwargs)
    except Exception as exc:  # transformers raises many kinds here
        raise ModelLoadError(f"could not load model {model}: {type(exc).__name__}: {str(exc)[:200]}") from None
    if tokenizer.mask_token_id is None:
        raise ModelLoadError(f"model {model} has no mask token: it is not a masked language model")
    mlm.eval()
    mlm = mlm.to(resolve_device(device))
    _check_finite(model, tokenizer, mlm)
    return tokenizer, mlm


def _check_finite(model: str, tokenizer, mlm) -> None:
    """One forward pass on a short input: weights that load but compute NaN or inf fail here,
    at load, rather than as garbage in every note."""
    ids = [i for i in (tokenizer.cls_token_id, tokenizer.mask_token_id, tokenizer.sep_token_id) if i is not None]
    device = next(mlm.parameters()).device
    input_ids = torch.tensor([ids], device=device)
    with torch.no_grad():
        logits = mlm(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).logits
    if not bool(torch.isfinite(logits).all()):
        raise ModelLoadError(f"model {model} computes NaN or infinite values on a test input: its weights are "
                             "corrupt (or were saved from a diverged training run); retrain or re-download it")


def _hub_offline() -> bool:
    import os

    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _in_hub_cache(model: str) -> bool:
    """The hub id's config is in the local cache: load it without the network."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:
        return False


def _require_hub(model: str, timeout: float = 5.0) -> None:
    """A hub id not in the cache needs the hub: say so in seconds when it can't be had
    (offline mode, or no answer from the endpoint), instead of retrying for minutes."""
    import os
    import threading
    import urllib.error
    import urllib.request

    if _hub_offline():
        raise ModelLoadError(f"model {model} is not a local folder and not in the Hugging Face cache, and the hub "
                             "is off (HF_HUB_OFFLINE is set); give --model a local model folder")
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    answer: list = []

    def probe():
        try:
            urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=timeout).close()
            answer.append(True)
        except urllib.error.HTTPError:
            answer.append(True)   # the hub answered (any status): reachable
        except Exception:
            answer.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 1)  # name resolution is not bounded by the socket timeout; this is
    if not answer or not answer[0]:
        raise ModelLoadError(f"model {model} is not a local folder and the Hugging Face hub ({endpoint}) can't be "
                             "reached; download the model and give --model its folder, or check the network")


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
