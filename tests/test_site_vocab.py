"""Site vocabulary: frequent split words become tokens; names, medical terms and rare words never do."""
from __future__ import annotations

import json

import pytest
import torch

from notesynth.train.site_vocab import (choose_site_words, extend_tokenizer, free_slots, init_new_rows,
                                        load_extended)

PIECES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]",
          "con", "##t", "secret", "##ions", "we", "##an", "ze", "##lda", "met", "##op", "##rol", "##ol",
          "kow", "##al", "pt", "on", "the", "is", "with", "and", "tol", "##erating", "n", "##o"]


@pytest.fixture()
def tokenizer(tmp_path):
    from transformers import BertTokenizer

    return BertTokenizer(vocab={p: i for i, p in enumerate(PIECES)}, do_lower_case=True)


def _docs():
    # "cont" and "secretions" in six notes each; "wean" in two (too few); the made-up surname
    # "Zelda" and the drug "metoprolol" in every note (a name and a medical term: never tokens)
    common = ["Pt cont on vent with thick secretions, Zelda, metoprolol", "cont secretions zelda metoprolol"]
    docs = [common[i % 2] for i in range(6)] + ["wean and wean", "we wean"]
    return docs


def test_only_frequent_admissible_split_words_are_chosen(tokenizer):
    words = choose_site_words(_docs(), _docs(), tokenizer, max_words=10, min_docs=5)
    assert words == ["cont", "secretions"]
    assert "wean" in choose_site_words(_docs(), _docs(), tokenizer, max_words=10, min_docs=2)
    # the ranking follows the weighted uses (a repeated source counts once per copy)
    weighted = _docs() + ["secretions secretions secretions"] * 20
    assert choose_site_words(_docs(), weighted, tokenizer, max_words=1, min_docs=5) == ["secretions"]
    assert choose_site_words(_docs(), _docs(), tokenizer, max_words=0) == []


def test_words_take_unused_slots_then_new_ids(tokenizer, tmp_path):
    slots = free_slots(tokenizer)
    assert slots == [5, 6]
    new, plan = extend_tokenizer(tokenizer, ["cont", "secretions", "wean"], tmp_path / "tok")
    assert [plan[w][0] for w in ("cont", "secretions", "wean")] == [5, 6, len(PIECES)]
    assert plan["cont"][1] == tokenizer("cont", add_special_tokens=False)["input_ids"]
    assert new.tokenize("Pt CONT with secretions wean") == ["pt", "cont", "with", "secretions", "wean"]
    assert new.convert_tokens_to_ids("cont") == 5 and len(new) == len(PIECES) + 1
    assert new.tokenize("zelda") == ["ze", "##lda"]  # everything else tokenizes as before
    reloaded, plan2 = load_extended(tmp_path / "tok")
    assert reloaded.get_vocab() == new.get_vocab() and plan2 == json.loads(json.dumps(plan))


def test_new_rows_start_as_the_mean_of_their_pieces(tokenizer, tmp_path):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=len(PIECES), hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=32))
    new, plan = extend_tokenizer(tokenizer, ["cont", "secretions", "wean"], tmp_path / "tok")
    before = model.get_input_embeddings().weight.detach().clone()
    bias_before = model.cls.predictions.bias.detach().clone()
    init_new_rows(model, plan, len(new))
    emb = model.get_input_embeddings().weight
    assert emb.shape[0] == len(new)
    for w, (i, pieces) in plan.items():
        assert torch.allclose(emb[i], before[pieces].mean(0))
        assert torch.isclose(model.cls.predictions.bias[i], bias_before[pieces].mean())
    logits = model(**new("cont wean", return_tensors="pt")).logits
    assert logits.shape[-1] == len(new)  # the output layer grew with the input (tied)


def test_site_words_are_lower_case_words_of_many_notes_and_never_names_or_phi():
    from notesynth.unknown import find_site_words

    notes = [f"Pt seen by Dr. Quorvath. The quellitic patch and the zandrous hum persist. Note {i}."
             for i in range(6)]
    notes += ["THE QUELLITIC PATCH IN CAPS", "the quellitic patch, lower case only"] * 5  # case says nothing here
    assert find_site_words(notes, set(), min_docs=5) == ["quellitic", "zandrous"]
    assert find_site_words(notes, set(), min_docs=7) == []  # all-caps and all-lower notes do not count
    assert find_site_words(notes, {"zandrous"}, min_docs=5) == ["quellitic"]  # inside a detected PHI span
    # a word of the name lists never qualifies, even in lower case
    from notesynth.phi.lexicon import last_names

    name = sorted(n for n in last_names() if n.isalpha() and len(n) > 5)[0]
    assert name not in find_site_words([f"Then {name} was seen. Next." for _ in range(6)], set(), min_docs=5)


def test_synth_keeps_and_may_write_the_models_site_words(tiny_model, tmp_path):
    """A model folder's site_words.txt makes its words known: kept verbatim by synth (the
    unknown-word rule would re-generate them otherwise) and writable by fills."""
    import shutil

    from notesynth import SynthConfig, Synthesizer
    from notesynth.unknown import SITE_WORDS_FILE, site_words

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    text = "Pt resting comfortably, quellitic patch on left arm unchanged overnight."
    settings = dict(seed=0, mask_ratio=0.0, max_risk=1.0, phi_tagger=False)
    plain = Synthesizer(SynthConfig(model=str(model), **settings)).synthesize(text, "n1")
    assert "quellitic" not in plain.text
    (model / SITE_WORDS_FILE).write_text("# site words\nquellitic\n")
    site_words.cache_clear()
    kept = Synthesizer(SynthConfig(model=str(model), **settings)).synthesize(text, "n1")
    assert "quellitic" in kept.text
