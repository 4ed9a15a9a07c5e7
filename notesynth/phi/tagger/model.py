"""Load the PHI tagger folder offline and predict PHI spans for a batch of notes.

    tagger = PhiTagger.load()                  # models/phi-tagger, or PhiTagger.load(path)
                                               # (the detector runs each of default_tagger_paths())
    spans = tagger.predict_many(texts)         # [[Span(start, end, label, score), ...], ...]

Long notes are cut into word-piece windows that overlap (`stride`); a piece seen in two
windows gets the mean of its two probability vectors. Character offsets come from the
fast tokenizer's offset_mapping, so spans index the original text exactly. A piece is
PHI when 1 - P(O) >= threshold; consecutive PHI pieces of one kind merge into a span
unless the model says B (begin) or a line break or a gap of more than `max_gap`
characters separates them; spans grow to whole words. Never logs text.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ...spans import Span
from .labels import KIND_TO_LABEL, KINDS

logger = logging.getLogger(__name__)

_WORD_CHAR_RE = re.compile(r"\w")
_APOSTROPHES = "'’"


def _one_word(text: str, i: int) -> bool:
    """text[i - 1] and text[i] belong to one word: word characters, or an apostrophe between
    letters ("Ch'ighladze": the word pieces stop at it), not a possessive ("Smith's")."""
    if _WORD_CHAR_RE.match(text[i - 1]) and _WORD_CHAR_RE.match(text[i]):
        return True
    j = i if text[i] in _APOSTROPHES else i - 1 if text[i - 1] in _APOSTROPHES else -1
    return (0 < j < len(text) - 1 and text[j - 1].isalpha() and text[j + 1].isalpha()
            and not (text[j + 1] in "sS" and not text[j + 2:j + 3].isalpha()))


class TaggerUnavailable(RuntimeError):
    """The tagger folder is missing or incomplete, or torch/transformers cannot load it."""


# The shipped taggers, an ensemble of two: the same encoder fine-tuned with two name recipes
# (phi-tagger-2 continued from phi-tagger with a third of its names made up, half of those
# random letter strings).  The detector keeps a span either one tags: on held-out draws each
# member misses names the other finds (bench/phi_heldout.py; docs/FIGURES.md, twelfth session).
SHIPPED_TAGGERS = ("phi-tagger", "phi-tagger-2")


def default_tagger_path(name: str = SHIPPED_TAGGERS[0]) -> str:
    """A tagger that ships with the project (models/<name> beside the package), found the way
    notesynth.config.default_model_path() finds models/default. The path is returned even
    when absent; PhiTagger.load raises TaggerUnavailable then."""
    here = Path(__file__).resolve().parents[3]  # .../notesynth/phi/tagger/model.py -> project root
    pkg = Path(__file__).resolve().parents[2]   # the notesynth package folder
    for candidate in (pkg / "models" / name, here / "models" / name):
        if (candidate / "config.json").exists():
            return str(candidate)
    return str(here / "models" / name)


def default_tagger_paths() -> List[str]:
    """The folders of the shipped ensemble (SHIPPED_TAGGERS), present or not."""
    return [default_tagger_path(name) for name in SHIPPED_TAGGERS]


def tagger_available(path: Optional[str] = None) -> bool:
    p = Path(path or default_tagger_path())
    return (p / "config.json").exists() and any(p.glob("*.safetensors")) and (p / "tokenizer.json").exists()


@dataclass(frozen=True)
class TaggerConfig:
    threshold: float = 0.5     # a piece is PHI when 1 - P(O) >= threshold
    window: int = 256          # word pieces per window, [CLS]/[SEP] included
    stride: int = 64           # word pieces shared by consecutive windows
    batch_size: int = 16       # windows per forward pass
    max_gap: int = 2           # characters between pieces that still join one span
    threads: Optional[int] = None  # torch threads; None = leave torch's setting alone
    quantize: bool = False     # torch int8 dynamic quantization of the linear layers (backend torch)
    backend: str = "auto"      # auto: the folder's int8 ONNX graph when it matches the weights, else torch
    onnx_threads: Optional[int] = None  # the int8 graph's threads; None = torch's thread count


class PhiTagger:
    """A token-classification model (BIO over tagger kinds) with notesynth label mapping."""

    def __init__(self, model, tokenizer, config: TaggerConfig = TaggerConfig(), path: str = "", onnx=None):
        self.model = model
        self.onnx = onnx  # OnnxTaggerLogits, or None: the torch forward
        self.tokenizer = tokenizer
        self.config = config
        self.path = path
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.tags: List[str] = [id2label[i] for i in range(len(id2label))]
        unknown = [t for t in self.tags if t != "O" and t[2:] not in KIND_TO_LABEL]
        if unknown or self.tags[0] != "O":
            raise TaggerUnavailable(f"tagger labels do not match notesynth's tag set: {unknown or self.tags[:1]}")
        self.kinds: List[str] = sorted({t[2:] for t in self.tags if t != "O"}, key=KINDS.index)
        # index lists: for each kind, its B and I columns
        self._b = [self.tags.index(f"B-{k}") for k in self.kinds]
        self._i = [self.tags.index(f"I-{k}") for k in self.kinds]

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Optional[str] = None, config: TaggerConfig = TaggerConfig()) -> "PhiTagger":
        """Load a local folder (never the hub: local_files_only). TaggerUnavailable if absent."""
        folder = Path(path or default_tagger_path())
        if not tagger_available(str(folder)):
            raise TaggerUnavailable(f"no PHI tagger at {folder} (needs config.json, *.safetensors, tokenizer.json); "
                                    "train one with scripts/train_phi_tagger.py")
        try:
            import torch
            from transformers import AutoModelForTokenClassification, AutoTokenizer
        except ImportError as e:  # pragma: no cover
            raise TaggerUnavailable(f"the PHI tagger needs torch and transformers: {e}") from e
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        if config.threads:
            torch.set_num_threads(config.threads)
        try:
            tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForTokenClassification.from_pretrained(
                str(folder), local_files_only=True, dtype=torch.float32)
        except (OSError, ValueError) as e:
            raise TaggerUnavailable(f"cannot load the PHI tagger at {folder}: {e}") from e
        if not getattr(tok, "is_fast", False):
            raise TaggerUnavailable("the PHI tagger needs a fast tokenizer (tokenizer.json) for offsets")
        model.float().eval()
        onnx = _onnx_logits(model, folder, config)
        if config.quantize and onnx is None:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return cls(model, tok, config, str(folder), onnx)

    @property
    def backend(self) -> str:
        return "onnx" if self.onnx is not None else "torch"

    # ------------------------------------------------------------------ prediction
    def predict(self, text: str) -> List[Span]:
        return self.predict_many([text])[0]

    def piece_probs(self, texts: Sequence[str]) -> List[Tuple[List[Tuple[int, int]], "object"]]:
        """Per text: (piece offsets in text order, probability matrix [pieces, tags])."""
        import numpy as np

        cfg = self.config
        enc = self.tokenizer(list(texts), return_offsets_mapping=True, truncation=True, max_length=cfg.window,
                             stride=cfg.stride, return_overflowing_tokens=True, add_special_tokens=True)
        n_win = len(enc["input_ids"])
        if self.onnx is not None:  # int8 graph: each window alone, unpadded
            probs_by_win = {w: self.onnx.probs(enc["input_ids"][w]) for w in range(n_win)}
        else:
            probs_by_win = self._torch_probs(enc["input_ids"])
        out: List[Tuple[List[Tuple[int, int]], np.ndarray]] = []
        acc: List[Dict[Tuple[int, int], List]] = [dict() for _ in texts]
        for w in range(n_win):
            t = enc["overflow_to_sample_mapping"][w]
            for (a, b), pr in zip(enc["offset_mapping"][w], probs_by_win[w]):
                if a == b:
                    continue
                slot = acc[t].get((a, b))
                if slot is None:
                    acc[t][(a, b)] = [pr.copy(), 1]
                else:
                    slot[0] += pr
                    slot[1] += 1
        for t in range(len(texts)):
            keys = sorted(acc[t])
            mat = np.stack([acc[t][k][0] / acc[t][k][1] for k in keys]) if keys else np.zeros((0, len(self.tags)))
            out.append((keys, mat))
        return out

    def _torch_probs(self, windows: List[List[int]]) -> Dict[int, "object"]:
        """Tag probabilities per window, windows of similar length padded into batches."""
        import torch

        order = sorted(range(len(windows)), key=lambda w: len(windows[w]))
        pad = self.tokenizer.pad_token_id or 0
        probs_by_win: Dict[int, object] = {}
        with torch.inference_mode():
            for i in range(0, len(windows), self.config.batch_size):
                idx = order[i:i + self.config.batch_size]
                n = max(len(windows[w]) for w in idx)
                ids = torch.full((len(idx), n), pad, dtype=torch.long)
                att = torch.zeros((len(idx), n), dtype=torch.long)
                for r, w in enumerate(idx):
                    ids[r, :len(windows[w])] = torch.tensor(windows[w])
                    att[r, :len(windows[w])] = 1
                logits = self.model(input_ids=ids, attention_mask=att).logits
                p = torch.softmax(logits.float(), dim=-1).numpy()
                for r, w in enumerate(idx):
                    probs_by_win[w] = p[r, :len(windows[w])]
        return probs_by_win

    def predict_many(self, texts: Sequence[str]) -> List[List[Span]]:
        texts = list(texts)
        results: List[List[Span]] = [[] for _ in texts]
        todo = [i for i, t in enumerate(texts) if t and t.strip()]
        if not todo:
            return results
        for i, (offsets, mat) in zip(todo, self.piece_probs([texts[i] for i in todo])):
            results[i] = self._decode(texts[i], offsets, mat)
        return results

    def _decode(self, text: str, offsets: List[Tuple[int, int]], mat) -> List[Span]:
        import numpy as np

        if not offsets:
            return []
        thr = self.config.threshold
        p_ent = 1.0 - mat[:, 0]
        kind_p = mat[:, self._b] + mat[:, self._i]          # [pieces, kinds]
        kind_idx = kind_p.argmax(axis=1)
        b_wins = mat[np.arange(len(offsets)), np.array(self._b)[kind_idx]] > \
            mat[np.arange(len(offsets)), np.array(self._i)[kind_idx]]
        spans: List[List] = []  # [start, end, kind, prob_sum, n]
        for j, (a, b) in enumerate(offsets):
            if p_ent[j] < thr:
                continue
            kind = self.kinds[kind_idx[j]]
            if spans:
                last = spans[-1]
                gap = text[last[1]:a]
                same_word = a == last[1] and a > 0 and _WORD_CHAR_RE.match(text[a - 1]) and _WORD_CHAR_RE.match(text[a])
                joinable = (last[2] == kind and len(gap) <= self.config.max_gap and "\n" not in gap
                            and (not b_wins[j] or same_word))
                if joinable or same_word:
                    last[1] = b
                    last[3] += float(p_ent[j])
                    last[4] += 1
                    continue
            spans.append([a, b, kind, float(p_ent[j]), 1])
        out = []
        for a, b, kind, ps, n in spans:
            # grow to whole words: a name piece "##son" takes its word with it
            while a > 0 and _one_word(text, a):
                a -= 1
            while b < len(text) and _one_word(text, b):
                b += 1
            out.append(Span(a, b, KIND_TO_LABEL[kind], round(ps / n, 4)))
        return _merge_touching(out)

    def info(self) -> Dict[str, object]:
        p = Path(self.path) / "training_metrics.json"
        meta = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        return {"path": self.path, "tags": len(self.tags), "steps": meta.get("steps"), "config": self.config}


def _onnx_logits(model, folder: Path, config: TaggerConfig):
    """The int8 graph the config asks for, or None for the torch forward (``auto`` logs why)."""
    from ...onnx_int8 import BACKENDS, ONNX_FILE, onnx_file
    from .onnx import OnnxTaggerLogits

    if config.backend not in BACKENDS:
        raise TaggerUnavailable(f"unknown tagger backend {config.backend!r}; use one of {', '.join(BACKENDS)}")
    if config.backend == "torch" or (config.backend == "auto" and config.quantize):
        return None
    path = onnx_file(folder)
    fix = f"run `notesynth export-onnx {folder}`"
    if path is None:
        if config.backend == "onnx":
            raise TaggerUnavailable(f"tagger backend onnx: {folder / ONNX_FILE} not found; {fix}")
        logger.info("no %s in the tagger folder: tagging with torch (%s for the faster int8 graph)", ONNX_FILE, fix)
        return None
    import torch

    try:
        runner = OnnxTaggerLogits(model, path, config.onnx_threads or torch.get_num_threads())
    except Exception as exc:  # onnxruntime missing or a damaged file
        problem = f"cannot load {path}: {type(exc).__name__}"
    else:
        problem = runner.problem and f"{path} {runner.problem}"
    if problem:
        if config.backend == "onnx":
            raise TaggerUnavailable(f"{problem}; {fix}")
        logger.warning("%s; tagging with torch (%s)", problem, fix)
        return None
    return runner


def _merge_touching(spans: List[Span]) -> List[Span]:
    """Spans grown to whole words may now overlap: keep one, covering both."""
    out: List[Span] = []
    for s in sorted(spans):
        if out and s.start < out[-1].end:
            last = out[-1]
            out[-1] = Span(last.start, max(last.end, s.end), last.label, max(last.score, s.score))
        else:
            out.append(s)
    return out


def load_tagger(path: Optional[str] = None, **config) -> PhiTagger:
    """PhiTagger.load with TaggerConfig fields as keywords."""
    return PhiTagger.load(path, TaggerConfig(**config))

