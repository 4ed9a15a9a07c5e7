"""The PHI tagger's int8 ONNX graph: `notesynth export-onnx models/phi-tagger`.

The graph takes word embeddings and gives tag logits (encoder and classifier, weights in
int8); the word embeddings stay in the torch model, a lookup, which keeps the file at a
quarter of the fp32 model.  Each window runs alone and unpadded (see onnx_int8.py), so a
note's spans depend on the note only.  `PhiTagger.load` picks this graph when the folder
has one whose stamp matches the weights (`TaggerConfig.backend`, default auto).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List

import numpy as np

from ...onnx_int8 import ONNX_FILE, ExportResult, export_int8, make_session, stamp_problem, weights_digest

FORMAT = "notesynth-tagger-int8/1"


def is_token_classifier(folder: str | Path) -> bool:
    """True for a Hugging Face folder whose config names a token-classification head."""
    import json

    config = Path(folder) / "config.json"
    if not config.is_file():
        return False
    try:
        archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        return False
    return any(a.endswith("ForTokenClassification") for a in archs)


def _classifier(model):
    import torch

    class Classifier(torch.nn.Module):
        """Word embeddings in, tag logits out (no padding, so no attention mask)."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds):
            return self.model(inputs_embeds=inputs_embeds).logits

    return Classifier().eval()


def export_tagger_onnx(folder: str | Path, out: str | Path | None = None, per_channel: bool = True) -> ExportResult:
    """Write MODEL/model.int8.onnx for a tagger folder; max_abs_diff compares tag probabilities."""
    import torch

    from .model import PhiTagger, TaggerConfig

    started = time.perf_counter()
    tagger = PhiTagger.load(str(folder), TaggerConfig(backend="torch"))
    model = tagger.model
    try:
        model.set_attn_implementation("eager")
    except Exception:  # a model with one attention implementation only
        pass
    probe_ids = torch.tensor([tagger.tokenizer("Seen by Dr. Okonkwo on 7-18, call 555-0134 re: pt",
                                               add_special_tokens=True)["input_ids"]])
    with torch.no_grad():
        probe = model.get_input_embeddings()(probe_ids)
        reference = torch.softmax(model(inputs_embeds=probe).logits, dim=-1).numpy()
    target = Path(out) if out else Path(folder) / ONNX_FILE
    meta = {"notesynth_format": FORMAT, "source_weights_sha256": weights_digest(folder),
            "tags": str(len(tagger.tags)), "per_channel": str(per_channel)}
    export_int8(_classifier(model), (probe,), target, ["inputs_embeds"], ["logits"],
                {"inputs_embeds": {0: "batch", 1: "tokens"}, "logits": {0: "batch", 1: "tokens"}},
                meta, per_channel=per_channel)
    logits = make_session(target, threads=1).run(None, {"inputs_embeds": probe.numpy()})[0]
    diff = float(np.abs(_softmax(logits) - reference).max())
    return ExportResult(target, target.stat().st_size, time.perf_counter() - started, diff)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class OnnxTaggerLogits:
    """Tag probabilities of one window of word-piece ids through the int8 graph."""

    def __init__(self, model, path: Path, threads: int):
        self.path = Path(path)
        self.session = make_session(self.path, threads)
        self.problem = stamp_problem(self.session, FORMAT, self.path.parent)
        self.embed = model.get_input_embeddings()

    def probs(self, window_ids: List[int]) -> np.ndarray:
        import torch

        with torch.no_grad():
            embeds = self.embed(torch.tensor([window_ids])).numpy()
        return _softmax(self.session.run(None, {"inputs_embeds": embeds})[0][0])
