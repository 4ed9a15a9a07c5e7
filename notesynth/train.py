"""Train or fine-tune the masked language model that fills the masks.

One job, in the shape of transformers' ``run_mlm.py``: a corpus loaded with
``datasets``, whole-word masking, training through ``Trainer``.  Two things
differ from the stock script, both for speed on small CPU machines:

* the MLM head runs only at masked positions (a 30k-word softmax over every
  token is most of a small model's training time otherwise);
* a wall-clock budget (``max_minutes``) ends a run cleanly with a saved model,
  so a run sized for "the next two hours" always leaves a usable folder.
"""
from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import torch

from notesynth.mlm_head import masked_only_logits

log = logging.getLogger(__name__)

SIZES = {
    # name: (layers, hidden, heads, intermediate, vocab)
    "tiny": (2, 64, 2, 128, 2000),
    "small": (4, 256, 4, 1024, 16000),
    "base": (6, 384, 6, 1536, 24000),
}


@dataclass(frozen=True)
class TrainConfig:
    corpus: tuple[str, ...]
    out: str
    base: str | None = None            # HF folder or hub id to fine-tune
    from_scratch: bool = False
    size: str = "small"
    text_field: str = "text"
    seq_len: int = 128
    batch_size: int = 32
    learning_rate: float = 2e-4
    warmup_steps: int = 200
    weight_decay: float = 0.01
    max_steps: int = -1
    epochs: float = 1.0
    max_minutes: float | None = None
    mask_prob: float = 0.15
    eval_share: float = 0.05
    eval_steps: int = 500
    save_steps: int = 500
    seed: int = 13
    device: str = "cpu"
    resume: bool = False
    fp16_weights: bool = False
    max_eval_blocks: int = 400
    logging_steps: int = 50
    command: str = ""
    extra_card: dict = field(default_factory=dict)


# ---------------------------------------------------------------- corpus

def load_corpus_texts(paths: Iterable[str], text_field: str = "text") -> dict[str, list[str]]:
    """Texts per source file (a folder counts each .txt as one document)."""
    from datasets import load_dataset

    per_source: dict[str, list[str]] = {}
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        txts = [p for p in files if p.suffix == ".txt"]
        if txts:
            per_source[str(path)] = [p.read_text(encoding="utf-8", errors="replace") for p in txts]
        for p in files:
            if p.suffix in (".jsonl", ".json"):
                ds = load_dataset("json", data_files=str(p), split="train")
            elif p.suffix == ".csv":
                ds = load_dataset("csv", data_files=str(p), split="train")
            else:
                continue
            if text_field not in ds.column_names:
                raise ValueError(f"{p}: no field {text_field!r} (has {ds.column_names}); use --text-field")
            per_source[str(p)] = [t for t in ds[text_field] if t and t.strip()]
    if not per_source:
        raise ValueError("no training text found (expected .txt, .jsonl or .csv files)")
    return per_source


def split_documents(per_source: dict[str, list[str]], eval_share: float, seed: int):
    """Hold out a share of each source, by document, so no held-out text is trained on."""
    train, held = [], []
    for name in sorted(per_source):
        docs = list(per_source[name])
        rng = random.Random(f"{seed}:{name}")
        idx = list(range(len(docs)))
        rng.shuffle(idx)
        n_eval = max(1, int(round(len(docs) * eval_share))) if eval_share > 0 and len(docs) > 1 else 0
        held += [docs[i] for i in idx[:n_eval]]
        train += [docs[i] for i in idx[n_eval:]]
    return train, held


def continuing_pieces(texts: list[str], normalizer, pre_tokenizer) -> list[str]:
    """Every '##x' piece the corpus can produce, in a fixed order."""
    chars: set[str] = set()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            chars.update(word[1:])
    return ["##" + c for c in sorted(chars)]


def train_tokenizer(texts: list[str], vocab_size: int, out_dir: str):
    """A lower-cased WordPiece tokenizer trained on the corpus (BERT conventions)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    # The trainer gives continuing pieces ('##x') their ids in hash-map order,
    # and those ids break ties between merges, so two runs on the same corpus
    # learn different vocabularies (huggingface/tokenizers#1794).  Reserving
    # every '##x' up front, in sorted order, makes training reproducible.
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2,
                                        special_tokens=special + continuing_pieces(texts, normalizer, pre_tokenizer))
    learner = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    learner.normalizer, learner.pre_tokenizer = normalizer, pre_tokenizer
    learner.train_from_iterator(texts, trainer=trainer)
    # Rebuilt from the learned vocabulary so that only the five real special
    # tokens are special; the reserved pieces stay ordinary word-pieces.
    tok = Tokenizer(models.WordPiece(vocab=learner.get_vocab(), unk_token="[UNK]"))
    tok.normalizer, tok.pre_tokenizer = normalizer, pre_tokenizer
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(special)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=512,
    )
    fast.save_pretrained(out_dir)
    return fast


def encode_blocks(tokenizer, texts: list[str], seq_len: int) -> list[dict]:
    """Concatenate documents and cut them into blocks of seq_len tokens.

    Each block carries a word-start flag per token so the collator can mask
    whole words.  Blocks start with [CLS] and end with [SEP].
    """
    body = seq_len - 2
    ids: list[int] = []
    starts: list[int] = []
    for text in texts:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        prev_end = -1
        for tid, (s, e) in zip(enc["input_ids"], enc["offset_mapping"]):
            ids.append(tid)
            starts.append(1 if s != prev_end or s == 0 else 0)
            prev_end = e
        ids.append(tokenizer.sep_token_id)
        starts.append(1)
    blocks = []
    for i in range(0, len(ids) - body + 1, body):
        chunk = ids[i:i + body]
        st = starts[i:i + body]
        st[0] = 1
        blocks.append({
            "input_ids": [tokenizer.cls_token_id] + chunk + [tokenizer.sep_token_id],
            "word_start": [1] + st + [1],
        })
    return blocks


# ---------------------------------------------------------------- masking

class WholeWordMaskCollator:
    """Masks whole words (all their word-pieces), 80/10/10 as in BERT.

    Special tokens are never masked.  Deterministic given the generator seed.
    """

    def __init__(self, tokenizer, mask_prob: float = 0.15, seed: int = 0):
        self.tokenizer = tokenizer
        self.mask_prob = mask_prob
        self.rng = random.Random(seed)
        self.special = set(tokenizer.all_special_ids)
        self.vocab_size = len(tokenizer)

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        input_ids, labels = [], []
        for row in rows:
            ids = list(row["input_ids"])
            lab = [-100] * len(ids)
            words: list[list[int]] = []
            for i, (tid, st) in enumerate(zip(ids, row["word_start"])):
                if tid in self.special:
                    continue
                if st or not words:
                    words.append([i])
                else:
                    words[-1].append(i)
            n = max(1, int(round(len(words) * self.mask_prob))) if words else 0
            for w in self.rng.sample(words, n):
                roll = self.rng.random()
                for i in w:
                    lab[i] = ids[i]
                    if roll < 0.8:
                        ids[i] = self.tokenizer.mask_token_id
                    elif roll < 0.9:
                        ids[i] = self.rng.randrange(self.vocab_size)
            input_ids.append(ids)
            labels.append(lab)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "attention_mask": torch.ones(len(input_ids), len(input_ids[0]), dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
        }


# ---------------------------------------------------------------- model

def build_model(cfg: TrainConfig, tokenizer):
    from transformers import AutoConfig, AutoModelForMaskedLM, BertConfig

    if cfg.from_scratch:
        layers, hidden, heads, inter, _ = SIZES[cfg.size]
        config = BertConfig(
            vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
            num_attention_heads=heads, intermediate_size=inter,
            max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
        )
        return AutoModelForMaskedLM.from_config(config)
    config = AutoConfig.from_pretrained(cfg.base)
    model = AutoModelForMaskedLM.from_pretrained(cfg.base, config=config)
    model.tie_weights()
    return model


def masked_lm_loss(model, batch: dict) -> torch.Tensor:
    labels = batch["labels"]
    positions = labels != -100
    logits = masked_only_logits(model, batch["input_ids"], batch["attention_mask"], positions)
    return torch.nn.functional.cross_entropy(logits.float(), labels[positions])


@torch.no_grad()
def evaluate_blocks(model, collator, blocks: list[dict], batch_size: int = 16) -> dict[str, float]:
    """Top-1 accuracy and pseudo-perplexity on masked word-pieces."""
    model.eval()
    correct = total = 0
    nll = 0.0
    for i in range(0, len(blocks), batch_size):
        batch = collator(blocks[i:i + batch_size])
        positions = batch["labels"] != -100
        logits = masked_only_logits(model, batch["input_ids"], batch["attention_mask"], positions).float()
        gold = batch["labels"][positions]
        nll += torch.nn.functional.cross_entropy(logits, gold, reduction="sum").item()
        correct += (logits.argmax(-1) == gold).sum().item()
        total += gold.numel()
    model.train()
    if not total:
        return {"top1": 0.0, "pseudo_perplexity": float("inf"), "masked_tokens": 0}
    return {"top1": correct / total, "pseudo_perplexity": math.exp(nll / total), "masked_tokens": total}


# ---------------------------------------------------------------- trainer

def _make_trainer_class():
    from transformers import Trainer, TrainerCallback

    class MaskedOnlyTrainer(Trainer):
        """Trainer whose loss runs the MLM head only where labels are set."""

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            loss = masked_lm_loss(model, inputs)
            return (loss, None) if return_outputs else loss

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            inputs = self._prepare_inputs(inputs)
            with torch.no_grad():
                loss = masked_lm_loss(model, inputs)
            return loss.detach(), None, None

    class TimeBudget(TrainerCallback):
        """Stops training (with a checkpoint) once the wall-clock budget is spent."""

        def __init__(self, minutes: float | None):
            self.deadline = time.time() + minutes * 60 if minutes else None

        def on_step_end(self, args, state, control, **kwargs):
            if self.deadline and time.time() > self.deadline:
                log.info("time budget spent at step %d; saving and stopping", state.global_step)
                control.should_training_stop = True
                control.should_save = True
            return control

    return MaskedOnlyTrainer, TimeBudget


class _BlockDataset(torch.utils.data.Dataset):
    def __init__(self, blocks):
        self.blocks = blocks

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        return self.blocks[i]


def train(cfg: TrainConfig) -> dict:
    """Run one training job; returns the held-out metrics written to the card."""
    from transformers import AutoTokenizer, TrainingArguments, set_seed

    set_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "checkpoints"
    started = time.time()

    per_source = load_corpus_texts(cfg.corpus, cfg.text_field)
    train_docs, held_docs = split_documents(per_source, cfg.eval_share, cfg.seed)
    log.info("corpus: %d training documents, %d held out", len(train_docs), len(held_docs))

    if cfg.from_scratch:
        tok_dir = work / "tokenizer"
        tok_dir.mkdir(parents=True, exist_ok=True)
        if cfg.resume and (tok_dir / "tokenizer.json").exists():
            tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
        else:
            tokenizer = train_tokenizer(train_docs, SIZES[cfg.size][4], str(tok_dir))
    else:
        if not cfg.base:
            raise ValueError("give --base (a model to fine-tune) or --from-scratch")
        tokenizer = AutoTokenizer.from_pretrained(cfg.base)

    train_blocks = encode_blocks(tokenizer, train_docs, cfg.seq_len)
    eval_blocks = encode_blocks(tokenizer, held_docs, cfg.seq_len)
    rng = random.Random(cfg.seed)
    rng.shuffle(eval_blocks)
    eval_blocks = eval_blocks[: cfg.max_eval_blocks]
    log.info("%d training blocks, %d eval blocks of %d tokens", len(train_blocks), len(eval_blocks), cfg.seq_len)

    model = build_model(cfg, tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("model: %s, %.1fM parameters", model.config.model_type, n_params / 1e6)

    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    args = TrainingArguments(
        output_dir=str(work),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_steps=cfg.max_steps,
        num_train_epochs=cfg.epochs,
        lr_scheduler_type="linear",
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if eval_blocks else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=not use_cuda,
        bf16=False,
        fp16=False,
        report_to=[],
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    trainer_cls, budget_cls = _make_trainer_class()
    collator = WholeWordMaskCollator(tokenizer, cfg.mask_prob, cfg.seed)
    trainer = trainer_cls(
        model=model, args=args, train_dataset=_BlockDataset(train_blocks),
        eval_dataset=_BlockDataset(eval_blocks[:100]) if eval_blocks else None,
        data_collator=collator, callbacks=[budget_cls(cfg.max_minutes)],
    )
    resume = None
    if cfg.resume:
        ckpts = sorted(work.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        resume = str(ckpts[-1]) if ckpts else None
        log.info("resuming from %s", resume or "scratch (no checkpoint found)")
    result = trainer.train(resume_from_checkpoint=resume)

    model = trainer.model.to("cpu")
    eval_collator = WholeWordMaskCollator(tokenizer, cfg.mask_prob, seed=1234)
    metrics = evaluate_blocks(model, eval_collator, eval_blocks)
    curve = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    metrics.update({
        # a resumed run that had nothing left to do reports the last logged loss
        "train_loss": float(curve[-1] if curve and not result.training_loss else result.training_loss),
        "loss_curve": [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h],
        "steps": int(trainer.state.global_step),
        "resumed_from_step": int(resume.rsplit("-", 1)[1]) if resume else 0,
        "train_minutes": round((time.time() - started) / 60, 1),
        "parameters": n_params,
        "train_documents": len(train_docs),
        "heldout_documents": len(held_docs),
    })
    log.info("held-out: top-1 %.3f, pseudo-perplexity %.2f", metrics["top1"], metrics["pseudo_perplexity"])
    save_model_folder(model, tokenizer, cfg, metrics, per_source)
    from notesynth.memorization import MemorizationIndex

    MemorizationIndex.build(train_docs).save(cfg.out)  # for the re-identification checker
    return metrics


def save_model_folder(model, tokenizer, cfg: TrainConfig, metrics: dict, per_source: dict) -> None:
    """Write a complete Hugging Face folder: config, weights, tokenizer, card."""
    out = Path(cfg.out)
    tmp = out.parent / (out.name + ".tmp-save")
    if tmp.exists():
        shutil.rmtree(tmp)
    if cfg.fp16_weights:
        model = model.half()
    model.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    (tmp / "training_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (tmp / "README.md").write_text(model_card(cfg, metrics, per_source))
    for p in tmp.iterdir():
        target = out / p.name
        if target.exists():
            target.unlink()
        os.replace(p, target)
    tmp.rmdir()


def model_card(cfg: TrainConfig, metrics: dict, per_source: dict) -> str:
    sources = "\n".join(f"- `{Path(k).name}`: {len(v):,} documents" for k, v in sorted(per_source.items()))
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("extra_card", "command")}
    extra = "\n".join(f"{k}\n\n{v}\n" for k, v in cfg.extra_card.items())
    return f"""---
library_name: transformers
pipeline_tag: fill-mask
language: en
tags: [clinical, masked-lm, notesynth]
---
# notesynth masked language model

A BERT-style masked language model used by notesynth to re-generate masked
words of clinical notes. Trained with `notesynth train`
({"from scratch" if cfg.from_scratch else "fine-tuned from `" + str(cfg.base) + "`"}).

## Training data
{sources}

{extra}
## Command
```
{cfg.command or "(library call)"}
```

## Held-out metrics (15% whole-word masking, documents never trained on)
- top-1 accuracy on masked word-pieces: {metrics.get("top1", 0):.4f}
- pseudo-perplexity: {metrics.get("pseudo_perplexity", 0):.2f}
- masked tokens scored: {metrics.get("masked_tokens", 0):,}
- training steps: {metrics.get("steps")}, minutes: {metrics.get("train_minutes")}
- parameters: {metrics.get("parameters", 0):,}

## Settings
```json
{json.dumps(settings, indent=2)}
```

## Intended use and limits
Filling masked words in clinical notes for synthetic-note generation. It can
write plausible but false clinical text; it is not a diagnostic tool.
"""
