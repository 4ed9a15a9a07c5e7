"""Site vocabulary: the corpus's frequent words that the tokenizer splits become one token each.

Why: a fill is one whole in-vocabulary word (``max_pieces_per_word`` 1), so a word the
tokenizer splits into pieces ("cont" = con ##t, "secretions" = secret ##ions, "wean" =
we ##an) can be masked but never written back.  Nursing notes are full of such words, and
their shortage is what most gives a synthetic note away (bench/realism.py --telling).

What becomes a token: a word that the tokenizer splits, that a fill may write
(``infill.vocabulary.writable_word``: a known word, ordinary English and clinical words with
person names removed, or a site word, never a medical term), and that occurs
in at least ``min_docs`` distinct training documents, so no word of one note or one patient
becomes a token.  The most frequent come first (a repeated source counts once per copy).

Where it goes: BERT vocabularies keep ~1,000 ``[unusedN]`` slots; those are renamed first, so
the model's size does not change, and then, if more words are asked for, the embedding matrix
grows.  Each new row starts as the mean of its pieces' rows (input embedding, output bias),
so training starts from what the model already knows of the word.
"""
from __future__ import annotations

import json
import logging
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

WORD = re.compile(r"[A-Za-z]+")
UNUSED = re.compile(r"^\[unused\d+\]$")


def lowercases(tokenizer) -> bool:
    """Does the tokenizer fold case (an uncased BERT vocabulary)?"""
    return tokenizer.tokenize("ABCD") == tokenizer.tokenize("abcd")


def document_counts(docs: Iterable[str], lower: bool) -> Counter:
    """Distinct documents per word."""
    counts: Counter = Counter()
    for doc in docs:
        counts.update({w.lower() if lower else w for w in WORD.findall(doc)})
    return counts


def use_counts(docs: Iterable[str], lower: bool) -> Counter:
    """Occurrences per word."""
    counts: Counter = Counter()
    for doc in docs:
        counts.update(w.lower() if lower else w for w in WORD.findall(doc))
    return counts


def choose_site_words(distinct_docs: Iterable[str], weighted_docs: Iterable[str], tokenizer,
                      max_words: int, min_docs: int = 5, site: frozenset[str] = frozenset()) -> list[str]:
    """The words to add, most used first: split by ``tokenizer``, writable by a fill
    (``infill.vocabulary.writable_word`` with the known words and ``site``, the site's own words),
    and in at least ``min_docs`` of ``distinct_docs``; ranked by their uses in ``weighted_docs``
    (the training mix, repeats included)."""
    from notesynth.infill.vocabulary import writable_word
    from notesynth.unknown import known_words

    if max_words <= 0:
        return []
    lower = lowercases(tokenizer)
    known = known_words() | site
    vocab = tokenizer.get_vocab()
    pool = [w for w, n in document_counts(distinct_docs, lower).items()
            if n >= min_docs and len(w) >= 2 and w not in vocab and writable_word(w, known)]
    pool = [w for w in pool if len(tokenizer.tokenize(w)) >= 2]
    uses = use_counts(weighted_docs, lower)
    pool.sort(key=lambda w: (-uses[w], w))
    return pool[:max_words]


def free_slots(tokenizer) -> list[int]:
    """Ids of the vocabulary's unused placeholder tokens, in id order."""
    return sorted(i for t, i in tokenizer.get_vocab().items() if UNUSED.match(t))


PLAN_FILE = "site_vocab.json"


def extend_tokenizer(tokenizer, words: list[str], save_dir: str | Path):
    """Give each word its own token (unused slots first, then new ids); saves the new tokenizer
    in ``save_dir`` with a plan ({word: [id, piece ids]}) for ``init_new_rows``.  Returns
    (tokenizer, plan)."""
    from transformers import AutoTokenizer

    if not words:
        return tokenizer, {}
    slots = free_slots(tokenizer)
    size = len(tokenizer)
    plan = {w: [slots[k] if k < len(slots) else size + k - len(slots),
                tokenizer(w, add_special_tokens=False)["input_ids"]] for k, w in enumerate(words)}
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        _rename_in_files(Path(tmp), {i: w for w, (i, _) in plan.items()})
        new_tok = AutoTokenizer.from_pretrained(tmp)
    new_tok.save_pretrained(str(save_dir))
    (save_dir / PLAN_FILE).write_text(json.dumps(plan) + "\n", encoding="utf-8")
    log.info("site vocabulary: %d words (%d in unused slots)", len(words), min(len(words), len(slots)))
    return new_tok, plan


def load_extended(save_dir: str | Path):
    """The tokenizer and plan ``extend_tokenizer`` saved (a resumed run), or None."""
    from transformers import AutoTokenizer

    save_dir = Path(save_dir)
    if not (save_dir / PLAN_FILE).exists():
        return None
    return AutoTokenizer.from_pretrained(str(save_dir)), json.loads((save_dir / PLAN_FILE).read_text(encoding="utf-8"))


def init_new_rows(model, plan: dict, vocab_size: int) -> None:
    """Size the model's embeddings to ``vocab_size`` and start each new word's rows (input
    embedding, untied output weights, output bias) as the mean of its pieces' rows."""
    import torch

    if not plan:
        return
    if model.get_input_embeddings().weight.shape[0] < vocab_size:
        model.resize_token_embeddings(vocab_size)
    emb = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    bias = getattr(out, "bias", None) if out is not None else None
    with torch.no_grad():
        for i, pieces in plan.values():
            src = torch.tensor(pieces)
            emb[i] = emb[src].mean(0)
            if out is not None and out.weight.data_ptr() != emb.data_ptr():
                out.weight[i] = out.weight[src].mean(0)
            if bias is not None:
                bias[i] = bias[src].mean()


def _rename_in_files(folder: Path, renamed: dict[int, str]) -> None:
    """Write each (id -> word) into the saved tokenizer files, replacing or appending."""
    tj = folder / "tokenizer.json"
    if tj.exists():
        data = json.loads(tj.read_text(encoding="utf-8"))
        vocab = data["model"]["vocab"]
        by_id = {i: t for t, i in vocab.items()}
        for i, w in renamed.items():
            if i in by_id:
                del vocab[by_id[i]]
            vocab[w] = i
        tj.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    vt = folder / "vocab.txt"
    if vt.exists():
        lines = vt.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for i, w in sorted(renamed.items()):
            while len(lines) <= i:
                lines.append(f"[unused-pad{len(lines)}]")
            lines[i] = w
        vt.write_text("\n".join(lines) + "\n", encoding="utf-8")
