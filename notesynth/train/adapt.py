"""Site adaptation: fine-tune the masked LM on a site's own notes, after their PHI is replaced.

The flow (docs/ADAPT.md says why it is safe):

1. read the notes with the same readers as ``synth`` (folder of .txt, JSONL, CSV, CoNLL);
2. detect PHI in every note with the synthesis detector and replace every detected span by
   a surrogate (``masking.plan`` at mask ratio 0, then ``render``: the text ``synth`` would
   write before any word is re-generated), so no detected identifier reaches a gradient;
3. fine-tune the base model on those surrogate texts, held in memory (they never touch the
   disk).  The site's frequent ordinary words that the base tokenizer splits become tokens
   of their own (``site_vocab``, train/site_vocab.py), so fills can write them; only words
   of the known-word list (person names removed, never a medical term) found in at least
   ``site_vocab_min_docs`` notes qualify, so a site's rare words (a surname the detector
   missed) stay split into word-pieces, and fills are whole in-vocabulary words;
4. write a Hugging Face folder: weights, tokenizer, a card with counts only, progress,
   checkpoints (for resuming), and the memorisation index of the adapted corpus merged with
   the base model's, so the checker refuses a synthetic note that is a near-copy of any
   document either model was trained on.

An interrupted run resumes from its newest checkpoint: the prepared corpus is a pure
function of the notes, the detector and the seed, so it is rebuilt identically.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

STATE_FILE = "adapt_state.json"


@dataclass(frozen=True)
class AdaptConfig:
    notes: str                          # folder, .jsonl, .csv or CoNLL file (as for synth)
    out: str
    base: str | None = None             # model to adapt (default: the shipped model)
    max_minutes: float | None = 15.0    # wall-clock budget: the normal way to size a run
    max_steps: int = -1                 # -1: run for `epochs` (or until the budget is spent)
    epochs: float | None = None         # None: as many as the budget allows (3 without a budget)
    seed: int = 13
    batch_size: int = 16
    seq_len: int = 128
    learning_rate: float = 1e-4
    warmup_steps: int = 20
    save_steps: int = 50
    logging_steps: int = 10
    eval_share: float = 0.05
    id_field: str = "id"
    text_field: str = "text"
    fmt: str | None = None
    detector_threshold: float | None = None
    resume: bool = True                 # continue from OUT/checkpoints when they are there
    device: str = "cpu"
    fp16_weights: bool = True           # half the folder size; loads as float32 for training
    site_vocab: int = 500               # frequent split words given tokens of their own (0: off)
    site_vocab_min_docs: int = 5        # ... each in at least this many notes
    site_words_min_docs: int = 10       # site words: written in lower case in this many notes (0: none)
    calibration_notes: int = 400        # notes the fill calibration is estimated on, after training (0: off)
    calibration_rounds: int = 2
    command: str = ""


@dataclass
class PreparedCorpus:
    """Surrogate-only texts, and counts about them (never text) for the card."""

    texts: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    notes_read: int = 0
    unreadable: int = 0
    empty: int = 0
    phi_replaced: Counter = field(default_factory=Counter)   # detected spans replaced, by label
    # lower-cased words of every detected span (in memory only): never a site word
    phi_words: set = field(default_factory=set, repr=False)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for t in self.texts:
            h.update(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest())
        return h.hexdigest()

    def counts(self) -> dict:
        return {"notes_read": self.notes_read, "unreadable": self.unreadable, "empty": self.empty,
                "documents": len(self.texts), "phi_spans_replaced": sum(self.phi_replaced.values()),
                "phi_spans_by_label": dict(sorted(self.phi_replaced.items())),
                "characters": sum(len(t) for t in self.texts)}


def surrogate_text(text: str, phi: list, seed: int) -> str:
    """``text`` with every span of ``phi`` replaced by a surrogate and nothing else changed."""
    from notesynth.masking import plan, render
    from notesynth.surrogates import SurrogateMaker

    plan_ = plan(text, phi, [], 0.0, random.Random(seed), SurrogateMaker(seed))
    out, _ = render(plan_, {})
    return out


def prepare_corpus(notes: Iterable, detector, seed: int = 13) -> PreparedCorpus:
    """Replace every detected PHI span of every note by a surrogate (``notes``: what
    ``batch.readers.read_notes`` yields; read errors are counted, never trained on)."""
    from notesynth.batch.readers import ReadError
    from notesynth.pipeline import note_seed

    corpus = PreparedCorpus()
    for note in notes:
        if isinstance(note, ReadError):
            corpus.unreadable += 1
            log.warning("note %s unreadable: %s", note.id, note.message)
            continue
        corpus.notes_read += 1
        if not note.text.strip():
            corpus.empty += 1
            continue
        phi = detector.detect(note.text)
        corpus.phi_replaced.update(s.label for s in phi)
        for s in phi:
            corpus.phi_words.update(w.lower() for w in re.findall(r"[^\W\d_]+", note.text[s.start:s.end]))
        corpus.texts.append(surrogate_text(note.text, phi, note_seed(seed, note.id, 0)))
        corpus.ids.append(note.id)
    return corpus


def _card_section(counts: dict, cfg: AdaptConfig, base: str) -> str:
    labels = ", ".join(f"{k} {v:,}" for k, v in counts["phi_spans_by_label"].items()) or "none"
    return f"""Adapted with `notesynth adapt` from `{base}` on a site's own notes. Counts only; the
card holds no text of the notes:

- notes read: {counts['notes_read']:,} (unreadable: {counts['unreadable']:,}, empty: {counts['empty']:,})
- documents trained on or held out: {counts['documents']:,} ({counts['characters']:,} characters)
- detected PHI spans replaced by surrogates before training: {counts['phi_spans_replaced']:,} ({labels})
- site words (`site_words.txt`: the notes' own ordinary words, known words for `synth` with this
  model): {counts.get('site_words', 0):,}

Every detected PHI span was replaced by a surrogate before tokenisation, so no detected
identifier reached a gradient. The tokenizer is the base model's, with up to
{cfg.site_vocab:,} of the notes' frequent ordinary words (each in at least
{cfg.site_vocab_min_docs} notes; never a name or a medical term) as tokens of their own. The
memorisation index (`memorization_index.npz`) holds the base model's training documents and
the adapted (surrogate) documents; the re-identification checker refuses a synthetic note
that is a near-copy of any of them. PHI the detector missed is not replaced: see
docs/ADAPT.md for what else guards against it."""


UNBOUNDED_EPOCHS = 10_000.0  # "until the budget is spent": more passes than any budget allows
DEFAULT_EPOCHS = 3.0


def budget_epochs(cfg: AdaptConfig) -> tuple[float, str]:
    """Epochs and learning-rate schedule.  With a time budget and no --epochs or --max-steps, the
    budget alone ends the run: a fixed epoch count stopped a 15-minute run of a small site
    corpus after 6 minutes.  The rate then stays at its peak after warm-up (a linear decay
    over an unknown number of steps would never decay)."""
    if cfg.epochs is not None or cfg.max_steps > 0:
        return (cfg.epochs if cfg.epochs is not None else DEFAULT_EPOCHS), "linear"
    if cfg.max_minutes:
        return UNBOUNDED_EPOCHS, "constant_with_warmup"
    return DEFAULT_EPOCHS, "linear"


def _write_site_words(corpus: PreparedCorpus, cfg: AdaptConfig, out: Path, base: str) -> frozenset:
    """The site's own ordinary words (``unknown.find_site_words``) and the base model's, written
    to the folder so that ``synth --model OUT`` keeps them and fills may write them; returns them."""
    from notesynth.unknown import SITE_WORDS_FILE, find_site_words, site_words

    found = find_site_words(corpus.texts, corpus.phi_words, cfg.site_words_min_docs) if cfg.site_words_min_docs else []
    words = sorted(set(found) | site_words(str(base)))
    header = (f"# notesynth site words: written in lower case in at least {cfg.site_words_min_docs} notes of the "
              "site that use capitals,\n# never inside a detected PHI span, in no name list; known words for "
              "synth --model with this folder\n")
    (out / SITE_WORDS_FILE).write_text(header + "".join(w + "\n" for w in words), encoding="utf-8")
    log.info("site words: %d", len(words))
    return frozenset(words)


def _write_calibration(corpus: PreparedCorpus, cfg: AdaptConfig, out: Path, detector) -> None:
    """The fill calibration of the adapted model (infill/calibration.py), estimated on a seeded
    sample of the surrogate notes: fills write the site's words about as often as its notes do."""
    from notesynth.infill.calibration import calibrate, write_calibration

    started = time.time()
    rng = random.Random(cfg.seed)
    sample = rng.sample(corpus.texts, min(cfg.calibration_notes, len(corpus.texts)))
    bias, history = calibrate(str(out), sample, rounds=cfg.calibration_rounds, seed=cfg.seed, detector=detector)
    write_calibration(out, bias, {"notes": len(sample), "rounds": cfg.calibration_rounds,
                                  "distance_by_round": history})
    log.info("fill calibration: %d notes, %d rounds, distance %s, %.0f s", len(sample), cfg.calibration_rounds,
             history, time.time() - started)


def adapt(cfg: AdaptConfig, detector=None) -> dict:
    """Prepare the surrogate corpus and fine-tune; returns the held-out metrics (and counts)."""
    import numpy as np

    from notesynth.batch.readers import read_notes
    from notesynth.check.memorization import MemorizationIndex
    from notesynth.config import default_model_path
    from notesynth.train.trainer import TrainConfig, train

    base = cfg.base or default_model_path()
    if not (Path(base) / "config.json").exists():
        raise FileNotFoundError(f"base model {base} is not a model folder (no config.json)")
    out = Path(cfg.out)
    if out.resolve() == Path(base).resolve():
        raise ValueError("--out must differ from the base model's folder")
    out.mkdir(parents=True, exist_ok=True)
    if detector is None:
        from notesynth.phi import shared_detector

        detector = shared_detector(cfg.detector_threshold)

    started = time.time()
    corpus = prepare_corpus(read_notes(cfg.notes, cfg.fmt, cfg.id_field, cfg.text_field), detector, cfg.seed)
    counts = corpus.counts()
    log.info("prepared %d documents, %d PHI spans replaced, in %.0f s", counts["documents"],
             counts["phi_spans_replaced"], time.time() - started)
    if len(corpus.texts) < 2:
        raise ValueError(f"{cfg.notes}: need at least 2 readable, non-empty notes to adapt (found {len(corpus.texts)})")

    # resume only the same job: same corpus, base and settings
    state = {"fingerprint": corpus.fingerprint(), "base": str(Path(base).resolve()), "seed": cfg.seed,
             "seq_len": cfg.seq_len, "batch_size": cfg.batch_size,
             "site_vocab": [cfg.site_vocab, cfg.site_vocab_min_docs, cfg.site_words_min_docs]}
    state_path = out / STATE_FILE
    ckpts = list((out / "checkpoints").glob("checkpoint-*"))
    resume = False
    if cfg.resume and ckpts:
        previous = json.loads(state_path.read_text()) if state_path.exists() else None
        if previous != state:
            raise ValueError(f"{out} holds checkpoints of a different adaptation (other notes, base or settings); "
                             "use another --out, or --restart to discard them")
        resume = True
        log.info("resuming from %s/checkpoints", out)
    elif ckpts:
        import shutil

        shutil.rmtree(out / "checkpoints")
    state_path.write_text(json.dumps(state, indent=2) + "\n")

    site = _write_site_words(corpus, cfg, out, base)
    counts["site_words"] = len(site)
    source = f"{Path(cfg.notes).name} (surrogates)"
    epochs, schedule = budget_epochs(cfg)
    tcfg = TrainConfig(
        corpus=(source,), out=str(out), base=base, seq_len=cfg.seq_len, batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, warmup_steps=cfg.warmup_steps, max_steps=cfg.max_steps,
        epochs=epochs, lr_schedule=schedule, max_minutes=cfg.max_minutes, eval_share=cfg.eval_share, eval_steps=10 ** 9,
        save_steps=cfg.save_steps, logging_steps=cfg.logging_steps, seed=cfg.seed, device=cfg.device,
        resume=resume, fp16_weights=cfg.fp16_weights, command=cfg.command,
        site_vocab=cfg.site_vocab, site_vocab_min_docs=cfg.site_vocab_min_docs, site_words=site,
        extra_card={"## Site adaptation": _card_section(counts, cfg, base)},
    )
    metrics = train(tcfg, texts={source: corpus.texts})

    # the index: every adapted document (held-out ones too) plus the base model's index
    index = MemorizationIndex.build(corpus.texts)
    base_index = MemorizationIndex.load(base)
    if base_index is not None and base_index.signatures.shape[1] == index.signatures.shape[1]:
        index = MemorizationIndex(np.concatenate([base_index.signatures, index.signatures]))
    index.save(out)
    if cfg.calibration_notes and cfg.calibration_rounds:
        _write_calibration(corpus, cfg, out, detector)
    metrics["adaptation"] = counts
    (out / "adapt_counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    return metrics
