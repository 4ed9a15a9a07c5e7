"""The training corpus: texts from folders/JSONL/CSV, a per-source held-out split, a
reproducible WordPiece tokenizer, and fixed-length blocks of word-pieces."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable


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
