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
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from notesynth.infill.model import masked_only_logits
from notesynth.train.card import save_model_folder
from notesynth.train.collator import WholeWordMaskCollator
from notesynth.train.data import encode_blocks, load_corpus_texts, split_documents, train_tokenizer

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
    lr_schedule: str = "linear"        # "constant_with_warmup" when a budget, not epochs, ends the run
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
    # (source, k): that source's training documents are seen k times per epoch (oversampling a
    # small in-domain source beside a large general one); held-out documents are never repeated
    repeat: tuple[tuple[str, int], ...] = ()
    # fine-tuning only: up to this many frequent words the base tokenizer splits become tokens
    # of their own (train/site_vocab.py), each in at least site_vocab_min_docs training documents
    site_vocab: int = 0
    site_vocab_min_docs: int = 5
    # the site's own known words (adapt: unknown.find_site_words), admissible for site_vocab too
    site_words: frozenset = field(default_factory=frozenset, repr=False)


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
    # float32 whatever the stored weights (a folder saved with --fp16-weights would otherwise
    # load, and train, in half precision on CPU)
    model = AutoModelForMaskedLM.from_pretrained(cfg.base, config=config, dtype=torch.float32)
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

    class Progress(TrainerCallback):
        """Writes OUT/progress.json at every logging step: step, loss, elapsed and remaining time."""

        def __init__(self, path: Path, minutes: float | None):
            self.path, self.minutes, self.started = path, minutes, time.time()

        def write(self, state, status: str) -> None:
            losses = [h["loss"] for h in state.log_history if "loss" in h]
            elapsed = time.time() - self.started
            rate = elapsed / max(1, state.global_step - self.first) if hasattr(self, "first") else None
            left = (state.max_steps - state.global_step) * rate if rate and state.max_steps else None
            if self.minutes:
                budget_left = max(0.0, self.minutes * 60 - elapsed)
                left = min(left, budget_left) if left is not None else budget_left
            info = {"status": status, "step": state.global_step, "max_steps": state.max_steps,
                    "epoch": round(state.epoch or 0.0, 3), "loss": losses[-1] if losses else None,
                    "elapsed_minutes": round(elapsed / 60, 2),
                    "remaining_minutes_estimate": round(left / 60, 2) if left is not None else None,
                    "budget_minutes": self.minutes, "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            tmp = self.path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(info, indent=2) + "\n")
            tmp.replace(self.path)

        def on_train_begin(self, args, state, control, **kwargs):
            self.first = state.global_step  # a resumed run starts past 0
            self.write(state, "running")

        def on_log(self, args, state, control, **kwargs):
            self.write(state, "running")

        def on_train_end(self, args, state, control, **kwargs):
            self.write(state, "finished training; evaluating and saving")

    return MaskedOnlyTrainer, TimeBudget, Progress


class _BlockDataset(torch.utils.data.Dataset):
    def __init__(self, blocks):
        self.blocks = blocks

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        return self.blocks[i]


def _repeat_sources(per_source: dict[str, list[str]], cfg: TrainConfig) -> list[str]:
    """Extra copies of the training documents of the sources named in cfg.repeat."""
    extra: list[str] = []
    names = {str(Path(n)): k for n, k in cfg.repeat}
    for name, docs in sorted(per_source.items()):
        k = names.get(str(Path(name)), names.get(Path(name).name, 1))
        if k > 1:
            own_train, _ = split_documents({name: docs}, cfg.eval_share, cfg.seed)
            extra += own_train * (int(k) - 1)
    unknown = set(names) - {str(Path(n)) for n in per_source} - {Path(n).name for n in per_source}
    if unknown:
        raise ValueError(f"repeat names no corpus source: {sorted(unknown)}")
    return extra


def _site_vocabulary(cfg: TrainConfig, tokenizer, train_docs, repeated, save_dir: Path):
    """The base tokenizer with the site's frequent split words as tokens, and its plan (a
    resumed run reloads the saved ones, so its token ids match its checkpoints)."""
    from notesynth.train.site_vocab import choose_site_words, extend_tokenizer, load_extended

    if cfg.from_scratch or cfg.site_vocab <= 0:
        return tokenizer, {}
    if cfg.resume and (saved := load_extended(save_dir)) is not None:
        return saved
    words = choose_site_words(train_docs, train_docs + repeated, tokenizer, cfg.site_vocab,
                              cfg.site_vocab_min_docs, frozenset(cfg.site_words))
    return extend_tokenizer(tokenizer, words, save_dir)


def train(cfg: TrainConfig, texts: dict[str, list[str]] | None = None) -> dict:
    """Run one training job; returns the held-out metrics written to the card.

    ``texts`` ({source name: documents}) trains on texts held in memory instead of reading
    ``cfg.corpus`` (so a prepared corpus never has to touch the disk); the card names the
    sources and counts their documents, never their text."""
    from transformers import AutoTokenizer, TrainingArguments, set_seed

    set_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "checkpoints"
    started = time.time()

    per_source = texts if texts is not None else load_corpus_texts(cfg.corpus, cfg.text_field)
    train_docs, held_docs = split_documents(per_source, cfg.eval_share, cfg.seed)
    log.info("corpus: %d training documents, %d held out", len(train_docs), len(held_docs))
    repeated = _repeat_sources(per_source, cfg) if cfg.repeat else []
    if repeated:
        log.info("oversampling: %d extra document copies", len(repeated))

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
    tokenizer, site_plan = _site_vocabulary(cfg, tokenizer, train_docs, repeated, work / "site-tokenizer")

    train_blocks = encode_blocks(tokenizer, train_docs + repeated, cfg.seq_len)
    eval_blocks = encode_blocks(tokenizer, held_docs, cfg.seq_len)
    rng = random.Random(cfg.seed)
    rng.shuffle(eval_blocks)
    eval_blocks = eval_blocks[: cfg.max_eval_blocks]
    log.info("%d training blocks, %d eval blocks of %d tokens", len(train_blocks), len(eval_blocks), cfg.seq_len)

    model = build_model(cfg, tokenizer)
    if site_plan:
        from notesynth.train.site_vocab import init_new_rows

        init_new_rows(model, site_plan, len(tokenizer))
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
        lr_scheduler_type=cfg.lr_schedule,
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
    trainer_cls, budget_cls, progress_cls = _make_trainer_class()
    collator = WholeWordMaskCollator(tokenizer, cfg.mask_prob, cfg.seed)
    trainer = trainer_cls(
        model=model, args=args, train_dataset=_BlockDataset(train_blocks),
        eval_dataset=_BlockDataset(eval_blocks[:100]) if eval_blocks else None,
        data_collator=collator, callbacks=[budget_cls(cfg.max_minutes), progress_cls(out / "progress.json", cfg.max_minutes)],
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
        "repeated_documents": len(repeated),
        "site_vocab_words": len(site_plan),
    })
    log.info("held-out: top-1 %.3f, pseudo-perplexity %.2f", metrics["top1"], metrics["pseudo_perplexity"])
    save_model_folder(model, tokenizer, cfg, metrics, per_source)
    from notesynth.infill.prior import write_prior

    write_prior(cfg.out, train_docs + repeated, tokenizer)  # the word-end prior of one-piece fills
    from notesynth.check.memorization import MemorizationIndex

    MemorizationIndex.build(train_docs).save(cfg.out)  # for the re-identification checker
    (out / "progress.json").write_text(json.dumps({"status": "done", "step": metrics["steps"],
                                                    "train_minutes": metrics["train_minutes"]}) + "\n")
    return metrics
