"""The int8 ONNX Runtime fill backend and its export (``notesynth export-onnx MODEL``).

What is exported is the encoder from word embeddings to the last hidden states,
weights quantized to int8 (``quantize_dynamic``, per output channel).  The word
embeddings and the vocabulary head stay in the torch model: the embedding lookup is
free, the head runs at masked positions only (backend.py), and leaving out the two
vocabulary-sized matrices keeps the file at a quarter of the fp32 model.  The head's
product over the allowed pieces runs in int8 too (``int8_linear``, built at load time).

Dynamic quantization scales each matrix product's input by its own range, so a
window's hidden states would depend on whatever shares its call: every window runs
alone, at its own length (no padding either).  Export, sessions and the weights stamp
are shared with the PHI tagger (``notesynth/onnx_int8.py``).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from notesynth.infill.backend import ONNX_FILE, FillBackend
from notesynth.infill.model import ModelLoadError, load_model
from notesynth.onnx_int8 import ExportResult, OnnxUnavailable, export_int8, make_session, stamp_problem, weights_digest

log = logging.getLogger(__name__)

FORMAT = "notesynth-encoder-int8/1"   # what the graph takes and gives; bumped if that changes


def _require_onnxruntime() -> None:
    from notesynth.onnx_int8 import require_onnxruntime

    try:
        require_onnxruntime()
    except OnnxUnavailable as exc:
        raise ModelLoadError(str(exc)) from None


class _Encoder(torch.nn.Module):
    """Word embeddings in, last hidden states out (no padding, so no attention mask)."""

    def __init__(self, mlm):
        super().__init__()
        self.base = getattr(mlm, mlm.base_model_prefix)

    def forward(self, inputs_embeds):
        return self.base(inputs_embeds=inputs_embeds).last_hidden_state


def export_onnx(model: str, out: str | Path | None = None, per_channel: bool = True) -> ExportResult:
    """Write the int8 ONNX encoder of a local model folder (default: MODEL/model.int8.onnx)."""
    _require_onnxruntime()
    folder = Path(model)
    if not folder.is_dir():
        raise ModelLoadError(f"export-onnx needs a local model folder; {model} is not one")
    started = time.perf_counter()
    tokenizer, mlm = load_model(model, "cpu")
    try:
        mlm.set_attn_implementation("eager")  # plain matrix products: a graph every runtime optimizes
    except Exception:  # older transformers, or a model with one implementation only
        pass
    encoder = _Encoder(mlm).eval()
    target = Path(out) if out else folder / ONNX_FILE
    probe_ids = torch.tensor([tokenizer("the patient was resting comfortably overnight with no complaints",
                                        add_special_tokens=True)["input_ids"]])
    with torch.no_grad():
        probe = mlm.get_input_embeddings()(probe_ids)
        reference = encoder(probe)
    meta = {"notesynth_format": FORMAT, "source_weights_sha256": weights_digest(folder),
            "hidden_size": str(probe.shape[-1]), "per_channel": str(per_channel)}
    export_int8(encoder, (probe,), target, ["inputs_embeds"], ["hidden"],
                {"inputs_embeds": {0: "batch", 1: "tokens"}, "hidden": {0: "batch", 1: "tokens"}},
                meta, per_channel=per_channel)
    hidden = make_session(target, threads=1).run(None, {"inputs_embeds": probe.numpy()})[0]
    diff = float(np.abs(hidden - reference.numpy()).max())
    return ExportResult(target, target.stat().st_size, time.perf_counter() - started, diff)


def int8_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.nn.Module:
    """``F.linear(x, weight, bias)`` with int8 weights (per output channel) and int8 activations
    quantized per call: fbgemm's integer product is exact, so a call's output depends on its
    own rows alone (the head runs once per note on the CPU) and on nothing else."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight.float())
        if bias is not None:
            linear.bias.copy_(bias.float())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that the API moves to torchao
        return quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear: per_channel_dynamic_qconfig}).eval()


class OnnxBackend(FillBackend):
    """Int8 encoder in ONNX Runtime (each window alone), embeddings in torch, and the head's
    vocabulary product in int8 (the transform before it in fp32): the product over the allowed
    pieces is a seventh of the fp32 time on this CPU."""

    name = "onnx"

    def __init__(self, model, path: Path, model_name: str = ""):
        super().__init__(model, "cpu")
        self.path = Path(path)
        if self._parts is None:
            raise ModelLoadError("the onnx backend knows the heads of BERT, RoBERTa and DistilBERT models only; "
                                 "use --backend torch")
        _require_onnxruntime()
        threads = torch.get_num_threads()  # set per worker before the model loads
        try:
            self.session = make_session(self.path, threads)
        except Exception as exc:
            raise ModelLoadError(f"could not load {self.path}: {type(exc).__name__}: {str(exc)[:200]}") from None
        problem = stamp_problem(self.session, FORMAT, self.path.parent)
        if problem:
            raise ModelLoadError(f"{self.path} {problem}; re-run `notesynth export-onnx {model_name or self.path.parent}`")
        self.threads = threads
        self.embed = model.get_input_embeddings()

    def _make_product(self, weight, bias):
        return int8_linear(weight, bias), torch.float32

    def hidden(self, input_ids, attention_mask, positions):
        lengths = attention_mask.sum(dim=1).tolist()
        out = []
        for r, n in enumerate(lengths):
            select = positions[r, :n]
            if not bool(select.any()):
                continue
            with torch.no_grad():
                embeds = self.embed(input_ids[r:r + 1, :n]).numpy()
            hidden = self.session.run(None, {"inputs_embeds": embeds})[0][0]
            out.append(torch.from_numpy(hidden)[select])
        if not out:
            return torch.zeros((0, self.embed.embedding_dim))
        return torch.cat(out)
