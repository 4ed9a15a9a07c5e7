"""Fill the masked words of many notes with a masked language model, iteratively.

Each pass runs the model over every window that still holds masks, samples a
word-piece for the open positions (temperature, top-k, top-p), and commits a share
of them: the most confident first (mask-predict) or left to right.  Later passes see
the words committed earlier, so each synthetic note is a coherent, different sample.
With ``remask`` (a share), every later pass but the last also re-scores the fills
already committed, given everything committed so far (the probability of the written
piece where it stands), and re-masks that share of them, the least likely first, to be
predicted again (mask-predict, Ghazvininejad et al. 2019).

A word longer than one piece is drawn left to right within the word: a first piece from
the first pieces of the known words of that many pieces, then each continuation among
those that keep the pieces so far a prefix of such a word (a trie of known words), so a
written fill is always a known word a fill may write ("to" + "##es" never assembles
"toes", and no pieces assemble a non-word).

Sampling is batched: one set of tensor operations per pass (in row chunks) for the
temperature, the allowed word-pieces (the head only computes those), the rounding,
top-k, top-p and the draws; each note draws its uniforms from its own generator.

Determinism: every note has its own random generator (seeded from the note's seed),
the positions a pass samples depend on that note alone, the head runs per note on
CPU, probabilities are rounded to 1e-4 before anything is chosen, and top-k breaks
ties by token id, so a note's output depends neither on what else is in the batch,
nor on the batch size, nor on how many workers run.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass

import torch

from notesynth.infill.backend import make_backend
from notesynth.infill.model import is_wordpiece, load_model, resolve_device, word_texts
from notesynth.infill.sampling import SAMPLE_CHUNK, SCALE, sample_rows, score_rows
from notesynth.infill.vocabulary import writable_word
from notesynth.masking import MaskPlan
from notesynth.text import match_case

log = logging.getLogger(__name__)

BUCKET = 64
GPU_MIN_WINDOWS = 64    # windows per forward pass on a GPU, whatever batch_size says


@dataclass(frozen=True)
class InfillSettings:
    passes: int = 2
    strategy: str = "confidence"
    temperature: float = 1.0
    top_k: int = 40
    top_p: float = 0.95
    window: int = 512  # SynthConfig.window
    fill_prior: bool = True  # SynthConfig.fill_prior
    fill_calibration: bool = True  # SynthConfig.fill_calibration
    batch_size: int = 8
    max_pieces_per_word: int = 1   # 1: each masked word becomes one whole, known word
    backend: str = "auto"          # auto, torch or onnx (backend.py)
    remask: float = 0.0            # share of committed fills re-scored and re-masked per later pass
    new_words_only: bool = False   # a masked word is never filled with itself (its first piece is barred)

    @classmethod
    def from_config(cls, c, **overrides) -> "InfillSettings":
        """The infilling part of a SynthConfig."""
        values = dict(passes=c.passes, strategy=c.strategy, temperature=c.temperature, top_k=c.top_k,
                      top_p=c.top_p, window=c.window, batch_size=c.batch_size,
                      max_pieces_per_word=c.max_pieces_per_word,
                      backend=getattr(c, "backend", "auto"), remask=getattr(c, "remask", 0.0),
                      new_words_only=getattr(c, "new_words_only", False),
                      fill_prior=getattr(c, "fill_prior", True),
                      fill_calibration=getattr(c, "fill_calibration", True))
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class FillJob:
    plan: MaskPlan
    seed: int
    banned: frozenset[str] = frozenset()  # lower-case words no one-piece fill of this note may write (its PHI's)


@dataclass
class _Slot:
    segment: int
    positions: list[int]


@dataclass
class _NoteState:
    ids: list[int]
    slots: list[_Slot]
    open: set[int]
    kind: dict[int, str]   # mask position -> "whole" (a one-piece fill), "first<n>" (of an n-piece word) or "cont"
    generator: torch.Generator
    windows: list[tuple[int, int]]
    owner: dict[int, int]  # position -> window index
    filled: set[int]       # mask positions holding a committed fill
    barred: dict[int, int]  # a slot's first position -> the first piece of the word it replaces (new_words_only)
    slot_of: dict[int, _Slot]  # mask position -> its slot
    banned: list[int]      # one-piece words this note's fills may not write (FillJob.banned), as token ids


@dataclass
class _Pass:
    """What one pass asks of one note: positions to sample, committed fills to re-score."""
    sample: list[int]
    score: list[int]


class Infiller:
    """Holds one loaded model; ``fill`` is safe to call for any number of notes."""

    def __init__(self, model: str, device: str = "cpu", settings: InfillSettings | None = None):
        self.settings = settings or InfillSettings()
        self.device = resolve_device(device)
        self.tokenizer, self.model = load_model(model, self.device)
        self.model_name = model
        self.backend = make_backend(self.settings.backend, model, self.model, self.device)
        self.window = self._window_for(self.settings)
        self._build_vocab_masks()
        self.timings = {"forward": 0.0, "head": 0.0, "sampling": 0.0}  # seconds, accumulated (for benchmarks)

    def with_settings(self, settings: InfillSettings) -> "Infiller":
        """The same loaded model (and backend) with other infilling settings (no second load)."""
        other = copy.copy(self)
        other.settings = settings
        other.window = self._window_for(settings)
        return other

    def _window_for(self, settings: InfillSettings) -> int:
        """Tokens per window: the setting, capped by the model's positions less [CLS]/[SEP]."""
        return min(settings.window, getattr(self.model.config, "max_position_embeddings", 512) - 2)

    @property
    def windows_per_forward(self) -> int:
        if self.device == "cpu":
            return self.settings.batch_size
        return max(self.settings.batch_size, GPU_MIN_WINDOWS)

    def _build_vocab_masks(self) -> None:
        """Which pieces a fill may write: a whole one-piece word, a longer word's first piece, or
        a continuation.  A one-piece fill must be a word `synth` would keep verbatim
        (unknown.known_words): a model asked for one piece where the site writes a longer word
        otherwise writes that word's first piece ("con" for "cont", "las" for "lasix")."""
        from notesynth.unknown import known_words, site_words

        known = self.known_words = known_words() | site_words(self.model_name)
        tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        special = set(self.tokenizer.all_special_ids)
        start = torch.zeros(len(tokens), dtype=torch.bool)
        whole = torch.zeros(len(tokens), dtype=torch.bool)
        cont = torch.zeros(len(tokens), dtype=torch.bool)
        self.wordpiece = is_wordpiece(self.tokenizer)
        for i, tok in enumerate(tokens):
            if i in special or not tok:
                continue
            if self.wordpiece:
                if tok.startswith("##"):
                    cont[i] = tok[2:].isalpha()
                else:
                    start[i] = tok.isalpha()
                    whole[i] = writable_word(tok, known)
            else:  # byte-level BPE (Ġ) or sentencepiece (▁) marks word starts
                if tok[0] in "Ġ▁":
                    start[i] = tok[1:].isalpha()
                    whole[i] = writable_word(tok[1:], known)
                else:
                    cont[i] = tok.isalpha()
        n_logits = self.model.get_output_embeddings().weight.shape[0]
        pad = max(0, n_logits - len(tokens))
        self.word_start = torch.cat([start, torch.zeros(pad, dtype=torch.bool)])[:n_logits]  # a word's first piece
        self.start_ok = torch.cat([whole, torch.zeros(pad, dtype=torch.bool)])[:n_logits]  # one-piece fills
        self.cont_ok = torch.cat([cont, torch.zeros(pad, dtype=torch.bool)])[:n_logits]
        if not bool(self.cont_ok.any()):
            self.cont_ok = self.word_start.clone()
        # per kind of position (a whole one-piece fill, an n-piece fill's first piece, a continuation):
        # the head's columns, their tie-break keys, token -> column
        self.n_logits = n_logits
        self._whole_id = {}  # a one-piece fill's word (lower case) -> its token ids
        for i in whole.nonzero().squeeze(1).tolist():
            word = tokens[i] if self.wordpiece else tokens[i][1:]
            self._whole_id.setdefault(word.lower(), []).append(i)
        self._kinds = {kind: self._kind_table(ok) for kind, ok in (("whole", self.start_ok), ("cont", self.cont_ok))}
        self._word_end_prior = self._load_word_end_prior()
        self._calibration = self._load_calibration()
        self._tries: dict = {}  # built when a setting first asks for words of several pieces (shared by with_settings)

    def _load_word_end_prior(self) -> torch.Tensor | None:
        """The model folder's word-end prior (prior.py) over the one-piece fill columns, if it has one."""
        from notesynth.infill.prior import load_prior

        prior = load_prior(self.model_name)
        return self.whole_column_values(prior) if prior else None

    def _load_calibration(self) -> torch.Tensor | None:
        """The model folder's fill calibration (calibration.py) over the one-piece fill columns."""
        from notesynth.infill.calibration import load_calibration

        bias = load_calibration(self.model_name)
        if not bias:
            return None
        return self.whole_column_values(bias)

    def set_calibration(self, bias: dict[str, float] | None) -> None:
        """Use ``bias`` (calibration.py: {piece: value}) as this infiller's fill calibration, in
        place of the model folder's (the calibration's own rounds)."""
        self._calibration = self.whole_column_values(bias) if bias else None

    def whole_column_values(self, values: dict[str, float]) -> torch.Tensor:
        """A {piece: value} map as a vector over the one-piece fill columns (0 elsewhere)."""
        return torch.tensor([values.get(p, 0.0) for p in self.whole_pieces], dtype=torch.float32).to(self.device)

    @property
    def whole_pieces(self) -> list[str]:
        """The pieces a one-piece fill may write."""
        return self.tokenizer.convert_ids_to_tokens(self._kinds["whole"][0].tolist())

    def _kind_table(self, ok: torch.Tensor) -> tuple:
        key_dtype = torch.int32 if (SCALE + 1) * self.n_logits < 2**31 else torch.int64
        columns = ok.nonzero().squeeze(1)
        column_of = torch.full((self.n_logits,), -1, dtype=torch.long)
        column_of[columns] = torch.arange(len(columns))
        dev = self.device
        return (columns, columns.to(dev), (self.n_logits - 1 - columns).to(key_dtype).to(dev), column_of)

    def _word_trie(self) -> tuple[dict[int, set[int]], dict[tuple[int, ...], list[int]]]:
        """The known words a fill may write, by their pieces: the first pieces of the words of
        n pieces (n >= 2), and, after a prefix of pieces (keyed with n first), the pieces that
        may follow it.  Built once per loaded model."""
        if "trie" not in self._tries:
            known = self.known_words
            words = sorted(w for w in known if writable_word(w, known))
            texts = word_texts(self.tokenizer, words)
            first: dict[int, set[int]] = {}
            follow: dict[tuple[int, ...], set[int]] = {}
            for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]:
                n = len(ids)
                # the word as a whole is checked above; its first piece may be a letter ("s" of "sx")
                if n < 2 or not bool(self.word_start[ids[0]]) or not bool(self.cont_ok[ids[1:]].all()):
                    continue
                first.setdefault(n, set()).add(ids[0])
                for k in range(1, n):
                    follow.setdefault((n, *ids[:k]), set()).add(ids[k])
            self._tries["trie"] = (first, {key: sorted(v) for key, v in follow.items()})
        return self._tries["trie"]

    def _pieces_for(self, n: int) -> int:
        """The most pieces, up to n, that some known word has (a small vocabulary may lack words of n)."""
        first = self._word_trie()[0] if n > 1 else {}
        while n > 1 and n not in first:
            n -= 1
        if n > 1 and f"first{n}" not in self._kinds:
            ok = torch.zeros_like(self.word_start)
            ok[sorted(first[n])] = True
            self._kinds[f"first{n}"] = self._kind_table(ok)
        return n

    # ---------------------------------------------------------------- encoding
    def _encode(self, job: FillJob) -> _NoteState:
        tok = self.tokenizer
        segments = job.plan.segments
        texts = [seg.text for seg in segments if seg.kind != "mask" and seg.text]
        pieces = iter(tok(texts, add_special_tokens=False)["input_ids"] if texts else [])
        # the masked words' own pieces: how many a fill may have (capped), and which it may not start with
        masked = [seg.text if self.wordpiece else " " + seg.text for seg in segments if seg.kind == "mask"]
        if masked and (self.settings.max_pieces_per_word > 1 or self.settings.new_words_only):
            originals = iter(tok(masked, add_special_tokens=False)["input_ids"])
        else:
            originals = iter([[]] * len(masked))
        ids: list[int] = []
        slots: list[_Slot] = []
        kind: dict[int, str] = {}
        barred: dict[int, int] = {}
        for i, seg in enumerate(segments):
            if seg.kind == "mask":
                original = next(originals)
                n = self._pieces_for(max(1, min(len(original), self.settings.max_pieces_per_word)))
                positions = list(range(len(ids), len(ids) + n))
                kind.update({p: "cont" for p in positions[1:]})
                kind[positions[0]] = "whole" if n == 1 else f"first{n}"
                if self.settings.new_words_only and original:
                    barred[positions[0]] = original[0]
                ids.extend([tok.mask_token_id] * n)
                slots.append(_Slot(i, positions))
            elif seg.text:
                ids.extend(next(pieces))
        windows = window_spans(len(ids), self.window)
        owner = {}
        for slot in slots:
            for p in slot.positions:
                owner[p] = min(range(len(windows)), key=lambda w: abs(p - (windows[w][0] + windows[w][1]) / 2))
        gen = torch.Generator().manual_seed(job.seed & 0x7FFF_FFFF_FFFF_FFFF)
        open_ = {p for s in slots for p in s.positions}
        slot_of = {p: s for s in slots for p in s.positions}
        banned = sorted(i for w in job.banned for i in self._whole_id.get(w, ()))
        return _NoteState(ids, slots, open_, kind, gen, windows, owner, set(), barred, slot_of, banned)

    # ---------------------------------------------------------------- filling
    @torch.no_grad()
    def fill(self, jobs: list[FillJob]) -> list[dict[int, str]]:
        """For each job, the fill text of every masked segment (by segment index)."""
        states = [self._encode(j) for j in jobs]
        passes = self.settings.passes
        # the set passes, then (several pieces per word) as many as the last pieces need
        for p in range(passes + max(0, self.settings.max_pieces_per_word - 1)):
            left = max(1, passes - p)
            asks = [self._plan_pass(st, left, rescore=0 < p < passes) for st in states]
            if not any(a.sample for a in asks):
                break
            hidden = self._hidden(states, asks)
            samples, scores = self._choose(states, asks, hidden)
            for st, ask, sampled, scored in zip(states, asks, samples, scores):
                self._commit(st, ask, sampled, scored, left)
        return [self._decode(s, j) for s, j in zip(states, jobs)]

    def _plan_pass(self, st: _NoteState, passes_left: int, rescore: bool) -> _Pass:
        """Open positions whose word's earlier pieces are all written (a word is drawn left to right)."""
        open_ = sorted(q for q in st.open if st.kind[q] != "cont" or q - 1 not in st.open)
        if self.settings.strategy == "left-to-right":  # only what this pass commits
            return _Pass(open_[:math.ceil(len(open_) / passes_left)] if open_ else [], [])
        score = sorted(st.filled) if (self.settings.remask > 0 and rescore and passes_left > 1 and open_) else []
        return _Pass(open_, score)

    def _hidden(self, states: list[_NoteState], asks: list[_Pass]) -> dict[tuple[int, bool], torch.Tensor]:
        """Encoder hidden states of the wanted positions, per (note, kind); rows in position order."""
        started = time.perf_counter()
        work = []  # (note, window, wanted positions in it)
        for n, (st, ask) in enumerate(zip(states, asks)):
            wanted = sorted(ask.sample + ask.score)
            for w in range(len(st.windows)):
                positions = [q for q in wanted if st.owner[q] == w]
                if positions:
                    work.append((n, w, positions))
        hidden: dict[tuple[int, int], torch.Tensor] = {}
        # bucket windows by padded length so a window's arithmetic never depends on its batch-mates
        by_bucket: dict[int, list] = {}
        for item in work:
            a, b = states[item[0]].windows[item[1]]
            by_bucket.setdefault(_bucket(b - a + 2), []).append(item)
        step = self.windows_per_forward
        for length, items in sorted(by_bucket.items()):
            for k in range(0, len(items), step):
                batch = items[k:k + step]
                rows = self._forward(states, batch, length)
                offset = 0
                for n, _, positions in batch:
                    for q in positions:
                        hidden[(n, q)] = rows[offset]
                        offset += 1
        groups: dict[tuple[int, str], list] = {}
        for n, (st, ask) in enumerate(zip(states, asks)):
            for q in sorted(ask.sample + ask.score):
                groups.setdefault((n, st.kind[q]), []).append(hidden[(n, q)])
        self.timings["forward"] += time.perf_counter() - started
        return {key: torch.stack(rows) for key, rows in groups.items()}

    def _head(self, hidden: dict, keys: list, kind: str) -> torch.Tensor:
        """Head logits over the allowed columns for the rows of some notes (one kind), stacked."""
        started = time.perf_counter()
        columns = self._kinds[kind][1]
        if self.device == "cpu":  # per note: the head's matrix sizes depend on the note alone
            out = torch.cat([self.backend.head(hidden[key], columns) for key in keys])
        else:  # one call for the chunk
            out = self.backend.head(torch.cat([hidden[key] for key in keys]), columns)
        if kind == "whole" and self.settings.fill_prior and self._word_end_prior is not None:
            out = out + self._word_end_prior.to(out.dtype)
        if kind == "whole" and self.settings.fill_calibration and self._calibration is not None:
            out = out + self._calibration.to(out.dtype)
        self.timings["head"] += time.perf_counter() - started
        return out

    def _forward(self, states, batch, length: int) -> torch.Tensor:
        """Hidden states of the wanted positions of a batch of windows, in row order."""
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
        return self.backend.hidden(input_ids, attention, select)

    # ---------------------------------------------------------------- sampling
    def _choose(self, states, asks, hidden):
        """Batched: a (token, confidence) per sampled position, a confidence per re-scored fill.

        Notes are taken in order, a chunk of about SAMPLE_CHUNK rows at a time: their head
        logits (rows x allowed pieces) exist only for their chunk, which bounds memory."""
        started, head0 = time.perf_counter(), self.timings["head"]
        samples: list[dict[int, tuple[int, float]]] = [{} for _ in states]
        scores: list[dict[int, float]] = [{} for _ in states]
        # each note's uniforms for this pass: one call on its own generator, in position order
        uniforms = [dict(zip(ask.sample, torch.rand(len(ask.sample), generator=st.generator,
                                                     dtype=torch.float64).tolist()))
                    for st, ask in zip(states, asks)]
        for kind in sorted({kind for _, kind in hidden}):
            keys = [(n, kind) for n in range(len(states)) if (n, kind) in hidden]
            chunk: list = []
            for i, key in enumerate(keys):
                chunk.append(key)
                if i + 1 < len(keys) and sum(len(hidden[k]) for k in chunk) < SAMPLE_CHUNK:
                    continue
                self._choose_chunk(states, asks, hidden, chunk, kind, uniforms, samples, scores)
                chunk = []
        self.timings["sampling"] += time.perf_counter() - started - (self.timings["head"] - head0)
        return samples, scores

    def _choose_chunk(self, states, asks, hidden, keys, kind, uniforms, samples, scores) -> None:
        columns_cpu, _, rev, column_of = self._kinds[kind]
        table = self._head(hidden, keys, kind)
        rows = [(n, q) for n, _ in keys for q in sorted(asks[n].sample + asks[n].score)
                if states[n].kind[q] == kind]
        drawn = [i for i, (n, q) in enumerate(rows) if q in uniforms[n]]
        rescored = [i for i, (n, q) in enumerate(rows) if q not in uniforms[n]]
        if drawn:
            u = torch.tensor([uniforms[rows[i][0]][rows[i][1]] for i in drawn], dtype=torch.float64)
            logits = table[drawn] if len(drawn) < len(rows) else table
            bar = [(r, int(column_of[states[rows[i][0]].barred[rows[i][1]]])) for r, i in enumerate(drawn)
                   if rows[i][1] in states[rows[i][0]].barred]
            if kind == "whole":  # nor a word of the note's PHI
                banned = {n: column_of[states[n].banned].tolist() for n in {rows[i][0] for i in drawn}
                          if states[n].banned}
                bar += [(r, c) for r, i in enumerate(drawn) for c in banned.get(rows[i][0], ())]
            bar = [(r, c) for r, c in bar if c >= 0]
            if bar:  # the word a mask replaces is never its own fill
                logits = logits.clone()
                logits[[r for r, _ in bar], [c for _, c in bar]] = float("-inf")
            if kind == "cont":  # only pieces that keep the word a prefix of a known word
                allowed = torch.zeros(logits.shape, dtype=torch.bool)
                for r, i in enumerate(drawn):
                    allowed[r, column_of[self._next_pieces(states[rows[i][0]], rows[i][1])]] = True
                logits = logits.masked_fill(~allowed.to(logits.device), float("-inf"))
            tokens, conf = self._sample_rows(logits, rev, columns_cpu, u)
            for i, t, c in zip(drawn, tokens.tolist(), conf.tolist()):
                n, q = rows[i]
                samples[n][q] = (t, c)
        if rescored:
            current = torch.stack([column_of[states[rows[i][0]].ids[rows[i][1]]] for i in rescored])
            for i, c in zip(rescored, self._score_rows(table[rescored], current).tolist()):
                n, q = rows[i]
                scores[n][q] = c

    def _next_pieces(self, st: _NoteState, q: int) -> list[int]:
        slot = st.slot_of[q]
        return self._word_trie()[1][(len(slot.positions), *st.ids[slot.positions[0]:q])]

    def _sample_rows(self, logits, rev, columns_cpu, u) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.settings
        return sample_rows(logits, rev, columns_cpu, u, n_logits=self.n_logits, temperature=s.temperature,
                           top_k=s.top_k, top_p=s.top_p)

    def _score_rows(self, logits, current) -> torch.Tensor:
        return score_rows(logits, current, temperature=self.settings.temperature)

    # ---------------------------------------------------------------- committing
    def _commit(self, st: _NoteState, ask: _Pass, sampled: dict[int, tuple[int, float]],
                scored: dict[int, float], passes_left: int) -> None:
        if not sampled:
            return
        if self.settings.strategy == "left-to-right":
            chosen, reopen = sorted(sampled), []
        else:  # the most confident new words; with remask, the least likely earlier fills go back
            n_commit = math.ceil(len(st.open) / passes_left)
            chosen = sorted(sampled, key=lambda q: (-sampled[q][1], q))[:n_commit]
            n_back = math.ceil(self.settings.remask * len(scored))
            reopen = sorted(scored, key=lambda q: (scored[q], q))[:n_back]
            reopen = sorted({p for q in reopen for p in st.slot_of[q].positions})  # a word reopens whole
        mask_id = self.tokenizer.mask_token_id
        for q in chosen:
            st.ids[q] = sampled[q][0]
            st.open.discard(q)
            st.filled.add(q)
        for q in reopen:
            st.ids[q] = mask_id
            st.filled.discard(q)
            st.open.add(q)

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
