import json
import math
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from notesynth.train import TrainConfig, WholeWordMaskCollator, encode_blocks, split_documents, train

DATA = Path(__file__).resolve().parents[1] / "data"


def test_tiny_model_trains_and_reloads(tiny_model):
    metrics = json.loads((tiny_model / "test_metrics.json").read_text())
    curve = metrics["loss_curve"]
    assert len(curve) >= 3
    # The loss falls.  Single logged points are noisy at this size (and differ
    # between CPUs), so the later half is compared on average.
    later = curve[len(curve) // 2:]
    assert sum(later) / len(later) < curve[0] - 0.3, curve
    model = AutoModelForMaskedLM.from_pretrained(str(tiny_model))
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    assert min(later) < math.log(len(tok)) - 0.5, curve  # better than guessing uniformly
    assert tok.mask_token_id is not None and model.config.vocab_size >= len(tok)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md", "fill_prior.json"):
        assert (tiny_model / name).exists(), name
    card = (tiny_model / "README.md").read_text()
    assert "top-1" in card and "sample_notes" in card


def test_fine_tune_from_saved_model_and_resume(tiny_model, tmp_path):
    out = tmp_path / "ft"
    base = dict(corpus=(str(DATA / "sample_notes"),), out=str(out), base=str(tiny_model), batch_size=4,
                seq_len=64, warmup_steps=0, eval_steps=1000, save_steps=4, logging_steps=2, seed=2)
    train(TrainConfig(max_steps=4, **base))
    ckpts = list((out / "checkpoints").glob("checkpoint-*"))
    assert ckpts, "a checkpoint is written"
    metrics = train(TrainConfig(max_steps=8, resume=True, **base))
    assert metrics["resumed_from_step"] == 4  # continued from the checkpoint rather than restarting
    assert metrics["steps"] == 8
    AutoModelForMaskedLM.from_pretrained(str(out))


def test_whole_word_masking_masks_all_pieces(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    blocks = encode_blocks(tok, [(DATA / "sample_notes" / "pn-044-004.txt").read_text()], 64)
    batch = WholeWordMaskCollator(tok, 0.3, seed=0)(blocks[:4])
    for ids, labels, row in zip(batch["input_ids"], batch["labels"], blocks[:4]):
        starts = row["word_start"]
        for i in range(1, len(starts)):
            if not starts[i] and ids[i].item() not in tok.all_special_ids:
                # a continuation piece is labelled exactly when its word start is
                j = i
                while not starts[j]:
                    j -= 1
                assert (labels[i] != -100) == (labels[j] != -100)
        assert (labels != -100).sum() > 0


def test_held_out_split_is_by_document():
    docs = {"a": [f"doc {i}" for i in range(40)], "b": [f"other {i}" for i in range(20)]}
    train_docs, held = split_documents(docs, 0.05, seed=1)
    assert len(held) == 3 and not set(held) & set(train_docs)
    assert len(train_docs) + len(held) == 60


def test_tokenizer_training_is_reproducible(tmp_path):
    """The same corpus gives the same vocabulary, ids included, run after run."""
    from notesynth.train import train_tokenizer

    texts = [p.read_text() for p in sorted((DATA / "sample_notes").glob("*.txt"))]
    files = []
    for i in range(3):
        train_tokenizer(texts, 1000, str(tmp_path / str(i)))
        files.append((tmp_path / str(i) / "tokenizer.json").read_text())
    assert files[0] == files[1] == files[2]
    tok = AutoTokenizer.from_pretrained(str(tmp_path / "0"))
    assert sorted(tok.all_special_tokens) == ["[CLS]", "[MASK]", "[PAD]", "[SEP]", "[UNK]"]
    assert "##a" in tok.get_vocab() and tok.tokenize("##a") == ["#", "#", "a"]  # reserved pieces are not special
