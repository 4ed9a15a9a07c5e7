"""The int8 ONNX Runtime fill backend and its export (``notesynth export-onnx MODEL``).

What is exported is the encoder from word embeddings to the last hidden states,
weights quantized to int8 (``quantize_dynamic``, per output channel).  The word
embeddings and the vocabulary head stay in the torch model: the embedding lookup is
free, the head runs at masked positions only (backend.py), and leaving out the two
vocabulary-sized matrices keeps the file at a quarter of the fp32 model.

Dynamic quantization scales each matrix product's input by its own range, so a
window's hidden states would depend on whatever shares its call: every window runs
alone, at its own length (no padding either).  ONNX Runtime's products split rows,
never the summed dimension, over threads, so the thread count does not change a result.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from notesynth.infill.backend import ONNX_FILE, FillBackend
from notesynth.infill.model import ModelLoadError, load_model

log = logging.getLogger(__name__)

FORMAT = "notesynth-encoder-int8/1"   # what the graph takes and gives; bumped if that changes
WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ModelLoadError("the onnx backend needs onnxruntime: pip install 'notesynth[onnx]' "
                             "(or use --backend torch)") from None
    return onnxruntime


def weights_digest(model_dir: str | Path) -> str:
    """sha256 over the weight files of a model folder: an export records it, a load compares."""
    h = hashlib.sha256()
    for p in sorted(Path(model_dir).iterdir()):
        if p.is_file() and p.suffix in WEIGHT_SUFFIXES:
            h.update(p.name.encode())
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


class _Encoder(torch.nn.Module):
    """Word embeddings in, last hidden states out (no padding, so no attention mask)."""

    def __init__(self, mlm):
        super().__init__()
        self.base = getattr(mlm, mlm.base_model_prefix)

    def forward(self, inputs_embeds):
        return self.base(inputs_embeds=inputs_embeds).last_hidden_state


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bytes: int
    seconds: float
    max_abs_diff: float   # int8 vs fp32 hidden states on a probe sentence


def export_onnx(model: str, out: str | Path | None = None, per_channel: bool = True) -> ExportResult:
    """Write the int8 ONNX encoder of a local model folder (default: MODEL/model.int8.onnx)."""
    _require_onnxruntime()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

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
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "encoder.fp32.onnx", Path(tmp) / "encoder.int8.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(encoder, (probe,), str(fp32), input_names=["inputs_embeds"],
                              output_names=["hidden"], opset_version=17, dynamo=False,
                              dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                            "hidden": {0: "batch", 1: "tokens"}})
        quiet = logging.root.manager.disable
        logging.disable(logging.WARNING)  # quantize_dynamic's advice on pre-processing
        try:
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=per_channel)
        finally:
            logging.disable(quiet)
        graph = onnx.load(str(int8))
        meta = {"notesynth_format": FORMAT, "source_weights_sha256": weights_digest(folder),
                "hidden_size": str(probe.shape[-1]), "per_channel": str(per_channel)}
        for key, value in meta.items():
            graph.metadata_props.add(key=key, value=value)
        onnx.save(graph, str(int8))
        hidden = _session(int8, threads=1).run(None, {"inputs_embeds": probe.numpy()})[0]
        os.replace(int8, target)
    diff = float(np.abs(hidden - reference.numpy()).max())
    return ExportResult(target, target.stat().st_size, time.perf_counter() - started, diff)


def _session(path: Path, threads: int):
    ort = _require_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.use_deterministic_compute = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # idle threads sleep instead of spinning: the torch head runs between two encoder calls,
    # and on a busy machine spinning threads take the cores the work needs
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxBackend(FillBackend):
    """Int8 encoder in ONNX Runtime (each window alone), embeddings and head in torch (fp32)."""

    name = "onnx"

    def __init__(self, model, path: Path, model_name: str = ""):
        super().__init__(model, "cpu")
        self.path = Path(path)
        if self._parts is None:
            raise ModelLoadError("the onnx backend knows the heads of BERT, RoBERTa and DistilBERT models only; "
                                 "use --backend torch")
        threads = torch.get_num_threads()  # set per worker before the model loads
        try:
            self.session = _session(self.path, threads)
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"could not load {self.path}: {type(exc).__name__}: {str(exc)[:200]}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("notesynth_format") != FORMAT:
            raise ModelLoadError(f"{self.path} is not a notesynth int8 encoder ({FORMAT}); re-run "
                                 f"`notesynth export-onnx {model_name or self.path.parent}`")
        if meta.get("source_weights_sha256") != weights_digest(self.path.parent):
            raise ModelLoadError(f"{self.path} was exported from other weights than the model's own; re-run "
                                 f"`notesynth export-onnx {model_name or self.path.parent}`")
        self.threads = threads
        self.embed = model.get_input_embeddings()

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
