"""Where the fill's logits come from: the model's own torch forward, or its int8 ONNX encoder.

Both run the encoder over padded windows and the vocabulary head only at the selected
(masked) positions, and only for the word-pieces a fill may write there (``columns``):
the head is the costliest part of a small model's forward, and a softmax over banned
pieces is wasted work.

``make_backend`` picks one: ``torch``, ``onnx`` (``model.int8.onnx`` beside the
weights, written by ``notesynth export-onnx``; CPU only) or ``auto`` (onnx on CPU when the
file is there and matches the weights, torch otherwise, and always torch on a GPU).

Determinism: on CPU, loop.py runs the head once per note, so its matrix sizes depend on
the note alone.  On a GPU (fp16, one head call per batch) outputs are repeatable for a
given batch size, but batch independence is only checked on CPU.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from notesynth.infill.model import ModelLoadError, masked_only_logits
from notesynth.onnx_int8 import BACKENDS, ONNX_FILE, onnx_file  # noqa: F401  (ONNX_FILE re-exported)

log = logging.getLogger(__name__)


def head_parts(model):
    """(transform, decoder) of a masked LM head whose decoder is a Linear, else None.

    transform maps hidden states to the decoder's input; restricting the decoder to some
    vocabulary rows then gives those logits exactly as the full head would."""
    decoder = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if not isinstance(decoder, torch.nn.Linear):
        return None
    cls = getattr(model, "cls", None)
    predictions = getattr(cls, "predictions", None)
    if predictions is not None and hasattr(predictions, "transform"):  # BERT family
        return predictions.transform, decoder
    lm_head = getattr(model, "lm_head", None)
    if lm_head is not None and all(hasattr(lm_head, a) for a in ("dense", "layer_norm")):  # RoBERTa family
        from transformers.activations import gelu

        return (lambda h: lm_head.layer_norm(gelu(lm_head.dense(h)))), decoder
    if hasattr(model, "vocab_transform"):  # DistilBERT
        return (lambda h: model.vocab_layer_norm(model.activation(model.vocab_transform(h)))), decoder
    return None


class FillBackend:
    """Logits at selected positions, restricted to given vocabulary columns."""

    name = "base"

    def __init__(self, model, device: str):
        self.model = model
        self.device = device
        self._parts = head_parts(model)
        self._restricted: dict[int, tuple] = {}

    def hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """The encoder's last hidden states [n_selected, hidden] at the True cells of positions,
        in row order (for a model whose head we can't split: its full logits there)."""
        raise NotImplementedError

    def head(self, hidden: torch.Tensor, columns: torch.Tensor | None = None) -> torch.Tensor:
        """float32 logits [rows, len(columns) or vocabulary] from ``hidden`` rows."""
        if self._parts is None:
            return hidden.float() if columns is None else hidden[:, columns.to(hidden.device)].float()
        transform, decoder = self._parts
        product, dtype = self._product(decoder, columns)
        return product(transform(hidden.to(dtype))).float()

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor,
               columns: torch.Tensor | None = None) -> torch.Tensor:
        """Both steps at once: logits at the True cells of positions."""
        return self.head(self.hidden(input_ids, attention_mask, positions), columns)

    def _product(self, decoder, columns):
        """(the vocabulary product over ``columns``, the dtype it takes), built once per column set:
        the allowed sets are few and live as long as the infiller."""
        key = id(columns)
        if key not in self._restricted:
            weight, bias = decoder.weight, decoder.bias
            if columns is not None:
                index = columns.to(weight.device)
                weight, bias = weight[index].contiguous(), None if bias is None else bias[index].contiguous()
            self._restricted[key] = (*self._make_product(weight, bias), columns)  # columns: keeps the id valid
        product, dtype, _ = self._restricted[key]
        return product, dtype

    def _make_product(self, weight, bias):
        return (lambda h: F.linear(h, weight, bias)), weight.dtype


class TorchBackend(FillBackend):
    """The model's own forward; fp16 on a GPU when the model computes finite values in it."""

    name = "torch"

    def __init__(self, model, device: str):
        if device != "cpu":
            model = _half_if_finite(model)
        super().__init__(model, device)
        self.dtype = next(model.parameters()).dtype

    def hidden(self, input_ids, attention_mask, positions):
        input_ids, attention_mask, positions = (t.to(self.device) for t in (input_ids, attention_mask, positions))
        if self._parts is None:
            return masked_only_logits(self.model, input_ids, attention_mask, positions).float()
        base = getattr(self.model, self.model.base_model_prefix)
        return base(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[positions]


def _half_if_finite(model):
    """fp16 weights on a GPU, unless the model then computes NaN or inf (kept in fp32)."""
    device = next(model.parameters()).device
    half = model.half()
    ids = torch.arange(5, 69, device=device).unsqueeze(0) % model.config.vocab_size
    with torch.no_grad():
        logits = half(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    if bool(torch.isfinite(logits).all()):
        log.info("fill model runs in fp16 on %s", device)
        return half
    log.warning("the model computes non-finite values in fp16: running it in fp32 on %s", device)
    return half.float()


def make_backend(choice: str, model_name: str, model, device: str) -> FillBackend:
    """The backend asked for; ``auto``: onnx on CPU when the model folder has a matching
    model.int8.onnx, else torch.  ``onnx`` without the file (or on a GPU) is an error."""
    if choice not in BACKENDS:
        raise ModelLoadError(f"unknown backend {choice!r}; use one of {', '.join(BACKENDS)}")
    if choice == "torch" or (choice == "auto" and device != "cpu"):
        return TorchBackend(model, device)
    from notesynth.infill import onnx as onnx_backend

    path = onnx_file(model_name)
    if choice == "onnx":
        if device != "cpu":
            raise ModelLoadError("the onnx backend runs on the CPU only; use --backend torch (or auto) with "
                                 f"--device {device}")
        if path is None:
            raise ModelLoadError(f"--backend onnx: {Path(model_name) / ONNX_FILE} not found; write it with "
                                 f"`notesynth export-onnx {model_name}` or use --backend torch")
        return onnx_backend.OnnxBackend(model, path, model_name)
    if path is None:
        log.info("no %s in %s: filling with the torch backend (`notesynth export-onnx` writes it)", ONNX_FILE,
                 model_name)
        return TorchBackend(model, device)
    try:
        return onnx_backend.OnnxBackend(model, path, model_name)
    except ModelLoadError as exc:
        log.warning("%s; filling with the torch backend", exc)
        return TorchBackend(model, device)
