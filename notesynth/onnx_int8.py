"""int8 ONNX files beside a model's weights: export, sessions, and the check that they match.

Shared by the fill encoder (``infill/onnx.py``) and the PHI tagger (``phi/tagger/onnx.py``).
An export writes the fp32 graph to a temporary folder, quantizes its matrix weights to
int8 (``quantize_dynamic``), stamps it with a format name and the sha256 of the weight
files it came from, and moves it into place; a load refuses a file whose stamp differs,
so a retrained model never runs with a stale graph.

Sessions are sequential and deterministic: ONNX Runtime's products split rows, never the
summed dimension, over threads, so the thread count does not change a result.  Dynamic
quantization scales each product's input by its own range, so callers run every window
alone, unpadded, to keep a note's result independent of what shares its call.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence

WEIGHT_SUFFIXES = (".safetensors", ".bin")
ONNX_FILE = "model.int8.onnx"          # beside the weights, in the fill model's and the tagger's folders
BACKENDS = ("auto", "torch", "onnx")   # auto: the int8 graph when it is there and matches, else torch


def onnx_file(folder: str | Path) -> Optional[Path]:
    """The int8 ONNX graph beside a local model's weights, if there is one."""
    path = Path(folder) / ONNX_FILE
    return path if path.is_file() else None


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bytes: int
    seconds: float
    max_abs_diff: float   # int8 vs fp32 outputs on a probe sentence


class OnnxUnavailable(RuntimeError):
    """onnxruntime (or onnx, for an export) is not installed."""


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise OnnxUnavailable("the onnx backend needs onnxruntime: pip install 'notesynth[onnx]' "
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


def make_session(path: Path, threads: int):
    """A sequential, deterministic CPU session whose idle threads sleep instead of spinning."""
    ort = require_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.use_deterministic_compute = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # torch code runs between two calls (embeddings, heads); on a busy machine spinning
    # threads would take the cores that work needs
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_int8(module, example: Sequence, target: Path, input_names: Sequence[str], output_names: Sequence[str],
                dynamic_axes: Dict[str, Dict[int, str]], meta: Dict[str, str], per_channel: bool = True) -> Path:
    """Export ``module`` (eval mode) to ONNX, quantize its weights to int8, stamp ``meta`` on it
    and move it to ``target`` atomically.  The temporary files live beside the target."""
    require_onnxruntime()
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = Path(target)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "graph.fp32.onnx", Path(tmp) / "graph.int8.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, tuple(example), str(fp32), input_names=list(input_names),
                              output_names=list(output_names), opset_version=17, dynamo=False,
                              dynamic_axes=dynamic_axes)
        quiet = logging.root.manager.disable
        logging.disable(logging.WARNING)  # quantize_dynamic's advice on pre-processing
        try:
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=per_channel)
        finally:
            logging.disable(quiet)
        graph = onnx.load(str(int8))
        for key, value in meta.items():
            graph.metadata_props.add(key=key, value=value)
        onnx.save(graph, str(int8))
        os.replace(int8, target)
    return target


def stamp_problem(session, fmt: str, folder: Path) -> Optional[str]:
    """Why a loaded graph must not be used with the weights in ``folder`` (None: it matches)."""
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("notesynth_format") != fmt:
        return f"is not a notesynth {fmt} graph"
    if meta.get("source_weights_sha256") != weights_digest(folder):
        return "was exported from other weights than the model's own"
    return None
