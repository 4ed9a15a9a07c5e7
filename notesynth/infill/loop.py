"""Fill the masked words of many notes with a masked language model, iteratively.

Each pass runs the model over every window that still holds masks, samples a
word-piece for every open position (temperature, top-k, top-p), and commits a
share of them: the most confident first (mask-predict) or left to right.
Later passes see the words committed earlier, so each synthetic note is a
coherent, different sample.

Determinism: every note has its own random generator (seeded from the note's
seed), windows are padded to fixed buckets, and probabilities are rounded
before sampling, so a note's output does not depend on what else is in the
batch or how many workers run.
"""
from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import torch

from notesynth.infill.model import load_model, masked_only_logits, resolve_device
from notesynth.infill.vocabulary import fill_allowed
from notesynth.masking import MaskPlan
from notesynth.text import match_case

log = logging.getLogger(__name__)

BUCKET = 64

@dataclass(frozen=True)
class InfillSettings:
    passes: int = 4
    strategy: str = "confidence"
    temperature: float = 1.0
    top_k: int = 40
    top_p: float = 0.95
    window: int = 256
    batch_size: int = 8
    max_pieces_per_word: int = 1   # 1: each masked word becomes one whole in-vocabulary word

    @classmethod
    def from_config(cls, c, **overrides) -> "InfillSettings":
        """The infilling part of a SynthConfig."""
        values = dict(passes=c.passes, strategy=c.strategy, temperature=c.temperature, top_k=c.top_k,
                      top_p=c.top_p, window=c.window, batch_size=c.batch_size,
                      max_pieces_per_word=c.max_pieces_per_word)
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class FillJob:
    plan: MaskPlan
    seed: int


@dataclass
class _Slot:
    segment: int
    positions: list[int]


@dataclass
class _NoteState:
    ids: list[int]
    slots: list[_Slot]
    open: set[int]
    first_piece: set[int]
    generator: torch.Generator
    windows: list[tuple[int, int]]
    owner: dict[int, int]  # position -> window index


class Infiller:
    """Holds one loaded model; ``fill`` is safe to call for any number of notes."""

    def __init__(self, model: str, device: str = "cpu", settings: InfillSettings | None = None):
        self.settings = settings or InfillSettings()
        self.device = resolve_device(device)
        self.tokenizer, self.model = load_model(model, self.device)
        self.model_name = model
        self.window = self._window_for(self.settings)
        self._build_vocab_masks()

    def with_settings(self, settings: InfillSettings) -> "Infiller":
        """The same loaded model with other infilling settings (no second load)."""
        other = copy.copy(self)
        other.settings = settings
        other.window = self._window_for(settings)
        return other

    def _window_for(self, settings: InfillSettings) -> int:
        """Tokens per window: the setting, capped by the model's positions less [CLS]/[SEP]."""
        return min(settings.window, getattr(self.model.config, "max_position_embeddings", 512) - 2)

    def _build_vocab_masks(self) -> None:
        tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        special = set(self.tokenizer.all_special_ids)
        start = torch.zeros(len(tokens), dtype=torch.bool)
        cont = torch.zeros(len(tokens), dtype=torch.bool)
        self.wordpiece = any(t.startswith("##") for t in tokens[:5000] if t)
        for i, tok in enumerate(tokens):
            if i in special or not tok:
                continue
            if self.wordpiece:
                if tok.startswith("##"):
                    cont[i] = tok[2:].isalpha()
                else:
                    start[i] = tok.isalpha() and fill_allowed(tok)
            else:  # byte-level BPE (Ġ) or sentencepiece (▁) marks word starts
                if tok[0] in "Ġ▁":
                    start[i] = tok[1:].isalpha() and fill_allowed(tok[1:])
                else:
                    cont[i] = tok.isalpha()
        n_logits = self.model.get_output_embeddings().weight.shape[0]
        pad = max(0, n_logits - len(tokens))
        self.start_ok = torch.cat([start, torch.zeros(pad, dtype=torch.bool)])
        self.cont_ok = torch.cat([cont, torch.zeros(pad, dtype=torch.bool)])

    # ---------------------------------------------------------------- encoding
    def _encode(self, job: FillJob) -> _NoteState:
        tok = self.tokenizer
        ids: list[int] = []
        slots: list[_Slot] = []
        first: set[int] = set()
        for i, seg in enumerate(job.plan.segments):
            if seg.kind == "mask":
                word = seg.text if self.wordpiece else " " + seg.text
                n = max(1, min(len(tok.tokenize(word)), self.settings.max_pieces_per_word))
                positions = list(range(len(ids), len(ids) + n))
                first.add(positions[0])
                ids.extend([tok.mask_token_id] * n)
                slots.append(_Slot(i, positions))
            elif seg.text:
                ids.extend(tok(seg.text, add_special_tokens=False)["input_ids"])
        windows = window_spans(len(ids), self.window)
        owner = {}
        for slot in slots:
            for p in slot.positions:
                owner[p] = min(range(len(windows)), key=lambda w: abs(p - (windows[w][0] + windows[w][1]) / 2))
        gen = torch.Generator().manual_seed(job.seed & 0x7FFF_FFFF_FFFF_FFFF)
        open_ = {p for s in slots for p in s.positions}
        return _NoteState(ids, slots, open_, first, gen, windows, owner)

    # ---------------------------------------------------------------- filling
    @torch.no_grad()
    def fill(self, jobs: list[FillJob]) -> list[dict[int, str]]:
        """For each job, the fill text of every masked segment (by segment index)."""
        states = [self._encode(j) for j in jobs]
        passes = self.settings.passes
        for p in range(passes):
            proposals = self._propose(states)
            for state, props in zip(states, proposals):
                self._commit(state, props, passes - p)
        return [self._decode(s, j) for s, j in zip(states, jobs)]

    def _propose(self, states: list[_NoteState]) -> list[dict[int, tuple[int, float]]]:
        """One forward pass over every window holding open positions; one sample per position."""
        work = []  # (note, window, open positions in it)
        for n, st in enumerate(states):
            for w, (a, b) in enumerate(st.windows):
                positions = sorted(q for q in st.open if st.owner[q] == w)
                if positions:
                    work.append((n, w, positions))
        probs: dict[tuple[int, int], torch.Tensor] = {}
        # bucket windows by padded length so a window's arithmetic never depends on its batch-mates
        by_bucket: dict[int, list] = {}
        for item in work:
            a, b = states[item[0]].windows[item[1]]
            by_bucket.setdefault(_bucket(b - a + 2), []).append(item)
        for length, items in sorted(by_bucket.items()):
            for k in range(0, len(items), self.settings.batch_size):
                batch = items[k:k + self.settings.batch_size]
                out = self._forward(states, batch, length)
                for (n, w, positions), rows in zip(batch, out):
                    for q, row in zip(positions, rows):
                        probs[(n, q)] = row
        proposals: list[dict[int, tuple[int, float]]] = [{} for _ in states]
        for n, st in enumerate(states):
            for q in sorted(st.open):
                row = probs[(n, q)]
                allowed = self.start_ok if q in st.first_piece else self.cont_ok
                token, conf = self._sample(row, allowed, st.generator)
                proposals[n][q] = (token, conf)
        return proposals

    def _forward(self, states, batch, length: int) -> list[torch.Tensor]:
        tok = self.tokenizer
        input_ids = torch.full((len(batch), length), tok.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch), length), dtype=torch.long)
        select = torch.zeros((len(batch), length), dtype=torch.bool)
        for r, (n, w, positions) in enumerate(batch):
            st = states[n]
            a, b = st.windows[w]
            seq = [tok.cls_token_id] + st.ids[a:b] + [tok.sep_token_id]
            input_ids[r, :len(seq)] = torch.tensor(seq)
            attention[r, :len(seq)] = 1
            for q in positions:
                select[r, q - a + 1] = True
        logits = masked_only_logits(self.model, input_ids.to(self.device), attention.to(self.device),
                                    select.to(self.device)).float().cpu()
        out, offset = [], 0
        for r, (_, _, positions) in enumerate(batch):
            out.append(logits[offset:offset + len(positions)])
            offset += len(positions)
        return out

    def _sample(self, logits: torch.Tensor, allowed: torch.Tensor, gen: torch.Generator) -> tuple[int, float]:
        s = self.settings
        logits = logits[: allowed.shape[0]].masked_fill(~allowed[: logits.shape[0]], float("-inf"))
        probs = torch.softmax(logits / s.temperature, dim=-1)
        probs = torch.round(probs * 1e4) / 1e4  # batch-independent: tiny float noise can't change a draw
        if s.top_k:
            top = torch.topk(probs, min(s.top_k, int(allowed.sum())))
            values, index = top.values, top.indices
        else:
            values, index = torch.sort(probs, descending=True)
        keep = torch.cumsum(values, 0) - values < s.top_p
        keep[0] = True
        values, index = values[keep], index[keep]
        if float(values.sum()) <= 0:
            values = torch.ones_like(values)
        choice = torch.multinomial(values / values.sum(), 1, generator=gen).item()
        return int(index[choice]), float(values[choice])

    def _commit(self, st: _NoteState, props: dict[int, tuple[int, float]], passes_left: int) -> None:
        if not props:
            return
        n_commit = math.ceil(len(props) / passes_left)
        if self.settings.strategy == "left-to-right":
            chosen = sorted(props)[:n_commit]
        else:
            chosen = sorted(props, key=lambda q: (-props[q][1], q))[:n_commit]
        for q in chosen:
            st.ids[q] = props[q][0]
            st.open.discard(q)

    def _decode(self, st: _NoteState, job: FillJob) -> dict[int, str]:
        fills = {}
        for slot in st.slots:
            pieces = self.tokenizer.convert_ids_to_tokens([st.ids[q] for q in slot.positions])
            if self.wordpiece:
                word = pieces[0] + "".join(p[2:] for p in pieces[1:])
            else:
                word = self.tokenizer.convert_tokens_to_string(pieces).strip()
            fills[slot.segment] = match_case(job.plan.segments[slot.segment].text, word, title=True)
        return fills


def _bucket(n: int) -> int:
    return max(BUCKET, int(math.ceil(n / BUCKET)) * BUCKET)


def window_spans(n_tokens: int, window: int) -> list[tuple[int, int]]:
    """Overlapping windows (half a window apart) that cover every token."""
    size = max(8, window - 2)
    if n_tokens <= size:
        return [(0, n_tokens)]
    stride = size // 2
    starts = list(range(0, n_tokens - size, stride)) + [n_tokens - size]
    return [(a, a + size) for a in starts]
